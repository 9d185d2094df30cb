"""The API docs as a newcomer uses them: offline, and "Try it out" works with a key.

Swagger UI at ``/docs``: "Authorize" takes a canvasfill key for the native door's
scheme, and "Try it out" on ``GET /v1/account`` then answers 200 with that key's
account. ReDoc at ``/redoc`` renders the same schema. Neither page asks anything of a
host other than the server (every other request is refused and recorded).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, expect

from .conftest import Page, screenshot

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _only_the_server(page: Page) -> list[str]:
    """Refuse and record every request that leaves the server (data: and blob: stay)."""
    refused: list[str] = []
    server = urlsplit(page.base_url).netloc

    def route(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == server or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.page.route("**/*", route)
    return refused


@pytest.mark.slow
def test_swagger_authorize_then_try_it_out_answers_with_the_key(page: Page, live: object) -> None:
    key = live.new_key(credits=7, name="docs")  # type: ignore[attr-defined]
    refused = _only_the_server(page)
    ui = page.page
    ui.goto("/docs")
    ui.locator("button.authorize").first.click()
    dialog = ui.locator(".dialog-ux .modal-ux")
    expect(dialog).to_be_visible()
    scheme = dialog.locator(".auth-container").filter(has_text="canvasfillKey")
    scheme.locator("input").first.fill(key)
    scheme.locator("button.authorize").click()  # its accessible name: "Apply credentials"
    expect(scheme.get_by_role("heading", name="Authorized")).to_be_visible()
    scheme.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    operation = ui.locator("#operations-default-get_v1_account, .opblock-get").filter(
        has_text="/v1/account"
    )
    operation.first.locator(".opblock-summary").click()
    operation.first.get_by_role("button", name="Try it out").click()
    operation.first.get_by_role("button", name="Execute").click()
    live_response = operation.first.locator(".live-responses-table .response .response-col_status")
    expect(live_response.first).to_have_text("200", timeout=20_000)
    body = operation.first.locator(".live-responses-table .response-col_description pre")
    expect(body.first).to_contain_text('"credits"')
    screenshot(ui, "docs-try-it-out.png")
    assert refused == []
    assert page.console.unexpected() == []


@pytest.mark.slow
def test_redoc_renders_with_nothing_from_the_internet(page: Page) -> None:
    refused = _only_the_server(page)
    ui = page.page
    ui.goto("/redoc")
    expect(ui.get_by_text("/v1/expand").first).to_be_attached()
    expect(ui.locator("h1").first).to_contain_text("canvasfill")
    ui.wait_for_load_state("networkidle")
    screenshot(ui, "redoc.png")
    assert refused == []
    assert page.console.unexpected() == []
