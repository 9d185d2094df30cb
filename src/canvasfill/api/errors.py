"""Errors as (status, code, message, field), rendered by the door the request came in by.

Every failure a caller can see goes through ``error_info``: canvasfill's own errors
carry an ``ErrorCode``, which maps to one HTTP status here. The native body is
``{"error": {"code", "message", "field"}}``; a dialect registers a renderer for its
path prefix and gets the same ``ErrorInfo`` to shape its way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from canvasfill.errors import CanvasfillError, ErrorCode


class ApiError(Exception):
    """A refusal by the service itself, with the HTTP status the native API answers.

    ``vendor_code`` carries a dialect's own code where the hosted API distinguishes
    cases canvasfill's vocabulary folds together (Kling's five auth failures).
    """

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        vendor_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.vendor_code = vendor_code


_UNPROCESSABLE = {
    ErrorCode.INVALID_IMAGE,
    ErrorCode.TRUNCATED_IMAGE,
    ErrorCode.ANIMATED_IMAGE,
    ErrorCode.DECOMPRESSION_BOMB,
    ErrorCode.IMAGE_TOO_SMALL,
    ErrorCode.IMAGE_TOO_LARGE,
    ErrorCode.ASPECT_RATIO_OUT_OF_RANGE,
    ErrorCode.CANVAS_TOO_LARGE,
    ErrorCode.INVALID_MASK,
    ErrorCode.MASK_SIZE_MISMATCH,
    ErrorCode.MASK_HAS_ICC_PROFILE,
    ErrorCode.EMPTY_MASK,
    ErrorCode.FULL_MASK,
    ErrorCode.ENGINE_UNAVAILABLE,
}


def status_for(code: ErrorCode) -> int:
    """The HTTP status of a refused request with this code."""
    if code is ErrorCode.FILE_TOO_LARGE:
        return 413
    if code is ErrorCode.UNSUPPORTED_FORMAT:
        return 415
    if code in _UNPROCESSABLE:
        return 422
    if code is ErrorCode.ENGINE_FAILED:
        return 500
    if code is ErrorCode.STORAGE_UNAVAILABLE:
        return 503
    if code is ErrorCode.BODY_TIMEOUT:
        return 408
    if code is ErrorCode.EXTERNAL_ID_TAKEN:
        return 409
    return 400


@dataclass(frozen=True)
class ErrorInfo:
    status: int
    code: ErrorCode
    message: str
    field: str | None = None
    headers: dict[str, str] = dataclass_field(default_factory=dict)
    vendor_code: int | None = None


def error_info(exc: Exception) -> ErrorInfo:
    if isinstance(exc, ApiError):
        return ErrorInfo(exc.status, exc.code, exc.message, exc.field, exc.headers, exc.vendor_code)
    if isinstance(exc, CanvasfillError):
        return ErrorInfo(status_for(exc.code), exc.code, exc.message, exc.field)
    if isinstance(exc, RequestValidationError):
        problem = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
        message = problem.get("msg", "the request is not valid")
        return ErrorInfo(400, ErrorCode.INVALID_PARAMETER, f"{where}: {message}", where or None)
    if isinstance(exc, StarletteHTTPException):
        code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(
            exc.status_code, ErrorCode.INVALID_REQUEST
        )
        headers = dict(exc.headers or {})
        return ErrorInfo(exc.status_code, code, str(exc.detail), None, headers)
    if isinstance(exc, OSError | SQLAlchemyError):
        # the stores failed (a full or read-only disk, a database that refuses writes):
        # the request may succeed later, so 503 rather than the 500 of a bug
        return ErrorInfo(
            503,
            ErrorCode.STORAGE_UNAVAILABLE,
            "the service cannot store data right now; retry later (the error was logged)",
        )
    return ErrorInfo(500, ErrorCode.INTERNAL_ERROR, "the server failed; the error was logged")


ErrorRenderer = Callable[[ErrorInfo], Response]


def native_error(info: ErrorInfo) -> Response:
    body = {"error": {"code": info.code.value, "message": info.message, "field": info.field}}
    return JSONResponse(body, status_code=info.status, headers=info.headers)


def register_error_renderer(app: FastAPI, prefix: str, renderer: ErrorRenderer) -> None:
    """Render errors of requests under ``prefix`` with ``renderer`` (longest prefix wins)."""
    renderers: dict[str, ErrorRenderer] = app.state.error_renderers
    renderers[prefix] = renderer


def render_error(request: Request, exc: Exception) -> Response:
    renderers: dict[str, ErrorRenderer] = getattr(request.app.state, "error_renderers", {})
    path = request.url.path
    matches = [prefix for prefix in renderers if path.startswith(prefix)]
    renderer = renderers[max(matches, key=len)] if matches else native_error
    return renderer(error_info(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.state.error_renderers = {}

    async def handle(request: Request, exc: Exception) -> Response:
        return render_error(request, exc)

    for kind in (ApiError, CanvasfillError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, handle)
    app.add_exception_handler(Exception, handle)
