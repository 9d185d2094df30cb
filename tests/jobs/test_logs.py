"""JSON logs name the request and the task they belong to."""

from __future__ import annotations

import json
import logging

from canvasfill.jobs.logs import JsonFormatter, request_id, task_context


def test_a_log_line_is_json_with_ids_and_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "canvasfill.test", "levelname": "INFO", "msg": "hello %s", "args": ("there",)}
    )
    record.event = "greeting"
    token = request_id.set("req-1")
    try:
        with task_context("task-9"):
            line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "hello there"
    assert line["request_id"] == "req-1"
    assert line["task_id"] == "task-9"
    assert line["event"] == "greeting"
    assert line["level"] == "info"
    outside = json.loads(JsonFormatter().format(record))
    assert "task_id" not in outside
    assert "request_id" not in outside
