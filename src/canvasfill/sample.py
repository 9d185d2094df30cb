"""A generated sample photograph, so the demo and tests need no file from anywhere.

A sky gradient with a sun, two ranges of textured hills and a lake: smooth areas,
texture and straight lines, which is what fills get judged on.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image


def sample_photo(width: int = 768, height: int = 512, seed: int = 7) -> NDArray[np.uint8]:
    """An HxWx3 uint8 landscape; the same arguments always give the same pixels."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    sky_top = np.array([70, 120, 200], dtype=np.float32)
    sky_low = np.array([200, 220, 235], dtype=np.float32)
    image = (sky_top * (1 - rows) + sky_low * rows) * np.ones((1, width, 1), np.float32)

    sun_centre = (int(width * 0.75), int(height * 0.22))
    cv2.circle(image, sun_centre, max(4, height // 14), (255, 235, 170), -1, lineType=cv2.LINE_AA)

    columns = np.arange(width, dtype=np.float32)
    for base, amplitude, colour, grain in (
        (0.55, 0.08, (95, 120, 140), 6.0),
        (0.68, 0.06, (60, 105, 55), 14.0),
    ):
        phase = rng.uniform(0, 2 * np.pi, size=3)
        ridge = height * (
            base
            + amplitude * np.sin(columns / width * 2 * np.pi * 1.3 + phase[0])
            + amplitude * 0.4 * np.sin(columns / width * 2 * np.pi * 4.1 + phase[1])
        )
        below = np.arange(height, dtype=np.float32)[:, None] >= ridge[None, :]
        noise = rng.normal(0.0, grain, size=(height, width, 1)).astype(np.float32)
        image = np.where(below[:, :, None], np.array(colour, np.float32) + noise, image)

    lake_top = int(height * 0.82)
    shimmer = rng.normal(0.0, 5.0, size=(height - lake_top, width, 1)).astype(np.float32)
    stripes = 8.0 * np.sin(np.arange(height - lake_top, dtype=np.float32) * 0.9)[:, None, None]
    image[lake_top:] = np.array([40, 80, 130], np.float32) + shimmer + stripes
    cv2.line(image, (0, lake_top), (width - 1, lake_top), (30, 60, 40), 2)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def sample_photo_png(width: int = 768, height: int = 512, seed: int = 7) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(sample_photo(width, height, seed)).save(buffer, format="PNG")
    return buffer.getvalue()
