"""``AlphaMask``: transparency marks the fill (OpenAI's and Stability's edit APIs).

Checked at acceptance as masks are (the image is decoded for its alpha inside the
decode budget), and run in place: known pixels exact, filled pixels opaque.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from canvasfill.engines.base import Operation
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.budget import MemoryBudget
from canvasfill.pipeline.prepare import check
from canvasfill.pipeline.run import run_job
from canvasfill.pipeline.spec import AlphaMask, JobSpec, OutputOptions
from canvasfill.sample import sample_photo
from tests.conftest import encode

PHOTO = sample_photo(60, 40, seed=2)


def _spec(geometry: AlphaMask, **output: object) -> JobSpec:
    return JobSpec(
        operation=Operation.EXPAND,
        geometry=geometry,
        seed=1,
        engine="telea",
        output=OutputOptions(**output),  # type: ignore[arg-type]
    )


def _rgba(alpha: np.ndarray) -> bytes:
    return encode(np.dstack([np.zeros((*alpha.shape, 3), np.uint8) + 90, alpha]))


def _on_canvas() -> bytes:
    canvas = np.zeros((60, 80, 4), dtype=np.uint8)
    canvas[10:50, 10:70, :3] = PHOTO
    canvas[10:50, 10:70, 3] = 255
    return encode(canvas)


def test_a_transparent_border_is_filled_and_made_opaque() -> None:
    out = run_job(_spec(AlphaMask()), _on_canvas())
    with Image.open(io.BytesIO(out.images[0].data)) as image:
        assert (image.mode, image.size) == ("RGB", (80, 60))
        pixels = np.asarray(image)
    assert np.array_equal(pixels[10:50, 10:70], PHOTO)


def test_partial_alpha_outside_the_fill_is_kept() -> None:
    alpha = np.full((40, 60), 255, dtype=np.uint8)
    alpha[:, :5] = 128  # half transparent: kept, not filled
    alpha[20:30, 20:30] = 0
    out = run_job(_spec(AlphaMask()), _rgba(alpha))
    with Image.open(io.BytesIO(out.images[0].data)) as image:
        result_alpha = np.asarray(image)[:, :, 3]
    assert (result_alpha[:, :5] == 128).all()
    assert (result_alpha[20:30, 20:30] == 255).all()


def test_a_mask_files_transparent_pixels_mark_the_fill() -> None:
    mask_alpha = np.full((40, 60), 255, dtype=np.uint8)
    mask_alpha[5:15, 5:15] = 0
    out = run_job(_spec(AlphaMask(source="mask")), encode(PHOTO), _rgba(mask_alpha))
    with Image.open(io.BytesIO(out.images[0].data)) as image:
        pixels = np.asarray(image)
    assert np.array_equal(pixels[20:], PHOTO[20:])


def test_size_scales_the_result_exactly() -> None:
    out = run_job(_spec(AlphaMask(), size=(32, 48)), _on_canvas())
    assert (out.images[0].width, out.images[0].height) == (32, 48)


@pytest.mark.parametrize(
    ("image", "mask", "geometry", "code"),
    [
        (encode(PHOTO), None, AlphaMask(), ErrorCode.EMPTY_MASK),  # opaque, no mask
        (_rgba(np.zeros((40, 60), np.uint8)), None, AlphaMask(), ErrorCode.FULL_MASK),
        (encode(PHOTO), encode(PHOTO), AlphaMask(source="mask"), ErrorCode.INVALID_MASK),
        (
            encode(PHOTO),
            _rgba(np.zeros((10, 10), np.uint8)),
            AlphaMask(source="mask"),
            ErrorCode.MASK_SIZE_MISMATCH,
        ),
    ],
)
def test_refused_at_acceptance(
    image: bytes, mask: bytes | None, geometry: AlphaMask, code: ErrorCode
) -> None:
    budget = MemoryBudget(2**26)
    with pytest.raises(InputError) as caught:
        check(_spec(geometry), image, mask, budget=budget)
    assert (caught.value.code, caught.value.field) == (code, "mask")
    assert budget.used == 0


def test_the_image_is_decoded_inside_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = MemoryBudget(2**26)
    seen: list[int] = []
    reserve = budget.reserve

    def spy(nbytes: int):  # type: ignore[no-untyped-def]
        seen.append(nbytes)
        return reserve(nbytes)

    monkeypatch.setattr(budget, "reserve", spy)
    check(_spec(AlphaMask()), _on_canvas(), None, budget=budget)
    assert max(seen) >= 80 * 60 * 8  # the image's own decode is reserved for
