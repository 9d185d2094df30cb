"""Kling image expansion: a JSON task API with JWT auth, query by id or external id, lists.

Envelope ``{code, message, request_id, data}``; code 0 is success, else one of Kling's
numeric codes with its HTTP status. Timestamps are milliseconds since the epoch.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import replace
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from canvasfill.api.auth import throttle
from canvasfill.api.dialects import http
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.api.dialects.view import TaskView
from canvasfill.api.errors import ApiCode, ApiError, ErrorInfo
from canvasfill.api.render import register_callback_renderer
from canvasfill.api.service import Service, find_own_task, get_service
from canvasfill.engines.base import Operation, resolve_seed
from canvasfill.errors import CanvasfillError, ErrorCode, InputError
from canvasfill.jobs.accept import Submission
from canvasfill.jobs.models import ApiKey, Task
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.spec import MAX_IMAGES, JobSpec, OutputOptions, RatioExpansion
from canvasfill.jobs.store import NOTIFY_CHANGE

NAME = "kling"
PATH = "/v1/images/editing/expand"
MAX_PROMPT = 2500
MAX_RATIO = 2.0
MAX_PAGE_NUM, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 1000, 500, 30
_RATIO_FIELDS = {
    "top": "up_expansion_ratio",
    "bottom": "down_expansion_ratio",
    "left": "left_expansion_ratio",
    "right": "right_expansion_ratio",
}

# Kling's codes: (code, HTTP status)
AUTH_FAILED, AUTH_EMPTY, AUTH_INVALID, TOKEN_NOT_YET_VALID, TOKEN_EXPIRED = (
    1000,
    1001,
    1002,
    1003,
    1004,
)
_BY_CODE: dict[str, tuple[int, int]] = {
    "unauthorized": (AUTH_FAILED, 401),
    "insufficient_credits": (1102, 429),
    "forbidden": (1103, 403),
    ErrorCode.MISSING_PARAMETER: (1200, 400),
    "invalid_request": (1200, 400),
    "not_found": (1203, 404),
    "method_not_allowed": (1202, 404),
    "rate_limited": (1302, 429),
    ErrorCode.ENGINE_FAILED: (5000, 500),
    "internal_error": (5000, 500),
    "not_ready": (5001, 503),
    "timeout": (5002, 504),
}
_PARAMETER_VALUE = (1201, 400)

STATUS_NAMES = {
    "queued": "submitted",
    "running": "processing",
    "succeeded": "succeed",
    "failed": "failed",
    "canceled": "failed",
}


def parse(body: Any) -> Submission:
    if not isinstance(body, dict):
        raise InputError(
            ErrorCode.INVALID_PARAMETER, "the request body must be a JSON object", field="body"
        )
    fields = FieldReader(body)
    image_bytes, image_url = _image(fields.text("image"))
    ratios = {
        side: fields.number(name, 0.0, minimum=0.0, maximum=MAX_RATIO)
        for side, name in _RATIO_FIELDS.items()
    }
    if not any(ratios.values()):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "set at least one of up/down/left/right_expansion_ratio above 0",
            field="up_expansion_ratio",
        )
    watermark = body.get("watermark_info") or {}
    if not isinstance(watermark, dict) or not isinstance(watermark.get("enabled", False), bool):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            'watermark_info must be {"enabled": true} or {"enabled": false}',
            field="watermark_info",
        )
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=RatioExpansion(**ratios),
        seed=resolve_seed(None),
        n=fields.integer("n", 1, minimum=1, maximum=MAX_IMAGES),
        prompt=fields.text("prompt", max_length=MAX_PROMPT),
        output=OutputOptions(watermark=bool(watermark.get("enabled", False))),
        limits=NAME,
    )
    external_id = fields.text("external_task_id", max_length=200) or None
    return Submission(
        dialect=NAME,
        notify_on=NOTIFY_CHANGE,
        spec=spec,
        image=image_bytes,
        image_url=image_url,
        external_id=external_id,
        callback_url=fields.text("callback_url", max_length=2048) or None,
        meta={"watermark": bool(watermark.get("enabled", False))},
    )


def _image(text: str) -> tuple[bytes | None, str | None]:
    """``image`` is raw base64 (no ``data:`` prefix) or an http(s) URL."""
    value = text.strip()
    if not value:
        raise InputError(ErrorCode.MISSING_PARAMETER, "image is required", field="image")
    if value.startswith(("http://", "https://")):
        return None, value
    if value.startswith("data:"):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "image must be raw base64 without a 'data:image/...;base64,' prefix",
            field="image",
        )
    try:
        return base64.b64decode(value, validate=True), None
    except (binascii.Error, ValueError):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "image is neither valid base64 nor an http(s) URL",
            field="image",
        ) from None


def page(query: FieldReader) -> tuple[int, int]:
    """(pageNum, pageSize) of a list request: 1..1000 and 1..500, defaults 1 and 30."""
    number = query.integer("pageNum", 1, minimum=1, maximum=MAX_PAGE_NUM)
    size = query.integer("pageSize", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    return number, size


def _milliseconds(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def task_data(task: TaskView) -> dict[str, Any]:
    """The ``data`` object of a query answer, and of a callback."""
    images = [
        {"index": index, "url": result.url, "watermark_url": result.watermark_url}
        for index, result in enumerate(task.results)
    ]
    message = ""
    if task.status in ("failed", "canceled"):
        message = task.error_message or task.status
    return {
        "task_id": task.id,
        "task_status": STATUS_NAMES[task.status],
        "task_status_msg": message,
        "task_info": {"external_task_id": task.external_id},
        "task_result": {"images": images},
        "created_at": _milliseconds(task.created_at),
        "updated_at": _milliseconds(task.updated_at),
    }


def envelope(data: Any, request_id: str) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": request_id, "data": data}


def render_error(code: str | int, message: str, request_id: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for a canvasfill code, or for one of Kling's own auth codes."""
    if isinstance(code, int):
        kling_code, status = code, 401
    else:
        kling_code, status = _BY_CODE.get(code, _PARAMETER_VALUE)
    return status, {"code": kling_code, "message": message, "request_id": request_id, "data": None}


