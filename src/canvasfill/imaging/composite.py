"""Putting pixels together: the original onto its canvas, and an engine's fill into it.

The promise every engine relies on and every test checks: pixels outside the fill
mask come back bit-exact. The seam is softened only on the fill side: within
``feather`` pixels of the known region, the fill is blended toward the colour of the
nearest known pixel, so no engine's colour drift shows as a hard edge.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from canvasfill.imaging.geometry import CanvasPlan
from canvasfill.imaging.masks import Mask

RGB = NDArray[np.uint8]
"""HxWx3 uint8."""


def place_on_canvas(rgb: RGB, plan: CanvasPlan) -> RGB:
    """The canvas the engine sees: the original at its offset, black where it must fill.

    In canvas and removal modes the canvas is the image itself; masked pixels are kept
    (some engines use them as a starting point), nothing is painted over them.
    """
    width, height = plan.canvas_size
    if (width, height) == plan.source_size and plan.offset == (0, 0):
        return rgb.copy()
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    x0, y0, x1, y1 = plan.known_box
    canvas[y0:y1, x0:x1] = rgb
    return canvas


def place_alpha(alpha: NDArray[np.uint8] | None, plan: CanvasPlan) -> NDArray[np.uint8] | None:
    """Alpha for the result: the original's where it was, opaque on new canvas area."""
    if alpha is None:
        return None
    width, height = plan.canvas_size
    canvas = np.full((height, width), 255, dtype=np.uint8)
    x0, y0, x1, y1 = plan.known_box
    canvas[y0:y1, x0:x1] = alpha
    return canvas


def opaque_where(alpha: NDArray[np.uint8] | None, fill_mask: Mask) -> NDArray[np.uint8] | None:
    """``alpha`` with the filled pixels opaque, or None once nothing is left transparent.

    A fill marked by transparency replaces the transparent pixels: leaving them
    transparent would hide the fill, and an all-opaque plane is no plane at all.
    """
    if alpha is None:
        return None
    out = alpha.copy()
    out[fill_mask] = 255
    return None if bool((out == 255).all()) else out


def composite(canvas: RGB, fill: RGB, fill_mask: Mask, feather: int = 3) -> RGB:
    """Blend ``fill`` into ``canvas`` inside ``fill_mask``; keep every other pixel exact."""
    if fill.shape != canvas.shape:
        raise ValueError(f"fill is {fill.shape}, canvas is {canvas.shape}")
    out = canvas.copy()
    if not fill_mask.any():
        return out
    if feather <= 0 or fill_mask.all():
        out[fill_mask] = fill[fill_mask]
        return out
    out[fill_mask] = fill[fill_mask]
    band, distance, nearest = _seam_band(canvas, fill_mask, reach=feather + 1)
    weight = (distance / float(feather + 1))[:, None]
    blended = weight * fill[band].astype(np.float32) + (1.0 - weight) * nearest
    out[band] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


def _seam_band(
    canvas: RGB, fill_mask: Mask, reach: int
) -> tuple[Mask, NDArray[np.float32], NDArray[np.float32]]:
    """The fill pixels closer than ``reach`` to the known region, their Euclidean
    distance to it and the colour of that nearest known pixel.

    Only the band is ever expanded to per-pixel colours: on a 4096 px canvas a
    full-size float image is 200 MB, and the band is a thin ring.
    """
    holes = fill_mask.astype(np.uint8)
    distance, labels = cv2.distanceTransformWithLabels(
        holes, cv2.DIST_L2, cv2.DIST_MASK_PRECISE, labelType=cv2.DIST_LABEL_PIXEL
    )
    band = fill_mask & (distance < reach)
    # labels number the known pixels 1..K in row-major order, each known pixel holding
    # its own; every band pixel's nearest known pixel lies in the rim within ``reach``
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), dtype=np.uint8)
    rim = ~fill_mask & cv2.dilate(holes, kernel).astype(bool)
    rim_rows, rim_cols = np.nonzero(rim)
    found = np.searchsorted(labels[rim], labels[band])
    nearest = canvas[rim_rows[found], rim_cols[found]].astype(np.float32)
    return band, distance[band].astype(np.float32), nearest


def scale_to(pixels: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    """Downscale (area-averaging, no ringing) or upscale (cubic) to (width, height)."""
    width, height = size
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    shrinking = width < pixels.shape[1] or height < pixels.shape[0]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(pixels, (width, height), interpolation=interpolation))
