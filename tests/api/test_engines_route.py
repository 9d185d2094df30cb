"""``GET /v1/engines``: authenticated; every engine with availability, honours, hardware."""

from __future__ import annotations

from service_testkit import LiveService

from canvasfill.engines.base import Operation, Param
from canvasfill.engines.registry import engine_names, get_engine


def test_engines_need_a_key(live: LiveService) -> None:
    with live.client() as client:
        response = client.get("/v1/engines")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_engines_list_every_registered_engine(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        response = client.get("/v1/engines")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "list"
    assert [engine["name"] for engine in body["data"]] == engine_names()
    assert body["default"] == live.runtime.settings.default_engine
    by_name = {engine["name"]: engine for engine in body["data"]}
    for name, engine in by_name.items():
        assert set(engine) == {
            "name",
            "summary",
            "available",
            "reason",
            "hardware",
            "weights",
            "honours",
        }
        assert engine["hardware"] in {"cpu", "gpu", "cpu or gpu"}
        assert isinstance(engine["available"], bool)
        assert (engine["reason"] is None) == engine["available"], name
        assert set(engine["honours"]) == {"expand", "remove"}
        for operation in Operation:
            honoured = get_engine(name).honoured(operation)
            assert engine["honours"][operation.value] == sorted(p.value for p in honoured)
    assert by_name["telea"]["available"] is True
    assert by_name["telea"]["honours"]["expand"] == [Param.N.value]
    assert by_name["sleepy"]["honours"]["expand"] == ["n", "prompt"]


def test_an_unavailable_engine_says_why(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        engines = client.get("/v1/engines").json()["data"]
    unavailable = [engine for engine in engines if not engine["available"]]
    # no test host has diffusion weights configured: those engines explain what to set
    assert unavailable, "expected at least one engine without weights here"
    for engine in unavailable:
        assert engine["reason"]


def test_auto_names_an_available_engine_per_operation(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        body = client.get("/v1/engines").json()
    available = {engine["name"] for engine in body["data"] if engine["available"]}
    assert set(body["auto"]) == {"expand", "remove"}
    assert body["auto"]["expand"] in available
    assert body["auto"]["remove"] in available


def test_engines_are_in_the_openapi_document(live: LiveService) -> None:
    with live.client() as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert "get" in paths["/v1/engines"]
    assert "get" in paths["/v1/tasks/{task_id}/events"]
