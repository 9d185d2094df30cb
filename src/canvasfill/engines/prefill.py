"""A cheap first guess for the hole, so a diffusion model starts from plausible colours.

Diffusion inpainting at a strength below 1 keeps part of the starting image, and even
at 1 the model sees it around the hole. A black border (what an expansion canvas has
before filling) pulls the result dark; so the hole is first painted with the colour
of the nearest known pixel (edge replication, for any mask shape) and smoothed, which
removes the streaks replication leaves. It is a starting point, never a result.
"""

from __future__ import annotations

import cv2
import numpy as np

from canvasfill.engines.base import RGB, Mask


def nearest_known(image: RGB, mask: Mask) -> RGB:
    """Every hole pixel takes the colour of its nearest known pixel."""
    if not mask.any() or mask.all():
        return image.copy()
    _distance, labels = cv2.distanceTransformWithLabels(
        mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE, labelType=cv2.DIST_LABEL_PIXEL
    )
    rows, cols = np.nonzero(~mask)  # labels number the known pixels in row-major order
    colours = image[rows, cols]
    out = image.copy()
    out[mask] = colours[np.maximum(labels, 1) - 1][mask]
    return out


def prefill(image: RGB, mask: Mask, blur: int | None = None) -> RGB:
    """``nearest_known``, then blurred inside the hole; known pixels are unchanged."""
    filled = nearest_known(image, mask)
    height, width = mask.shape
    sigma = blur if blur is not None else max(2, min(height, width) // 32)
    smooth = np.asarray(cv2.GaussianBlur(filled, (0, 0), sigmaX=sigma))
    out = image.copy()
    out[mask] = smooth[mask]
    return out
