"""Where the pixels are made: an engine fills the planned canvas, then composite, scale, encode.

``run`` takes what :func:`canvasfill.pipeline.prepare.prepare` checked and planned;
``run_job`` does both in one call (the CLI's and the Python API's direct mode).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from canvasfill.engines.base import Engine, Param
from canvasfill.engines.registry import choose_engine
from canvasfill.errors import EngineError, ErrorCode, InputError
from canvasfill.imaging.composite import composite, place_alpha, place_on_canvas, scale_to
from canvasfill.imaging.encode import PNG_COMPRESS_LEVEL, OutputFormat, encode_image
from canvasfill.imaging.geometry import (
    CanvasPlan,
    fit_within,
)
from canvasfill.imaging.watermark import watermark
from canvasfill.pipeline.prepare import PreparedJob, prepare
from canvasfill.pipeline.spec import (
    JobSpec,
)

ProgressCallback = Callable[[int], None]


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
