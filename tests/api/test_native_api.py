"""The native API end to end: async and ``Prefer: wait`` flows, listing, cancel, errors."""

from __future__ import annotations

import base64
import io
import socket

import httpx
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families
from service_testkit import LiveService, image_size, png, wait_until

import canvasfill


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_expand_async_then_poll_until_the_result_downloads(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        created = client.post(
            "/v1/expand",
            json={
                "image": b64(png(80, 60)),
                "ratios": {"left": 0.5, "top": 0.25},
                "engine": "telea",
            },
        )
        assert created.status_code == 202
        task = created.json()
        assert task["status"] in ("queued", "running")
        assert created.headers["location"] == f"/v1/tasks/{task['id']}"

        def finished() -> dict[str, object] | None:
            body = client.get(f"/v1/tasks/{task['id']}").json()
            return body if body["status"] == "succeeded" else None

        done = wait_until(finished)
        assert done["progress"] == 100
        assert done["engine"] == "telea"
        assert done["seed"] == task["seed"]
        [result] = done["results"]
        assert (result["width"], result["height"], result["format"]) == (120, 75, "png")
        image = httpx.get(result["url"])
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image_size(image.content) == (120, 75)


def test_prefer_wait_returns_the_finished_task_with_200(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        response = client.post(
            "/v1/remove",
            files={"image": ("photo.png", png(64, 64, seed=1), "image/png")},
            data={
                "rectangles": '[{"x": 8, "y": 8, "width": 16, "height": 12}]',
                "engine": "telea",
                "n": "2",
                "output_format": "jpeg",
            },
            headers={"Prefer": "wait=30"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["preference-applied"] == "wait=30"
        task = response.json()
        assert task["status"] == "succeeded"
        assert [r["format"] for r in task["results"]] == ["jpeg", "jpeg"]
        for result in task["results"]:
            with Image.open(io.BytesIO(httpx.get(result["url"]).content)) as image:
                assert image.format == "JPEG"


def test_prefer_wait_gives_202_when_the_task_outlasts_the_wait(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        response = client.post(
            "/v1/expand",
            json={"image": b64(png()), "pixels": {"right": 16}, "engine": "sleepy", "prompt": "2"},
            headers={"Prefer": "wait=1"},
        )
        assert response.status_code == 202
        assert response.json()["status"] in ("queued", "running")
        live.wait_for_task(response.json()["id"], "succeeded")


def test_expand_in_canvas_mode_with_a_mask(live: LiveService) -> None:
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (48, 0, 64, 48))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    with live.client(live.new_key()) as client:
        response = client.post(
            "/v1/expand",
            json={"image": b64(png(64, 48)), "mask": b64(buffer.getvalue()), "engine": "telea"},
            headers={"Prefer": "wait=30"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["width"] == 64


def test_listing_is_newest_first_and_pages_by_cursor(live: LiveService) -> None:
    key = live.new_key()
    with live.client(key) as client:
        ids = [
            client.post(
                "/v1/remove",
                json={
                    "image": b64(png(32, 32, seed=i)),
                    "rectangles": [{"x": 1, "y": 1, "width": 4, "height": 4}],
                    "engine": "telea",
                },
            ).json()["id"]
            for i in range(5)
        ]
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/tasks", params=params).json()
            seen += [task["id"] for task in page["data"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(ids))
        assert pages == 3
        assert client.get("/v1/tasks", params={"cursor": "bogus!"}).status_code == 400
    with live.client(live.new_key()) as other:
        assert other.get("/v1/tasks").json() == {"data": [], "next_cursor": None}
        assert other.get(f"/v1/tasks/{ids[0]}").status_code == 404


@pytest.mark.slow
def test_cancel_a_queued_task_at_once_a_running_one_between_steps_not_a_finished_one(
    live: LiveService,
) -> None:
    key = live.new_key(credits=10)
    with live.client(key) as client:
        body = {"image": b64(png()), "ratios": {"left": 0.1}, "engine": "steppy", "prompt": "60"}
        running = client.post("/v1/expand", json=body).json()
        queued = client.post("/v1/expand", json=body).json()  # one worker: waits its turn
        live.wait_for_task(running["id"], "running")
        assert client.get("/v1/account").json()["credits"] == 8

        canceled = client.delete(f"/v1/tasks/{queued['id']}")
        assert canceled.status_code == 200
        assert canceled.json()["status"] == "canceled"
        assert client.get("/v1/account").json()["credits"] == 9  # the hold came back

        # a running task: its record is marked, its worker stops between the engine's steps
        stopping = client.delete(f"/v1/tasks/{running['id']}")
        assert stopping.status_code == 202
        assert stopping.json()["status"] == "running"
        stopped = live.wait_for_task(running["id"], "canceled", timeout=10)
        assert stopped.error_code is None
        assert stopped.results == []
        assert client.get("/v1/account").json()["credits"] == 10  # its hold came back too

        # the worker is free again: a next task runs to the end, and a finished task stays
        quick = client.post("/v1/expand", json={**body, "prompt": "0.1"}).json()
        live.wait_for_task(quick["id"], "succeeded")
        refused = client.delete(f"/v1/tasks/{quick['id']}")
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "task_not_cancelable"
        assert client.delete(f"/v1/tasks/{running['id']}").status_code == 409
        assert client.get(f"/v1/tasks/{queued['id']}").json()["status"] == "canceled"
        assert client.get("/v1/account").json()["credits"] == 9


def test_bad_requests_get_a_clear_error_and_the_server_keeps_serving(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        cases = [
            ({"image": "not base64!"}, 400, "invalid_parameter", "image"),
            ({"image": b64(b"not an image"), "ratios": {"left": 1}}, 422, "invalid_image", "image"),
            (
                {"image": b64(png()), "ratios": {"left": 0.2}, "pixels": {"top": 3}},
                400,
                "invalid_parameter",
                "pixels",
            ),
            ({"image": b64(png())}, 400, "invalid_parameter", "ratios"),
            (
                {"image": b64(png()), "ratios": {"left": 0.2}, "n": 10},
                400,
                "invalid_parameter",
                "n",
            ),
            (
                {"image": b64(png()), "ratios": {"left": 0.2}, "output_format": "gif"},
                400,
                "invalid_parameter",
                "output_format",
            ),
            (
                {"image": b64(png()), "ratios": {"left": 0.2}, "engine": "nope"},
                400,
                "engine_not_found",
                "engine",
            ),
            (
                {"image": b64(png()), "ratios": {"left": 0.2}, "colour": "red"},
                400,
                "invalid_parameter",
                "colour",
            ),
            (
                {"image_url": "ftp://example.com/a.png", "ratios": {"left": 0.2}},
                400,
                "invalid_parameter",
                "image_url",
            ),
        ]
        for body, status, code, field in cases:
            response = client.post("/v1/expand", json=body)
            assert response.status_code == status, (body, response.text)
            error = response.json()["error"]
            assert (error["code"], error["field"]) == (code, field), body
            assert error["message"]
        assert b"413" in declared_too_large(live, client.headers["authorization"])
        unsupported = client.post(
            "/v1/expand", content=b"x", headers={"content-type": "text/plain"}
        )
        assert unsupported.status_code == 415
        assert client.get("/v1/tasks/does-not-exist").status_code == 404
        assert client.get("/healthz").json() == {"status": "ok", "version": canvasfill.__version__}


def declared_too_large(live: LiveService, authorization: str) -> bytes:
    """Announce a 2 GiB body (httpx will not lie about lengths, so a raw socket does)."""
    host, port = live.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/expand HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + f"Authorization: {authorization}\r\nContent-Length: {2**31}\r\n\r\n{{}}".encode()
        )
        return sock.recv(200)


def test_operations_endpoints(live: LiveService) -> None:
    with live.client() as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {
            "database": True,
            "migrations": True,
            "blobs": True,
            "dispatcher": True,
        }
        samples = _metric_samples(client.get("/metrics").text)
        readyz = (
            "canvasfill_http_requests_total",
            (("method", "GET"), ("route", "/readyz"), ("status", "200")),
        )
        assert samples[readyz] >= 1
        assert samples[("canvasfill_queue_depth", ())] == 0
        schema = client.get("/openapi.json").json()
        assert "/v1/expand" in schema["paths"]
        assert "Ratios" in schema["components"]["schemas"]
        assert schema["info"]["version"] == canvasfill.__version__
        assert client.get("/docs").status_code == 200
        assert client.get("/healthz").headers["x-request-id"]


def _metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text as {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_finished_tasks_by_engine_and_failures_by_code(live: LiveService) -> None:
    key = live.new_key()
    with live.client(key) as client:
        body = {"image": b64(png()), "pixels": {"right": 16}, "engine": "telea"}
        done = client.post("/v1/expand", json=body, headers={"Prefer": "wait=30"})
        assert done.json()["status"] == "succeeded"
        bad = {"image_url": "http://127.0.0.1:9/gone.png", "pixels": {"right": 16}}
        failed = client.post(
            "/v1/expand", json=bad | {"engine": "telea"}, headers={"Prefer": "wait=30"}
        )
        assert failed.json()["status"] == "failed"

        # waiters are woken before the metrics are counted (app.py's ``finished``), so
        # the answer can come a moment before the count: read until it is there
        def counted() -> bool:
            samples = _metric_samples(client.get("/metrics").text)
            finished = sum(
                value
                for (name, _labels), value in samples.items()
                if name == "canvasfill_task_seconds_count"
            )
            failures = sum(
                value
                for (name, labels), value in samples.items()
                if name == "canvasfill_task_failures_total"
                and dict(labels).get("code") == "download_failed"
            )
            return finished >= 2 and failures >= 1

        wait_until(counted, timeout=10, interval=0.05)
