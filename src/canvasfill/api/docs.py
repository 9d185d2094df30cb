"""ReDoc's script as ``/redoc`` serves it: the vendored bundle, less its one internet fetch.

ReDoc's standalone bundle draws a "Redocly" logo in its sidebar from
``https://cdn.redoc.ly`` on every page view, whatever the options: a docs page that
calls out to a third party from an offline, self-hosted service (and fails, or leaks
that someone reads the docs). This route answers the bundle's own path (installed
before the static ``/docs-assets`` mount, so it wins) with that address replaced by
canvasfill's icon as a ``data:`` URL; the rest is the file fastapi-offline ships.
"""

from __future__ import annotations

import base64
from functools import cache

from fastapi import APIRouter, Response

from canvasfill.api.playground import DOCS_ASSETS_DIR, DOCS_ASSETS_PATH, WEB_DIR

REDOC_BUNDLE = "redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

router = APIRouter(include_in_schema=False)


@cache
def offline_redoc() -> bytes:
    """The bundle with the logo's address replaced (read once per process)."""
    icon = base64.b64encode((WEB_DIR / "favicon.svg").read_bytes()).decode()
    bundle = (DOCS_ASSETS_DIR / REDOC_BUNDLE).read_text(encoding="utf-8")
    return bundle.replace(REDOC_LOGO, f"data:image/svg+xml;base64,{icon}").encode()


@router.get(f"{DOCS_ASSETS_PATH}/{REDOC_BUNDLE}")
def redoc_bundle() -> Response:
    return Response(
        offline_redoc(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )
