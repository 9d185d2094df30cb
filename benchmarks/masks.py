"""LaMa-style masks (Suvorov et al. 2022) for the removal benchmark, from a fixed seed.

The three families follow ``../shared/eval/README.md``, with sizes given for a
512-pixel image and scaled to the image's shorter side:

- thin: many strokes, each at most 20 px wide;
- medium: 4-10 strokes up to 100 px wide, plus 0-3 boxes of 30-150 px;
- thick: 1-5 strokes up to 250 px wide, plus 0-3 boxes of 30-300 px;
- objects: 1-3 silhouettes of what people remove from photos, larger than the thick
  strokes: a person (head, body, legs; 40-75% of the image's height), a car (body,
  cabin, wheels; 35-60% of its width) or a pole (3-6% wide, 55-95% high, with a lamp
  or a sign), standing on a common ground line, each grown by a few pixels as a
  selection brush would.

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
    OBJECTS = "objects"


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
        if family is Family.OBJECTS:
            mask = _draw_objects(rng, shape)
        else:
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


def _draw_objects(rng: np.random.Generator, shape: tuple[int, int]) -> Mask:
    height, width = shape
    canvas = np.zeros(shape, dtype=np.uint8)
    ground = float(rng.uniform(0.75, 0.97)) * height
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 3))
        x = float(rng.uniform(0.1, 0.9)) * width
        foot = ground + float(rng.uniform(-0.05, 0.03)) * height
        if kind == 0:
            _person(canvas, rng, x, foot, float(rng.uniform(0.4, 0.75)) * height)
        elif kind == 1:
            _car(canvas, rng, x, foot, float(rng.uniform(0.35, 0.6)) * width)
        else:
            _pole(canvas, rng, x, foot, float(rng.uniform(0.55, 0.95)) * height, width)
    grow = max(1, round(min(shape) / 128))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    return np.asarray(cv2.dilate(canvas, kernel) > 0)


def _person(canvas: NDArray[np.uint8], rng: np.random.Generator, x: float, foot: float,
            tall: float) -> None:  # fmt: skip
    head = tall * 0.07
    top = foot - tall
    lean = float(rng.uniform(-0.05, 0.05)) * tall
    cv2.circle(canvas, (round(x + lean), round(top + head)), max(1, round(head)), 1, -1)
    shoulder = tall * float(rng.uniform(0.11, 0.15))
    body = np.array([
        (x + lean - shoulder, top + 2.1 * head), (x + lean + shoulder, top + 2.1 * head),
        (x + shoulder * 0.8, foot - tall * 0.45), (x - shoulder * 0.8, foot - tall * 0.45),
    ], dtype=np.int32)  # fmt: skip
    cv2.fillPoly(canvas, [body], 1)
    stride = tall * float(rng.uniform(0.03, 0.12))
    leg = max(1, round(tall * 0.07))
    hip = (round(x), round(foot - tall * 0.46))
    for side in (-1, 1):
        cv2.line(canvas, hip, (round(x + side * stride), round(foot)), 1, leg)
        arm_end = (round(x + lean + side * shoulder * 1.3), round(foot - tall * 0.45))
        cv2.line(canvas, (round(x + lean + side * shoulder * 0.8), round(top + 2.4 * head)),
                 arm_end, 1, max(1, round(leg * 0.7)))  # fmt: skip


def _car(canvas: NDArray[np.uint8], rng: np.random.Generator, x: float, foot: float,
         long: float) -> None:  # fmt: skip
    tall = long * float(rng.uniform(0.28, 0.38))
    left, right = round(x - long / 2), round(x + long / 2)
    wheel = max(1, round(tall * 0.22))
    body_bottom = round(foot - wheel * 0.8)
    body_top = round(foot - tall * 0.6)
    cv2.rectangle(canvas, (left, body_top), (right, body_bottom), 1, -1)
    cabin = np.array([
        (x - long * 0.3, body_top), (x - long * 0.18, foot - tall),
        (x + long * 0.15, foot - tall), (x + long * 0.3, body_top),
    ], dtype=np.int32)  # fmt: skip
    cv2.fillPoly(canvas, [cabin], 1)
    for at in (x - long * 0.3, x + long * 0.3):
        cv2.circle(canvas, (round(at), round(foot - wheel)), wheel, 1, -1)


def _pole(canvas: NDArray[np.uint8], rng: np.random.Generator, x: float, foot: float,
          tall: float, width: int) -> None:  # fmt: skip
    thick = max(2, round(width * float(rng.uniform(0.015, 0.03))))
    top = round(foot - tall)
    cv2.rectangle(canvas, (round(x - thick), top), (round(x + thick), round(foot)), 1, -1)
    if rng.random() < 0.5:  # a street lamp's arm and head
        reach = tall * float(rng.uniform(0.1, 0.2)) * (1 if rng.random() < 0.5 else -1)
        cv2.line(canvas, (round(x), top), (round(x + reach), top), 1, thick)
        cv2.ellipse(canvas, (round(x + reach), top + thick), (thick * 3, thick * 2), 0, 0, 360,
                    1, -1)  # fmt: skip
    else:  # a sign
        side = round(tall * float(rng.uniform(0.12, 0.2)))
        cv2.rectangle(canvas, (round(x - side / 2), top), (round(x + side / 2), top + side), 1, -1)


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
