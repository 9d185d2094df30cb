"""One error vocabulary: every refusal and every task failure carries one ``ErrorCode``.

A door never inspects message text: it maps ``code`` (and ``field``) to its own status
and error body, in a table keyed on this enum, so a misspelt code fails at import
instead of falling silently to a default row. The message is for people and says what
to change. Codes are stored on failed tasks as their string values.
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
    FULL_MASK = "full_mask"
    """The mask marks every pixel: nothing of the image is left to fill from."""
    NOTHING_TO_REMOVE = "nothing_to_remove"
    """Detection (``detect=text``, ``subject``) found nothing in the image to remove."""
    # parameters and engines
    MISSING_PARAMETER = "missing_parameter"
    INVALID_PARAMETER = "invalid_parameter"
    ENGINE_NOT_FOUND = "engine_not_found"
    ENGINE_UNAVAILABLE = "engine_unavailable"
    ENGINE_FAILED = "engine_failed"
    # the request as a whole, and who sent it
    INVALID_REQUEST = "invalid_request"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    """The body is in a content type the door does not read."""
    PAYLOAD_TOO_LARGE = "payload_too_large"
    BODY_TIMEOUT = "body_timeout"
    """The request body stopped arriving (a stalled or very slow client)."""
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    EXTERNAL_ID_TAKEN = "external_id_taken"
    """The key already has a task with this external id (Kling's ``external_task_id``)."""
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TASK_NOT_CANCELABLE = "task_not_cancelable"
    # signed result links
    INVALID_SIGNATURE = "invalid_signature"
    URL_EXPIRED = "url_expired"
    # URL inputs, fetched by the task
    URL_NOT_ALLOWED = "url_not_allowed"
    DOWNLOAD_FAILED = "download_failed"
    DOWNLOAD_TOO_LARGE = "download_too_large"
    DOWNLOAD_TIMEOUT = "download_timeout"
    DOWNLOAD_TOO_MANY_REDIRECTS = "download_too_many_redirects"
    # a task that could not finish
    TIMEOUT = "timeout"
    WORKER_CRASHED = "worker_crashed"
    INPUT_MISSING = "input_missing"
    INTERNAL_ERROR = "internal_error"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    """The database or the blob store cannot be written (or read) right now."""
    SERVICE_UNAVAILABLE = "service_unavailable"
    """The broker a new task needs is not answering: the request was refused before
    anything was stored or charged (the stores' outages are ``storage_unavailable``)."""
    CANCELED = "canceled"
    """The fill was stopped on request (the task was canceled while it ran)."""

    @classmethod
    def of(cls, stored: str | None) -> ErrorCode:
        """The code a task record holds (as text); an unknown one is an internal error."""
        try:
            return cls(stored or cls.INTERNAL_ERROR)
        except ValueError:
            return cls.INTERNAL_ERROR


# Families, so that each door's error table decides a whole kind of failure at once.
IMAGE_FILE_CODES = (
    ErrorCode.INVALID_IMAGE,
    ErrorCode.TRUNCATED_IMAGE,
    ErrorCode.UNSUPPORTED_FORMAT,
    ErrorCode.ANIMATED_IMAGE,
)
IMAGE_SIZE_CODES = (
    ErrorCode.FILE_TOO_LARGE,
    ErrorCode.DECOMPRESSION_BOMB,
    ErrorCode.IMAGE_TOO_SMALL,
    ErrorCode.IMAGE_TOO_LARGE,
    ErrorCode.ASPECT_RATIO_OUT_OF_RANGE,
    ErrorCode.CANVAS_TOO_LARGE,
)
MASK_CODES = (
    ErrorCode.INVALID_MASK,
    ErrorCode.MASK_SIZE_MISMATCH,
    ErrorCode.MASK_HAS_ICC_PROFILE,
    ErrorCode.EMPTY_MASK,
    ErrorCode.FULL_MASK,
)
DOWNLOAD_CODES = (
    ErrorCode.URL_NOT_ALLOWED,
    ErrorCode.DOWNLOAD_FAILED,
    ErrorCode.DOWNLOAD_TOO_LARGE,
    ErrorCode.DOWNLOAD_TIMEOUT,
    ErrorCode.DOWNLOAD_TOO_MANY_REDIRECTS,
)
SERVICE_ONLY_CODES = (
    ErrorCode.ENGINE_NOT_FOUND,
    ErrorCode.ENGINE_UNAVAILABLE,
    ErrorCode.NOTHING_TO_REMOVE,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.TASK_NOT_CANCELABLE,
    ErrorCode.CANCELED,
    ErrorCode.INVALID_SIGNATURE,
    ErrorCode.URL_EXPIRED,
)
"""canvasfill's own features (engines, detected masks, idempotency, cancel, signed links) that
none of the hosted APIs has a word for: each dialect answers them as its generic failure."""
TASK_FAILURE_CODES = (
    ErrorCode.ENGINE_FAILED,
    ErrorCode.TIMEOUT,
    ErrorCode.WORKER_CRASHED,
    ErrorCode.INPUT_MISSING,
    ErrorCode.INTERNAL_ERROR,
)
"""A task that was accepted and could not finish (the caller did nothing wrong)."""


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


class FillCanceledError(CanvasfillError):
    """A fill stopped because its progress callback asked it to: not a failure.

    Raised by an engine between pyramid levels, windows or denoising steps, so a
    canceled task frees its worker within one step instead of running to the end.
    """

    def __init__(self, message: str = "the fill was stopped on request") -> None:
        super().__init__(ErrorCode.CANCELED, message)


class FetchError(CanvasfillError):
    """A URL input could not be downloaded (or may not be): the task fails with its code."""

    def __init__(self, code: ErrorCode, message: str, field: str) -> None:
        super().__init__(code, message, field=field)
