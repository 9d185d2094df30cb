"""The one path from (job spec, input bytes) to encoded result images.

``prepare`` does every check that can fail because of the caller's input; doors call
it at acceptance so bad input is refused at once, and ``execute`` calls it again on
the stored bytes. ``run`` is where an engine is chosen and the pixels are made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from canvasfill.engines.base import Engine, Param
from canvasfill.engines.registry import choose_engine
from canvasfill.errors import EngineError, ErrorCode, InputError
from canvasfill.imaging import masks
from canvasfill.imaging.composite import composite, place_alpha, place_on_canvas, scale_to
from canvasfill.imaging.decode import DecodedImage, decode_image
from canvasfill.imaging.encode import PNG_COMPRESS_LEVEL, OutputFormat, encode_image
from canvasfill.imaging.geometry import (
    CanvasPlan,
    Sides,
    fit_within,
    plan_expansion,
    plan_in_place,
    sides_from_ratios,
)
from canvasfill.imaging.limits import BY_NAME, ImageLimits
from canvasfill.imaging.watermark import watermark
from canvasfill.pipeline.spec import (
    BoxRemoval,
    CanvasMask,
    JobSpec,
    MaskRemoval,
    PixelExpansion,
    RatioExpansion,
)

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class PreparedJob:
    image: DecodedImage
    plan: CanvasPlan


@dataclass(frozen=True)
class ResultImage:
    data: bytes
    width: int
    height: int
    format: OutputFormat
    watermarked: bytes | None = None
    """The same image visibly watermarked, when the spec asked for it."""


@dataclass(frozen=True)
class JobOutput:
    images: list[ResultImage]
    engine: str
    seed: int
    ignored: frozenset[Param]
    """Parameters the caller set that this engine does not use."""
    seconds: float


def prepare(spec: JobSpec, image_bytes: bytes, mask_bytes: bytes | None = None) -> PreparedJob:
    """Decode and validate the inputs and plan the canvas; raises ``InputError``."""
    limits = _limits(spec.limits)
    image = decode_image(image_bytes, limits)
    return PreparedJob(image=image, plan=_plan(spec, image, mask_bytes, limits))


def _limits(name: str) -> ImageLimits:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown limits {name!r}; known: {sorted(BY_NAME)}") from None


def _plan(
    spec: JobSpec, image: DecodedImage, mask_bytes: bytes | None, limits: ImageLimits
) -> CanvasPlan:
    geometry = spec.geometry
    size = image.size
    if isinstance(geometry, RatioExpansion | PixelExpansion):
        if isinstance(geometry, RatioExpansion):
            sides = sides_from_ratios(
                size,
                left=geometry.left,
                right=geometry.right,
                top=geometry.top,
                bottom=geometry.bottom,
            )
        else:
            sides = Sides(geometry.left, geometry.right, geometry.top, geometry.bottom)
        plan = plan_expansion(size, sides)
        limits.check_canvas(size, plan.canvas_size)
        return plan
    if isinstance(geometry, BoxRemoval):
        boxes = [(box.x, box.y, box.width, box.height) for box in geometry.boxes]
        fill = masks.grow(masks.from_rectangles(size, boxes), geometry.grow)
    else:
        if mask_bytes is None:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                "a mask image is required for this request",
                field="mask",
            )
        rules = masks.STRICT if spec.strict_mask else masks.LENIENT
        fill = masks.decode_mask(mask_bytes, size, rules)
        if isinstance(geometry, MaskRemoval):
            fill = masks.grow(fill, geometry.grow)
        else:
            assert isinstance(geometry, CanvasMask)
    masks.require_something_to_fill(fill)
    return plan_in_place(size, fill)


def run(
    spec: JobSpec,
    prepared: PreparedJob,
    progress: ProgressCallback | None = None,
    *,
    png_compress_level: int = PNG_COMPRESS_LEVEL,
) -> JobOutput:
    """Fill, composite (known pixels exact), scale to fit, encode (PNG at the given
    zlib level: the service's ``png_compress_level`` setting)."""
    started = time.perf_counter()
    report = progress or (lambda _percent: None)
    params = spec.fill_params()
    engine = choose_engine(spec.engine, spec.operation, params)
    plan = prepared.plan
    canvas = place_on_canvas(prepared.image.rgb, plan)
    alpha = place_alpha(prepared.image.alpha, plan)
    report(10)
    fills = _fill(engine, canvas, plan, spec)
    report(90)
    images = []
    for fill in fills:
        rgb = composite(canvas, fill, plan.fill_mask, engine.feather)
        images.append(_finish(rgb, alpha, spec, png_compress_level))
    report(100)
    return JobOutput(
        images=images,
        engine=engine.name,
        seed=spec.seed,
        ignored=params.given() - engine.honoured(spec.operation),
        seconds=time.perf_counter() - started,
    )


def _fill(engine: Engine, canvas: np.ndarray, plan: CanvasPlan, spec: JobSpec) -> list[np.ndarray]:
    try:
        fills = engine.fill(canvas, plan.fill_mask, spec.fill_params())
    except (InputError, EngineError):
        raise
    except Exception as exc:
        raise EngineError(ErrorCode.ENGINE_FAILED, f"engine {engine.name!r} failed: {exc}") from exc
    if len(fills) != spec.n or any(fill.shape != canvas.shape for fill in fills):
        raise EngineError(
            ErrorCode.ENGINE_FAILED,
            f"engine {engine.name!r} returned {len(fills)} images of the wrong shape or count",
        )
    return [np.asarray(fill, dtype=np.uint8) for fill in fills]


def _finish(
    rgb: np.ndarray, alpha: np.ndarray | None, spec: JobSpec, png_level: int
) -> ResultImage:
    size = (rgb.shape[1], rgb.shape[0])
    target = fit_within(size, spec.output.max_width, spec.output.max_height)
    rgb = scale_to(rgb, target)
    if alpha is not None:
        alpha = scale_to(alpha, target)
    options = spec.output
    quality = options.quality
    data = encode_image(
        rgb, options.format, alpha=alpha, quality=quality, png_compress_level=png_level
    )
    marked = None
    if options.watermark:
        marked = encode_image(
            watermark(rgb),
            options.format,
            alpha=alpha,
            quality=quality,
            png_compress_level=png_level,
        )
    return ResultImage(
        data=data, width=target[0], height=target[1], format=options.format, watermarked=marked
    )


def run_job(
    spec: JobSpec,
    image_bytes: bytes,
    mask_bytes: bytes | None = None,
    progress: ProgressCallback | None = None,
) -> JobOutput:
    """Prepare and run in one call: the CLI's and the Python API's direct mode."""
    return run(spec, prepare(spec, image_bytes, mask_bytes), progress)
