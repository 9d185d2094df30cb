"""Issue 26 item 4: made-up methods and paths add no metric series.

Labels come from fixed sets: the HTTP methods the service answers (else ``other``) and
the route templates (else ``unmatched``), so no request can grow ``/metrics``.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.api.dialects.live import Live

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}


def _request_labels(text: str) -> set[tuple[str, str]]:
    return {
        (sample.labels["method"], sample.labels["route"])
        for family in text_string_to_metric_families(text)
        if family.name == "canvasfill_http_requests"
        for sample in family.samples
    }


def test_made_up_methods_and_paths_share_bounded_labels(live: Live) -> None:
    for index in range(40):
        live.client.request(f"M{index}", "/healthz")
        live.client.get(f"/no/such/path/{index}")
        live.client.request(f"X{index}", f"/made-up-{index}")
    live.client.get("/v1/tasks/some-task-id")  # a template, not the id
    labels = _request_labels(live.client.get("/metrics").text)
    methods = {method for method, _ in labels}
    routes = {route for _, route in labels}
    assert methods <= KNOWN_METHODS, methods
    assert "other" in methods
    assert not any(route.startswith(("/no/such", "/made-up")) for route in routes), routes
    assert "unmatched" in routes
    assert "/v1/tasks/{task_id}" in routes
    assert "/v1/tasks/some-task-id" not in routes
    assert len(labels) < 20, labels
