"""What a dialect renders: a read-only view of a task, free of database and storage types.

The route layer builds it from the task record (signing result URLs, and giving a way to
load result bytes for the dialects that answer with base64); dialects only read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from canvasfill.api.render import ResultView
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat


@dataclass(frozen=True)
class DialectResult(ResultView):
    """A signed result link (as the native API shows it) plus what dialects also need."""

    load: Callable[[], bytes]
    """Reads the encoded image (for answers that carry base64 instead of a URL)."""
    watermark_url: str | None = None


@dataclass(frozen=True)
class TaskView:
    id: str
    status: str
    """``queued``, ``running``, ``succeeded``, ``failed`` or ``canceled``."""
    progress: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    engine: str
    seed: int
    error_code: str | None = None
    error_message: str | None = None
    results: tuple[DialectResult, ...] = ()
    external_id: str | None = None


def require_image(image: bytes | None, image_url: str | None, *, names: str) -> None:
    if image is None and not image_url:
        raise InputError(ErrorCode.MISSING_PARAMETER, f"{names} is required", field="image")


def output_format_of(image: bytes) -> OutputFormat:
    """Answer in the caller's own format: JPEG for JPEG input, else lossless PNG."""
    return OutputFormat.JPEG if image[:3] == b"\xff\xd8\xff" else OutputFormat.PNG
