"""Where the pixels are made: an engine fills the planned canvas, then composite, scale, encode.

``run`` takes what :func:`canvasfill.pipeline.prepare.prepare` checked and planned;
``run_job`` does both in one call (the CLI's and the Python API's direct mode).

Progress is reported in percent: 10 once the canvas is placed, 10..90 while the engine
fills (its own fraction done, mapped onto that span), 90 once it has, 100 when encoded.
``should_stop`` is asked at every one of the engine's steps, and before it starts; a
True answer ends the run with :class:`~canvasfill.errors.FillCanceledError`.
``on_preview`` hears the previews a spec asked for (``pipeline/previews.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from canvasfill.engines.base import (
    Engine,
    FillParams,
    FillPreview,
    FillProgress,
    Mask,
    Operation,
    Param,
    fill_with_progress,
)
from canvasfill.engines.registry import choose_engine
from canvasfill.errors import EngineError, ErrorCode, FillCanceledError, InputError
from canvasfill.imaging.composite import (
    composite,
    opaque_where,
    place_alpha,
    place_on_canvas,
    scale_to,
)
from canvasfill.imaging.encode import PNG_COMPRESS_LEVEL, OutputFormat, encode_image
from canvasfill.imaging.geometry import (
    CanvasPlan,
    fit_within,
)
from canvasfill.imaging.masks import encode_mask
from canvasfill.imaging.watermark import watermark
from canvasfill.pipeline.prepare import PreparedJob, prepare
from canvasfill.pipeline.previews import PreviewSink, previews_for
from canvasfill.pipeline.spec import (
    MASK_ENGINE,
    AlphaMask,
    JobSpec,
)

ProgressCallback = Callable[[int], None]
StopRequest = Callable[[], bool]
"""Asked between the engine's steps: True ends the run (``FillCanceledError``)."""

FILL_START = 10
FILL_END = 90
"""The engine's fraction done maps onto FILL_START..FILL_END percent."""


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
    fill_mask: Mask | None = None
    """A removal's fill mask (True: filled), painted and detected alike, so a caller can
    check what was removed; None for an expansion. Kept as pixels: only the service
    stores it (``jobs/execute.py`` encodes it), the CLI and the Python API need no PNG."""


def run(
    spec: JobSpec,
    prepared: PreparedJob,
    progress: ProgressCallback | None = None,
    *,
    should_stop: StopRequest | None = None,
    png_compress_level: int = PNG_COMPRESS_LEVEL,
    on_preview: PreviewSink | None = None,
) -> JobOutput:
    """Fill, composite (known pixels exact), scale to fit, encode (PNG at the given
    zlib level: the service's ``png_compress_level`` setting).

    ``progress`` hears percentages (see the module docstring); ``should_stop`` can end
    the run between the engine's steps with ``FillCanceledError``; ``on_preview`` is
    handed the first ``spec.previews`` intermediate pictures the engine offers."""
    started = time.perf_counter()
    report = _rising(progress)
    if spec.mask_only:
        return _mask_output(spec, prepared, report, started, png_compress_level)
    params = spec.fill_params()
    if prepared.keep_out is not None:
        params = replace(params, keep_out=prepared.keep_out)
    engine = choose_engine(spec.engine, spec.operation, params)
    plan = prepared.plan
    canvas = place_on_canvas(prepared.image.rgb, plan)
    alpha = place_alpha(prepared.image.alpha, plan)
    if isinstance(spec.geometry, AlphaMask):
        alpha = opaque_where(alpha, plan.fill_mask)
    preview = previews_for(
        spec.previews,
        on_preview,
        canvas,
        plan.fill_mask,
        alpha,
        _target((canvas.shape[1], canvas.shape[0]), spec),
        spec.output.format,
        spec.output.quality,
    )
    report(FILL_START)
    fills = _fill(
        engine, canvas, plan, spec, params, _engine_progress(report, should_stop), preview
    )
    report(FILL_END)
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
        fill_mask=plan.fill_mask if spec.operation is Operation.REMOVE else None,
    )


def _mask_output(
    spec: JobSpec,
    prepared: PreparedJob,
    report: ProgressCallback,
    started: float,
    png_level: int,
) -> JobOutput:
    """A mask-only task's answer: the planned mask (detection ran in ``prepare``) as an
    8-bit PNG of the image's size, 255 where something was found."""
    mask = prepared.plan.fill_mask
    data = encode_mask(mask, png_compress_level=png_level)
    report(100)
    height, width = mask.shape
    return JobOutput(
        images=[ResultImage(data=data, width=width, height=height, format=OutputFormat.PNG)],
        engine=MASK_ENGINE,
        seed=spec.seed,
        ignored=frozenset(),
        seconds=time.perf_counter() - started,
    )


def _rising(progress: ProgressCallback | None) -> ProgressCallback:
    """``progress``, told each whole percent once and never a lower one than before:
    the engine ticks far more often than a bar (or a task record) needs to hear."""
    last = -1

    def report(percent: int) -> None:
        nonlocal last
        if progress is not None and percent > last:
            last = percent
            progress(percent)

    return report


def _engine_progress(report: ProgressCallback, should_stop: StopRequest | None) -> FillProgress:
    """The engine's callback: its fraction as a percent in FILL_START..FILL_END, and
    ``should_stop``'s answer."""

    def progress(fraction: float) -> bool:
        report(FILL_START + int((FILL_END - FILL_START) * min(max(fraction, 0.0), 1.0)))
        return should_stop is not None and should_stop()

    return progress


def _fill(
    engine: Engine,
    canvas: np.ndarray,
    plan: CanvasPlan,
    spec: JobSpec,
    params: FillParams,
    progress: FillProgress,
    preview: FillPreview | None = None,
) -> list[np.ndarray]:
    if progress(0.0):  # asked to stop before the engine started
        raise FillCanceledError()
    try:
        fills = fill_with_progress(engine, canvas, plan.fill_mask, params, progress, preview)
    except (InputError, EngineError, FillCanceledError):
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
    target = _target((rgb.shape[1], rgb.shape[0]), spec)
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


def _target(size: tuple[int, int], spec: JobSpec) -> tuple[int, int]:
    """(width, height) of the encoded results of a canvas of ``size``."""
    return spec.output.size or fit_within(size, spec.output.max_width, spec.output.max_height)


def run_job(
    spec: JobSpec,
    image_bytes: bytes,
    mask_bytes: bytes | None = None,
    progress: ProgressCallback | None = None,
    *,
    should_stop: StopRequest | None = None,
    on_preview: PreviewSink | None = None,
) -> JobOutput:
    """Prepare and run in one call: the CLI's and the Python API's direct mode."""
    prepared = prepare(spec, image_bytes, mask_bytes)
    return run(spec, prepared, progress, should_stop=should_stop, on_preview=on_preview)
