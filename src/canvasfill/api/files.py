"""``GET /files/<key>``: result images behind signed, expiring URLs (and nothing else).

No key is needed, as with a presigned bucket URL; the signature is the permission.
A wrong or missing signature is 403; a right one past its expiry is 410. ``HEAD`` answers
as ``GET`` without the body (link checkers and download managers ask it first).
"""

from __future__ import annotations

import mimetypes
import time
from stat import S_ISREG
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from canvasfill.api.errors import ApiError
from canvasfill.api.service import Service, get_service
from canvasfill.errors import ErrorCode
from canvasfill.storage.local import FILES_PATH, LocalBlobStore

router = APIRouter(tags=["files"])


@router.api_route(FILES_PATH + "/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
def get_file(
    key: str,
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
    try:
        # stat here, in the endpoint's thread: the response would take a hop of its own
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None or not S_ISREG(stat.st_mode):
        raise ApiError(ErrorCode.NOT_FOUND, "the file is gone (its task expired)")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"Cache-Control": f"private, max-age={max(0, int(expires - time.time()))}"}
    return ResultFile(path, media_type=media_type, headers=headers, stat_result=stat)


class ResultFile(FileResponse):
    """A file response that reads 1 MiB at a time: each read is a thread hop, and with
    Starlette's 64 KB a typical result took a dozen of them (more than the read itself).
    Ranges, ``ETag`` and ``HEAD`` are Starlette's."""

    chunk_size = 1024 * 1024
