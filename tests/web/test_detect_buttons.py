""" "Find text" and "Select subject" in Chromium against the real ``POST /v1/masks``.

The detectors are the tiny graphs of :mod:`tests.engines.onnx_graphs` (bright pixels are
text and subject), pinned in the workers as ``tests/api/test_native_masks.py`` pins them,
so what is found is known: the photo's bright caption.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import playwright.sync_api as playwright_sync
import pytest
from PIL import Image
from playwright.sync_api import expect
from service_testkit import LiveService, live_service, service_settings

from tests.engines.onnx_graphs import install, isolate_models, ppocr_det_like, u2netp_like

from .conftest import Console, loaded_size, screenshot

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 480, 320
CAPTION = (slice(250, 280), slice(60, 420))


def captioned_photo(path: Path) -> Path:
    """A dark gradient (nothing for the tiny detectors) with a bright caption band."""
    ramp = np.linspace(10, 60, WIDTH, dtype=np.float32)
    image = np.repeat(np.repeat(ramp[None, :, None], HEIGHT, axis=0), 3, axis=2).astype(np.uint8)
    image[CAPTION] = 250
    Image.fromarray(image).save(path)
    return path


@pytest.fixture(scope="module")
def detecting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    folder = tmp_path_factory.mktemp("detect")
    with pytest.MonkeyPatch.context() as patch:
        isolate_models(folder, patch)
        install("u2netp", u2netp_like(folder / "u2netp_like.onnx"), patch)
        install("ppocr-det", ppocr_det_like(folder / "ppocr_like.onnx"), patch)
        patch.setenv("CANVASFILL_TEST_DETECTORS", "1")
        settings = service_settings(folder / "data", default_engine="telea")
        with live_service(settings) as service:
            yield service


@pytest.fixture
def tab(browser: playwright_sync.Browser) -> Iterator[tuple[playwright_sync.Page, Console]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    console = Console()
    page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    try:
        yield page, console
    finally:
        context.close()


def open_remove(page: playwright_sync.Page, live: LiveService, photo: Path) -> None:
    page.goto(f"{live.base_url}/#key={live.new_key()}")
    expect(page.get_by_test_id("engine")).to_have_value("telea")
    page.get_by_test_id("file-input").set_input_files(str(photo))
    expect(page.locator("#image-info")).to_contain_text(f"{WIDTH} \u00d7 {HEIGHT}")
    page.get_by_test_id("mode-remove").click()


def downloaded_mask(page: playwright_sync.Page, tmp_path: Path) -> np.ndarray:
    """The mask the page would send, as its "Download mask.png" gives it."""
    page.get_by_test_id("code-dialect").select_option("ailab")  # it takes a mask file
    link = page.locator("#mask-download")
    expect(link).to_have_attribute("href", re.compile("^blob:"))
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "mask.png"
    download.value.save_as(path)
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


@pytest.mark.parametrize(("button", "kind"), [("find-text", "text"), ("select-subject", "subject")])
def test_a_found_mask_is_drawn_for_editing_then_used(
    tab: tuple[playwright_sync.Page, Console],
    detecting: LiveService,
    tmp_path: Path,
    button: str,
    kind: str,
) -> None:
    page, console = tab
    open_remove(page, detecting, captioned_photo(tmp_path / "caption.png"))
    with page.expect_request(lambda r: r.url.endswith("/v1/masks")) as sent:
        page.get_by_test_id(button).click()
    assert sent.value.post_data_json["detect"] == kind
    assert sent.value.headers["prefer"] == "wait=60"
    status = page.get_by_test_id("detect-status")
    expect(status).to_contain_text(
        f"found {'text' if kind == 'text' else 'a subject'}", timeout=90_000
    )
    mask_state = page.locator("#mask-state")
    expect(mask_state).to_have_text("painted")
    screenshot(page, f"detect-{kind}.png")

    mask = downloaded_mask(page, tmp_path)
    assert mask.shape == (HEIGHT, WIDTH)
    assert (mask[CAPTION] >= 128).all(), "the caption is in the mask"
    assert (mask[:200] < 128).all(), "nothing far from the caption is"

    # one step the user can undo and redo, and paint over
    page.get_by_test_id("undo").click()
    expect(mask_state).to_have_text("empty")
    page.get_by_test_id("redo").click()
    expect(mask_state).to_have_text("painted")

    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    result = page.get_by_test_id("result")
    expect(result).to_be_visible()
    assert loaded_size(result) == (WIDTH, HEIGHT)
    assert console.unexpected() == []


def test_nothing_found_says_so_inline(
    tab: tuple[playwright_sync.Page, Console], detecting: LiveService, tmp_path: Path
) -> None:
    page, console = tab
    plain = tmp_path / "plain.png"
    Image.new("RGB", (WIDTH, HEIGHT), (20, 20, 20)).save(plain)
    open_remove(page, detecting, plain)
    page.get_by_test_id("find-text").click()
    status = page.get_by_test_id("detect-status")
    expect(status).to_contain_text("no text was found", timeout=90_000)
    expect(status).to_have_class("small hint-line problem")
    expect(page.locator("#mask-state")).to_have_text("empty")
    assert console.unexpected() == []


@pytest.fixture(scope="module")
def without_weights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    folder = tmp_path_factory.mktemp("no-weights")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CANVASFILL_MODELS_DIR", str(folder / "no-models"))
        with live_service(service_settings(folder / "data", default_engine="telea")) as service:
            yield service


def test_missing_weights_show_the_servers_message_inline(
    tab: tuple[playwright_sync.Page, Console], without_weights: LiveService, tmp_path: Path
) -> None:
    page, console = tab
    with without_weights.client(without_weights.new_key()) as client:
        photo = captioned_photo(tmp_path / "caption.png").read_bytes()
        direct = client.post(
            "/v1/masks",
            files={"image": ("caption.png", photo, "image/png")},
            data={"detect": "subject"},
            headers={"Prefer": "wait=30"},
        ).json()
    assert direct["status"] == "failed"
    message = direct["error"]["message"]
    assert "canvasfill models pull u2netp" in message

    open_remove(page, without_weights, tmp_path / "caption.png")
    page.get_by_test_id("select-subject").click()
    status = page.get_by_test_id("detect-status")
    expect(status).to_have_text(message, timeout=90_000)
    expect(page.get_by_test_id("select-subject")).to_be_enabled()
    screenshot(page, "detect-no-weights.png")
    assert console.unexpected() == []
