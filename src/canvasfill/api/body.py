"""Reading a request body: capped while it streams in, then parsed as the door declared.

Bodies are counted as they arrive (and spooled to disk past 1 MB), so memory stays
bounded whatever a client claims; a body that stalls is refused with 408. Parsing
refuses what would otherwise surface as a 500 deep inside: JSON nested past
:data:`MAX_JSON_DEPTH`, integers longer than Python converts, and NUL characters in
any text (no field of any door means one, and PostgreSQL cannot store them).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from fastapi import Request
from starlette.datastructures import UploadFile

from canvasfill.api.errors import ApiError
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.limits import ImageLimits

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
JSON_TYPE = "application/json"


def body_cap(limits: ImageLimits, images: int = 2) -> int:
    """The largest body a door reads: ``images`` images at its limit, as base64, plus 1 MB."""
    return math.ceil(images * limits.max_bytes * 4 / 3) + 2**20


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _too_large(cap: int) -> ApiError:
    return ApiError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"the request body is larger than {cap / 2**20:.0f} MB; send smaller images",
    )


TEXT_FIELD_CAP = 64 * 1024
"""The longest form text field a door reads (prompts are far shorter; files are parts)."""
SPOOL_IN_MEMORY = 2**20
"""A body is kept in memory up to this size while it arrives, then in a temporary file,
so a body that is refused half-way never sat in memory."""
_REPLAY_CHUNK = 64 * 1024


async def read_capped(request: Request, cap: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes ``cap`` bytes.

    The declared ``Content-Length`` is checked first; a chunked body is counted as it
    arrives (and spooled to disk past 1 MB), so memory stays bounded whatever the client
    claims; a body that stalls for ``body_timeout_s`` is refused with 408.
    """
    with await _spool(request, cap) as spool:
        return spool.read()


async def _spool(request: Request, cap: int) -> IO[bytes]:
    """The body in a spooled temporary file, rewound; see :func:`read_capped`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(cap)
    timeout = _body_timeout(request)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (returned)
    try:
        size = 0
        chunks = request.stream().__aiter__()
        while True:
            try:
                async with asyncio.timeout(timeout):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise _stalled(timeout) from None
            size += len(chunk)
            if size > cap:
                raise _too_large(cap)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _body_timeout(request: Request) -> float:
    timeout: float = request.app.state.service.runtime.settings.body_timeout_s
    return timeout


def _stalled(seconds: float) -> ApiError:
    return ApiError(
        ErrorCode.BODY_TIMEOUT,
        f"the request body stalled: nothing arrived for {seconds:g} s; send it again",
    )


async def read_json(request: Request, cap: int) -> Any:
    """The JSON body (any JSON value), read under ``cap``."""
    return parse_json(await read_capped(request, cap), "body")


MAX_JSON_DEPTH = 32
"""No door's body nests deeper than a few levels; 5000 levels would exhaust the stack."""


def parse_json(raw: bytes | str, field: str) -> Any:
    """JSON text as a value, refused (400, naming ``field``) when it is not JSON, nests
    deeper than :data:`MAX_JSON_DEPTH`, holds a number Python will not convert (an
    integer of 4300+ digits) or a NUL."""
    if _depth(raw) > MAX_JSON_DEPTH:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            f"{field} nests deeper than {MAX_JSON_DEPTH} levels",
            field=field,
        )
    try:
        value = json.loads(raw)  # NaN is read: the field's own check says 'finite'
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, digits
        raise InputError(
            ErrorCode.INVALID_PARAMETER, f"{field} is not valid JSON", field=field
        ) from None
    refuse_nul(value, field)
    return value


