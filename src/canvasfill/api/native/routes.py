"""The native API's routes (``/v1``): expand, remove, and the caller's tasks and account.

Each route reads through the shared glue (``api/doors.py``), translates with
``translate.py`` and answers the native task JSON (``api/render.py``). A created task is
202, or with ``Prefer: wait=N`` awaited for up to N seconds (200 when it finished).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from canvasfill.api import doors
from canvasfill.api.auth import require_key
from canvasfill.api.native import translate
from canvasfill.api.native.schema import REQUEST_BODY
from canvasfill.api.render import native_task
from canvasfill.api.service import Service, get_service
from canvasfill.engines.base import Operation
from canvasfill.imaging.limits import NATIVE
from canvasfill.jobs.tables import ApiKey, TaskStatus

MAX_WAIT_S = 60
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+)", re.IGNORECASE)
BODY_CAP = doors.body_cap(NATIVE)
"""Two images (image and mask), base64 overhead included, plus room for the fields."""

router = APIRouter(prefix="/v1", tags=["native"])

Caller = Annotated[ApiKey, Depends(require_key)]
ServiceDep = Annotated[Service, Depends(get_service)]


@router.post("/expand", status_code=202, openapi_extra={"requestBody": REQUEST_BODY})
async def expand(request: Request, key: Caller, service: ServiceDep) -> JSONResponse:
    """Expand (outpaint) an image: by side ratios, side pixels, or a canvas and a mask."""
    return await _create(request, key, service, Operation.EXPAND)


@router.post("/remove", status_code=202, openapi_extra={"requestBody": REQUEST_BODY})
async def remove(request: Request, key: Caller, service: ServiceDep) -> JSONResponse:
    """Remove what a mask or rectangles mark, filling it from the surroundings."""
    return await _create(request, key, service, Operation.REMOVE)


@router.get("/tasks/{task_id}")
def get_task(task_id: str, request: Request, key: Caller, service: ServiceDep) -> dict[str, Any]:
    """One of the caller's tasks."""
    task = doors.own_task(service, key, task_id)
    return native_task(task, service.runtime, service.public_base(request))


@router.get("/tasks")
def list_tasks(
    request: Request,
    key: Caller,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The caller's tasks, newest first; pass ``next_cursor`` back as ``cursor`` for more."""
    before = translate.decode_cursor(cursor) if cursor else None
    tasks = doors.list_tasks(service, key, limit + 1, before_seq=before)
    page, more = tasks[:limit], len(tasks) > limit
    base = service.public_base(request)
    return {
        "data": [native_task(task, service.runtime, base) for task in page],
        "next_cursor": translate.encode_cursor(page[-1].seq) if more and page else None,
    }


@router.delete("/tasks/{task_id}")
def cancel_task(task_id: str, request: Request, key: Caller, service: ServiceDep) -> dict[str, Any]:
    """Cancel a task that has not started yet (409 once it has)."""
    canceled = doors.cancel(service, key, task_id)
    return native_task(canceled, service.runtime, service.public_base(request))


@router.get("/account")
def account(key: Caller) -> dict[str, Any]:
    """The calling key: its name, credits left (null: unlimited) and webhook secret."""
    return {
        "id": key.id,
        "name": key.name,
        "credits": key.credits,
        "webhook_secret": key.webhook_secret,
    }


async def _create(
    request: Request, key: ApiKey, service: Service, operation: Operation
) -> JSONResponse:
    kind = doors.content_type(request)
    if kind == doors.JSON_TYPE:
        body, image, mask = translate.from_json(await doors.read_json(request, BODY_CAP))
    elif kind in doors.FORM_TYPES:
        form = await doors.read_form(request, BODY_CAP, large_text=("image", "mask"))
        body, image, mask = translate.from_form(form.fields, form.files)
    else:
        raise doors.unsupported_body(415, "application/json or multipart/form-data")
    submission = translate.submission(body, image, mask, operation)
    idem = translate.idempotency(
        request.headers.get("idempotency-key"), operation, body, image, mask
    )
    task = await doors.submit(service, key, submission, idem)
    wait = _prefer_wait(request)
    headers = {"Location": f"/v1/tasks/{task.id}"}
    if wait:
        headers["Preference-Applied"] = f"wait={wait}"
        task = await doors.wait(service, task, wait)
    status = 200 if TaskStatus(task.status).finished else 202
    content = native_task(task, service.runtime, service.public_base(request))
    return JSONResponse(content, status_code=status, headers=headers)


def _prefer_wait(request: Request) -> int:
    match = _PREFER_WAIT.search(request.headers.get("prefer", ""))
    return min(int(match.group(1)), MAX_WAIT_S) if match else 0
