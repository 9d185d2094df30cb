"""The page's "copy as code" commands, run with curl (and the OpenAI one with Python and
the real ``openai`` SDK) against the live server, give the same output size as the page's
own request, and send only fields the door declares."""

from __future__ import annotations

import ast
import base64
import io
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt
import pytest
from PIL import Image
from playwright.sync_api import expect
from service_testkit import LiveService

from canvasfill.api.door import DOORS, Create

from .conftest import Page, loaded_size, photo_png

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
    return json.loads(done.stdout) if done.stdout.strip() else None


def run_python(code: str, cwd: Path, env: dict[str, str]) -> None:
    """The copied script, as a user runs it (the ``openai`` SDK, no retries to hide errors)."""
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, **env, "OPENAI_MAX_RETRIES": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def declared(door: str, path: str) -> dict[str, Any]:
    """The fields the door declares at ``path`` (its ``Create``'s model)."""
    for op in DOORS[door].operations:
        if isinstance(op, Create) and op.path == path and op.fields is not None:
            return dict(op.fields.model_fields)
    raise AssertionError(f"{door} declares no create at {path}")


def curl_request(code: str) -> tuple[str, list[str]]:
    """The path a copied curl posts to and the form field names it sends, parsed as the
    shell reads the command."""
    words = shlex.split(code.replace("\\\n", " "), comments=True)
    url = next(word for word in words if word.startswith("http"))
    names = [
        value.split("=", 1)[0]
        for flag, value in itertools.pairwise(words)
        if flag in ("-F", "--form", "--form-string")
    ]
    return urlparse(url).path, names


def check_curl_fields(door: str, code: str) -> None:
    path, names = curl_request(code)
    fields = declared(door, path)
    assert names, code
    assert len(names) == len(set(names)), f"a field sent twice: {names}"
    assert set(names) <= set(fields), f"{door} {path} does not declare {set(names) - set(fields)}"
    required = {name for name, info in fields.items() if info.is_required()}
    assert required <= set(names), f"{door} {path} requires {required - set(names)}"


def check_python_fields(code: str, base_url: str) -> None:
    """The OpenAI script: one ``client.images.edit(...)`` with declared fields only, and
    the client pointed at this server (only base_url and api_key differ from OpenAI's)."""
    tree = ast.parse(code)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    edits = [
        call
        for call in calls
        if isinstance(call.func, ast.Attribute)
        and call.func.attr == "edit"
        and isinstance(call.func.value, ast.Attribute)
        and call.func.value.attr == "images"
    ]
    assert len(edits) == 1, code
    names = [keyword.arg for keyword in edits[0].keywords]
    fields = declared("openai", "/v1/images/edits")
    assert None not in names
    assert len(names) == len(set(names))
    assert set(names) <= set(fields), set(names) - set(fields)
    assert {"image", "prompt"} <= set(names)
    client = next(c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "OpenAI")
    given = {keyword.arg: keyword.value for keyword in client.keywords}
    assert set(given) == {"base_url", "api_key"}
    assert ast.literal_eval(given["base_url"]) == f"{base_url}/v1"


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
    if dialect == "stability-v2":
        return size_of(Path(answer).read_bytes())
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
    expected = loaded_size(page.page.get_by_test_id("result"))
    assert expected[0] > WIDTH
    assert expected[1] > HEIGHT

    env = {"CANVASFILL_KEY": key, "KLING_JWT": kling_token(*kling_pair(live))}
    headers = {"Authorization": f"Bearer {env['KLING_JWT']}"}
    for dialect in ("native", "ailab", "kling", "stability", "picwish"):
        answer = run_curl(code_for(page, dialect), tmp_path, env)
        assert output_size(dialect, answer, headers, live.base_url) == expected, dialect
    for dialect in ("native", "ailab", "stability", "picwish", "stability-v2"):
        check_curl_fields(dialect, code_for(page, dialect))

    v2 = code_for(page, "stability-v2")
    assert "/v2beta/stable-image/edit/outpaint" in v2
    run_curl(v2, tmp_path, env)
    assert output_size("stability-v2", str(tmp_path / "result.png"), {}, live.base_url) == expected

    script = code_for(page, "openai")
    check_python_fields(script, live.base_url)
    run_python(script, tmp_path, env)
    assert size_of((tmp_path / "result-1.png").read_bytes()) == expected
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

    # Stability v2beta erases by the same mask file, grown by nothing (as the page sends it)
    erase = code_for(page, "stability-v2")
    check_curl_fields("stability-v2", erase)
    assert "/v2beta/stable-image/edit/erase" in erase
    assert "grow_mask=0" in erase
    run_curl(erase, tmp_path, env)
    assert size_of((tmp_path / "result.png").read_bytes()) == (WIDTH, HEIGHT)
    # OpenAI's mask is the same rectangle, made transparent by the script itself
    script = code_for(page, "openai")
    check_python_fields(script, live.base_url)
    assert "ImageDraw" in script
    run_python(script, tmp_path, env)
    assert size_of((tmp_path / "result-1.png").read_bytes()) == (WIDTH, HEIGHT)
    for dialect in ("native", "picwish", "ailab"):
        check_curl_fields(dialect, code_for(page, dialect))
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


def pixels_of(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def test_copied_commands_for_a_painted_mask_remove_what_the_page_removes(
    page: Page, live: LiveService, tmp_path: Path
) -> None:
    """A painted (not rectangular) mask: the native command, the OpenAI script (which turns
    the page's mask.png into OpenAI's transparent-pixel mask) and Stability v2beta's erase
    give the same pixels as the page's own run, engine for engine."""
    key = live.new_key()
    (tmp_path / "photo.png").write_bytes(photo_png(WIDTH, HEIGHT))
    page.page.goto(f"/#key={key}")
    expect(page.page.get_by_test_id("engine")).to_have_value("telea")
    page.page.get_by_test_id("file-input").set_input_files(str(tmp_path / "photo.png"))
    page.page.get_by_test_id("mode-remove").click()
    box = page.page.locator("#stage canvas").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.page.mouse.move(cx - 70, cy - 30)
    page.page.mouse.down()
    page.page.mouse.move(cx + 60, cy + 40, steps=10)
    page.page.mouse.up()
    expect(page.page.locator("#mask-state")).to_have_text("painted")

    page.page.get_by_test_id("run").click()
    expect(page.page.get_by_test_id("progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    own = httpx.get(page.page.get_by_test_id("download").get_attribute("href") or "").content

    script = code_for(page, "openai")
    assert 'Image.open("mask.png")' in script
    with page.page.expect_download() as download:
        page.page.locator("#mask-download").click()
    download.value.save_as(tmp_path / "mask.png")
    env = {"CANVASFILL_KEY": key}
    check_python_fields(script, live.base_url)
    run_python(script, tmp_path, env)
    assert pixels_of((tmp_path / "result-1.png").read_bytes()) == pixels_of(own)

    erase = code_for(page, "stability-v2")
    check_curl_fields("stability-v2", erase)
    run_curl(erase, tmp_path, env)
    assert pixels_of((tmp_path / "result.png").read_bytes()) == pixels_of(own)

    answer = run_curl(code_for(page, "native"), tmp_path, env)
    assert pixels_of(httpx.get(answer["results"][0]["url"]).content) == pixels_of(own)
    assert page.console.unexpected() == []
