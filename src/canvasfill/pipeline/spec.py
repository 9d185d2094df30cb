"""The job spec: what every door (dialect, native API, CLI, Python) turns a request into.

It is plain data, JSON-serialisable, so a task record can store it and any process can
run it later. The input image and mask travel beside it as bytes (blobs), never inside.
The seed is resolved when the spec is built, so re-running a task after a crash gives
the same pixels.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from canvasfill.engines.base import SEED_MAX, FillParams, Operation
from canvasfill.engines.detect import KINDS, DetectKind
from canvasfill.imaging.encode import DEFAULT_QUALITY, OutputFormat

MAX_IMAGES = 9
"""The most images the native API and Kling ask for in one request."""
MAX_SPEC_IMAGES = 10
"""The most images any door asks for in one request (OpenAI's ``n``: 1..10)."""
MAX_STEPS = 200
"""The most sampling steps (or solver iterations) any door accepts: past it a diffusion
engine would only run into the task timeout."""
MAX_PREVIEWS = 3
"""The most intermediate pictures a task keeps (OpenAI's ``partial_images``: 0..3)."""
MAX_OUTPUT_SIDE = 65_535
"""The largest ``max_width``/``max_height`` (PNG and WebP sides stop near it anyway)."""
MASK_KIND = "mask"
"""A mask-only task's operation as stored and shown (``POST /v1/masks``), and the key
of its price in ``price_per_image``."""
MASK_ENGINE = "detect"
"""The engine name a mask-only task records: no fill engine runs, the detectors do."""


_Side = Annotated[int, Field(ge=1, le=MAX_OUTPUT_SIDE)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RatioExpansion(_Frozen):
    """Grow each side by a fraction of the original width (left/right) or height."""

    kind: Literal["ratios"] = "ratios"
    left: float = Field(0.0, ge=0)
    right: float = Field(0.0, ge=0)
    top: float = Field(0.0, ge=0)
    bottom: float = Field(0.0, ge=0)


class PixelExpansion(_Frozen):
    """Grow each side by a number of pixels."""

    kind: Literal["pixels"] = "pixels"
    left: int = Field(0, ge=0)
    right: int = Field(0, ge=0)
    top: int = Field(0, ge=0)
    bottom: int = Field(0, ge=0)


class CanvasMask(_Frozen):
    """Canvas mode: the image already is the canvas; the mask marks what to generate."""

    kind: Literal["canvas"] = "canvas"


class MaskRemoval(_Frozen):
    """Remove what a mask on the original marks, optionally grown by ``grow`` pixels."""

    kind: Literal["mask"] = "mask"
    grow: int = Field(0, ge=0, le=256)


class AlphaMask(_Frozen):
    """Fill where an alpha channel is 0 (fully transparent), in place.

    OpenAI's and Stability's edit APIs mark what to fill with transparency: without a
    mask, the image's own transparent pixels (a photo on a larger transparent canvas is
    an expansion, a transparent hole a removal); OpenAI's mask file marks it with its
    own transparent pixels. The original RGB is kept everywhere else, and the filled
    pixels come back opaque.
    """

    kind: Literal["alpha"] = "alpha"
    source: Literal["image", "mask"] = "image"
    """Whose alpha marks the fill: the image's own, or the mask file's."""
    grow: int = Field(0, ge=0, le=256)


class Box(_Frozen):
    x: int
    y: int
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class BoxRemoval(_Frozen):
    """Remove what lies in rectangles on the original (PicWish ``rectangles``, CLI ``--box``)."""

    kind: Literal["boxes"] = "boxes"
    boxes: tuple[Box, ...] = Field(min_length=1, max_length=50)
    grow: int = Field(0, ge=0, le=256)


class DetectedMask(_Frozen):
    """Remove what detection finds in the original (issue 25): ``text`` (captions,
    watermarks, stamps), ``subject`` (the main object), or both; a painted mask (sent
    beside the spec, as for ``MaskRemoval``) and ``boxes`` are added to what is found.

    Detection runs in :func:`canvasfill.pipeline.prepare.prepare`, on the worker;
    acceptance only checks the request and any painted mask or boxes.
    """

    kind: Literal["detect"] = "detect"
    detect: tuple[DetectKind, ...] = Field(min_length=1, max_length=len(KINDS))
    boxes: tuple[Box, ...] = Field((), max_length=50)
    grow: int = Field(0, ge=0, le=256)

    @field_validator("detect")
    @classmethod
    def _once_each_in_order(cls, kinds: tuple[DetectKind, ...]) -> tuple[DetectKind, ...]:
        return tuple(kind for kind in KINDS if kind in kinds)


def parse_detect(text: str) -> tuple[DetectKind, ...]:
    """``"text"``, ``"subject"`` or ``"text,subject"`` (any order, spaces allowed) as kinds;
    ``ValueError`` names the known ones."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in KINDS]
    if unknown or not names:
        raise ValueError(f"detect must be {', '.join(KINDS)} or both comma-separated, not {text!r}")
    return tuple(kind for kind in KINDS if kind in names)


Geometry = Annotated[
    RatioExpansion
    | PixelExpansion
    | CanvasMask
    | MaskRemoval
    | BoxRemoval
    | AlphaMask
    | DetectedMask,
    Field(discriminator="kind"),
]


class OutputOptions(_Frozen):
    format: OutputFormat = OutputFormat.PNG
    quality: int = Field(DEFAULT_QUALITY, ge=1, le=100)
    max_width: int = Field(0, ge=0, le=MAX_OUTPUT_SIDE)
    """Scale the final result down to fit (aspect kept); 0 means no limit."""
    max_height: int = Field(0, ge=0, le=MAX_OUTPUT_SIDE)
    watermark: bool = False
    """Also produce a visibly watermarked copy of each result."""
    size: tuple[_Side, _Side] | None = None
    """Scale the final result to exactly this (width, height) (OpenAI's ``size``);
    None: the canvas's own size (after ``max_width``/``max_height``)."""


class JobSpec(_Frozen):
    operation: Operation
    geometry: Geometry
    seed: int = Field(ge=0, le=SEED_MAX)
    """Concrete: resolve 'random' markers with ``engines.base.resolve_seed`` first."""
    engine: str = "auto"
    n: int = Field(1, ge=1, le=MAX_SPEC_IMAGES)
    prompt: str = ""
    negative_prompt: str = ""
    steps: int | None = Field(None, ge=1, le=MAX_STEPS)
    strength: float | None = Field(None, ge=0, le=1)
    guidance_scale: float | None = Field(None, ge=0)
    output: OutputOptions = OutputOptions()
    limits: str = "native"
    """Which door's image limits apply (``imaging.limits.BY_NAME``)."""
    strict_mask: bool = False
    """Apply AILabTools' mask-file rules instead of reading any image's luminance."""
    previews: int = Field(0, ge=0, le=MAX_PREVIEWS)
    """Intermediate pictures of the fill to keep while it runs (``pipeline/previews.py``):
    0, the default, costs nothing; only engines that show their work make any."""
    keep_out: tuple[DetectKind, ...] = Field((), max_length=len(KINDS))
    """An expansion's ``detect``: what is found in the original (the subject) is no
    source for the fill, so it is not copied into the new border (issue 25). Found on
    the worker; nothing found leaves the fill as it would be."""
    mask_only: bool = False
    """Answer the mask the geometry plans (what detection finds) as the result, an 8-bit
    PNG (255 where found), instead of filling it: ``POST /v1/masks``. Only with a
    ``DetectedMask``; no engine runs."""

    @model_validator(mode="after")
    def _detection_fits_the_geometry(self) -> JobSpec:
        if self.mask_only and not isinstance(self.geometry, DetectedMask):
            raise ValueError("mask_only answers what detection finds: it needs a detect geometry")
        if self.keep_out and not isinstance(
            self.geometry, RatioExpansion | PixelExpansion | CanvasMask
        ):
            raise ValueError("keep_out belongs to an expansion")
        return self

    @property
    def kind(self) -> str:
        """What the task does, as stored, shown and priced: the operation, or ``mask``."""
        return MASK_KIND if self.mask_only else self.operation.value

    def fill_params(self) -> FillParams:
        return FillParams(
            seed=self.seed,
            operation=self.operation,
            n=self.n,
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            steps=self.steps,
            strength=self.strength,
            guidance_scale=self.guidance_scale,
        )
