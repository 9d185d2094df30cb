"""Item 1: text fields capped at their documented lengths, stalled bodies timed out."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.api.dialects.live import Live, live_app
from tests.api.hardening.conftest import (
    AILAB_EXPAND,
    KLING,
    PHOTO_PNG,
    PICWISH_EXPAND,
    STABILITY,
)

IMAGE = ("p.png", PHOTO_PNG, "image/png")


def test_ailab_keeps_the_first_100_words_of_a_long_prompt(live: Live) -> None:
    words = [f"word{index}" for index in range(250)]
    response = live.client.post(
        AILAB_EXPAND,
        headers={"ailabapi-api-key": live.key},
        files={"image": IMAGE},
        data={"custom_prompt": " ".join(words)},
    )
    assert response.status_code == 200, response.text[:300]
    (task,) = [
        task
        for task in live.server.runtime.tasks.list_for_key(live.key_id, 50, dialect="ailab")
        if task.spec["prompt"].startswith("word0 ")
    ]
    assert task.spec["prompt"] == " ".join(words[:100])


@pytest.mark.parametrize(
    ("path", "headers_of", "field", "length"),
    [
        (AILAB_EXPAND, "ailab", "custom_prompt", 10_001),
        (PICWISH_EXPAND, "picwish", "prompt", 2501),
        (STABILITY, "stability", "prompt", 2501),
        (AILAB_EXPAND, "ailab", "anything", 70_000),
        (PICWISH_EXPAND, "picwish", "rectangles", 70_000),
    ],
)
def test_long_text_fields_are_refused(
    live: Live, path: str, headers_of: str, field: str, length: int
) -> None:
    key, key_id = live.new_key(credits=5)
    header = {"ailab": "ailabapi-api-key", "picwish": "X-API-KEY", "stability": "authorization"}
    response = live.client.post(
        path,
        headers={header[headers_of]: key},
        files={"image" if headers_of != "picwish" else "image_file": IMAGE},
        data={field: "a" * length} | ({"left": "10"} if headers_of == "stability" else {}),
    )
    assert response.status_code == 400, response.text[:300]
    assert field in response.text
    assert live.server.runtime.tasks.list_for_key(key_id, 5) == []
    assert live.credits(key_id) == 5


def test_kling_prompt_over_2500_characters_is_refused(live: Live) -> None:
    token = live.kling_token()
    response = live.client.post(
        KLING,
        headers={"Authorization": f"Bearer {token}"},
        json={"image": "aGVsbG8=", "left_expansion_ratio": 0.1, "prompt": "a" * 2501},
    )
    assert (response.status_code, response.json()["code"]) == (400, 1201)


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("impatient"), body_timeout_s=1.0)


def _stall(base_url: str, path: str, headers: dict[str, str]) -> tuple[bytes, float]:
    """Send the headers and 10 of 1000 promised bytes, then nothing; the answer, and when."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Length: 1000"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"0123456789")
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer, time.monotonic() - started


@pytest.mark.parametrize(
    ("path", "auth", "content_type"),
    [
        ("/v1/expand", "bearer", "application/json"),
        (AILAB_EXPAND, "ailabapi-api-key", "multipart/form-data; boundary=x"),
        (PICWISH_EXPAND, "X-API-KEY", "multipart/form-data; boundary=x"),
        (STABILITY, "authorization", "multipart/form-data; boundary=x"),
    ],
)
def test_a_stalled_body_is_refused_with_408(
    impatient: Live, path: str, auth: str, content_type: str
) -> None:
    key = impatient.key
    headers = {"Content-Type": content_type}
    headers |= {"Authorization": f"Bearer {key}"} if auth == "bearer" else {auth: key}
    answer, seconds = _stall(impatient.server.base_url, path, headers)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert seconds < 5


def test_a_stalled_kling_body_is_refused(impatient: Live) -> None:
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {impatient.kling_token()}",
    }
    answer, seconds = _stall(impatient.server.base_url, KLING, headers)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert seconds < 5
