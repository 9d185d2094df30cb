"""Text masks from PP-OCRv4's text detector (DB): captions, watermarks, date stamps.

The network returns, per pixel, the probability that it lies in a text line's shrunk
core. The post-process is PaddleOCR's (``DBPostProcess``), in OpenCV only: threshold
the map, dilate it a little, take each contour's rotated box (``minAreaRect``, so
slanted and rotated text is boxed tightly), drop boxes that are too thin or too
unsure, then "unclip" each box (grow it by ``area * ratio / perimeter``: the network
was trained on cores shrunk by that rule) and paint it into the mask, which is
finally dilated a few pixels to take the glyphs' anti-aliased edges too.

The image is run at a size that is a multiple of 32 with its short side near 736
(as RapidOCR runs it), capped so a large photo stays bounded in time and memory.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from canvasfill.engines.onnx_session import Signature, TensorSpec, session_for
from canvasfill.imaging import masks

MODEL = "ppocr-det"
INPUT = "x"
OUTPUT = "sigmoid_0.tmp_0"
SIGNATURE = Signature(
    inputs=(TensorSpec(INPUT, "tensor(float)", (None, 3, None, None)),),
    outputs=(TensorSpec(OUTPUT, "tensor(float)", (None, 1, None, None)),),
)

SHORT_SIDE = 736
MAX_SIDE = 1600
MULTIPLE = 32
THRESHOLD = 0.3
BOX_THRESHOLD = 0.5
UNCLIP_RATIO = 1.6
MIN_SIDE = 3
MAX_CANDIDATES = 1000
DILATE = 3


def working_size(size: tuple[int, int]) -> tuple[int, int]:
    """(w, h) to run the network at: short side towards 736, long side at most 1600,
    both multiples of 32."""
    width, height = size
    scale = max(SHORT_SIDE / min(width, height), 1.0)
    scale = min(scale, MAX_SIDE / max(width, height))
    return (
        max(MULTIPLE, round(width * scale / MULTIPLE) * MULTIPLE),
        max(MULTIPLE, round(height * scale / MULTIPLE) * MULTIPLE),
    )


def to_input(rgb: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.float32]:
    """HxWx3 uint8 RGB -> [1, 3, h, w] float in -1..1, BGR as PaddleOCR reads images."""
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)
    bgr = resized[:, :, ::-1].astype(np.float32)
    scaled = (bgr / 255.0 - 0.5) / 0.5
    return np.ascontiguousarray(scaled.transpose(2, 0, 1)[None], dtype=np.float32)


def probability(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The text probability map at the working size (not the image's)."""
    height, width = rgb.shape[:2]
    session = session_for(MODEL, SIGNATURE)
    (out,) = session.run([OUTPUT], {INPUT: to_input(rgb, working_size((width, height)))})
    found: NDArray[np.float32] = np.asarray(out, dtype=np.float32)[0, 0]
    return found


def _box_score(prob: NDArray[np.float32], box: NDArray[np.float32]) -> float:
    """The mean probability inside ``box`` (PaddleOCR's "fast" score)."""
    height, width = prob.shape
    xmin = int(np.clip(np.floor(box[:, 0].min()), 0, width - 1))
    xmax = int(np.clip(np.ceil(box[:, 0].max()), 0, width - 1))
    ymin = int(np.clip(np.floor(box[:, 1].min()), 0, height - 1))
    ymax = int(np.clip(np.ceil(box[:, 1].max()), 0, height - 1))
    inside = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    shifted = (box - np.array([xmin, ymin], dtype=np.float32)).astype(np.int32)
    cv2.fillPoly(inside, [shifted], 1)
    return float(cv2.mean(prob[ymin : ymax + 1, xmin : xmax + 1], inside)[0])


RotatedRect = tuple[tuple[float, float], tuple[float, float], float]
"""OpenCV's rotated rectangle: (centre, (width, height), angle in degrees)."""


def _unclip(rect: RotatedRect) -> RotatedRect:
    """Grow a rotated box by DB's unclip distance (area * ratio / perimeter) on every side.

    PaddleOCR offsets the polygon with rounded corners (pyclipper); growing the
    rectangle itself covers that shape and a little more at the corners, which a
    removal mask can afford."""
    (cx, cy), (w, h), angle = rect
    distance = (w * h) * UNCLIP_RATIO / max(2.0 * (w + h), 1e-6)
    return (cx, cy), (w + 2.0 * distance, h + 2.0 * distance), angle


def boxes(prob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
    """Rotated text boxes (4x2 corner points, in the map's pixels) from a probability map."""
    bitmap = cv2.dilate((prob > THRESHOLD).astype(np.uint8), np.ones((2, 2), dtype=np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found: list[NDArray[np.float32]] = []
    for contour in contours[:MAX_CANDIDATES]:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        rect: RotatedRect = ((cx, cy), (w, h), angle)
        if min(rect[1]) < MIN_SIDE:
            continue
        corners = cv2.boxPoints(rect).astype(np.float32)
        if _box_score(prob, corners) < BOX_THRESHOLD:
            continue
        grown = _unclip(rect)
        if min(grown[1]) < MIN_SIDE + 2:
            continue
        found.append(cv2.boxPoints(grown).astype(np.float32))
    return found


def mask_from_boxes(
    found: list[NDArray[np.float32]],
    map_size: tuple[int, int],
    size: tuple[int, int],
    *,
    dilate: int = DILATE,
) -> masks.Mask:
    """Paint boxes found on a (w, h) map into a mask of the image's (w, h), dilated."""
    width, height = size
    scale = np.array([width / map_size[0], height / map_size[1]], dtype=np.float32)
    painted = np.zeros((height, width), dtype=np.uint8)
    polygons = [np.round(box * scale).astype(np.int32) for box in found]
    if polygons:
        cv2.fillPoly(painted, polygons, 1)
    return masks.grow(painted.astype(np.bool_), dilate)


def text_mask(rgb: NDArray[np.uint8], *, dilate: int = DILATE) -> masks.Mask:
    """True over every text line found in the image (all False when there is none)."""
    height, width = rgb.shape[:2]
    prob = probability(rgb)
    map_size = (prob.shape[1], prob.shape[0])
    return mask_from_boxes(boxes(prob), map_size, (width, height), dilate=dilate)
