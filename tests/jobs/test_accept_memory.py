"""Acceptance holds no image pixels: credits first, then headers, then a streaming check.

A red team sent twenty 195 KB PNGs declaring 8192x8192 pixels and took the API process
to 15 GB, and a key with no credits caused the same decode before its 402.
"""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from canvasfill.engines.base import Operation
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging import masks
from canvasfill.imaging.budget import MemoryBudget
from canvasfill.jobs.accept import accept
from canvasfill.jobs.keys import InsufficientCreditsError
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Submission
from canvasfill.pipeline.prepare import check
from canvasfill.pipeline.spec import JobSpec, MaskRemoval, PixelExpansion
from tests.support_images import huge_blank_png


def expansion(image: bytes) -> Submission:
    spec = JobSpec(
        operation=Operation.EXPAND, geometry=PixelExpansion(left=8), engine="telea", seed=1
    )
    return Submission(spec=spec, image=image)


def test_a_key_without_credits_is_refused_before_the_image_is_opened(
    sqlite_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    broke = sqlite_runtime.keys.create("broke", credits=0).record

    def no_open(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the image was opened for a key that cannot pay")

    monkeypatch.setattr(Image, "open", no_open)
    with pytest.raises(InsufficientCreditsError):
        accept(sqlite_runtime, broke, expansion(huge_blank_png()))


def test_a_huge_expansion_is_accepted_without_decoding_its_pixels(
    sqlite_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = sqlite_runtime.keys.create("k").record

    def no_load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the API process decoded the image")

    monkeypatch.setattr(Image.Image, "load", no_load)
    task, created = accept(sqlite_runtime, key, expansion(huge_blank_png(8000)))
    assert created
    assert task.status == "queued"


def test_a_mask_is_decoded_inside_the_memory_budget(
    sqlite_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = sqlite_runtime.keys.create("k").record
    reserved: list[int] = []
    decode_mask = masks.decode_mask

    def watched(*args: object, **kwargs: object) -> masks.Mask:
        reserved.append(sqlite_runtime.decode_budget.used)
        return decode_mask(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(masks, "decode_mask", watched)
    image = Image.fromarray(np.full((300, 400, 3), 90, np.uint8))
    mask = np.zeros((300, 400), np.uint8)
    mask[100:200, 150:250] = 255
    spec = JobSpec(operation=Operation.REMOVE, geometry=MaskRemoval(), engine="telea", seed=1)
    accept(sqlite_runtime, key, Submission(spec=spec, image=png(image), mask=png(mask)))
    assert reserved
    assert reserved[0] >= 300 * 400  # the mask's decode held its share
    assert sqlite_runtime.decode_budget.used == 0


def png(pixels: Image.Image | np.ndarray) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_canvas_past_the_limits_is_refused_before_anything_its_size_is_allocated() -> None:
    spec = JobSpec(
        operation=Operation.EXPAND, geometry=PixelExpansion(left=8), engine="telea", seed=1
    )
    data = huge_blank_png(8192)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as caught:
            check(spec, data, None, budget=MemoryBudget(2**30))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code is ErrorCode.CANVAS_TOO_LARGE
    assert peak < 16 * 2**20  # the canvas's fill mask alone would be 64 MiB
