"""The integrity check: whole files pass, broken ones are refused, and no pixels are held."""

from __future__ import annotations

import io
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.budget import MemoryBudget
from canvasfill.imaging.decode import open_header
from canvasfill.imaging.integrity import verify_image
from tests.support_images import huge_blank_png

BUDGET = MemoryBudget(64 * 2**20)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise(mode: str, size: tuple[int, int] = (37, 23), seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    rgba = Image.fromarray((rng.random((size[1], size[0], 4)) * 255).astype(np.uint8))
    if mode == "I;16":
        wide = (rng.random((size[1], size[0])) * 65535).astype(np.uint16)
        return Image.fromarray(wide)
    if mode == "P":
        return rgba.convert("RGB").quantize(16)
    return rgba.convert(mode)


def verify(data: bytes) -> None:
    image, _size = open_header(data)
    verify_image(image, data, BUDGET, field="image")


def decodes(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Exception:
        return False
    return True


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"])
@pytest.mark.parametrize("interlace", [False, True])
def test_whole_pngs_of_every_mode_pass(mode: str, interlace: bool) -> None:
    verify(
        encoded(noise(mode), "PNG", interlace=interlace)
        if interlace
        else encoded(noise(mode), "PNG")
    )


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_whole_jpegs_and_webps_pass(fmt: str) -> None:
    verify(encoded(noise("RGB"), fmt))
    if fmt == "JPEG":
        verify(encoded(noise("RGB"), fmt, progressive=True))


def idat_span(data: bytes) -> tuple[int, int]:
    """(start, end) of the first IDAT chunk's data."""
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8 : start - 4], "big")
    return start, start + length


def test_a_png_cut_inside_its_pixel_data_is_truncated() -> None:
    data = encoded(noise("RGB", (200, 150)), "PNG")
    start, end = idat_span(data)
    with pytest.raises(InputError) as caught:
        verify(data[: (start + end) // 2])
    assert caught.value.code is ErrorCode.TRUNCATED_IMAGE


def test_a_png_whose_pixel_data_was_altered_is_corrupt() -> None:
    data = bytearray(encoded(noise("RGB", (200, 150)), "PNG"))
    start, end = idat_span(bytes(data))
    data[(start + end) // 2] ^= 0xFF
    with pytest.raises(InputError) as caught:
        verify(bytes(data))
    assert caught.value.code is ErrorCode.INVALID_IMAGE


def test_a_cut_jpeg_is_refused() -> None:
    data = encoded(noise("RGB", (400, 300)), "JPEG", quality=95)
    with pytest.raises(InputError) as caught:
        verify(data[: len(data) // 2])
    assert caught.value.code in (ErrorCode.TRUNCATED_IMAGE, ErrorCode.INVALID_IMAGE)


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(["L", "P", "RGB", "RGBA"]),
    interlace=st.booleans(),
    cut=st.floats(min_value=0.3, max_value=1.0),
)
def test_what_passes_the_check_decodes(mode: str, interlace: bool, cut: float) -> None:
    """Sound: a PNG cut anywhere is accepted only if Pillow decodes it in full."""
    data = encoded(noise(mode, (61, 47)), "PNG", interlace=interlace)
    piece = data[: max(40, int(len(data) * cut))]
    try:
        verify(piece)
    except InputError:
        return
    assert decodes(piece)


def test_a_huge_png_is_checked_without_holding_its_pixels() -> None:
    data = huge_blank_png()
    assert len(data) < 1_000_000
    tracemalloc.start()
    try:
        verify(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20  # its pixels are 192 MiB


def test_the_budget_bounds_concurrent_reservations() -> None:
    budget = MemoryBudget(100)
    seen: list[int] = []
    lock = threading.Lock()

    def work(nbytes: int) -> None:
        with budget.reserve(nbytes):
            with lock:
                seen.append(budget.used)
            threading.Event().wait(0.01)

    threads = [threading.Thread(target=work, args=(n,)) for n in (60, 60, 30, 500, 10) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(seen) == len(threads)
    assert max(seen) <= 100  # 500 was capped to the whole budget and ran alone
    assert budget.used == 0
