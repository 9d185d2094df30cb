"""Result URLs under a real ``canvasfill serve``: taken from the request, not the bind address.

A client behind a TLS front (which sets ``X-Forwarded-Proto: https`` and keeps the
public ``Host``) must get https URLs on that host, with no setting, and be able to
download them (here: through the same front, played by rewriting the URL's origin).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from service_testkit import free_port, png, serve_env, serve_process


def first_key(log: Path) -> str:
    match = re.search(r"\b(cf_[A-Za-z0-9_\-]+)", log.read_text())
    assert match, log.read_text()
    return match.group(1)


def test_a_client_behind_tls_gets_https_urls_it_can_download(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with serve_process(serve_env(tmp_path / "data"), port, log):
        key = first_key(log)
        headers = {
            "Authorization": f"Bearer {key}",
            "Prefer": "wait=60",
            "Host": "fill.example.com",
            "X-Forwarded-Proto": "https",
        }
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90) as client:
            answer = client.post(
                "/v1/expand",
                headers=headers,
                files={"image": ("photo.png", png(), "image/png")},
                data={"left_px": "16", "engine": "telea"},
            )
            assert answer.status_code == 200, answer.text
            url = answer.json()["results"][0]["url"]
            parts = urlsplit(url)
            assert (parts.scheme, parts.netloc) == ("https", "fill.example.com")
            # the front forwards https://fill.example.com/... to the server
            local = url.replace("https://fill.example.com", f"http://127.0.0.1:{port}", 1)
            download = client.get(local, headers={"Host": "fill.example.com"})
            assert download.status_code == 200
            assert download.content.startswith(b"\x89PNG")
