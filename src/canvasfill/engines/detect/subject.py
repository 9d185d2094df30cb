"""Subject masks from U^2-Netp: the main salient object, thresholded, cleaned and dilated.

The network sees the image at 320x320, normalised as U^2-Net was trained (scaled by
its own maximum, then ImageNet mean and std, RGB). Its first output (``d0``, already a
sigmoid) is upsampled back to the image's size and thresholded; then only the large
components are kept (a salient-object map has specks), their holes filled (a subject
with a gap in it is still one subject to remove) and the result dilated a few pixels
so the fill does not leave a halo of the subject's edge.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from canvasfill.engines.onnx_session import Signature, TensorSpec, session_for
from canvasfill.imaging import masks

MODEL = "u2netp"
SIDE = 320
INPUT = "input.1"
OUTPUT = "1959"
"""d0, the fused saliency map, in rembg's export of U^2-Netp."""
SIGNATURE = Signature(
    inputs=(TensorSpec(INPUT, "tensor(float)", (1, 3, SIDE, SIDE)),),
    outputs=(TensorSpec(OUTPUT, "tensor(float)", (1, 1, SIDE, SIDE)),),
)
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

THRESHOLD = 0.5
KEEP_SHARE = 0.1
"""A component is kept when it is at least this share of the largest one."""
MIN_AREA_SHARE = 0.001
"""Components smaller than this share of the image are specks, whatever the largest."""
DILATE = 4


def to_input(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """HxWx3 uint8 RGB -> [1, 3, 320, 320] float, normalised as U^2-Net expects."""
    small = cv2.resize(rgb, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    small /= max(float(small.max()), 1e-6)
    small = (small - MEAN) / STD
    return np.ascontiguousarray(small.transpose(2, 0, 1)[None], dtype=np.float32)


def probability(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The saliency map at the image's size, 0..1."""
    session = session_for(MODEL, SIGNATURE)
    (d0,) = session.run([OUTPUT], {INPUT: to_input(rgb)})
    small = np.clip(np.asarray(d0, dtype=np.float32)[0, 0], 0.0, 1.0)
    height, width = rgb.shape[:2]
    return np.asarray(
        cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32
    )


def clean(found: masks.Mask, *, dilate: int = DILATE) -> masks.Mask:
    """Keep the large components, fill their holes, dilate by ``dilate`` pixels."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        found.astype(np.uint8), connectivity=8
    )
    if count <= 1:
        return np.zeros(found.shape, dtype=np.bool_)
    areas = stats[1:, cv2.CC_STAT_AREA]
    floor = max(float(areas.max()) * KEEP_SHARE, found.size * MIN_AREA_SHARE)
    kept = np.flatnonzero(areas >= floor) + 1
    if kept.size == 0:
        return np.zeros(found.shape, dtype=np.bool_)
    chosen = np.isin(labels, kept).astype(np.uint8)
    outlines, _ = cv2.findContours(chosen, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(chosen)
    cv2.drawContours(filled, outlines, -1, 1, thickness=cv2.FILLED)
    return masks.grow(filled.astype(np.bool_), dilate)


def subject_mask(rgb: NDArray[np.uint8], *, dilate: int = DILATE) -> masks.Mask:
    """True over the image's main subject (all False when there is none)."""
    return clean(probability(rgb) > THRESHOLD, dilate=dilate)
