"""Reducing an image with a hole: each smaller pixel the mean of the known pixels it covers.

Both the solver's pyramid (``solver._shrink_photo``) and the pull-push diffusion
(``hedge.diffusion``) go down this way, so that the hole's blacked-out values never leak
into the border's colours.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float32]


def known_mean(
    colour: NDArray[np.uint8] | Floats, known: Floats, size: tuple[int, int]
) -> tuple[Floats, Floats]:
    """``colour`` (HxWx3) at ``size`` (width, height), each pixel the area mean of the
    pixels it covers where ``known`` (HxW, 0 or 1) is 1, and the share of them that was
    known (0 where none was: there the colour is 0, a hole still)."""
    total = cv2.resize(
        colour.astype(np.float32) * known[..., None], size, interpolation=cv2.INTER_AREA
    )
    share = cv2.resize(known, size, interpolation=cv2.INTER_AREA)
    mean = np.asarray(total / np.maximum(share, 1e-6)[..., None], dtype=np.float32)
    return mean, np.asarray(share, dtype=np.float32)
