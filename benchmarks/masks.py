"""LaMa-style masks (Suvorov et al. 2022) for the removal benchmark, from a fixed seed.

The three families follow ``../shared/eval/README.md``, with sizes given for a
512-pixel image and scaled to the image's shorter side:

- thin: many strokes, each at most 20 px wide;
- medium: 4-10 strokes up to 100 px wide, plus 0-3 boxes of 30-150 px;
- thick: 1-5 strokes up to 250 px wide, plus 0-3 boxes of 30-300 px.

A stroke is a polyline of 1-4 segments at random angles, drawn with round joins as
LaMa's ``make_random_irregular_mask`` does. A mask covering more than half the image
(or almost nothing) is drawn again from the same generator, so every mask is
reproducible from (seed, family, image index) and every method sees the same one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

Mask = NDArray[np.bool_]

BASE_SIDE = 512
MAX_COVER = 0.5
MIN_COVER = 0.005
SEED = 20260


class Family(StrEnum):
    THIN = "thin"
    MEDIUM = "medium"
    THICK = "thick"


@dataclass(frozen=True)
class _Recipe:
    strokes: tuple[int, int]
    width: tuple[int, int]
    length: int
    boxes: tuple[int, int]
    box_side: tuple[int, int]


_RECIPES = {
    Family.THIN: _Recipe(strokes=(12, 30), width=(4, 20), length=80, boxes=(0, 0), box_side=(0, 0)),
    Family.MEDIUM: _Recipe(
        strokes=(4, 10), width=(15, 100), length=120, boxes=(0, 3), box_side=(30, 150)
    ),
    Family.THICK: _Recipe(
        strokes=(1, 5), width=(60, 250), length=200, boxes=(0, 3), box_side=(30, 300)
    ),
}


def make_mask(shape: tuple[int, int], family: Family, index: int, seed: int = SEED) -> Mask:
    """The ``index``-th mask of ``family`` for an image of ``shape`` (height, width)."""
    family_number = list(Family).index(family)
    rng = np.random.default_rng([seed, family_number, index])
    scale = min(shape) / BASE_SIDE
    while True:
        mask = _draw(rng, shape, _RECIPES[family], scale)
        cover = float(mask.mean())
        if MIN_COVER <= cover <= MAX_COVER:
            return mask


def _draw(rng: np.random.Generator, shape: tuple[int, int], recipe: _Recipe, scale: float) -> Mask:
    height, width = shape
    canvas = np.zeros(shape, dtype=np.uint8)
    for _ in range(int(rng.integers(recipe.strokes[0], recipe.strokes[1] + 1))):
        y = float(rng.integers(0, height))
        x = float(rng.integers(0, width))
        for _ in range(int(rng.integers(1, 5))):
            angle = rng.uniform(0, 2 * math.pi)
            length = rng.uniform(10, recipe.length) * scale
            thickness = max(1, round(rng.integers(recipe.width[0], recipe.width[1] + 1) * scale))
            end_y = min(max(y + length * math.sin(angle), 0.0), height - 1.0)
            end_x = min(max(x + length * math.cos(angle), 0.0), width - 1.0)
            cv2.line(canvas, (round(x), round(y)), (round(end_x), round(end_y)), 1, thickness)
            y, x = end_y, end_x
    for _ in range(int(rng.integers(recipe.boxes[0], recipe.boxes[1] + 1))):
        box_h = round(rng.integers(recipe.box_side[0], recipe.box_side[1] + 1) * scale)
        box_w = round(rng.integers(recipe.box_side[0], recipe.box_side[1] + 1) * scale)
        top = int(rng.integers(0, max(1, height - box_h)))
        left = int(rng.integers(0, max(1, width - box_w)))
        canvas[top : top + box_h, left : left + box_w] = 1
    return canvas.astype(bool)


def expansion_mask(shape: tuple[int, int], side: float = 0.2) -> Mask:
    """Everything but the centre crop: each side loses ``side`` of the width/height."""
    height, width = shape
    top, left = round(height * side), round(width * side)
    mask = np.ones(shape, dtype=bool)
    mask[top : height - top, left : width - left] = False
    return mask
