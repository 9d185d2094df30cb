"""Refusals as one family: every error a caller sees is a ``CanvasfillError`` with a code.

``ApiError`` adds what only the HTTP layer knows (headers such as ``Retry-After``, a
vendor's own code where its API tells cases apart that canvasfill's vocabulary folds
together). No error carries an HTTP status: each door maps the code to its status and
body through one exhaustive table (``api/door.py``), the native door's being
:data:`NATIVE_STATUS`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from canvasfill.errors import (
    DOWNLOAD_CODES,
    IMAGE_FILE_CODES,
    IMAGE_SIZE_CODES,
    MASK_CODES,
    CanvasfillError,
    ErrorCode,
)

log = logging.getLogger(__name__)


class ApiError(CanvasfillError):
    """A refusal by the service itself (who is calling, how fast, what they look up)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        vendor_code: int | None = None,
    ) -> None:
        super().__init__(code, message, field=field)
        self.headers = dict(headers or {})
        self.vendor_code = vendor_code


@dataclass(frozen=True)
class ErrorInfo:
    """A refusal as every door sees it, before its own table shapes it."""

    code: ErrorCode
    message: str
    field: str | None = None
    headers: Mapping[str, str] = dataclass_field(default_factory=dict)
    vendor_code: int | None = None


STORAGE_MESSAGE = "the service cannot store data right now; retry later (the error was logged)"


def error_info(exc: BaseException) -> ErrorInfo:
    """Any exception as an ``ErrorInfo``; what is not canvasfill's own is logged."""
    if isinstance(exc, ApiError):
        return ErrorInfo(exc.code, exc.message, exc.field, exc.headers, exc.vendor_code)
    if isinstance(exc, CanvasfillError):
        return ErrorInfo(exc.code, exc.message, exc.field)
    if isinstance(exc, StarletteHTTPException):
        code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(
            exc.status_code, ErrorCode.INVALID_REQUEST
        )
        return ErrorInfo(code, str(exc.detail), None, dict(exc.headers or {}))
    if isinstance(exc, OSError | SQLAlchemyError):
        # the stores failed (a full or read-only disk, a database that refuses writes):
        # the request may succeed later, so 503 rather than the 500 of a bug
        log.error("a store failed", exc_info=exc, extra={"event": "store_failed"})
        return ErrorInfo(ErrorCode.STORAGE_UNAVAILABLE, STORAGE_MESSAGE)
    log.error("unexpected error", exc_info=exc, extra={"event": "internal_error"})
    return ErrorInfo(ErrorCode.INTERNAL_ERROR, "the server failed; the error was logged")


def _statuses() -> dict[ErrorCode, int]:
    table: dict[ErrorCode, int] = {}
    groups: tuple[tuple[tuple[ErrorCode, ...], int], ...] = (
        (IMAGE_FILE_CODES + IMAGE_SIZE_CODES + MASK_CODES, 422),
        ((ErrorCode.NOTHING_TO_REMOVE,), 422),
        (DOWNLOAD_CODES, 400),
        (
            (
                ErrorCode.MISSING_PARAMETER,
                ErrorCode.INVALID_PARAMETER,
                ErrorCode.INVALID_REQUEST,
                ErrorCode.ENGINE_NOT_FOUND,
            ),
            400,
        ),
        ((ErrorCode.ENGINE_UNAVAILABLE,), 422),
        ((ErrorCode.FILE_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE), 413),
        ((ErrorCode.UNSUPPORTED_FORMAT, ErrorCode.UNSUPPORTED_MEDIA_TYPE), 415),
        ((ErrorCode.BODY_TIMEOUT,), 408),
        ((ErrorCode.UNAUTHORIZED,), 401),
        ((ErrorCode.INSUFFICIENT_CREDITS,), 402),
        ((ErrorCode.INVALID_SIGNATURE,), 403),
        ((ErrorCode.NOT_FOUND,), 404),
        ((ErrorCode.METHOD_NOT_ALLOWED,), 405),
        ((ErrorCode.TASK_NOT_CANCELABLE, ErrorCode.EXTERNAL_ID_TAKEN, ErrorCode.CANCELED), 409),
        ((ErrorCode.URL_EXPIRED,), 410),
        ((ErrorCode.IDEMPOTENCY_KEY_REUSED,), 422),
        ((ErrorCode.RATE_LIMITED,), 429),
        ((ErrorCode.ENGINE_FAILED, ErrorCode.INTERNAL_ERROR, ErrorCode.WORKER_CRASHED), 500),
        ((ErrorCode.INPUT_MISSING,), 500),
        ((ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE), 503),
        ((ErrorCode.TIMEOUT,), 504),
    )
    for codes, status in groups:
        table.update(dict.fromkeys(codes, status))
    missing = [code.value for code in ErrorCode if code not in table]
    if missing:
        raise RuntimeError(f"the native status table has no row for {missing}")
    return table


NATIVE_STATUS: dict[ErrorCode, int] = _statuses()
"""The native API's status for every code (checked complete at import)."""


def native_error_body(info: ErrorInfo, request_id: str) -> dict[str, object]:
    """The native error envelope; the request id is in the body as in ``X-Request-ID``."""
    error = {"code": info.code.value, "message": info.message, "field": info.field}
    return {"error": error, "request_id": request_id}