def _depth(raw: bytes | str) -> int:
    """The deepest bracket nesting of JSON text (brackets inside strings count too: an
    overestimate, which only refuses absurd strings)."""
    text = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    deepest = depth = 0
    for byte in text.translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def refuse_nul(value: Any, field: str) -> None:
    """400 when a string anywhere in ``value`` (keys included) holds a NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"{field} holds a NUL character; remove it",
                field=field,
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key, field)
            refuse_nul(item, key if field == "body" else field)
    elif isinstance(value, list):
        for item in value:
            refuse_nul(item, field)


@dataclass(frozen=True)
class Form:
    fields: dict[str, str]
    """Text fields (the last value of a repeated name), empty values included."""
    files: dict[str, bytes]
    """Uploaded files (the last part of a repeated name); a file part with no bytes is
    absent, as if not sent."""
    file_parts: dict[str, list[bytes]] = field(default_factory=dict)
    """Every non-empty file part of each name, in the order sent (OpenAI's repeated
    ``image[]``)."""


async def read_form(
    request: Request,
    cap: int,
    *,
    text_cap: int = TEXT_FIELD_CAP,
    large_text: tuple[str, ...] = (),
) -> Form:
    """A multipart or url-encoded body, read under ``cap``, then parsed.

    A text field longer than ``text_cap`` characters is refused (400, naming it), except
    those named in ``large_text`` (the native API's base64 ``image`` and ``mask``).
    """
    with await _spool(request, cap) as spool:
        form = await _replaying(request, spool).form(max_part_size=cap)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    file_parts: dict[str, list[bytes]] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if data:
                    files[name] = data
                    file_parts.setdefault(name, []).append(data)
            else:
                if len(value) > text_cap and name not in large_text:
                    raise InputError(
                        ErrorCode.INVALID_PARAMETER,
                        f"{name} is {len(value):,} characters long; a text field may be "
                        f"at most {text_cap:,}",
                        field=name,
                    )
                refuse_nul(value, name)
                fields[name] = value
    finally:
        await form.close()
    return Form(fields, files, file_parts)


def _replaying(request: Request, body: IO[bytes]) -> Request:
    """A request whose body is ``body``, already read (the form parser streams it again)."""
    done = False

    async def receive() -> dict[str, Any]:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        chunk = body.read(_REPLAY_CHUNK)
        done = len(chunk) < _REPLAY_CHUNK
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return Request(request.scope, receive)


class BodyKind(StrEnum):
    """How a door's create operation reads its body."""

    FORM = "form"
    """multipart/form-data or url-encoded only."""
    JSON = "json"
    """A JSON value (the door checks its shape)."""
    FORM_OR_JSON = "form_or_json"
    """Either; in JSON, the ``base64_files`` keys carry files as base64."""


@dataclass(frozen=True)
class Body:
    """A door's declaration of its create body."""

    kind: BodyKind
    cap: int
    """Bytes; a larger body is refused with 413 while it streams in."""
    base64_files: Mapping[str, str] = field(default_factory=dict)
    """JSON key -> the file name it fills (``FORM_OR_JSON``)."""
    large_text: tuple[str, ...] = ()
    """Form text fields allowed past the text cap (base64 images in a form)."""
    unsupported: ErrorCode = ErrorCode.INVALID_REQUEST
    """The code for a body in a content type the door does not read."""


@dataclass(frozen=True)
class ReadBody:
    fields: dict[str, Any]
    """Form text fields, or a JSON object's keys (JSON values kept)."""
    files: dict[str, bytes]
    json: Any = None
    """The JSON value as sent, when the body was JSON (doors that check its shape)."""
    was_json: bool = False
    file_parts: dict[str, list[bytes]] = field(default_factory=dict)
    """Every file part of each name (a form), where ``files`` keeps the last."""


async def read_body(request: Request, spec: Body) -> ReadBody:
    """The body as ``spec`` declares it; any other content type is refused."""
    kind = content_type(request)
    if kind in FORM_TYPES and spec.kind is not BodyKind.JSON:
        form = await read_form(request, spec.cap, large_text=spec.large_text)
        return ReadBody(dict(form.fields), dict(form.files), file_parts=form.file_parts)
    if kind == JSON_TYPE and spec.kind is not BodyKind.FORM:
        value = await read_json(request, spec.cap)
        if spec.kind is BodyKind.JSON:
            fields = dict(value) if isinstance(value, dict) else {}
            return ReadBody(fields, {}, json=value, was_json=True)
        return _json_form(value, spec.base64_files, spec.large_text)
    expected = {
        BodyKind.FORM: "multipart/form-data",
        BodyKind.JSON: "application/json",
        BodyKind.FORM_OR_JSON: "multipart/form-data or application/json",
    }[spec.kind]
    raise unsupported_body(spec.unsupported, expected)


def _json_form(
    value: Any, base64_files: Mapping[str, str], large_text: tuple[str, ...]
) -> ReadBody:
    """A form door's fields and files from a JSON object: the keys of ``base64_files``
    hold base64 files (a ``data:`` prefix is fine); every other key is a field, its
    JSON value kept (numbers, lists)."""
    if not isinstance(value, dict):
        raise InputError(
            ErrorCode.INVALID_PARAMETER, "the JSON body must be an object", field="body"
        )
    fields: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for name, item in value.items():
        if name in base64_files:
            if item not in (None, ""):
                files[base64_files[name]] = _base64_file(item, name)
        elif isinstance(item, str) and len(item) > TEXT_FIELD_CAP and name not in large_text:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"{name} is {len(item):,} characters long; a text field may be at most "
                f"{TEXT_FIELD_CAP:,}",
                field=name,
            )
        else:
            fields[name] = item
    return ReadBody(fields, files, json=value, was_json=True)


def _base64_file(value: Any, name: str) -> bytes:
    text = (
        value.partition(",")[2] if isinstance(value, str) and value.startswith("data:") else value
    )
    try:
        if not isinstance(text, str):
            raise ValueError(name)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            ErrorCode.INVALID_PARAMETER, f"{name} is not valid base64", field=name
        ) from None


def unsupported_body(code: ErrorCode, expected: str) -> ApiError:
    """The refusal of a body in a content type the door does not read."""
    return ApiError(code, f"send the request as {expected}", field="body")
