"""One live server per test module (real app, uvicorn on loopback, SQLite, temp data)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from service_testkit import LiveService, live_service, service_settings


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with live_service(service_settings(tmp_path_factory.mktemp("data"))) as service:
        yield service
