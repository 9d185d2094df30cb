"""The native API (``/v1``) as a door: expand, remove, masks (the detected mask alone, to
edit before a removal), and the caller's tasks and account.

A created task is 202, or with ``Prefer: wait=N`` awaited for up to N seconds (200 when
it finished). The body is JSON (``image`` as base64 or ``image_url``) or multipart;
``translate.py`` turns either into a ``Submission``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from canvasfill.api.auth import BearerKey
from canvasfill.api.body import Body, BodyKind, body_cap
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.api.door import (
    Account,
    Answer,
    CancelTask,
    Create,
    Door,
    GetTask,
    Incoming,
    ListTasks,
    Page,
    register,
)
from canvasfill.api.errors import NATIVE_STATUS, ErrorInfo, native_error_body
from canvasfill.api.native import translate
from canvasfill.api.native.schema import MaskRequest, NativeRequest
from canvasfill.api.render import native_task_json
from canvasfill.api.view import TaskView
from canvasfill.engines.base import Operation
from canvasfill.errors import ErrorCode
from canvasfill.imaging.limits import NATIVE
from canvasfill.jobs.idempotency import Idempotency
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import ApiKey, TaskStatus

NAME = "native"
MAX_WAIT_S = 60
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+)", re.IGNORECASE)
BODY = Body(
    BodyKind.FORM_OR_JSON,
    body_cap(NATIVE),  # image and mask, base64 overhead included, plus room for fields
    large_text=("image", "mask"),
    unsupported=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
)
MAX_PAGE, DEFAULT_PAGE = 100, 20


def _parse(operation: Operation) -> Any:
    def parse(incoming: Incoming) -> Submission:
        if incoming.was_json:
            body, image, mask = translate.from_json(incoming.json)
        else:
            fields = {name: str(value) for name, value in incoming.fields.items()}
            body, image, mask = translate.from_form(fields, dict(incoming.files))
        return translate.submission(body, image, mask, operation)

    return parse


def prefer_wait(incoming: Incoming) -> int:
    """Seconds of ``Prefer: wait=N``, capped at 60 (read before anything is accepted)."""
    match = _PREFER_WAIT.search(incoming.headers.get("prefer", ""))
    if match is None:
        return 0
    digits = match.group(1).lstrip("0") or "0"
    return MAX_WAIT_S if len(digits) > 3 else min(int(digits), MAX_WAIT_S)


def _wait(incoming: Incoming, _submission: Submission) -> float:
    return float(prefer_wait(incoming))


def _idempotency(operation: Operation) -> Any:
    def idempotency(incoming: Incoming, submission: Submission) -> Idempotency | None:
        """``Idempotency-Key`` with a fingerprint of what this request asks for (the
        request as sent: a seed left to the server does not make a retry differ)."""
        header = incoming.headers.get("idempotency-key")
        if header is None:
            return None
        if incoming.was_json:
            body = translate.validate(incoming.json)
        else:
            body = translate.form_model({name: str(v) for name, v in incoming.fields.items()})
        image, mask = submission.image, submission.mask
        return translate.idempotency(header, operation, body, image, mask)

    return idempotency


def _render_created(task: TaskView, incoming: Incoming) -> Answer:
    headers = {"Location": f"/v1/tasks/{task.id}"}
    wait = prefer_wait(incoming)
    if wait:
        headers["Preference-Applied"] = f"wait={wait}"
    status = 200 if TaskStatus(task.status).finished else 202
    return Answer(native_task_json(task), status, headers)


def _render_task(task: TaskView, _incoming: Incoming) -> Answer:
    return Answer(native_task_json(task))


def _render_canceled(task: TaskView, _incoming: Incoming) -> Answer:
    """200 with the canceled task; 202 with a running one, whose worker was asked to stop."""
    return Answer(native_task_json(task), status=200 if task.status == "canceled" else 202)


def _page(incoming: Incoming) -> Page:
    query = FieldReader(incoming.query)
    limit = query.integer("limit", DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE)
    cursor = incoming.query.get("cursor")
    before = translate.decode_cursor(cursor) if cursor else None
    # one more than asked: whether there is a next page
    return Page(limit=limit + 1, before_seq=before)


def _render_list(tasks: Sequence[TaskView], page: Page, _incoming: Incoming) -> Answer:
    limit = page.limit - 1
    shown, more = list(tasks[:limit]), len(tasks) > limit
    cursor = translate.encode_cursor(shown[-1].seq) if more and shown else None
    return Answer({"data": [native_task_json(task) for task in shown], "next_cursor": cursor})


def _render_account(key: ApiKey, _incoming: Incoming) -> Answer:
    """The calling key: its name, credits left (null: unlimited) and webhook secret."""
    return Answer(
        {
            "id": key.id,
            "name": key.name,
            "credits": key.credits,
            "webhook_secret": key.webhook_secret,
        }
    )


def _render_error(info: ErrorInfo, request_id: str) -> Answer:
    return Answer(native_error_body(info, request_id), NATIVE_STATUS[info.code])


def _parse_masks(incoming: Incoming) -> Submission:
    if incoming.was_json:
        body, image = translate.mask_from_json(incoming.json)
    else:
        fields = {name: str(value) for name, value in incoming.fields.items()}
        body, image = translate.mask_from_form(fields, dict(incoming.files))
    return translate.mask_submission(body, image)


def _masks_idempotency(incoming: Incoming, submission: Submission) -> Idempotency | None:
    header = incoming.headers.get("idempotency-key")
    if header is None:
        return None
    if incoming.was_json:
        body, _image = translate.mask_from_json(incoming.json)
    else:
        body = translate.mask_form_model({name: str(v) for name, v in incoming.fields.items()})
    return translate.mask_idempotency(header, body, submission.image)


MASKS = Create(
    path="/v1/masks",
    summary="Find text or the main subject and answer only its mask (a PNG of the image's "
    "size, 255 where found), to edit before a removal",
    body=BODY,
    parse=_parse_masks,
    render=_render_created,
    wait_s=_wait,
    idempotency=_masks_idempotency,
    fields=MaskRequest,
    description="A task like the others, run on the workers: its results[0].url is the "
    "mask. Nothing found fails it with nothing_to_remove; a detector without weights "
    "fails it naming the model to pull. Masks are free unless the operator prices them "
    "(price_per_image.mask).",
)


def _create(path: str, summary: str, operation: Operation) -> Create:
    return Create(
        path=path,
        summary=summary,
        body=BODY,
        parse=_parse(operation),
        render=_render_created,
        wait_s=_wait,
        idempotency=_idempotency(operation),
        fields=NativeRequest,
    )


DOOR = register(
    Door(
        name=NAME,
        tag="native",
        auth=BearerKey(),
        operations=(
            _create(
                "/v1/expand",
                "Expand (outpaint) an image: by side ratios, side pixels, or a canvas and a mask",
                Operation.EXPAND,
            ),
            _create(
                "/v1/remove",
                "Remove what a mask or rectangles mark, filling it from the surroundings",
                Operation.REMOVE,
            ),
            MASKS,
            GetTask("/v1/tasks/{task_id}", "One of the caller's tasks", _render_task, False),
            ListTasks(
                "/v1/tasks",
                "The caller's tasks, newest first; pass next_cursor back as cursor for more",
                _page,
                _render_list,
                own_door_only=False,
            ),
            CancelTask(
                "/v1/tasks/{task_id}",
                "Cancel a task: a queued one at once (200), a running one stops between its "
                "engine's steps (202: poll until it is canceled); 409 once it has finished",
                _render_canceled,
            ),
            Account(
                ("/v1/account",),
                "The calling key: its name, credits left (null: unlimited), webhook secret",
                _render_account,
            ),
        ),
        render_error=_render_error,
        namespaces=("/v1/",),
    )
)
