"""Errors that carry a machine code, so every door can render them in its own dialect.

A dialect never inspects message text: it maps ``code`` (and ``field``) to its own
status and error body. The message is for people and says what to change.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Machine codes for everything a caller can get wrong, or a fill can hit."""

    # the image bytes themselves
    INVALID_IMAGE = "invalid_image"
    TRUNCATED_IMAGE = "truncated_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    ANIMATED_IMAGE = "animated_image"
    FILE_TOO_LARGE = "file_too_large"
    DECOMPRESSION_BOMB = "decompression_bomb"
    # the image's dimensions against a dialect's limits
    IMAGE_TOO_SMALL = "image_too_small"
    IMAGE_TOO_LARGE = "image_too_large"
    ASPECT_RATIO_OUT_OF_RANGE = "aspect_ratio_out_of_range"
    CANVAS_TOO_LARGE = "canvas_too_large"
    # masks
    INVALID_MASK = "invalid_mask"
    MASK_SIZE_MISMATCH = "mask_size_mismatch"
    MASK_HAS_ICC_PROFILE = "mask_has_icc_profile"
    EMPTY_MASK = "empty_mask"
    # parameters and engines
    MISSING_PARAMETER = "missing_parameter"
    INVALID_PARAMETER = "invalid_parameter"
    ENGINE_NOT_FOUND = "engine_not_found"
    ENGINE_UNAVAILABLE = "engine_unavailable"
    ENGINE_FAILED = "engine_failed"


class CanvasfillError(Exception):
    """Base of every error canvasfill raises on purpose."""

    code: ErrorCode = ErrorCode.ENGINE_FAILED

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r}, field={self.field!r})"


class InputError(CanvasfillError):
    """The request is wrong: the caller can fix it by changing what they send."""


class EngineError(CanvasfillError):
    """An engine is missing, unusable on this host, or failed while filling."""
