"""A ``Submission``: everything a door decided about one request, in one type.

Every door parses its request into one of these; ``accept`` checks it, stores its
inputs and keeps it as a task record. Inputs are bytes (stored before the task is
acknowledged) or URLs (fetched by the task when it runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from canvasfill.pipeline.spec import JobSpec


class Notify(StrEnum):
    """Which task events a callback is sent for."""

    FINISH = "finish"
    """Once, when the task ends (the native default)."""
    CHANGE = "change"
    """On every change of status (Kling's callbacks)."""


@dataclass(frozen=True)
class Submission:
    """A parsed request: the spec, its inputs, and what its door needs kept with it."""

    spec: JobSpec
    image: bytes | None = None
    image_url: str | None = None
    mask: bytes | None = None
    mask_url: str | None = None
    callback_url: str | None = None
    notify_on: Notify = Notify.FINISH
    dialect: str = "native"
    external_id: str | None = None
    """The caller's own id for the task (Kling's ``external_task_id``), unique per key."""
    meta: dict[str, Any] = field(default_factory=dict)
    """What the door needs to render the task later (its own request options)."""
    price_per_image: int | None = None
    """Credits per result image; None: the ``price_per_image`` setting for the operation."""

    def __post_init__(self) -> None:
        if (self.image is None) == (self.image_url is None):
            raise ValueError("a submission has exactly one of image and image_url")
        if self.mask is not None and self.mask_url is not None:
            raise ValueError("a submission has at most one of mask and mask_url")

    @property
    def has_mask(self) -> bool:
        return self.mask is not None or self.mask_url is not None
