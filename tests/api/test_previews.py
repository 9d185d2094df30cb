"""Native previews: ``previews: N`` on a create keeps the first N pictures the engine
offers while it fills, and the task's event stream carries their signed URLs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
from service_testkit import LiveService, png

from canvasfill.imaging.encode import OutputFormat
from canvasfill.jobs.previews import preview_key
from tests.conftest import decode_pixels


def events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) pairs of an SSE stream (comments and retry lines skipped)."""
    name = "message"
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))


def create(client: httpx.Client, **fields: Any) -> str:
    response = client.post(
        "/v1/expand",
        files={"image": ("p.png", png(80, 60), "image/png")},
        data={"pixels": '{"right": 40}', **fields},
    )
    assert response.status_code == 202, response.text
    task_id: str = response.json()["id"]
    return task_id


def test_the_event_stream_carries_preview_urls(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        task_id = create(client, engine="sketchy", prompt="1.2", previews="3")
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            received = list(events(response.iter_lines()))
        links = [link for _name, data in received for link in data.get("previews", [])]
        assert [link["index"] for link in links] == [0, 1, 2]
        # each preview comes on a progress event, before the finished task
        assert received[-1][0] == "task"
        assert all(name == "progress" for name, data in received if "previews" in data)
        greys = []
        for link in links:
            fetched = httpx.get(link["url"], timeout=10)
            assert fetched.status_code == 200
            assert fetched.headers["content-type"] == "image/png"
            pixels = decode_pixels(fetched.content)
            assert pixels.shape == (60, 120, 3)
            greys.append(int(np.median(pixels[:, 100:])))
        assert greys == [40, 80, 120]  # sketchy's first three sketches, in order
        # a task that asked for none has none, and its stream names none
        plain = create(client, engine="sketchy", prompt="0.4")
        with client.stream("GET", f"/v1/tasks/{plain}/events") as response:
            assert all("previews" not in data for _name, data in events(response.iter_lines()))
    assert not live.runtime.blobs.exists(preview_key(plain, 0, OutputFormat.PNG))


def test_a_stream_opened_late_still_names_every_preview(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        task_id = create(client, engine="sketchy", prompt="0.4", previews="2")
        live.wait_for_task(task_id, "succeeded", timeout=30)
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            received = list(events(response.iter_lines()))
    assert [name for name, _data in received] == ["progress", "task"]
    assert [link["index"] for link in received[0][1]["previews"]] == [0, 1]


def test_too_many_previews_are_refused(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        response = client.post(
            "/v1/expand",
            files={"image": ("p.png", png(80, 60), "image/png")},
            data={"pixels": '{"right": 40}', "previews": "4"},
        )
    assert response.status_code in (400, 422)
    assert "previews" in response.text