def render_exception(error: CanvasfillError, request_id: str) -> tuple[int, dict[str, Any]]:
    return render_error(error.code, error.message, request_id)


# --- auth: Kling's JWT ---------------------------------------------------------------------


def secret_key_for(signing_secret: bytes, access_key: str) -> str:
    """The secret key paired with ``access_key``, derived rather than stored.

    JWTs are HMAC-signed, so the server needs the secret itself, not a hash; deriving it
    from the server's signing secret keeps the database free of usable secrets. Rotating
    the signing secret therefore re-keys every Kling pair.
    """
    return hmac.new(
        signing_secret, b"kling-secret-key:" + access_key.encode(), hashlib.sha256
    ).hexdigest()


class KlingAuthError(ApiError):
    """A refusal carrying one of Kling's own auth codes (1000..1004)."""

    def __init__(self, kling_code: int, message: str) -> None:
        super().__init__(401, f"kling_{kling_code}", message)


def caller(request: Request, service: Service) -> ApiKey:
    """Check ``Authorization: Bearer <JWT>`` (HS256, iss = access key, exp and nbf)."""
    header = request.headers.get("authorization", "").strip()
    if not header:
        raise KlingAuthError(
            AUTH_EMPTY, "Authorization is empty: send 'Authorization: Bearer <JWT>'"
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise KlingAuthError(AUTH_INVALID, "Authorization must be 'Bearer <JWT>'")
    token = token.strip()
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise KlingAuthError(AUTH_INVALID, "the Authorization token is not a valid JWT") from None
    access_key = claims.get("iss")
    key = service.runtime.keys.get(access_key) if isinstance(access_key, str) else None
    if key is None or key.revoked_at is not None:
        raise KlingAuthError(
            AUTH_FAILED, "authentication failed: unknown or revoked access key (iss)"
        )
    secret = secret_key_for(service.runtime.settings.secret(), key.id)
    try:
        jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "iss"]})
    except jwt.ImmatureSignatureError:
        raise KlingAuthError(TOKEN_NOT_YET_VALID, "the token is not yet valid (nbf)") from None
    except jwt.ExpiredSignatureError:
        raise KlingAuthError(TOKEN_EXPIRED, "the token has expired (exp)") from None
    except jwt.InvalidTokenError as exc:
        raise KlingAuthError(AUTH_INVALID, f"the token is invalid: {exc}") from None
    throttle(service, key)
    return key


# --- routes ------------------------------------------------------------------------------

router = APIRouter(tags=["kling"])
ServiceDep = Annotated[Service, Depends(get_service)]


@router.post(PATH, summary="Kling image expansion: create a task")
async def create(request: Request, service: ServiceDep) -> Response:
    key = caller(request, service)
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(
            ErrorCode.INVALID_PARAMETER, "the body is not valid JSON", field="body"
        ) from None
    parsed = parse(body)
    if parsed.external_id is not None:
        existing = await run_in_threadpool(
            service.runtime.tasks.find_external, key.id, NAME, parsed.external_id
        )
        if existing is not None:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"external_task_id {parsed.external_id!r} is already used by task {existing.id}",
                field="external_task_id",
            )
    task = await http.submit(service, key, parsed)
    return JSONResponse(
        envelope(task_data(http.view(task, service, request)), http.current_request_id())
    )


@router.get(
    PATH + "/{task_id}",
    summary="Kling image expansion: query one task (task_id or external_task_id)",
)
def query(task_id: str, request: Request, service: ServiceDep) -> Response:
    key = caller(request, service)
    task = find_own_task(service, key, task_id, NAME) or service.runtime.tasks.find_external(
        key.id, NAME, task_id
    )
    if task is None:
        raise ApiError(404, ApiCode.NOT_FOUND, f"there is no task {task_id!r} for this account")
    return JSONResponse(
        envelope(task_data(http.view(task, service, request)), http.current_request_id())
    )


@router.get(PATH, summary="Kling image expansion: list tasks, newest first")
def list_tasks(request: Request, service: ServiceDep) -> Response:
    key = caller(request, service)
    number, size = page(FieldReader(dict(request.query_params)))
    tasks = service.runtime.tasks.list_for_key(
        key.id, size, offset=(number - 1) * size, dialect=NAME
    )
    data = [task_data(http.view(task, service, request)) for task in tasks]
    return JSONResponse(envelope(data, http.current_request_id()))


def _callback(task: Task, event: str, runtime: Runtime, base_url: str) -> dict[str, Any]:
    """Kling's callback carries the ``data`` object a query returned at that change.

    Deliveries are sent after the fact (and retried), so a ``task.running`` event may go
    out when the task has already finished: it still reports ``processing``, no results.
    """
    current = http.view_for(task, runtime, base_url)
    status = event.removeprefix("task.")
    if status != current.status and status in STATUS_NAMES:
        current = replace(current, status=status, results=(), error_message=None)
    return task_data(current)


def _render_info(info: ErrorInfo) -> tuple[int, dict[str, Any]]:
    if info.code.startswith("kling_"):
        return render_error(
            int(info.code.removeprefix("kling_")), info.message, http.current_request_id()
        )
    return render_error(info.code, info.message, http.current_request_id())


def install(app: FastAPI) -> None:
    app.include_router(router)
    http.install_error_renderer(app, (PATH,), _render_info)
    register_callback_renderer(NAME, _callback)
