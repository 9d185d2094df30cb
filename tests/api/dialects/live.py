"""A real app (SQLite, a temporary data folder, one worker process) for dialect tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
from fastapi.testclient import TestClient
from service_testkit import service_settings

from canvasfill.api.app import create_app
from canvasfill.api.auth import kling_secret_key
from canvasfill.settings import Settings


@dataclass
class Live:
    client: TestClient
    settings: Settings
    key: str
    key_id: str

    def new_key(self, credits: int | None = None) -> tuple[str, str]:
        created = self.client.app.state.service.runtime.keys.create(credits=credits)  # type: ignore[attr-defined]
        return created.key, created.record.id

    def credits(self, key_id: str) -> int | None:
        record = self.client.app.state.service.runtime.keys.get(key_id)  # type: ignore[attr-defined]
        return None if record is None else record.credits

    def kling_token(self, key_id: str | None = None, **claims: object) -> str:
        access_key = key_id or self.key_id
        now = int(time.time())
        payload: dict[str, object] = {"iss": access_key, "exp": now + 1800, "nbf": now - 5}
        payload.update(claims)
        secret = kling_secret_key(self.settings.secret(), access_key)
        return jwt.encode(payload, secret, algorithm="HS256")


def live_app(tmp_path: Path, **overrides: object) -> Iterator[Live]:
    """The app in-process (TestClient runs its lifespan: dispatcher, callbacks, sweeper)."""
    settings = service_settings(tmp_path / "data", **({"default_engine": "telea"} | overrides))
    app = create_app(settings)
    with TestClient(app) as client:
        created = app.state.service.runtime.keys.create(name="test")
        yield Live(client=client, settings=settings, key=created.key, key_id=created.record.id)
