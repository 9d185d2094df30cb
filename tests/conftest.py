"""Images for tests are made here, in memory: no test reads a file it did not write.

Tiers (markers, declared in pyproject.toml): ``services`` (PostgreSQL, Redis or S3),
``browser`` (Chromium), ``slow``; ``make test-fast`` runs the rest. A test is marked
where it is written, or here when what it needs says so: everything under tests/web
drives the browser; the ``postgres_url`` and ``s3_bucket`` fixtures (and the
``runtime`` fixture's PostgreSQL half) reach a service, as does every test of a module
that imports one of the testkit's service helpers (``SERVICE_HELPERS``); and a module
that runs a live server of its own (a worker pool behind it: seconds to start, whatever
the test) is slow, except the drop-in dialect suites in ``FAST_SERVER_MODULES``, which keep real
HTTP, FastAPI and Starlette in the fast tier (and so in ``make floors``).

``s3_bucket`` gives a test a fresh bucket on the loopback S3 server and the standard AWS
variables that reach it (the service's boto3 clients, and its spawned workers, read them).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from service_testkit import fresh_s3_bucket, s3_env

from canvasfill.sample import sample_photo


def encode(pixels: NDArray[np.uint8] | Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    """Encode an array (or a Pillow image) to bytes in ``fmt``."""
    image = Image.fromarray(pixels) if isinstance(pixels, np.ndarray) else pixels
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def decode_pixels(data: bytes) -> NDArray[np.uint8]:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image).copy()


TESTS = Path(__file__).parent
SERVICE_FIXTURES = frozenset({"postgres_url", "s3_bucket"})
SERVICE_HELPERS = frozenset(
    {"fresh_postgres_database", "redis_server", "RedisServer", "fresh_s3_bucket", "s3_client"}
)
# what a module uses to run a server: the testkit's starters, or a fixture named live
SERVER_STARTERS = frozenset({"live_service", "live_app", "serve_process", "worker_process"})
SERVER_FIXTURES = frozenset({"live", "s3_live"})
FAST_SERVER_MODULES = frozenset(
    {
        "api/dialects/test_routes.py",
        "api/dialects/test_openai.py",
        "api/dialects/test_stability_v2.py",
    }
)


def runs_a_server(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    starters = SERVER_STARTERS & set(vars(module)) if module is not None else set()
    return bool(starters or SERVER_FIXTURES & set(getattr(item, "fixturenames", ())))


def needs_a_service(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    on_postgres = callspec is not None and callspec.params.get("runtime") == "postgresql"
    module = getattr(item, "module", None)
    helpers = SERVICE_HELPERS & set(vars(module)) if module is not None else set()
    return bool(fixtures & SERVICE_FIXTURES or helpers) or on_postgres


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = Path(item.path).relative_to(TESTS)
        if where.parts[0] == "web":
            item.add_marker(pytest.mark.browser)
        if needs_a_service(item):
            item.add_marker(pytest.mark.services)
        if runs_a_server(item) and where.as_posix() not in FAST_SERVER_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def photo() -> NDArray[np.uint8]:
    """A 768x512 generated landscape (see ``canvasfill.sample``)."""
    return sample_photo(768, 512)


@pytest.fixture(scope="session")
def small_photo() -> NDArray[np.uint8]:
    return sample_photo(160, 120, seed=3)


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in s3_env().items():
        monkeypatch.setenv(name, value)
    with fresh_s3_bucket() as bucket:
        yield bucket


@pytest.fixture
def limit_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Stop the rate limiters' clock at 1000.0 s; a test moves it with ``clock[0] += s``.

    The ``limits`` library reads ``time.time()`` in its storages and offers no clock to
    inject, so the module references it calls through are pointed at this one (only
    those: the rest of the process, servers and timeouts included, keeps real time).
    """
    import limits.storage.memory
    import limits.storage.redis

    from canvasfill.api import ratelimit

    now = [1000.0]
    frozen = SimpleNamespace(time=lambda: now[0])
    for module in (limits.storage.memory, limits.storage.redis, ratelimit):
        monkeypatch.setattr(module, "time", frozen)
    return now
