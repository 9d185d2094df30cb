"""Item 1: a 150 MB chunked body is refused by every door while the server's RSS stays flat.

The server runs as ``canvasfill serve`` in its own process, so its resident memory
(``VmRSS`` in ``/proc/<pid>/status``) is its own; the body is sent chunked (no
``Content-Length`` to refuse it by), from a generator, so the client holds 1 MB of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from service_testkit import free_port, serve_env, serve_process, service_settings

from canvasfill.api.auth import kling_secret_key
from canvasfill.jobs.runtime import build_runtime
from tests.api.hardening.conftest import AILAB_EXPAND, KLING, PICWISH_EXPAND, STABILITY

BODY_MB = 150
GROWTH_LIMIT_KB = 20 * 1024
SECRET = "memory-test-signing-secret"
MULTIPART = "multipart/form-data; boundary=x"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def chunked(megabytes: int) -> Iterator[bytes]:
    block = b"x" * 2**20
    for _ in range(megabytes):
        yield block


@pytest.mark.slow
def test_150_mb_chunked_bodies_are_refused_without_growing_memory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runtime = build_runtime(
        service_settings(data_dir, signing_secret=SECRET), apply_migrations=True
    )
    try:
        created = runtime.keys.create(name="memory")
    finally:
        runtime.close()
    key, key_id = created.key, created.record.id
    now = int(time.time())
    token = jwt.encode(
        {"iss": key_id, "exp": now + 1800, "nbf": now - 5},
        kling_secret_key(SECRET.encode(), key_id),
        algorithm="HS256",
    )
    doors = [
        ("/v1/expand", {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}),
        ("/v1/expand", {"Authorization": f"Bearer {key}", "Content-Type": MULTIPART}),
        (AILAB_EXPAND, {"ailabapi-api-key": key, "Content-Type": MULTIPART}),
        (PICWISH_EXPAND, {"X-API-KEY": key, "Content-Type": MULTIPART}),
        (STABILITY, {"authorization": key, "Content-Type": MULTIPART}),
        (KLING, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}),
    ]
    port = free_port()
    env = serve_env(data_dir, signing_secret=SECRET, rate_limit="0", default_engine="telea")
    with serve_process(env, port, tmp_path / "serve.log") as process:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=60) as client:
            for path, headers in doors:  # warm every route (imports, first allocations)
                client.post(path, headers=headers, content=b"{}")
            baseline = rss_kb(process.pid)
            report = []
            for path, headers in doors:
                response = client.post(path, headers=headers, content=chunked(BODY_MB))
                growth = rss_kb(process.pid) - baseline
                refused = "larger than" in response.text
                report.append(
                    (path, headers["Content-Type"], response.status_code, refused, growth)
                )
        print("\n".join(f"{row}" for row in report))
        for path, kind, status, refused, growth in report:
            # each door's own refusal: 413, AILab 422 ERROR_IMAGE_SIZE, Kling 400 1201
            assert status in (400, 413, 422), (path, kind, status)
            assert refused, (path, kind)
            assert growth < GROWTH_LIMIT_KB, (path, kind, growth)
