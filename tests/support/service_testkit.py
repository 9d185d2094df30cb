"""The one kit for the service's tests: images, a live server, a loopback web server.

A live server is the real app on loopback, either in a thread of the test process
(``live_service``: the tests can reach its runtime) or as ``canvasfill serve`` in a
process of its own (``serve_process``: for kills and restarts). Everything binds to
127.0.0.1 on a free port; every wait is bounded by a deadline.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import uvicorn
from fastapi import FastAPI
from PIL import Image

from canvasfill.api.app import create_app
from canvasfill.api.service import Service
from canvasfill.engines import registry
from canvasfill.jobs.runtime import Runtime
from canvasfill.settings import Settings

SUPPORT_DIR = Path(__file__).parent
TEST_ENGINES = "canvasfill_test_engines"
TEST_ENGINE_NAMES = ("sleepy", "steppy", "crashy", "sketchy")


def png(width: int = 96, height: int = 64, seed: int = 0) -> bytes:
    """A small noisy RGB PNG, different per seed."""
    rng = np.random.default_rng(seed)
    pixels = (rng.random((height, width, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def descendant_pids(pid: int) -> list[int]:
    """The processes below ``pid`` (children, theirs...), read from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # the field after the parenthesised command name is the state, then ppid
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def service_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test server: temporary data, one worker, loopback URL inputs allowed."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "workers": 1,
        "rate_limit": 0,
        "url_allow": ["127.0.0.1/32"],
        "url_timeout_s": 1.0,
        "callback_backoff_s": 0.02,
        "callback_poll_s": 0.05,
        "callback_timeout_s": 2.0,
        "watchdog_interval_s": 0.25,
        "sweep_interval_s": 3600,
        "engine_modules": [TEST_ENGINES],
        "log_json": True,
    }
    values.update(overrides)
    return Settings(**values)


