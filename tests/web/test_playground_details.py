"""The playground's details a newcomer meets (issue 23), each seen in Chromium: the bar's
seconds, Stop, fitting a result used as input, the seed, the outline and handles, engines
that cannot run, the strength slider, Ctrl+Enter, history, phones, dark mode, code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest
from playwright.sync_api import Locator, expect
from service_testkit import LiveService

from canvasfill.engines.base import SEED_MAX
from canvasfill.imaging.geometry import ratio_to_pixels

from .conftest import SCREENSHOTS, Console, Page, photo_png, screenshot
from .test_playground import HEIGHT, WIDTH, dims, natural_size, open_playground, run_and_wait

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "photo.png"
    path.write_bytes(photo_png(WIDTH, HEIGHT))
    return path


def context_page(
    browser: playwright_sync.Browser, live: LiveService, **options: object
) -> Iterator[Page]:
    context = browser.new_context(base_url=live.base_url, **options)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(20_000)
    console = Console()
    page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    try:
        yield Page(page, console, live.base_url)
    finally:
        context.close()


@pytest.fixture
def dark(browser: playwright_sync.Browser, live: LiveService) -> Iterator[Page]:
    yield from context_page(
        browser, live, viewport={"width": 1440, "height": 900}, color_scheme="dark"
    )


@pytest.fixture
def phone(browser: playwright_sync.Browser, live: LiveService) -> Iterator[Page]:
    yield from context_page(
        browser, live, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )


def test_the_bar_moves_and_counts_seconds_then_stop_cancels(
    page: Page, live: LiveService, photo: Path
) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("engine").select_option("steppy")  # reports progress in steps
    page.page.locator("#p-prompt").fill("30")
    page.page.get_by_test_id("side-left").fill("0.1")
    run = page.page.get_by_test_id("run")
    run.click()
    progress = page.page.get_by_test_id("progress")
    expect(progress).to_have_attribute("data-state", "running", timeout=90_000)
    expect(progress).to_have_attribute("aria-valuenow", re.compile(r"^(?!0$|100$)\d+(\.\d+)?$"))
    first = float(progress.get_attribute("data-elapsed") or "0")
    expect(progress.locator(".progress-label")).to_contain_text(
        re.compile(r"running · \d+% · \d+\.\d s")
    )
    page.page.wait_for_timeout(400)
    assert float(progress.get_attribute("data-elapsed") or "0") > first
    screenshot(page.page, "running.png")
    run.click()  # Stop
    # "stopping" shows until the engine's next step ends the task; when that step comes
    # before this check looks, the page has already moved on to "stopped"
    expect(page.page.get_by_test_id("error")).to_contain_text(re.compile("stopping|stopped"))
    expect(run).to_have_text("Expand")
    # the page follows the task to its end: canceled, and History says so unasked
    expect(page.page.get_by_test_id("error")).to_contain_text("canceled", timeout=20_000)
    history = page.page.get_by_test_id("history").locator("li").first
    expect(history).to_contain_text("canceled")
    assert page.console.unexpected() == []


def _expect_empty_bar(progress: Locator) -> None:
    """No run's state, percent or time left on the bar."""
    expect(progress).to_have_attribute("data-state", "")
    expect(progress).to_have_attribute("aria-valuenow", "0")
    expect(progress.locator(".progress-label")).to_have_text("")


