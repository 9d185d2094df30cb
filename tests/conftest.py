"""Images for tests are made here, in memory: no test reads a file it did not write."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from canvasfill.sample import sample_photo


def encode(pixels: NDArray[np.uint8] | Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    """Encode an array (or a Pillow image) to bytes in ``fmt``."""
    image = Image.fromarray(pixels) if isinstance(pixels, np.ndarray) else pixels
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def decode_pixels(data: bytes) -> NDArray[np.uint8]:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image).copy()


@pytest.fixture(scope="session")
def photo() -> NDArray[np.uint8]:
    """A 768x512 generated landscape (see ``canvasfill.sample``)."""
    return sample_photo(768, 512)


@pytest.fixture(scope="session")
def small_photo() -> NDArray[np.uint8]:
    return sample_photo(160, 120, seed=3)
