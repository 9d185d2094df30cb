"""Issue 26 item 15: slow request heads are cut off and one peer's connections are bounded.

The guard is uvicorn's protocol with two rules (``api/connection_guard.py``); it is tested
here under a bare uvicorn on loopback, and wired into a real ``canvasfill serve``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from service_testkit import free_port, serve_env, serve_process, wait_until
from starlette.types import Receive, Scope, Send

from canvasfill.api.connection_guard import guarded_protocol

HALF_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@contextmanager
def guarded_server(header_timeout_s: float, per_peer: int) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(
        hello,
        host="127.0.0.1",
        port=port,
        http=guarded_protocol(header_timeout_s, per_peer),
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def stalled(port: int, head: bytes = HALF_HEAD) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head)
    return sock


def closed_after(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Read until the server closes ``sock``: what it sent and how long that took."""
    began = time.monotonic()
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        pytest.fail(f"still open after {within} s (got {received!r})")
    except ConnectionResetError:
        pass
    return received, time.monotonic() - began


def test_a_stalled_head_is_closed_with_408_within_the_timeout() -> None:
    with guarded_server(header_timeout_s=1.0, per_peer=64) as port, ExitStack() as stack:
        socks = [stack.enter_context(stalled(port)) for _ in range(10)]
        for sock in socks:
            received, _ = closed_after(sock, within=3.0)
            assert received.startswith(b"HTTP/1.1 408"), received
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello"


def test_a_slow_but_timely_head_is_answered() -> None:
    with (
        guarded_server(header_timeout_s=2.0, per_peer=64) as port,
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
    ):
        for part in (b"GET / HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
            sock.sendall(part)
            time.sleep(0.3)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


def test_the_next_head_on_a_kept_alive_connection_has_a_deadline_too() -> None:
    with (
        guarded_server(header_timeout_s=1.0, per_peer=64) as port,
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
    ):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while not answer.endswith(b"0\r\n\r\n"):  # the whole (chunked) first answer
            answer += sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200")
        sock.sendall(HALF_HEAD)
        for _ in range(4):  # a byte now and then must not keep it open
            time.sleep(0.3)
            sock.sendall(b"x")
        received, _ = closed_after(sock, within=3.0)
        assert received.startswith(b"HTTP/1.1 408"), received


def test_one_peer_holds_a_bounded_number_of_connections() -> None:
    with guarded_server(header_timeout_s=5.0, per_peer=4) as port, ExitStack() as stack:
        held = [stack.enter_context(stalled(port)) for _ in range(4)]
        time.sleep(0.2)
        extra = stack.enter_context(stalled(port))
        received, seconds = closed_after(extra, within=2.0)
        assert received == b""
        assert seconds < 2.0
        for sock in held:
            sock.close()
        # once they are gone, the peer may connect again
        wait_until(lambda: _answers(port), timeout=5)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_canvasfill_serve_closes_stalled_heads(tmp_path: Path) -> None:
    port = free_port()
    env = serve_env(tmp_path / "data", header_timeout_s="1", connections_per_peer="100")
    with serve_process(env, port, tmp_path / "serve.log"), ExitStack() as stack:
        socks = [stack.enter_context(stalled(port)) for _ in range(40)]
        began = time.monotonic()
        for sock in socks:
            received, _ = closed_after(sock, within=5.0)
            assert received.startswith(b"HTTP/1.1 408"), received
        assert time.monotonic() - began < 5.0
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
