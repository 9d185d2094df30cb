"""Browser tests: Debian's Chromium driven by Playwright against a live server on loopback.

Chromium is the system's (``/usr/bin/chromium``, installed by ``scripts/install-chromium.sh``,
which ``make test`` runs); Playwright never downloads a browser here. Screenshots go to
``tests/web/screenshots/`` (git-ignored); the README's ``docs/playground.png`` is the
``expand.png`` written here, reduced to a palette.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import playwright.sync_api as playwright_sync
import pytest
from PIL import Image
from service_testkit import LiveService, live_service, service_settings

playwright_sync.expect.set_options(timeout=15_000)

CHROMIUM = Path(os.environ.get("CANVASFILL_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def photo_png(width: int = 480, height: int = 320, seed: int = 5) -> bytes:
    """A generated 'photo': a sky-to-ground gradient, a sun, and some grain."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    sky = np.stack([90 + 80 * y, 140 + 70 * y, 230 - 40 * y], axis=-1) * np.ones((1, width, 1))
    ground = np.stack([70 + 40 * x, 120 + 30 * x, 60 + 0 * x], axis=-1) * np.ones((height, 1, 1))
    horizon = (y > 0.62 + 0.05 * np.sin(x * 9)).astype(float)[..., None]
    pixels = sky * (1 - horizon) + ground * horizon
    sun = (x - 0.7) ** 2 + ((y - 0.25) * height / width) ** 2 < 0.004
    pixels[sun] = [255, 226, 140]
    pixels += rng.normal(0, 3, pixels.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The real app on loopback, with the fast ``telea`` engine as its default."""
    settings = service_settings(tmp_path_factory.mktemp("data"), default_engine="telea")
    with live_service(settings) as service:
        yield service


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-chromium.sh (make test does)")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Console:
    """What the page wrote to its console as errors, and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def unexpected(self, *allowed: str) -> list[str]:
        return [text for text in self.errors if not any(part in text for part in allowed)]


@dataclass
class Page:
    page: playwright_sync.Page
    console: Console
    base_url: str


@pytest.fixture
def page(browser: playwright_sync.Browser, live: LiveService) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live.base_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.base_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    console = Console()
    page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    try:
        yield Page(page, console, live.base_url)
    finally:
        context.close()


def screenshot(page: playwright_sync.Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    return path


def loaded_size(image: playwright_sync.Locator) -> tuple[int, int]:
    """The pixel size of an <img> once the browser has decoded it.

    The result element is visible as soon as its `src` is set, before the file has
    arrived; reading `naturalWidth` then gives 0. `decode()` waits for the bytes (and
    fails loudly if they are not an image).
    """
    width, height = image.evaluate(
        "async img => { await img.decode(); return [img.naturalWidth, img.naturalHeight]; }"
    )
    return int(width), int(height)
