"""OpenAI's ``stream=true`` with ``partial_images``, driven by the real ``openai`` SDK.

The answer is an event stream written as the task runs: each preview the worker stores
is an ``image_edit.partial_image`` event as it arrives, then ``image_edit.completed``;
a failure once the stream began is an ``error`` event, which the SDK raises. The
embedded pool here; the Celery path (previews announced over Redis) at the end.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from service_testkit import live_service, redis_server, serve_env, service_settings, worker_process

from canvasfill.imaging.encode import OutputFormat
from canvasfill.jobs.previews import preview_key
from canvasfill.sample import sample_photo
from tests.api.dialects.live import Live, live_app
from tests.conftest import decode_pixels, encode

PHOTO = sample_photo(160, 120, seed=5)


def _on_canvas(photo: np.ndarray, border: int) -> tuple[bytes, tuple[slice, slice]]:
    """``photo`` on a transparent canvas ``border`` px larger each side: an expansion."""
    height, width = photo.shape[:2]
    canvas = np.zeros((height + 2 * border, width + 2 * border, 4), dtype=np.uint8)
    where = (slice(border, border + height), slice(border, border + width))
    canvas[where[0], where[1], :3] = photo
    canvas[where[0], where[1], 3] = 255
    return encode(canvas), where


def _pixels(b64: str | None) -> np.ndarray:
    assert b64 is not None
    return decode_pixels(base64.b64decode(b64))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("openai-stream"))


@pytest.fixture(scope="module")
def client(live: Live) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        api_key=live.key, base_url=live.server.base_url + "/v1", max_retries=0, timeout=120
    ) as sdk:
        yield sdk


def _timed(stream: Any) -> tuple[list[Any], list[float]]:
    events, arrivals = [], []
    for event in stream:
        events.append(event)
        arrivals.append(time.monotonic())
    return events, arrivals


def test_partial_images_arrive_while_the_fill_runs(client: openai.OpenAI) -> None:
    """sketchy offers four previews over 1.2 s (flat greys 40, 80...); two are asked."""
    canvas, where = _on_canvas(PHOTO, 20)
    stream = client.images.edit(
        image=("canvas", canvas, "application/octet-stream"),
        prompt="1.2",
        model="sketchy",
        stream=True,
        partial_images=2,
    )
    events, arrivals = _timed(stream)
    kinds = [event.type for event in events]
    assert kinds == ["image_edit.partial_image"] * 2 + ["image_edit.completed"]
    for index, (event, grey) in enumerate(zip(events[:2], (40, 80), strict=True)):
        assert event.partial_image_index == index
        assert (event.size, event.output_format, event.quality) == ("200x160", "png", "auto")
        assert event.background == "opaque"
        assert isinstance(event.created_at, int)
        pixels = _pixels(event.b64_json)
        assert pixels.shape == (160, 200, 3)
        assert np.array_equal(pixels[where], PHOTO)  # composited: the photo stays exact
        corner = pixels[:12, :12].astype(int)
        assert np.abs(corner - grey).max() <= 1  # the engine's sketch, upsampled
    completed = events[2]
    result = _pixels(completed.b64_json)
    assert np.array_equal(result[where], PHOTO)
    assert (result[:12, :12] == 250).all()
    # streamed as the fill ran (previews at 0.3 s and 0.6 s, the end after 1.2 s)
    assert arrivals[2] - arrivals[0] > 0.4


def test_the_patch_engine_streams_its_pyramid_levels(client: openai.OpenAI) -> None:
    """A canvas large enough for three pyramid levels: the two coarse ones are shown."""
    photo = sample_photo(320, 240, seed=8)
    canvas, where = _on_canvas(photo, 40)
    events = list(
        client.images.edit(
            image=canvas, prompt="extend", model="patch", stream=True, partial_images=3
        )
    )
    kinds = [event.type for event in events]
    partials = events[:-1]
    assert kinds[-1] == "image_edit.completed"
    assert 1 <= len(partials) <= 3
    assert {event.type for event in partials} == {"image_edit.partial_image"}
    assert [event.partial_image_index for event in partials] == list(range(len(partials)))
    for event in partials:
        pixels = _pixels(event.b64_json)
        assert pixels.shape == (320, 400, 3)
        assert np.array_equal(pixels[where], photo)
    final = _pixels(events[-1].b64_json)
    assert np.array_equal(final[where], photo)
    # the last preview is a coarser version of the result: close, but not it
    last = _pixels(partials[-1].b64_json).astype(float)
    assert np.abs(last - final).mean() < 40


def test_a_failure_after_the_stream_began_is_an_error_event(client: openai.OpenAI) -> None:
    canvas, _where = _on_canvas(PHOTO, 20)
    stream = client.images.edit(
        image=canvas, prompt="fail", model="sketchy", stream=True, partial_images=2
    )
    received: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        received.extend(event.type for event in stream)
    assert received == ["image_edit.partial_image"]
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "server_error"
    assert "sketchy" in body["message"]


def test_no_previews_are_made_when_none_are_asked(client: openai.OpenAI, live: Live) -> None:
    canvas, where = _on_canvas(PHOTO, 20)
    events = list(client.images.edit(image=canvas, prompt="0.4", model="sketchy", stream=True))
    assert [event.type for event in events] == ["image_edit.completed"]
    runtime = live.server.runtime
    (task,) = runtime.tasks.list_for_key(live.key_id, 1)
    assert task.spec["previews"] == 0
    assert not runtime.blobs.exists(preview_key(task.id, 0, OutputFormat.PNG))
    # the same without stream: partial_images alone asks for nothing either
    result = client.images.edit(image=canvas, prompt="0.2", model="sketchy", partial_images=2)
    assert np.array_equal(_pixels((result.data or [])[0].b64_json)[where], PHOTO)
    (task,) = runtime.tasks.list_for_key(live.key_id, 1)
    assert task.spec["previews"] == 0


def test_the_stream_is_an_event_stream_and_jpeg_previews(live: Live) -> None:
    canvas, _where = _on_canvas(PHOTO, 20)
    with httpx.stream(
        "POST",
        live.server.base_url + "/v1/images/edits",
        headers={"authorization": f"Bearer {live.key}"},
        files={"image": ("c", canvas)},
        data={
            "prompt": "0.8",
            "model": "sketchy",
            "stream": "true",
            "partial_images": "1",
            "output_format": "jpeg",
            "size": "1024x1024",
        },
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = list(response.iter_lines())
    names = [line.removeprefix("event: ") for line in lines if line.startswith("event:")]
    assert names == ["image_edit.partial_image", "image_edit.completed"]
    partial, completed = (
        json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data:")
    )
    assert partial["type"] == "image_edit.partial_image"
    assert (partial["output_format"], partial["size"]) == ("jpeg", "1024x1024")
    preview = base64.b64decode(partial["b64_json"])
    assert preview[:3] == b"\xff\xd8\xff"  # a JPEG, as asked, and small: 512 px at most
    assert decode_pixels(preview).shape == (512, 512, 3)
    assert decode_pixels(base64.b64decode(completed["b64_json"])).shape == (1024, 1024, 3)


def test_bad_fields_are_refused_before_any_stream(client: openai.OpenAI) -> None:
    canvas, _where = _on_canvas(PHOTO, 20)
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=canvas, prompt="x", stream=True, partial_images=4)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "partial_images"


@pytest.mark.slow
def test_partial_images_through_a_celery_worker(tmp_path: Path) -> None:
    """Distributed: the worker stores the previews in the shared blob store and announces
    them over Redis; the API node streams them as they come."""
    with redis_server(tmp_path / "redis.log") as redis:
        settings = service_settings(tmp_path / "data", broker_url=redis.url, lease_s=2.0)
        env = serve_env(tmp_path / "data", broker_url=redis.url, lease_s="2")
        with (
            live_service(settings) as server,
            worker_process(env, tmp_path / "worker.log"),
            openai.OpenAI(
                api_key=server.new_key(),
                base_url=server.base_url + "/v1",
                max_retries=0,
                timeout=120,
            ) as sdk,
        ):
            canvas, where = _on_canvas(PHOTO, 20)
            stream = sdk.images.edit(
                image=canvas, prompt="1.2", model="sketchy", stream=True, partial_images=2
            )
            events, arrivals = _timed(stream)
    assert [event.type for event in events] == [
        "image_edit.partial_image",
        "image_edit.partial_image",
        "image_edit.completed",
    ]
    assert np.array_equal(_pixels(events[0].b64_json)[where], PHOTO)
    assert np.array_equal(_pixels(events[2].b64_json)[where], PHOTO)
    assert arrivals[2] - arrivals[0] > 0.4
