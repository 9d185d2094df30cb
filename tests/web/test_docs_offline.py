"""``/docs`` renders with every request to anything but loopback refused."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, expect

from .conftest import Page

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.mark.slow
def test_docs_work_without_the_internet(page: Page) -> None:
    refused: list[str] = []

    def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.page.route("**/*", only_loopback)
    page.page.goto("/docs")
    operations = page.page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    paths = set(operations.all_inner_texts())
    assert {"/v1/expand", "/v1/remove", "/v1/engines", "/v1/tasks/{task_id}/events"} <= {
        path.replace("\u200b", "") for path in paths
    }
    assert refused == []
    assert page.console.unexpected() == []


def test_the_playground_links_the_docs(page: Page) -> None:
    page.page.goto("/")
    expect(page.page.get_by_role("link", name="API docs")).to_have_attribute("href", "/docs")
