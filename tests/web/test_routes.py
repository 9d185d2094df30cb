"""The playground's and the docs' routes over HTTP (no browser)."""

from __future__ import annotations

import re

from service_testkit import LiveService

from canvasfill.api.playground import WEB_DIR, playground_link


def test_the_playground_is_served_at_the_root(live: LiveService) -> None:
    with live.client() as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert 'data-testid="api-key"' in response.text


def test_every_asset_the_page_names_is_served_from_here(live: LiveService) -> None:
    with live.client() as client:
        html = client.get("/").text
        assets = re.findall(r'(?:src|href)="(/web/[^"]+)"', html)
        assert "/web/main.js" in assets
        for path in assets:
            assert client.get(path).status_code == 200, path
        script = client.get("/web/main.js")
        assert "javascript" in script.headers["content-type"]
        assert client.get("/web/../api/app.py").status_code == 404
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html)  # no CDN, nothing foreign
    for module in WEB_DIR.glob("*.js"):
        assert "https://" not in module.read_text(), module.name


def test_docs_and_redoc_load_their_assets_from_this_server(live: LiveService) -> None:
    with live.client() as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            urls = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
            assert urls, page
            for url in urls:
                assert url.startswith("/"), (page, url)
                assert client.get(url).status_code == 200, url


def test_playground_link_carries_the_first_key_in_the_fragment() -> None:
    assert playground_link("http://127.0.0.1:8000", "cf_abc") == "http://127.0.0.1:8000/#key=cf_abc"
    assert playground_link("http://h:1/", None) == "http://h:1/"
    assert playground_link("http://h:1", "a+b/c") == "http://h:1/#key=a%2Bb%2Fc"
