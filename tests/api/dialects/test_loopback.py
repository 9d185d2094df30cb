"""Every dialect driven by a real HTTP client against ``canvasfill serve`` on loopback."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from service_testkit import canvasfill_command, free_port, serve_env, serve_process, wait_until

from canvasfill.sample import sample_photo_png

pytestmark = pytest.mark.slow  # a canvasfill serve process per module

PHOTO = sample_photo_png(400, 320, seed=9)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data = tmp_path_factory.mktemp("serve")
    env = serve_env(data, default_engine="telea", workers="1", rate_limit="0", url_allow="[]")
    output = canvasfill_command("keys", "create", "--name", "loopback", "--kling", env=env)
    found = dict(re.findall(r"^(key|kling access key|kling secret key): (\S+)$", output, re.M))
    port = free_port()
    with serve_process(env, port, data / "serve.log"):
        yield f"http://127.0.0.1:{port}", found


def test_ailab_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, keys = server
    response = httpx.post(
        f"{base}/api/image/editing/ai-image-extender",
        headers={"ailabapi-api-key": keys["key"]},
        files={"image": ("p.png", PHOTO, "image/png")},
        data={"left": "0.5", "right": "0", "top": "0", "bottom": "0"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]["binary_data_base64"]) == 1


def test_stability_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, keys = server
    response = httpx.post(
        f"{base}/api/edit/outpaint",
        headers={"authorization": keys["key"]},
        files={"image": ("p.png", PHOTO, "image/png")},
        data={"left": 64, "down": 32, "output_format": "jpeg"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert base64.b64decode(response.json()["data"]["image"])[:3] == b"\xff\xd8\xff"


def test_picwish_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, keys = server
    headers = {"X-API-KEY": keys["key"]}
    created = httpx.post(
        f"{base}/api/tasks/visual/advanced-image-expand",
        headers=headers,
        files={"image_file": ("p.png", PHOTO, "image/png")},
        timeout=60,
    )
    task_id = created.json()["data"]["task_id"]

    def finished() -> dict[str, Any] | None:
        url = f"{base}/api/tasks/visual/advanced-image-expand/{task_id}"
        data: dict[str, Any] = httpx.get(url, headers=headers, timeout=10).json()["data"]
        return data if data["state"] not in (0, 2, 3, 4) else None

    # PicWish's 2 requests per second hold in any one-second window (the create and the
    # first poll spend it): poll a little slower than once a second, as a client should
    data = wait_until(finished, timeout=60, interval=1.1)
    assert data["state"] == 1
    image = httpx.get(data["image"], timeout=10)
    assert image.status_code == 200
    assert image.content[:4] == b"\x89PNG"


def test_kling_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, keys = server
    now = int(time.time())
    token = jwt.encode(
        {"iss": keys["kling access key"], "exp": now + 600, "nbf": now - 5},
        keys["kling secret key"],
        algorithm="HS256",
    )
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{base}/v1/images/editing/expand",
        headers=headers,
        json={"image": base64.b64encode(PHOTO).decode(), "up_expansion_ratio": 0.5},
        timeout=60,
    )
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["task_id"]

    def finished() -> dict[str, Any] | None:
        url = f"{base}/v1/images/editing/expand/{task_id}"
        data: dict[str, Any] = httpx.get(url, headers=headers).json()["data"]
        return data if data["task_status"] in ("succeed", "failed") else None

    data = wait_until(finished, timeout=60, interval=0.3)
    assert data["task_status"] == "succeed"
    assert httpx.get(data["task_result"]["images"][0]["url"]).status_code == 200
