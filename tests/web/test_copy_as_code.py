"""The page's "copy as code" commands, run with curl against the live server, give the
same output size as the page's own request."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from PIL import Image
from playwright.sync_api import expect
from service_testkit import LiveService

from .conftest import Page, photo_png

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
]

WIDTH, HEIGHT = 480, 320


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def run_curl(code: str, cwd: Path, env: dict[str, str]) -> Any:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def kling_pair(live: LiveService) -> tuple[str, str]:
    """A key with its Kling access key + secret key pair, made as a user makes one."""
    settings = live.runtime.settings
    done = subprocess.run(
        [sys.executable, "-m", "canvasfill.cli", "keys", "create", "--name", "kling", "--kling"],
        env={
            **os.environ,
            "CANVASFILL_DATA_DIR": str(settings.data_dir),
            "CANVASFILL_DATABASE_URL": settings.resolved_database_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = dict(re.findall(r"^(key|kling access key|kling secret key): (\S+)$", done.stdout, re.M))
    return found["kling access key"], found["kling secret key"]


def kling_token(access_key: str, secret_key: str) -> str:
    now = int(time.time())
    claims = {"iss": access_key, "exp": now + 600, "nbf": now - 5}
    return jwt.encode(claims, secret_key, algorithm="HS256")


def output_size(dialect: str, answer: Any, headers: dict[str, str], base: str) -> tuple[int, int]:
    """The size of the image a dialect's answer holds (waiting for Kling's task)."""
    if dialect == "native":
        assert answer["status"] == "succeeded", answer
        return size_of(httpx.get(answer["results"][0]["url"]).content)
    if dialect == "ailab":
        return size_of(base64.b64decode(answer["data"]["binary_data_base64"][0]))
    if dialect == "stability":
        return size_of(base64.b64decode(answer["data"]["image"]))
    if dialect == "picwish":
        assert answer["data"]["state"] == 1, answer
        return size_of(httpx.get(answer["data"]["image"]).content)
    assert dialect == "kling"
    task_id = answer["data"]["task_id"]
    for _ in range(200):
        data = httpx.get(f"{base}/v1/images/editing/expand/{task_id}", headers=headers).json()
        if data["data"]["task_status"] == "succeed":
            url = data["data"]["task_result"]["images"][0]["url"]
            return size_of(httpx.get(url).content)
        time.sleep(0.2)
    raise AssertionError("the Kling task did not finish")


def code_for(p: Page, dialect: str) -> str:
    p.page.get_by_test_id("code-dialect").select_option(dialect)
    code = p.page.get_by_test_id("code")
    expect(code).to_have_attribute("data-dialect", dialect)
    expect(code).to_be_visible()
    return code.inner_text()


@pytest.mark.parametrize(
    ("unit", "sides"),
    [
        ("ratio", {"left": "0.25", "right": "0.2", "top": "0.1", "bottom": "0.15"}),
        ("px", {"left": "50", "right": "33", "top": "17", "bottom": "60"}),
    ],
)
def test_copied_expand_commands_match_the_pages_request(
    page: Page, live: LiveService, tmp_path: Path, unit: str, sides: dict[str, str]
) -> None:
    key = live.new_key()
    (tmp_path / "photo.png").write_bytes(photo_png(WIDTH, HEIGHT))
    page.page.goto(f"/#key={key}")
    expect(page.page.get_by_test_id("engine")).to_have_value("telea")
    page.page.get_by_test_id("file-input").set_input_files(str(tmp_path / "photo.png"))
    page.page.get_by_test_id(f"unit-{unit}").click()
    for side, value in sides.items():
        page.page.get_by_test_id(f"side-{side}").fill(value)

    page.page.get_by_test_id("copy-curl").click()
    copied = page.page.evaluate("navigator.clipboard.readText()")
    assert copied == code_for(page, "native")

    page.page.get_by_test_id("run").click()
    expect(page.page.get_by_test_id("progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    own = page.page.get_by_test_id("result").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    expected = (int(own[0]), int(own[1]))
    assert expected[0] > WIDTH
    assert expected[1] > HEIGHT

    env = {"CANVASFILL_KEY": key, "KLING_JWT": kling_token(*kling_pair(live))}
    headers = {"Authorization": f"Bearer {env['KLING_JWT']}"}
    for dialect in ("native", "ailab", "kling", "stability", "picwish"):
        answer = run_curl(code_for(page, dialect), tmp_path, env)
        assert output_size(dialect, answer, headers, live.base_url) == expected, dialect
    assert page.console.unexpected() == []


def test_copied_remove_commands_match_the_pages_request(
    page: Page, live: LiveService, tmp_path: Path
) -> None:
    key = live.new_key()
    (tmp_path / "photo.png").write_bytes(photo_png(WIDTH, HEIGHT))
    page.page.goto(f"/#key={key}")
    expect(page.page.get_by_test_id("engine")).to_have_value("telea")
    page.page.get_by_test_id("file-input").set_input_files(str(tmp_path / "photo.png"))
    page.page.get_by_test_id("mode-remove").click()
    page.page.locator('[data-tool="rect"]').click()
    box = page.page.locator("#stage canvas").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.page.mouse.move(cx - 60, cy - 40)
    page.page.mouse.down()
    page.page.mouse.move(cx + 50, cy + 30, steps=5)
    page.page.mouse.up()
    expect(page.page.locator("#mask-state")).to_have_text("1 rectangle")

    env = {"CANVASFILL_KEY": key}
    rectangles = code_for(page, "native")
    assert "rectangles=" in rectangles
    for dialect in ("native", "picwish"):
        answer = run_curl(code_for(page, dialect), tmp_path, env)
        assert output_size(dialect, answer, {}, live.base_url) == (WIDTH, HEIGHT), dialect

    # AILabTools takes a mask file: the page offers the one it would send
    ailab = code_for(page, "ailab")
    assert "mask=@mask.png" in ailab
    expect(page.page.locator("#mask-download")).to_have_attribute("href", re.compile("^blob:"))
    with page.page.expect_download() as download:
        page.page.locator("#mask-download").click()
    download.value.save_as(tmp_path / "mask.png")
    assert size_of((tmp_path / "mask.png").read_bytes()) == (WIDTH, HEIGHT)
    answer = run_curl(ailab, tmp_path, env)
    assert output_size("ailab", answer, {}, live.base_url) == (WIDTH, HEIGHT)
    page.page.get_by_test_id("code-dialect").select_option("kling")
    expect(page.page.get_by_test_id("code")).to_be_hidden()  # Kling expands only
    expect(page.page.get_by_test_id("copy-curl")).to_be_disabled()
    expect(page.page.locator("#code-note")).to_contain_text("expands only")
    assert page.console.unexpected() == []


TRICKY = ["it's", '"$HOME" `id` $(id)', "a\\b; rm -rf /", "plain", "-F x=@/etc/passwd"]


@pytest.mark.parametrize("text", TRICKY)
def test_shell_words_survive_the_shell(page: Page, text: str) -> None:
    page.page.goto("/")
    word = page.page.evaluate("async (text) => (await import('/web/codegen.js')).sh(text)", text)
    echoed = subprocess.run(
        ["bash", "-c", f"printf %s {word}"], capture_output=True, text=True, check=True
    )
    assert echoed.stdout == text
