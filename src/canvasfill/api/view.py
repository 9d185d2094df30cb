"""What a door renders: a read-only view of a task, free of database and storage types.

``render.view_for`` builds it from the task record, signing result URLs and, for the
doors that answer with base64, loading the result bytes; doors only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat


@dataclass(frozen=True)
class ResultView:
    url: str
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class DialectResult(ResultView):
    """A signed result link (as the native API shows it) plus what dialects also need."""

    data: bytes | None = None
    """The encoded image, when the door asked for it (answers that carry base64)."""
    watermark_url: str | None = None


@dataclass(frozen=True)
class PreviewView:
    """One preview of a running task, as a streamed answer shows it."""

    index: int
    """Its place among the task's previews (0, 1, ...)."""
    url: str
    data: bytes
    width: int
    height: int
    format: str


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
    error_code: ErrorCode | None = None
    error_message: str | None = None
    results: tuple[DialectResult, ...] = ()
    external_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    """What the door kept with the task when it accepted it (its own request options)."""
    error_field: str | None = None
    operation: str = "expand"
    n: int = 1
    results_expire_at: datetime | None = None
    results_expired: bool = False
    ignored: tuple[str, ...] = ()
    callback_url: str | None = None
    callback_state: str | None = None
    callback_attempts: int = 0
    seq: int = 0
    """The task's place in its key's list (cursors)."""
    mask_url: str | None = None
    """Signed URL of the mask the fill used (removals and mask tasks), until the
    results expire."""

    def result_data(self) -> list[bytes]:
        """The results' bytes; the door must have asked the glue for them."""
        missing = [result.url for result in self.results if result.data is None]
        if missing:
            raise RuntimeError("the view was built without result data (with_data=False)")
        return [result.data for result in self.results if result.data is not None]


def require_image(image: bytes | None, image_url: str | None, *, names: str) -> None:
    if image is None and not image_url:
        raise InputError(ErrorCode.MISSING_PARAMETER, f"{names} is required", field="image")


def output_format_of(image: bytes) -> OutputFormat:
    """Answer in the caller's own format: JPEG for JPEG input, else lossless PNG."""
    return OutputFormat.JPEG if image[:3] == b"\xff\xd8\xff" else OutputFormat.PNG
