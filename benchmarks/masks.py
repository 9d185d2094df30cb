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


class Layout(StrEnum):
    """Where an expansion adds canvas: the sides of the photo that are cut away."""

    BOTH_SIDES = "sides"
    TOP_BOTTOM = "topbottom"
    ALL_ROUND = "allround"
    ONE_SIDE = "oneside"


EXPAND_SIDE = 0.2
"""Each extended side gives this share of the photo's width (or height) to the fill."""


def expansion_mask(shape: tuple[int, int], layout: Layout = Layout.ALL_ROUND,
                   side: float = EXPAND_SIDE) -> Mask:  # fmt: skip
    """The pixels an expansion of a crop back to the full frame must fill.

    The crop keeps the middle of the photo and loses ``side`` of the width or height
    on each extended side: left and right (``sides``), top and bottom, all four, or
    the right side only (``oneside``, which loses ``1.5 * side``: one side carries the
    whole extension, as a widening to a new aspect ratio does).
    """
    height, width = shape
    top, left = round(height * side), round(width * side)
    bottom, right = height - top, width - left
    if layout is Layout.BOTH_SIDES:
        top, bottom = 0, height
    elif layout is Layout.TOP_BOTTOM:
        left, right = 0, width
    elif layout is Layout.ONE_SIDE:
        top, bottom, left = 0, height, 0
        right = width - round(width * side * 1.5)
    mask = np.ones(shape, dtype=bool)
    mask[top:bottom, left:right] = False
    return mask
