"""OpenAI's image edits, driven by the real ``openai`` SDK against the live app.

A user's script changes only ``base_url`` and ``api_key``: a photo placed on a larger
transparent canvas is expanded, an object under a mask's transparent pixels removed.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from canvasfill.api.dialects import openai as door
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.errors import ErrorCode, InputError
from canvasfill.pipeline.spec import AlphaMask
from canvasfill.sample import sample_photo
from tests.api.dialects.live import Live, live_app
from tests.conftest import decode_pixels, encode

PHOTO = sample_photo(96, 80, seed=11)
PHOTO_PNG = encode(PHOTO)


def _on_canvas() -> tuple[bytes, tuple[slice, slice]]:
    """The photo on a larger transparent canvas: 16 px of border each side."""
    canvas = np.zeros((112, 128, 4), dtype=np.uint8)
    where = (slice(16, 96), slice(16, 112))
    canvas[where[0], where[1], :3] = PHOTO
    canvas[where[0], where[1], 3] = 255
    return encode(canvas), where


def _hole_mask() -> bytes:
    """A mask the photo's size, opaque but for a transparent 20x20 hole."""
    mask = np.full((80, 96, 4), 255, dtype=np.uint8)
    mask[30:50, 40:60, 3] = 0
    return encode(mask)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("openai"))


@pytest.fixture(scope="module")
def client(live: Live) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        api_key=live.key, base_url=live.server.base_url + "/v1", max_retries=0, timeout=60
    ) as sdk:
        yield sdk


def _pixels(b64: str | None) -> np.ndarray:
    assert b64 is not None
    return decode_pixels(base64.b64decode(b64))


def test_transparent_border_expands(client: openai.OpenAI) -> None:
    canvas, where = _on_canvas()
    # as the SDK's users send files: a bare name, bytes of any type
    result = client.images.edit(
        image=("photo", canvas, "application/octet-stream"),
        prompt="extend the landscape",
        model="gpt-image-1",
    )
    (item,) = result.data or []
    assert item.url is None
    pixels = _pixels(item.b64_json)
    assert pixels.shape == (112, 128, 3)  # the filled canvas comes back opaque
    assert np.array_equal(pixels[where], PHOTO)  # the known pixels, exactly
    assert result.size == "128x112"
    assert result.output_format == "png"
    assert result.usage is not None
    assert result.usage.total_tokens == 0


def test_transparent_hole_removes(client: openai.OpenAI) -> None:
    holed = np.dstack([PHOTO, np.full((80, 96), 255, dtype=np.uint8)])
    holed[30:50, 40:60, 3] = 0
    result = client.images.edit(image=encode(holed), prompt="remove it")
    pixels = _pixels((result.data or [])[0].b64_json)
    assert pixels.shape == (80, 96, 3)
    keep = np.ones((80, 96), dtype=bool)
    keep[30:50, 40:60] = False
    assert np.array_equal(pixels[keep], PHOTO[keep])


def test_mask_removes_and_n_2(client: openai.OpenAI) -> None:
    result = client.images.edit(
        image=("p.png", PHOTO_PNG), mask=("m", _hole_mask()), prompt="remove it", n=2
    )
    data = result.data or []
    assert len(data) == 2
    for item in data:
        pixels = _pixels(item.b64_json)
        assert pixels.shape == (80, 96, 3)
        assert np.array_equal(pixels[:30], PHOTO[:30])


def test_response_format_url_and_options(client: openai.OpenAI, live: Live) -> None:
    result = client.images.edit(
        image=[PHOTO_PNG, PHOTO_PNG],  # image[]: the first is edited
        mask=_hole_mask(),
        prompt="remove it",
        model="telea",
        response_format="url",
        size="256x256",
        output_format="jpeg",
        output_compression=80,
        quality="high",
        background="opaque",
        user="someone",
    )
    (item,) = result.data or []
    assert item.b64_json is None
    assert item.url is not None
    fetched = httpx.get(item.url, timeout=30)
    assert fetched.status_code == 200
    with Image.open(io.BytesIO(fetched.content)) as image:
        assert (image.format, image.size) == ("JPEG", (256, 256))
    assert (result.size, result.quality, result.output_format) == ("256x256", "high", "jpeg")


def test_dall_e_2_defaults_to_url(client: openai.OpenAI) -> None:
    result = client.images.edit(
        image=PHOTO_PNG, mask=_hole_mask(), prompt="remove it", model="dall-e-2"
    )
    assert (result.data or [])[0].url is not None


def test_streaming_with_an_engine_that_shows_no_work(client: openai.OpenAI) -> None:
    """telea offers no previews: partial_images asks for some, none come, the edit does
    (streamed previews: ``test_openai_stream.py``)."""
    canvas, where = _on_canvas()
    stream = client.images.edit(image=canvas, prompt="extend", stream=True, partial_images=2)
    events = list(stream)
    assert [event.type for event in events] == ["image_edit.completed"]
    completed = events[0]
    assert completed.type == "image_edit.completed"
    assert np.array_equal(_pixels(completed.b64_json)[where], PHOTO)


