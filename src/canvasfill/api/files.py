"""``GET /files/<key>``: result images behind signed, expiring URLs (and nothing else).

No key is needed, as with a presigned bucket URL; the signature is the permission.
A wrong or missing signature is 403; a right one past its expiry is 410. ``HEAD`` answers
as ``GET`` without the body (link checkers and download managers ask it first).
"""

from __future__ import annotations

import mimetypes
import os
import time
from pathlib import Path
from stat import S_ISREG
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.types import Receive, Scope, Send

from canvasfill.api.errors import ApiError
from canvasfill.api.service import Service, get_service
from canvasfill.errors import ErrorCode
from canvasfill.storage.local import FILES_PATH, LocalBlobStore

router = APIRouter(tags=["files"])


@router.api_route(FILES_PATH + "/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
def get_file(
    key: str,
    request: Request,
    service: Annotated[Service, Depends(get_service)],
    expires: int = 0,
    signature: str = "",
) -> FileResponse:
    signer = service.runtime.signer
    # a signature is hex: anything else (non-ASCII included) cannot match
    if not signature.isascii() or not signature or not signer.matches(key, expires, signature):
        raise ApiError(
            ErrorCode.INVALID_SIGNATURE, "this URL is not signed by this server (or altered)"
        )
    if expires <= time.time():
        raise ApiError(
            ErrorCode.URL_EXPIRED,
            "this result URL has expired; results are kept for a while only",
        )
    store = service.runtime.blobs
    if not isinstance(store, LocalBlobStore):  # other stores hand out their own URLs
        raise ApiError(ErrorCode.NOT_FOUND, "files are not served from here")
    try:
        path = store.path(key)
    except ValueError:
        raise ApiError(ErrorCode.NOT_FOUND, "there is no such file") from None
    # a whole GET of a file up to one chunk is read here too (see ResultFile)
    whole = request.method == "GET" and "range" not in request.headers
    stat, content = _stat_and_read(path, ResultFile.chunk_size if whole else -1)
    if stat is None or not S_ISREG(stat.st_mode):
        raise ApiError(ErrorCode.NOT_FOUND, "the file is gone (its task expired)")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"Cache-Control": f"private, max-age={max(0, int(expires - time.time()))}"}
    return ResultFile(
        path, media_type=media_type, headers=headers, stat_result=stat, content=content
    )


def _stat_and_read(path: Path, up_to: int) -> tuple[os.stat_result | None, bytes | None]:
    """The file's stat, and its bytes when it holds at most ``up_to`` (one open: what is
    read is what was stat'ed, even if the file is replaced meanwhile)."""
    try:
        with path.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            if not S_ISREG(stat.st_mode) or stat.st_size > up_to:
                return stat, None
            content = handle.read()
    except OSError:
        return None, None
    return (stat, content) if len(content) == stat.st_size else (stat, None)


class ResultFile(FileResponse):
    """A file response that reads 1 MiB at a time: each read is a thread hop, and with
    Starlette's 64 KB a typical result took a dozen of them (more than the read itself).
    A file of at most one chunk, asked for whole, comes with its ``content`` already
    read by the endpoint in its own thread, and is sent as it is: Starlette's way costs
    three more hops (open, read, close) and a task that listens for a disconnect.
    Ranges, ``ETag`` and ``HEAD`` are Starlette's."""

    chunk_size = 1024 * 1024

    def __init__(self, *args: Any, content: bytes | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.content = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.content is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # the headers FileResponse set from the stat (length, ETag, Last-Modified) hold
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.content, "more_body": False})
