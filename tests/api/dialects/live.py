"""The dialect tests' view of the one live server (``service_testkit.live_service``).

A dialect client sends its own auth header, so ``client`` carries none; ``key`` and
``key_id`` are a key made at start, and ``kling_token`` signs a JWT for a key pair.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
from service_testkit import LiveService, live_service, service_settings

from canvasfill.api.auth import kling_secret_key


@dataclass
class Live:
    server: LiveService
    client: httpx.Client
    key: str
    key_id: str

    def new_key(self, credits: int | None = None) -> tuple[str, str]:
        created = self.server.runtime.keys.create(credits=credits)
        return created.key, created.record.id

    def credits(self, key_id: str) -> int | None:
        record = self.server.runtime.keys.get(key_id)
        return None if record is None else record.credits

    def kling_token(self, key_id: str | None = None, **claims: object) -> str:
        access_key = key_id or self.key_id
        now = int(time.time())
        payload: dict[str, object] = {"iss": access_key, "exp": now + 1800, "nbf": now - 5}
        payload.update(claims)
        secret = kling_secret_key(self.server.runtime.settings.secret(), access_key)
        return jwt.encode(payload, secret, algorithm="HS256")


def live_app(tmp_path: Path, **overrides: object) -> Iterator[Live]:
    """The real app on loopback (telea by default), with a key made for the test."""
    settings = service_settings(tmp_path / "data", **({"default_engine": "telea"} | overrides))
    with live_service(settings) as server, server.client() as client:
        created = server.runtime.keys.create(name="test")
        yield Live(server=server, client=client, key=created.key, key_id=created.record.id)