def test_an_opaque_image_without_mask_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=PHOTO_PNG, prompt="edit")
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "mask"
    assert "mask" in error["message"]
    assert "transparent" in error["message"]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"size": "300x300"}, "size"),
        ({"n": 11}, "n"),
        ({"quality": "ultra"}, "quality"),
        ({"response_format": "png"}, "response_format"),
        ({"output_compression": 101}, "output_compression"),
        ({"partial_images": 4}, "partial_images"),
    ],
)
def test_refusals_in_openai_envelope(
    client: openai.OpenAI, extra: dict[str, object], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=PHOTO_PNG, mask=_hole_mask(), prompt="x", **extra)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == param


def test_mask_of_another_size_and_a_non_image(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=PHOTO_PNG, mask=encode(np.zeros((8, 8, 4), np.uint8)), prompt="x")
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "mask"
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=b"not an image at all", prompt="x")
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "image"


def test_a_bad_key_and_no_credits(live: Live) -> None:
    base = live.server.base_url + "/v1"
    with (
        openai.OpenAI(api_key="wrong", base_url=base, max_retries=0) as sdk,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        sdk.images.edit(image=PHOTO_PNG, mask=_hole_mask(), prompt="x")
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "invalid_api_key"
    key, _key_id = live.new_key(credits=0)
    with (
        openai.OpenAI(api_key=key, base_url=base, max_retries=0) as sdk,
        pytest.raises(openai.RateLimitError) as caught_quota,
    ):
        sdk.images.edit(image=PHOTO_PNG, mask=_hole_mask(), prompt="x")
    assert isinstance(caught_quota.value.body, dict)
    assert caught_quota.value.body["code"] == "insufficient_quota"


def test_models(client: openai.OpenAI, live: Live) -> None:
    ids = [model.id for model in client.models.list()]
    assert "telea" in ids
    assert client.models.retrieve("telea").owned_by == "canvasfill"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-nope")
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "model"
    response = live.client.get("/v1/models")  # no key: OpenAI's envelope, not the native one
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_unknown_image_paths_answer_openai_envelope(live: Live) -> None:
    response = live.client.post(
        "/v1/images/variations", headers={"authorization": f"Bearer {live.key}"}
    )
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    kling = live.client.get("/v1/images/editing/nothing")
    assert "request_id" in kling.json()  # Kling's namespace stays Kling's


# --- parse, without a server ----------------------------------------------------------


def test_parse_records_what_it_cannot_honour() -> None:
    fields = {
        "prompt": "p",
        "model": "gpt-image-1",
        "background": "transparent",
        "input_fidelity": "high",
        "stream": "true",
        "partial_images": "2",
        "safety_identifier": "u1",
    }
    submission = door.parse(FieldReader(fields), {"image[]": [PHOTO_PNG, b"x"]}, None)
    assert submission.image == PHOTO_PNG
    assert submission.spec.geometry == AlphaMask(source="image")
    assert submission.spec.engine == "auto"
    options = submission.meta[door.META]
    assert options["background"] == "transparent"
    assert options["stream"] is True
    assert options["partial_images"] == 2
    assert options["images_sent"] == 2
    assert options["safety_identifier"] == "u1"
    assert options["response_format"] == "b64_json"


def test_parse_requires_image_and_prompt() -> None:
    with pytest.raises(InputError) as caught:
        door.parse(FieldReader({"prompt": "p"}), {}, None)
    assert (caught.value.code, caught.value.field) == (ErrorCode.MISSING_PARAMETER, "image")
    with pytest.raises(InputError) as caught:
        door.parse(FieldReader({}), {"image": [PHOTO_PNG]}, None)
    assert caught.value.field == "prompt"


def test_image_array_edits_the_first(client: openai.OpenAI) -> None:
    other = encode(sample_photo(96, 80, seed=99))
    result = client.images.edit(image=[PHOTO_PNG, other], mask=_hole_mask(), prompt="x")
    assert np.array_equal(_pixels((result.data or [])[0].b64_json)[:30], PHOTO[:30])


def test_other_doors_still_read_the_last_of_a_repeated_file(live: Live) -> None:
    other = sample_photo(96, 80, seed=99)
    response = live.client.post(
        "/api/edit/outpaint",
        headers={"authorization": live.key},
        files=[("image", ("a.png", PHOTO_PNG)), ("image", ("b.png", encode(other)))],
        data={"left": 8},
    )
    assert response.status_code == 200, response.text
    pixels = decode_pixels(base64.b64decode(response.json()["data"]["image"]))
    assert np.array_equal(pixels[:, 8:], other)
