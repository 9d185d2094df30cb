"""Every request's id, access log line and metrics, as a pure ASGI middleware.

It is plain ASGI (not Starlette's ``BaseHTTPMiddleware``) so that one context covers the
whole exchange: the request id is set before the app runs and stays set until the last
byte of the answer is sent, whatever happens in between. An exception that escapes the
app is answered here, in the door's error shape (``api.handler.render_error``), with the
request's own id in the header and in any envelope that carries one, and logged with its
traceback. Letting it escape further left Starlette's outermost handler to answer after
the id was reset (so a door echoed a stale one), with no header and no access line, and
uvicorn then dropped the keep-alive connection.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canvasfill.api.errors import error_info
from canvasfill.api.handler import door_for_path, render_error
from canvasfill.api.service import Service
from canvasfill.jobs.logs import request_id

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_HEADER = b"x-request-id"


def given_or_new_id(given: str) -> str:
    """The caller's ``X-Request-ID`` when it is a plain token, else a fresh one."""
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


class Observe:
    """Request id (given or made) on every answer, one JSON access line, metrics."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        rid = given_or_new_id(request.headers.get("x-request-id", ""))
        if self.service.base_url is None:
            self.service.base_url = str(request.base_url).rstrip("/")
        status = 500
        started = False
        recorded = False
        began = time.perf_counter()

        def record() -> None:
            # before the last byte goes out: a client that reads /metrics or the log
            # right after its answer finds this request in them
            nonlocal recorded
            if recorded:
                return
            recorded = True
            seconds = time.perf_counter() - began
            self.service.metrics.observe_request(scope, status, seconds)
            log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={"event": "request", "status": status, "seconds": seconds},
            )

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER]
                message = {**message, "headers": [*headers, (_HEADER, rid.encode())]}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        token = request_id.set(rid)
        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                log.exception("unhandled error", extra={"event": "unhandled_error"})
                if started:  # part of an answer is out: nothing better than to cut it
                    raise
                answer = render_error(door_for_path(request.url.path), error_info(exc), rid)
                await answer(scope, receive, send_with_id)
        finally:
            record()
            request_id.reset(token)
