"""Every dialect driven by a real HTTP client against ``canvasfill serve`` on loopback."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from service_testkit import free_port

from canvasfill.sample import sample_photo_png

PHOTO = sample_photo_png(400, 320, seed=9)


def _cli(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "canvasfill.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "CANVASFILL_DATA_DIR": str(data),
        "CANVASFILL_DEFAULT_ENGINE": "telea",
        "CANVASFILL_WORKERS": "1",
        "CANVASFILL_RATE_LIMIT": "0",
        "CANVASFILL_URL_ALLOW": "[]",
    }
    output = _cli("keys", "create", "--name", "loopback", "--kling", env=env)
    found = dict(re.findall(r"^(key|kling access key|kling secret key): (\S+)$", output, re.M))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "canvasfill.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("canvasfill serve did not come up")
        yield base, found
    finally:
        process.terminate()
        process.wait(timeout=30)


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
    for _ in range(100):
        time.sleep(0.6)
        data = httpx.get(
            f"{base}/api/tasks/visual/advanced-image-expand/{task_id}", headers=headers, timeout=10
        ).json()["data"]
        if data["state"] == 1:
            break
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
    for _ in range(100):
        data = httpx.get(f"{base}/v1/images/editing/expand/{task_id}", headers=headers).json()[
            "data"
        ]
        if data["task_status"] == "succeed":
            break
        time.sleep(0.3)
    assert data["task_status"] == "succeed"
    assert httpx.get(data["task_result"]["images"][0]["url"]).status_code == 200