POSTGRES_ADMIN = os.environ.get(
    "CANVASFILL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the local PostgreSQL server; dropped afterwards."""
    name = f"canvasfill_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


S3_ENDPOINT = os.environ.get("CANVASFILL_TEST_S3_ENDPOINT", "http://127.0.0.1:8333")
"""SeaweedFS's S3 on loopback (``scripts/start-services.sh`` starts it with these keys)."""
S3_ACCESS_KEY = os.environ.get("CANVASFILL_TEST_S3_ACCESS_KEY", "canvasfill-test")
S3_SECRET_KEY = os.environ.get("CANVASFILL_TEST_S3_SECRET_KEY", "canvasfill-test-secret")


def s3_env() -> dict[str, str]:
    """The standard AWS variables that give boto3 the test server's keys."""
    return {
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_REGION": "us-east-1",
    }


def s3_client(endpoint_url: str = S3_ENDPOINT) -> Any:
    """A boto3 client with the test keys, configured as the service's (SigV4, path-style
    addresses), to look into buckets from the test's side."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def s3_keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every key in ``bucket`` under ``prefix``, sorted."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@contextmanager
def fresh_s3_bucket() -> Iterator[str]:
    """A new, empty bucket on the test S3 server (a valid S3 name); emptied and removed
    afterwards."""
    name = f"canvasfill-test-{uuid.uuid4().hex[:12]}"
    client = s3_client()
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        keys = s3_keys(client, name)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            client.delete_objects(Bucket=name, Delete={"Objects": batch, "Quiet": True})
        client.delete_bucket(Bucket=name)


@dataclass
class LiveService:
    """The real app served by uvicorn on loopback, in a thread of the test process."""

    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread
    base_url: str

    @property
    def service(self) -> Service:
        service: Service = self.app.state.service
        return service

    @property
    def runtime(self) -> Runtime:
        return self.service.runtime

    def new_key(self, credits: int | None = None, name: str = "test") -> str:
        return self.runtime.keys.create(name=name, credits=credits).key

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.base_url, headers=headers, **kwargs)

    def wait_for_task(self, task_id: str, status: str, timeout: float = 30.0) -> Any:
        def reached() -> Any:
            task = self.runtime.tasks.get(task_id)
            return task if task is not None and task.status == status else None

        return wait_until(reached, timeout)


_servers_with_test_engines = 0


@contextmanager
def test_engines_registered() -> Iterator[None]:
    """The test engines (``canvasfill_test_engines``) registered here, and removed after.

    The app imports the module named in ``engine_modules``, which registers them; when
    the last server that loaded them stops (servers may nest: a module's server and a
    test's own), they leave the registry and the module cache, so no later test sees them.
    """
    global _servers_with_test_engines
    _servers_with_test_engines += 1
    try:
        yield
    finally:
        _servers_with_test_engines -= 1
        if _servers_with_test_engines == 0:
            for name in TEST_ENGINE_NAMES:
                registry.unregister(name)
            sys.modules.pop(TEST_ENGINES, None)


@contextmanager
def live_service(settings: Settings, *, wait_ready: bool = True) -> Iterator[LiveService]:
    """The app served on loopback; with ``wait_ready``, once its dispatcher is ready (an
    embedded worker warmed its engines), as ``/readyz`` would say."""
    with test_engines_registered():
        yield from _serve_in_thread(settings, wait_ready)


def _serve_in_thread(settings: Settings, wait_ready: bool) -> Iterator[LiveService]:
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            proxy_headers=False,  # as canvasfill serve: forwarded_allow_ips is the one list
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=30)
    assert server.started, "the test server did not start"
    try:
        if wait_ready:
            wait_until(app.state.service.dispatcher.ready, timeout=60)
        yield LiveService(app, server, thread, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def serve_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``canvasfill serve`` process for tests (test engines importable)."""
    env = {
        **os.environ,
        "CANVASFILL_DATA_DIR": str(data_dir),
        "CANVASFILL_ENGINE_MODULES": f'["{TEST_ENGINES}"]',
        "PYTHONPATH": os.pathsep.join([str(SUPPORT_DIR), os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "200",
    }
    env.update({f"CANVASFILL_{name.upper()}": value for name, value in settings.items()})
    return env


def canvasfill_command(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run ``canvasfill ARGS`` in a process of its own; its standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "canvasfill.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return result.stdout


@contextmanager
def serve_process(
    env: dict[str, str], port: int, log: Path, workers: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """``canvasfill serve`` on 127.0.0.1:``port``, its output appended to ``log``.

    It runs in a process group of its own, so killing the group (on the way out, if it
    still runs) takes its worker processes with it.
    """
    command = [sys.executable, "-m", "canvasfill.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(base) or process.poll() is not None, timeout=60)
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


class RedisServer:
    """A redis-server of the test's own on 127.0.0.1:``port``, without persistence, so
    a kill and restart loses every key (as a broker restart does in production)."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.log.parent)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_until(self.ping, timeout=10, interval=0.05)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def llen(self, name: str) -> int:
        """Length of list ``name`` (a Celery queue on this broker)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(f"LLEN {name}\r\n".encode())
            return int(sock.recv(64).decode().strip().lstrip(":"))


@contextmanager
def redis_server(log: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), log)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def worker_process(
    env: dict[str, str], log: Path, queues: str = "cpu", concurrency: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker (``canvasfill.jobs.dispatch.worker.run_worker``) in a session of its own,
    ready (its worker processes warmed up) when this yields; stopped on the way out."""
    command = [sys.executable, "-m", "canvasfill.jobs.dispatch.worker", queues, str(concurrency)]
    start = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def ready() -> bool:
        with log.open("rb") as handle:
            handle.seek(start)
            return b" ready." in handle.read() or process.poll() is not None

    try:
        wait_until(ready, timeout=90)
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        if process.poll() is None:
            process.terminate()  # warm shutdown
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[BaseHTTPRequestHandler, "Loopback"], None]


@dataclass
class Loopback:
    """A tiny web server on 127.0.0.1: routes are functions that write the answer."""

    routes: dict[str, Handler]
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def hits(self, path: str) -> list[Recorded]:
        return [request for request in self.requests if request.path == path]


@contextmanager
def loopback(routes: dict[str, Handler]) -> Iterator[Loopback]:
    state = Loopback(routes)

    class RequestHandler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            state.requests.append(
                Recorded(self.command, path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            route = state.routes.get(path)
            if route is None:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            # the client may give up first: timeouts are tested on purpose
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                route(self, state)

        do_GET = _handle  # noqa: N815 (http.server's naming)
        do_POST = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def respond(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if "content-length" not in {name.lower() for name in headers or {}}:
        handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)
