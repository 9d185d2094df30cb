"""The playground at ``/`` driven in real Chromium: expand, remove, errors, the key."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Route, expect
from service_testkit import LiveService

from canvasfill.imaging.geometry import ratio_to_pixels

from .conftest import Page, loaded_size, photo_png, screenshot

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 480, 320


def dims(width: int, height: int) -> str:
    """A size as the page writes it (with a multiplication sign)."""
    return f"{width} \u00d7 {height}"


def open_playground(p: Page, key: str, photo: Path | None = None) -> None:
    p.page.goto(f"/#key={key}")
    expect(p.page.get_by_test_id("engine")).to_have_value("telea")
    if photo is not None:
        p.page.get_by_test_id("file-input").set_input_files(str(photo))
        expect(p.page.locator("#image-info")).to_contain_text(dims(WIDTH, HEIGHT))


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "photo.png"
    path.write_bytes(photo_png(WIDTH, HEIGHT))
    return path


def natural_size(p: Page) -> tuple[int, int]:
    result = p.page.get_by_test_id("result")
    expect(result).to_be_visible()
    return loaded_size(result)


def run_and_wait(p: Page) -> None:
    p.page.get_by_test_id("run").click()
    # the first task waits for the worker process to start (and warm its engines up)
    expect(p.page.get_by_test_id("progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    expect(p.page.get_by_test_id("result")).to_be_visible()
    expect(p.page.get_by_test_id("error")).to_be_hidden()


def test_expand_by_dragging_the_right_handle(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    handle = page.page.get_by_test_id("handle-right").bounding_box()
    assert handle is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.page.mouse.move(x, y)
    page.page.mouse.down()
    page.page.mouse.move(x + 150, y, steps=10)
    page.page.mouse.up()

    right = float(page.page.get_by_test_id("side-right").input_value())
    assert 0 < right <= 10
    for side in ("left", "top", "bottom"):
        assert page.page.get_by_test_id(f"side-{side}").input_value() == "0"
    expected = (WIDTH + ratio_to_pixels(right, WIDTH, field="right"), HEIGHT)
    expect(page.page.get_by_test_id("output-size")).to_have_text(dims(*expected))
    screenshot(page.page, "expand.png")

    run_and_wait(page)
    assert natural_size(page) == expected
    screenshot(page.page, "expand-result.png")
    assert page.console.unexpected() == []


def test_expand_by_typing_ratios(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-left").fill("0.25")
    page.page.get_by_test_id("side-top").fill("0.1")
    page.page.get_by_test_id("side-bottom").fill("0.333")
    expected = (
        WIDTH + ratio_to_pixels(0.25, WIDTH, field="left"),
        HEIGHT
        + ratio_to_pixels(0.1, HEIGHT, field="top")
        + ratio_to_pixels(0.333, HEIGHT, field="b"),
    )
    expect(page.page.get_by_test_id("output-size")).to_have_text(dims(*expected))
    run_and_wait(page)
    assert natural_size(page) == expected
    assert page.console.unexpected() == []


def test_the_page_refuses_what_the_server_would(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("run").click()
    expect(page.page.get_by_test_id("error")).to_have_text(
        "at least one side must be expanded by more than 0"
    )
    page.page.get_by_test_id("side-right").fill("11")
    page.page.get_by_test_id("run").click()
    expect(page.page.get_by_test_id("error")).to_contain_text("a ratio is at most 10")
    assert live.runtime.tasks.list_for_key(_key_id(live, page), 5) == []
    assert page.console.unexpected() == []


def _key_id(live: LiveService, page: Page) -> str:
    key = page.page.evaluate("localStorage.getItem('canvasfill.key')")
    record = live.runtime.keys.authenticate(key)
    assert record is not None
    return record.id


def test_remove_paint_undo_paint_again_and_run(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("mode-remove").click()
    box = page.page.locator("#stage canvas").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def stroke(dx: float) -> None:
        page.page.mouse.move(cx - 80 + dx, cy - 40)
        page.page.mouse.down()
        page.page.mouse.move(cx + 60 + dx, cy + 30, steps=12)
        page.page.mouse.up()

    state = page.page.locator("#mask-state")
    stroke(0)
    expect(state).to_have_text("painted")
    page.page.keyboard.press("Control+z")
    expect(state).to_have_text("empty")
    expect(page.page.get_by_test_id("redo")).to_be_enabled()
    page.page.keyboard.press("Control+Shift+z")
    expect(state).to_have_text("painted")
    page.page.keyboard.press("Control+z")
    page.page.keyboard.press("]")
    stroke(40)
    expect(state).to_have_text("painted")
    expect(page.page.get_by_test_id("redo")).to_be_disabled()
    screenshot(page.page, "remove.png")

    run_and_wait(page)
    assert natural_size(page) == (WIDTH, HEIGHT)
    screenshot(page.page, "remove-result.png")
    tasks = page.page.get_by_test_id("history").locator("li")
    expect(tasks.first).to_contain_text("remove")
    assert page.console.unexpected() == []


def test_a_corrupt_file_shows_the_servers_error(
    page: Page, live: LiveService, tmp_path: Path
) -> None:
    key = live.new_key()
    corrupt = photo_png(WIDTH, HEIGHT)[:300]
    path = tmp_path / "broken.png"
    path.write_bytes(corrupt)
    with live.client(key) as client:
        direct = client.post(
            "/v1/expand",
            files={"image": ("broken.png", corrupt, "image/png")},
            data={"ratios": '{"left": 0.2}'},
        )
    assert direct.status_code == 422
    message = direct.json()["error"]["message"]

    open_playground(page, key)
    page.page.get_by_test_id("file-input").set_input_files(str(path))
    expect(page.page.locator("#image-info")).to_contain_text("the server will check it")
    page.page.get_by_test_id("side-left").fill("0.2")
    page.page.get_by_test_id("run").click()
    expect(page.page.get_by_test_id("error")).to_have_text(message)
    # the browser reports the refused request itself; nothing else may go wrong
    assert page.console.unexpected("status of 422") == []


def test_the_key_comes_from_the_fragment_and_stays(page: Page, live: LiveService) -> None:
    page.page.goto("/")
    expect(page.page.locator("#key-notice")).to_be_visible()
    key = live.new_key()
    page.page.goto(f"/#key={key}")
    expect(page.page.get_by_test_id("engine")).to_have_value("telea")
    assert "key=" not in page.page.url
    page.page.goto("/")
    expect(page.page.get_by_test_id("api-key")).to_have_value(key)
    expect(page.page.locator("#key-notice")).to_be_hidden()
    assert page.console.unexpected() == []


def test_a_wrong_key_shows_the_servers_message(page: Page, live: LiveService) -> None:
    page.page.goto("/")
    page.page.get_by_test_id("api-key").fill("cf_not_a_key")
    page.page.get_by_test_id("api-key").press("Enter")
    page.page.get_by_test_id("api-key").blur()
    expect(page.page.get_by_test_id("error")).to_contain_text("the API key is not valid")
    assert page.console.unexpected("status of 401") == []


def test_a_key_typed_while_the_page_loads_is_kept(page: Page, live: LiveService) -> None:
    # the rules are held back so the key is typed before the page is ready, and with no
    # Enter or blur its "change" has not fired: getting ready must not wipe it
    held: list[Route] = []
    page.page.route("**/web/rules.json", lambda route: held.append(route))
    page.page.goto("/")
    page.page.get_by_test_id("api-key").fill("cf_not_a_key")
    for _ in range(100):
        if held:
            break
        page.page.wait_for_timeout(50)
    assert held, "the page never asked for its rules"
    held[0].continue_()
    expect(page.page.get_by_test_id("error")).to_contain_text("the API key is not valid")
    expect(page.page.get_by_test_id("api-key")).to_have_value("cf_not_a_key")
    assert page.console.unexpected("status of 401") == []


def test_only_honoured_parameters_are_shown(page: Page, live: LiveService) -> None:
    open_playground(page, live.new_key())
    prompt = page.page.locator('[data-param="prompt"]')
    expect(prompt).to_be_hidden()  # telea honours n only
    expect(page.page.locator('[data-param="n"]')).to_be_visible()
    page.page.get_by_test_id("engine").select_option("sleepy")  # a test engine: prompt, n
    expect(prompt).to_be_visible()
    expect(page.page.locator('[data-param="steps"]')).to_be_hidden()
    expect(page.page.locator('[data-param="seed"]')).to_be_hidden()
    assert page.console.unexpected() == []


def test_use_as_input_keeps_working_on_the_result(
    page: Page, live: LiveService, photo: Path
) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-right").fill("0.5")
    run_and_wait(page)
    page.page.get_by_test_id("use-as-input").click()
    wide = WIDTH + ratio_to_pixels(0.5, WIDTH, field="right")
    expect(page.page.locator("#image-info")).to_contain_text(dims(wide, HEIGHT))
    href = page.page.get_by_test_id("download").get_attribute("href")
    assert href
    data = httpx.get(href).content
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (wide, HEIGHT)
    assert page.console.unexpected() == []


DROP_OR_PASTE = """async ({data, name, kind}) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: "image/png"}));
  const event = kind === "drop"
    ? new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true})
    : new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true});
  (kind === "drop" ? document.querySelector("#stage") : document.body).dispatchEvent(event);
}"""


@pytest.mark.parametrize("kind", ["drop", "paste"])
def test_a_photo_can_be_dropped_or_pasted(page: Page, live: LiveService, kind: str) -> None:
    open_playground(page, live.new_key())
    data = base64.b64encode(photo_png(WIDTH, HEIGHT)).decode()
    page.page.evaluate(DROP_OR_PASTE, {"data": data, "name": f"{kind}.png", "kind": kind})
    expect(page.page.locator("#image-info")).to_have_text(f"{kind}.png · {dims(WIDTH, HEIGHT)}")
    expect(page.page.get_by_test_id("handle-right")).to_be_visible()
    assert page.console.unexpected() == []


def test_zoom_and_fit(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    level = page.page.locator("#zoom-fit")
    fitted = level.inner_text()
    page.page.locator("#zoom-in").click()
    assert int(level.inner_text().rstrip("%")) > int(fitted.rstrip("%"))
    level.click()
    expect(level).to_have_text(fitted)
    box = page.page.locator("#stage canvas").bounding_box()
    assert box is not None
    page.page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.page.mouse.wheel(0, 400)
    expect(level).not_to_have_text(fitted)
    assert int(level.inner_text().rstrip("%")) < int(fitted.rstrip("%"))


def test_presets_and_units_agree(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_role("button", name="16:9").click()
    wide = round(HEIGHT * 16 / 9)
    expect(page.page.get_by_test_id("output-size")).to_have_text(dims(wide, HEIGHT))
    page.page.get_by_test_id("unit-px").click()
    left, right = (wide - WIDTH) // 2, wide - WIDTH - (wide - WIDTH) // 2
    expect(page.page.get_by_test_id("side-left")).to_have_value(str(left))
    expect(page.page.get_by_test_id("side-right")).to_have_value(str(right))
    expect(page.page.get_by_test_id("output-size")).to_have_text(dims(wide, HEIGHT))
    page.page.get_by_role("button", name="9:16").click()
    tall = round(WIDTH * 16 / 9)
    expect(page.page.get_by_test_id("output-size")).to_have_text(dims(WIDTH, tall))
    page.page.get_by_test_id("side-top").fill("100")
    expect(page.page.get_by_test_id("output-size")).to_have_text(
        dims(WIDTH, tall - (tall - HEIGHT) // 2 + 100)
    )
    assert page.console.unexpected() == []


def test_a_gallery_of_n_results(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-top").fill("0.2")
    page.page.locator("#p-n").fill("2")
    run_and_wait(page)
    thumbs = page.page.get_by_test_id("gallery").locator(".thumb")
    expect(thumbs).to_have_count(2)
    thumbs.nth(1).click()
    expect(page.page.locator("#result-meta")).to_contain_text("image 2 of 2")
    assert natural_size(page) == (WIDTH, HEIGHT + ratio_to_pixels(0.2, HEIGHT, field="top"))
    assert page.console.unexpected() == []


def test_the_eraser_takes_paint_away(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("mode-remove").click()
    box = page.page.locator("#stage canvas").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def stroke(tool: str) -> None:
        page.page.locator(f'[data-tool="{tool}"]').click()
        page.page.mouse.move(cx - 50, cy)
        page.page.mouse.down()
        page.page.mouse.move(cx + 50, cy, steps=8)
        page.page.mouse.up()

    page.page.get_by_test_id("brush-size").fill("20")
    stroke("brush")
    page.page.get_by_test_id("brush-size").fill("80")
    stroke("eraser")
    page.page.get_by_test_id("run").click()
    expect(page.page.get_by_test_id("error")).to_contain_text("the mask marks no pixel to fill")
    page.page.get_by_test_id("clear").click()
    expect(page.page.locator("#mask-state")).to_have_text("empty")
    page.page.keyboard.press("Control+z")  # the clear itself is undone
    expect(page.page.locator("#mask-state")).to_have_text("painted")
    assert page.console.unexpected() == []


def test_stop_cancels_or_stops_waiting(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("engine").select_option("sleepy")
    page.page.locator("#p-prompt").fill("2")  # sleepy sleeps this many seconds
    page.page.get_by_test_id("side-left").fill("0.1")
    run = page.page.get_by_test_id("run")
    run.click()
    expect(run).to_have_text("Stop")
    expect(page.page.get_by_test_id("progress")).not_to_have_attribute("data-state", "sending")
    run.click()
    expect(page.page.get_by_test_id("error")).to_contain_text(
        re.compile("canceled before it started|stopping|stopped|before it could stop")
    )
    expect(run).to_have_text("Expand")
    assert page.console.unexpected("status of 409") == []


def test_history_shows_a_past_result(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-bottom").fill("0.5")
    run_and_wait(page)
    page.page.locator("#back-to-editor").click()
    entry = page.page.get_by_test_id("history").locator("li button").first
    expect(entry).to_contain_text("succeeded")
    entry.click()
    wanted = (WIDTH, HEIGHT + ratio_to_pixels(0.5, HEIGHT, field="bottom"))
    assert natural_size(page) == wanted
    expect(page.page.locator("#compare")).to_have_class(re.compile("no-before"))
    assert page.console.unexpected() == []
