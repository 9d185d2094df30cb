"""Colour matching: pull a generated fill's colours toward those around the hole.

A diffusion model's output passes through its VAE, which shifts colour and contrast a
little; the core restores the known pixels exactly, so the drift would show as a seam.
The model also repaints the known pixels just outside the hole, which gives a fair
measure of its drift: per channel, compare mean and spread of its version of that
ring with the original's, and correct the fill by the same amount, within bounds so
one odd ring cannot wreck a fill.
"""

from __future__ import annotations

import cv2
import numpy as np

from canvasfill.engines.base import RGB, Mask

RING = 16
"""Width in pixels of the known band around the hole that is compared."""
MIN_RING_PIXELS = 64
GAIN_LIMITS = (0.5, 2.0)
SHIFT_LIMIT = 40.0
"""Largest mean shift per channel, in 8-bit levels."""


def ring_around(mask: Mask, width: int = RING) -> Mask:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    grown = np.asarray(cv2.dilate(mask.astype(np.uint8), kernel) > 0)
    return grown & ~mask


def match_colours(generated: RGB, original: RGB, mask: Mask) -> RGB:
    """``generated`` with its hole pixels corrected by the drift measured on the ring."""
    ring = ring_around(mask)
    if int(ring.sum()) < MIN_RING_PIXELS or not mask.any():
        return generated
    made = generated[ring].astype(np.float64)
    truth = original[ring].astype(np.float64)
    made_mean, truth_mean = made.mean(axis=0), truth.mean(axis=0)
    gain = np.clip(
        (truth.std(axis=0) + 1.0) / (made.std(axis=0) + 1.0), GAIN_LIMITS[0], GAIN_LIMITS[1]
    )
    shift = np.clip(truth_mean - made_mean, -SHIFT_LIMIT, SHIFT_LIMIT)
    hole = generated[mask].astype(np.float64)
    hole_mean = hole.mean(axis=0)
    # contrast scales about the fill's own mean, so only ``shift`` moves its mean
    corrected = (hole - hole_mean) * gain + hole_mean + shift
    out = generated.copy()
    out[mask] = np.clip(np.rint(corrected), 0, 255).astype(np.uint8)
    return out
