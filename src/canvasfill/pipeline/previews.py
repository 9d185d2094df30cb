"""Previews: an engine's intermediate picture, composited like a result, made small.

A task that asks for previews (``JobSpec.previews``: OpenAI's ``partial_images``, the
native ``previews`` field) is shown what its engine offers while it fills (see
:data:`~canvasfill.engines.base.FillPreview`; the patch engine offers each pyramid
level's solution). The first ``previews`` offered are kept, so an engine that offers
few still shows all of them. Each is scaled to the result's shape, at most
:data:`PREVIEW_SIDE` pixels on its longer side, blended into the canvas by how much of
each small pixel is hole (the known pixels stay the photo's), and encoded in the
task's output format (PNG at a fast level, JPEG and WebP at a bounded quality), so a
preview costs a few milliseconds and a few tens of kB.

Nothing here runs for a task that asked for none: the engine is not even given the
callback, and the scaled canvas is made on the first preview, not before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from canvasfill.engines.base import RGB, FillPreview, Mask
from canvasfill.imaging.composite import scale_to
from canvasfill.imaging.encode import OutputFormat, encode_image
from canvasfill.imaging.geometry import fit_within

PREVIEW_SIDE = 512
"""Longest side of a preview, in pixels (never larger than the result)."""
PREVIEW_QUALITY = 75
"""JPEG and WebP quality of previews at most (the result's own when lower)."""
PREVIEW_PNG_LEVEL = 1
"""zlib level of PNG previews: fast; a preview is shown once and thrown away."""


@dataclass(frozen=True)
class PreviewImage:
    """One encoded preview of a running fill."""

    index: int
    """Its place among the task's previews: 0, 1, ... (OpenAI's ``partial_image_index``)."""
    image: int
    """Which of the request's ``n`` images it shows."""
    data: bytes
    width: int
    height: int
    format: OutputFormat


PreviewSink = Callable[[PreviewImage], None]
"""Told each preview kept (a worker stores it and announces it on the task's events)."""

_Small = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.uint8] | None]


class Previews:
    """The engine's :data:`FillPreview` for one run: keeps the first ``count`` offered,
    composites and encodes each, and hands it to ``sink``."""

    def __init__(
        self,
        canvas: RGB,
        fill_mask: Mask,
        alpha: NDArray[np.uint8] | None,
        target: tuple[int, int],
        output_format: OutputFormat,
        quality: int,
        count: int,
        sink: PreviewSink,
    ) -> None:
        self._canvas, self._mask, self._alpha = canvas, fill_mask, alpha
        self.size = fit_within(target, PREVIEW_SIDE, PREVIEW_SIDE)
        self._format = output_format
        self._quality = min(quality, PREVIEW_QUALITY)
        self._count = count
        self._sink = sink
        self.kept = 0
        self._small: _Small | None = None

    def __call__(self, image: int, estimate: RGB) -> None:
        if self.kept >= self._count:
            return
        canvas, weight, alpha = self._scaled()
        fill = scale_to(np.ascontiguousarray(estimate, dtype=np.uint8), self.size)
        blended = canvas + (fill.astype(np.float32) - canvas) * weight
        rgb = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        data = encode_image(
            rgb,
            self._format,
            alpha=alpha,
            quality=self._quality,
            png_compress_level=PREVIEW_PNG_LEVEL,
        )
        width, height = self.size
        preview = PreviewImage(self.kept, image, data, width, height, self._format)
        self.kept += 1
        self._sink(preview)

    def _scaled(self) -> _Small:
        """The canvas, each pixel's share of hole and the alpha, at the preview's size
        (made once, on the first preview)."""
        if self._small is None:
            canvas = scale_to(self._canvas, self.size).astype(np.float32)
            # uint8, not float: a full-size float mask of a large canvas is tens of MB
            holes = self._mask.astype(np.uint8) * np.uint8(255)
            coverage = cv2.resize(holes, self.size, interpolation=cv2.INTER_AREA)
            weight = (coverage.astype(np.float32) / 255.0)[..., None]
            alpha = None if self._alpha is None else scale_to(self._alpha, self.size)
            self._small = (canvas, weight, alpha)
        return self._small


def previews_for(
    count: int,
    sink: PreviewSink | None,
    canvas: RGB,
    fill_mask: Mask,
    alpha: NDArray[np.uint8] | None,
    target: tuple[int, int],
    output_format: OutputFormat,
    quality: int,
) -> FillPreview | None:
    """The engine's preview callback, or None when nobody asked (``count`` 0, no sink)."""
    if count <= 0 or sink is None:
        return None
    return Previews(canvas, fill_mask, alpha, target, output_format, quality, count, sink)
