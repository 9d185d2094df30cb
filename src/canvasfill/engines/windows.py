"""Crop-around-the-mask and resize: how a fixed-resolution network fills a large canvas.

Inpainting networks are trained at about 512 pixels. Run on a whole 4000-pixel photo
to remove a cup, they either exhaust memory or, scaled down, smear the cup's
surroundings. So, as IOPaint's Crop and Resize strategies do, each hole (a connected
part of the mask) gets a window: its bounding box plus context around it, grown to
at least the network's own resolution where the image allows (context at full
detail), merged with the windows it overlaps. A window larger than the network takes
is scaled down to it (the Resize strategy; an expansion's window is the whole
canvas), filled, scaled back, and only its hole pixels are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from canvasfill.engines.base import RGB, Mask
from canvasfill.imaging.composite import scale_to

Box = tuple[int, int, int, int]
"""(x0, y0, x1, y1), end exclusive."""

Infer = Callable[[RGB, Mask], RGB]
"""Fills one window: (pixels, holes) at the working size in, pixels of that size out."""
InferMany = Callable[[RGB, Mask], list[RGB]]
"""Fills one window several ways (a generative model's ``n`` images)."""
Tick = Callable[[float], None]
"""Told the fraction of the windows done: 0 before the first, k/count before window k,
1 after the last. It may raise to stop between windows (the engine's cancel)."""

MAX_WINDOWS = 16
"""Past this many separate holes, one window around all of them bounds the work."""


@dataclass(frozen=True)
class WindowPolicy:
    min_side: int = 512
    """Windows grow to at least this side (as far as the image allows): full-detail context."""
    max_side: int = 512
    """Windows longer than this are scaled down to it before the network sees them."""
    margin: float = 0.5
    """Context on each side of a hole, as a fraction of the hole's longer side."""
    min_margin: int = 32
    square: bool = False
    """The network takes exactly ``max_side`` x ``max_side``: windows are squared and padded."""
    multiple: int = 1
    """Working width and height are rounded to a multiple of this (ignored when square)."""
    upscale: bool = False
    """Scale windows smaller than ``max_side`` up to it too (models that need their size)."""


def _grow_axis(start: int, end: int, wanted: int, limit: int) -> tuple[int, int]:
    """Widen [start, end) to ``wanted`` pixels, centred, shifted to stay inside [0, limit)."""
    wanted = min(wanted, limit)
    missing = wanted - (end - start)
    if missing <= 0:
        return start, end
    start -= missing // 2
    end = start + wanted
    if start < 0:
        start, end = 0, wanted
    if end > limit:
        start, end = limit - wanted, limit
    return start, end


def _window_for(bbox: Box, policy: WindowPolicy, width: int, height: int) -> Box:
    x0, y0, x1, y1 = bbox
    context = max(policy.min_margin, round(policy.margin * max(x1 - x0, y1 - y0)))
    x0, y0 = max(0, x0 - context), max(0, y0 - context)
    x1, y1 = min(width, x1 + context), min(height, y1 + context)
    side_x = max(x1 - x0, policy.min_side)
    side_y = max(y1 - y0, policy.min_side)
    if policy.square:
        side_x = side_y = max(side_x, side_y)
    x0, x1 = _grow_axis(x0, x1, side_x, width)
    y0, y1 = _grow_axis(y0, y1, side_y, height)
    return x0, y0, x1, y1


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def plan_windows(mask: Mask, policy: WindowPolicy) -> list[Box]:
    """Windows that together cover every hole of ``mask``, none overlapping another."""
    height, width = mask.shape
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    boxes: list[Box] = []
    for index in range(1, count):
        x, y, w, h = (int(value) for value in stats[index, :4])
        boxes.append((x, y, x + w, y + h))
    if not boxes:
        return []
    if len(boxes) > MAX_WINDOWS:
        union = boxes[0]
        for box in boxes[1:]:
            union = _union(union, box)
        boxes = [union]
    windows = [_window_for(box, policy, width, height) for box in boxes]
    merged = True
    while merged:  # merging can make a window overlap a third one: repeat until stable
        merged = False
        for i in range(len(windows)):
            for j in range(i + 1, len(windows)):
                if _overlap(windows[i], windows[j]):
                    joined = _window_for(
                        _union(windows[i], windows[j]), _no_margin(policy), width, height
                    )
                    windows = [w for k, w in enumerate(windows) if k not in (i, j)] + [joined]
                    merged = True
                    break
            if merged:
                break
    return sorted(windows)


def _no_margin(policy: WindowPolicy) -> WindowPolicy:
    return WindowPolicy(
        min_side=policy.min_side,
        max_side=policy.max_side,
        margin=0.0,
        min_margin=0,
        square=policy.square,
        multiple=policy.multiple,
        upscale=policy.upscale,
    )


def working_size(width: int, height: int, policy: WindowPolicy) -> tuple[int, int]:
    """(width, height) the network sees for a window of this size."""
    if policy.square:
        return policy.max_side, policy.max_side
    scale = policy.max_side / max(width, height)
    if not policy.upscale:
        scale = min(1.0, scale)
    step = max(1, policy.multiple)
    return (
        max(step, round(width * scale / step) * step),
        max(step, round(height * scale / step) * step),
    )


def scale_mask(mask: Mask, size: tuple[int, int]) -> Mask:
    """Resize a hole mask; a pixel that is even partly hole stays hole (none is lost)."""
    if (mask.shape[1], mask.shape[0]) == size:
        return mask
    coverage = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return np.asarray(coverage > 1e-3)


def fill_window(pixels: RGB, holes: Mask, infer: Infer, policy: WindowPolicy) -> RGB:
    """Fill one window: square and pad if asked, scale to the working size, run, scale back."""
    [filled] = fill_window_many(pixels, holes, lambda px, h: [infer(px, h)], policy)
    return filled


def fill_window_many(pixels: RGB, holes: Mask, infer: InferMany, policy: WindowPolicy) -> list[RGB]:
    """``fill_window`` for a model that returns several fills of one window."""
    height, width = holes.shape
    if policy.square and width != height:
        side = max(width, height)
        pad_y, pad_x = side - height, side - width
        # padding lies outside the image: replicate the edge, and let the network fill it
        pixels = np.asarray(cv2.copyMakeBorder(pixels, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE))
        holes = np.pad(holes, ((0, pad_y), (0, pad_x)), constant_values=True)
    padded_size = (holes.shape[1], holes.shape[0])
    size = working_size(*padded_size, policy)
    results = infer(scale_to(pixels, size), scale_mask(holes, size))
    filled = []
    for result in results:
        work: NDArray[np.uint8] = np.asarray(result, dtype=np.uint8)
        if work.shape != (size[1], size[0], 3):
            raise ValueError(f"the network returned {work.shape}, expected {(size[1], size[0], 3)}")
        filled.append(np.ascontiguousarray(scale_to(work, padded_size)[:height, :width]))
    return filled


def run_windowed(
    image: RGB, mask: Mask, infer: Infer, policy: WindowPolicy, tick: Tick | None = None
) -> RGB:
    """``image`` with every hole filled window by window; pixels outside holes untouched."""
    [filled] = run_windowed_many(image, mask, lambda px, h: [infer(px, h)], policy, 1, tick)
    return filled


def run_windowed_many(
    image: RGB,
    mask: Mask,
    infer: InferMany,
    policy: WindowPolicy,
    count: int,
    tick: Tick | None = None,
) -> list[RGB]:
    """``count`` filled versions of ``image``; ``infer`` must return ``count`` fills a window."""
    outs = [image.copy() for _ in range(count)]
    windows = plan_windows(mask, policy)
    for done, (x0, y0, x1, y1) in enumerate(windows):
        if tick is not None:
            tick(done / len(windows))
        holes = mask[y0:y1, x0:x1]
        # every version is filled from the same window of the original (windows never overlap)
        fills = fill_window_many(image[y0:y1, x0:x1], holes, infer, policy)
        if len(fills) != count:
            raise ValueError(f"the model returned {len(fills)} fills, expected {count}")
        for out, filled in zip(outs, fills, strict=True):
            region = out[y0:y1, x0:x1]
            region[holes] = filled[holes]
    if tick is not None:
        tick(1.0)
    return outs
