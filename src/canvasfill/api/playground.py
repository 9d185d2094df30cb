"""The playground at ``/`` and the API docs at ``/docs``, both working offline.

The playground is static files from ``canvasfill/web`` (HTML, CSS and ES modules, no
build step) that talk to the public API like any client. The docs' Swagger UI and ReDoc
assets come from the installed ``fastapi-offline`` package rather than a CDN, so
``/docs`` renders on networks that cannot reach the internet.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from canvasfill.api.page_rules import rules_json

WEB_DIR = Path(str(files("canvasfill") / "web"))
DOCS_ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
WEB_PATH = "/web"
DOCS_ASSETS_PATH = "/docs-assets"
RULES_PATH = f"{WEB_PATH}/rules.json"
"""Served by a route, ahead of the static files mounted at ``WEB_PATH``."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # result URLs may live on CANVASFILL_PUBLIC_URL, another origin than the page's
        "img-src 'self' data: blob: http: https:",
        "connect-src 'self' http: https:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
"""The page keeps an API key in localStorage: no inline or foreign script may run."""

router = APIRouter(include_in_schema=False)


def playground_link(base_url: str, first_key: str | None) -> str:
    """The playground's URL; with ``first_key`` in the fragment, which is never sent.

    The page moves the key from the fragment to ``localStorage`` and clears the fragment.
    """
    link = base_url.rstrip("/") + "/"
    return f"{link}#key={quote(first_key, safe='')}" if first_key else link


@router.get("/")
def index() -> FileResponse:
    """The playground page."""
    return FileResponse(
        WEB_DIR / "index.html",
        media_type="text/html",
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(RULES_PATH)
def rules() -> Response:
    """The doors' declared fields and image limits, which the page checks and writes
    "copy as code" from (no key needed: OpenAPI publishes the same numbers)."""
    return Response(
        rules_json(), media_type="application/json", headers={"Cache-Control": "no-cache"}
    )


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI, its script and styles served from this server."""
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} API",
        swagger_js_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{WEB_PATH}/favicon.svg",
        oauth2_redirect_url=None,
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc, served from this server, without web fonts."""
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} API",
        redoc_js_url=f"{root}{DOCS_ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{WEB_PATH}/favicon.svg",
        with_google_fonts=False,
    )


def install(app: FastAPI) -> None:
    """Add the playground, its static files, and the offline docs to ``app``.

    Create the app with ``docs_url=None, redoc_url=None`` so FastAPI's CDN pages stay off.
    """
    app.include_router(router)
    app.mount(WEB_PATH, StaticFiles(directory=WEB_DIR), name="web")
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")