def test_a_new_run_clears_the_last_ones_status(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-top").fill("0.2")
    run_and_wait(page)
    progress = page.page.get_by_test_id("progress")
    expect(progress).to_have_attribute("data-state", "done")
    expect(progress.locator(".progress-label")).to_contain_text(re.compile(r"done · \d+\.\d s"))
    page.page.locator("#back-to-editor").click()
    page.page.get_by_test_id("side-top").fill("0")
    page.page.get_by_test_id("run").click()  # refused by the page: the old "done" goes
    expect(page.page.get_by_test_id("error")).to_contain_text("at least one side")
    _expect_empty_bar(progress)
    assert page.console.unexpected() == []


def test_use_as_input_fits_the_result_to_the_view(
    page: Page, live: LiveService, photo: Path
) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-right").fill("1")
    run_and_wait(page)
    page.page.get_by_test_id("use-as-input").click()
    wide = WIDTH + ratio_to_pixels(1, WIDTH, field="right")
    expect(page.page.locator("#image-info")).to_contain_text(dims(wide, HEIGHT))
    level = page.page.locator("#zoom-fit")
    fitted = level.inner_text()
    assert int(fitted.rstrip("%")) >= 50, fitted  # not the 2% of a view fitted while hidden
    page.page.locator("#zoom-in").click()
    level.click()  # fit again: the same zoom
    expect(level).to_have_text(fitted)
    screenshot(page.page, "use-as-input.png")
    assert page.console.unexpected() == []


def test_a_typed_seed_is_used_unlocked_and_kept_when_locked(
    page: Page, live: LiveService, photo: Path
) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("engine").select_option("patch")  # honours seed
    seed = page.page.get_by_test_id("seed")
    seed.fill(str(SEED_MAX))
    fits = seed.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert fits, "the seed field cuts a full seed"
    seed.fill("123456789")
    page.page.get_by_test_id("side-bottom").fill("0.1")
    expect(page.page.get_by_test_id("code")).to_contain_text("-F seed=123456789")
    run_and_wait(page)
    expect(page.page.locator("#result-meta")).to_contain_text("seed 123456789")
    expect(seed).to_have_value("")  # unlocked: used once
    expect(seed).to_have_attribute("placeholder", "random (last 123456789)")
    page.page.locator("#seed-lock").click()  # lock the last seed for the next runs
    expect(seed).to_have_value("123456789")
    page.page.locator("#back-to-editor").click()
    run_and_wait(page)
    expect(page.page.locator("#result-meta")).to_contain_text("seed 123456789")
    expect(seed).to_have_value("123456789")
    assert page.console.unexpected() == []


def test_the_outline_marks_growing_sides_and_no_handle_is_under_the_toolbar(
    page: Page, live: LiveService, photo: Path
) -> None:
    open_playground(page, live.new_key(), photo)
    stage = page.page.locator("#stage")
    page.page.get_by_test_id("side-right").fill("0.5")
    expect(stage).to_have_attribute("data-outline", "right")
    page.page.get_by_test_id("side-bottom").fill("0.5")
    expect(stage).to_have_attribute("data-outline", "right bottom")
    page.page.get_by_role("button", name="9:16").click()
    expect(stage).to_have_attribute("data-outline", "top bottom")
    toolbar = page.page.locator("#toolbar").bounding_box()
    assert toolbar is not None
    for side in ("left", "right", "top", "bottom"):
        box = page.page.get_by_test_id(f"handle-{side}").bounding_box()
        assert box is not None
        apart = (
            box["y"] + box["height"] <= toolbar["y"]
            or box["x"] + box["width"] <= toolbar["x"]
            or box["x"] >= toolbar["x"] + toolbar["width"]
        )
        assert apart, f"the {side} handle is under the toolbar"
    screenshot(page.page, "outline.png")


def test_an_engine_that_cannot_run_says_why_inline(page: Page, live: LiveService) -> None:
    open_playground(page, live.new_key())
    with live.client(live.new_key()) as client:
        engines = client.get("/v1/engines").json()["data"]
    missing = [engine for engine in engines if not engine["available"]]
    assert missing, "the test server has an engine without weights (lama)"
    box = page.page.get_by_test_id("engine-unavailable")
    expect(box).to_be_visible()
    for engine in missing:
        expect(box).to_contain_text(f"{engine['name']}: {engine['reason']}")
    assert page.console.unexpected() == []


_CLIPPED_ITEMS = """list => {
  const box = list.getBoundingClientRect();
  return Array.from(list.children)
    .filter((item) => {
      const own = item.getBoundingClientRect();
      return own.top < box.top - 0.5 || own.bottom > box.bottom + 0.5;
    })
    .map((item) => item.textContent);
}"""


def _shows_every_line(p: Page) -> None:
    """The list of engines that cannot run is shown whole: nothing scrolled away, no item
    cut by the box (a scroll cap used to cut a reason mid-line)."""
    listing = p.page.locator("#engine-unavailable")
    listing.scroll_into_view_if_needed()
    expect(listing).to_be_visible()
    height, shown = listing.evaluate("el => [el.scrollHeight, el.clientHeight]")
    assert height <= shown + 1, (height, shown)
    assert listing.evaluate(_CLIPPED_ITEMS) == []


def test_engines_that_cannot_run_are_listed_in_whole_lines(page: Page, live: LiveService) -> None:
    open_playground(page, live.new_key())
    _shows_every_line(page)
    card = page.page.locator("#engine-unavailable-card")
    card.screenshot(path=str(SCREENSHOTS / "unavailable.png"))
    screenshot(page.page, "desktop.png")
    assert page.console.unexpected() == []


def test_switching_mode_clears_the_last_runs_status(
    page: Page, live: LiveService, photo: Path
) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-left").fill("0.2")
    run_and_wait(page)
    progress = page.page.get_by_test_id("progress")
    expect(progress.locator(".progress-label")).to_contain_text("done")
    page.page.get_by_test_id("mode-remove").click()
    _expect_empty_bar(progress)
    expect(page.page.get_by_test_id("error")).to_be_hidden()
    expect(page.page.get_by_test_id("detect-status")).to_be_hidden()
    page.page.get_by_test_id("run").click()  # refused (no mask): the error is this mode's
    expect(page.page.get_by_test_id("error")).to_contain_text("paint over")
    page.page.get_by_test_id("mode-expand").click()
    expect(page.page.get_by_test_id("error")).to_be_hidden()
    expect(progress.locator(".progress-label")).to_have_text("")
    assert page.console.unexpected() == []


def test_the_strength_slider_sends_what_it_shows(
    page: Page, live: LiveService, photo: Path
) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("mode-remove").click()
    page.page.get_by_test_id("engine").select_option("patch")  # honours strength in removal
    shown = page.page.get_by_test_id("strength-value")
    expect(shown).to_have_text("default")
    page.page.locator('[data-tool="rect"]').click()
    box = page.page.locator("#stage canvas").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.page.mouse.move(cx - 30, cy - 20)
    page.page.mouse.down()
    page.page.mouse.move(cx + 30, cy + 20, steps=4)
    page.page.mouse.up()
    slider = page.page.get_by_test_id("strength")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowLeft")  # 0.75 by default, in 0.05 steps
    expect(shown).to_have_text("0.60")
    expect(page.page.get_by_test_id("code")).to_contain_text("-F strength=0.6")
    page.page.get_by_test_id("run").click()
    expect(page.page.get_by_test_id("progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    key = page.page.evaluate("localStorage.getItem('canvasfill.key')")
    record = live.runtime.keys.authenticate(key)
    assert record is not None
    [task] = live.runtime.tasks.list_for_key(record.id, 5)
    assert task.spec["strength"] == 0.6  # what the server was sent: what the page showed
    assert page.console.unexpected() == []


def test_ctrl_enter_runs_and_history_restores_parameters_and_result(
    page: Page, live: LiveService, photo: Path
) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-bottom").fill("0.5")
    page.page.locator("#p-n").fill("2")
    page.page.locator("#p-n").press("Control+Enter")
    expect(page.page.get_by_test_id("progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    wanted = (WIDTH, HEIGHT + ratio_to_pixels(0.5, HEIGHT, field="bottom"))
    assert natural_size(page) == wanted
    page.page.locator("#back-to-editor").click()
    page.page.get_by_role("button", name="Reset").click()
    page.page.locator("#p-n").fill("1")
    entry = page.page.get_by_test_id("history").locator("li button").first
    expect(entry).to_contain_text("succeeded")
    entry.click()
    assert natural_size(page) == wanted
    expect(page.page.get_by_test_id("gallery").locator(".thumb")).to_have_count(2)
    expect(page.page.get_by_test_id("side-bottom")).to_have_value("0.5")
    expect(page.page.locator("#p-n")).to_have_value("2")
    expect(page.page.get_by_test_id("output-size")).to_have_text(dims(*wanted))
    assert page.console.unexpected() == []


def test_on_a_phone_run_stays_reachable(phone: Page, live: LiveService, photo: Path) -> None:
    open_playground(phone, live.new_key(), photo)
    run = phone.page.get_by_test_id("run")
    for scroll in (0, 400):
        phone.page.evaluate("y => window.scrollTo(0, y)", scroll)
        box = run.bounding_box()
        assert box is not None
        assert box["y"] >= 0, box
        assert box["y"] + box["height"] <= 844, box
        on_top = phone.page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.id",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top == "run"
    phone.page.evaluate("window.scrollTo(0, 0)")
    screenshot(phone.page, "phone.png")
    assert phone.console.unexpected() == []


_GAP_ABOVE_CODE = """() => {
  const code = document.querySelector("#code-card").getBoundingClientRect();
  const above = Array.from(document.querySelectorAll(".panel > .card, .panel > .notice"))
    .map((el) => el.getBoundingClientRect())
    .filter((box) => box.height > 0 && box.bottom <= code.top + 0.5);
  return code.top - Math.max(...above.map((box) => box.bottom));
}"""


def test_on_a_phone_the_panel_has_no_blank_before_copy_as_code(
    phone: Page, live: LiveService, photo: Path
) -> None:
    """The sticky Run bar kept its slot between the engine card and "Copy as code": a
    blank of its height wherever the bar was stuck elsewhere (a full-page view)."""
    open_playground(phone, live.new_key(), photo)
    gap = phone.page.evaluate("getComputedStyle(document.querySelector('.panel')).rowGap")
    assert phone.page.evaluate(_GAP_ABOVE_CODE) <= float(gap.removesuffix("px")) + 1
    _shows_every_line(phone)
    phone.page.get_by_test_id("side-right").fill("0.3")
    run_and_wait(phone)
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    phone.page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(exist_ok=True)
    phone.page.screenshot(path=str(SCREENSHOTS / "phone-full.png"), full_page=True)
    assert phone.console.unexpected() == []


def test_dark_mode(dark: Page, live: LiveService, photo: Path) -> None:
    open_playground(dark, live.new_key())
    screenshot(dark.page, "dark-start.png")
    dark.page.get_by_test_id("file-input").set_input_files(str(photo))
    dark.page.get_by_test_id("side-right").fill("0.4")
    background = dark.page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(value) for value in re.findall(r"\d+", background)[:3]]
    assert max(channels) < 60, background
    field = dark.page.get_by_test_id("side-left").evaluate("el => getComputedStyle(el).color")
    assert min(int(value) for value in re.findall(r"\d+", field)[:3]) > 180, field
    screenshot(dark.page, "dark.png")
    run_and_wait(dark)
    screenshot(dark.page, "dark-result.png")
    dark.page.locator("#back-to-editor").click()
    dark.page.get_by_test_id("mode-remove").click()
    screenshot(dark.page, "dark-remove.png")
    dark.page.get_by_test_id("code-dialect").select_option("stability-v2")
    card = dark.page.locator("#code-card")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(screenshot(dark.page, "dark-code.png")))
    assert dark.console.unexpected() == []


def test_copied_code_never_breaks_a_token(page: Page, live: LiveService, photo: Path) -> None:
    open_playground(page, live.new_key(), photo)
    page.page.get_by_test_id("side-right").fill("0.3")
    for dialect in ("native", "openai", "stability-v2"):
        page.page.get_by_test_id("code-dialect").select_option(dialect)
        code = page.page.get_by_test_id("code")
        expect(code).to_have_attribute("data-dialect", dialect)
        text = code.inner_text()
        rendered = code.evaluate(
            """el => {
              const style = getComputedStyle(el);
              const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
              const inner = el.scrollHeight - padding;
              return Math.round(inner / parseFloat(style.lineHeight));
            }"""
        )
        assert rendered == len(text.split("\n")), (dialect, rendered)
    card = page.page.locator("#code-card")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(screenshot(page.page, "code-openai.png")))
    assert page.console.unexpected() == []
