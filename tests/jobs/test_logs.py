"""Logs name the request and the task they belong to; JSON for machines, lines for people."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from canvasfill.jobs.logs import (
    JsonFormatter,
    LogForm,
    ReadableFormatter,
    request_id,
    task_context,
    wants_json,
)
from canvasfill.settings import Settings

SRC = Path(__file__).resolve().parents[2] / "src"


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


class _Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


@pytest.mark.parametrize(
    ("setting", "terminal", "expected"),
    [
        ("auto", True, False),
        ("auto", False, True),
        (True, True, True),
        (False, False, False),
    ],
)
def test_auto_picks_readable_lines_on_a_terminal_and_json_elsewhere(
    setting: LogForm, terminal: bool, expected: bool
) -> None:
    assert wants_json(setting, _Stream(terminal)) is expected


@pytest.mark.parametrize(("value", "expected"), [("auto", "auto"), ("true", True), ("0", False)])
def test_the_setting_reads_auto_true_and_false(
    value: str, expected: LogForm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANVASFILL_LOG_JSON", value)
    assert Settings().log_json == expected


def test_the_default_is_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANVASFILL_LOG_JSON", raising=False)
    assert Settings().log_json == "auto"


def test_a_readable_line_keeps_the_ids_and_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "canvasfill.test", "levelname": "WARNING", "msg": "slow %s", "args": ("fill",)}
    )
    record.seconds = 2.5
    with task_context("task-9"):
        line = ReadableFormatter().format(record)
    assert "{" not in line
    assert line.endswith("WARNING canvasfill.test: slow fill  [task=task-9 seconds=2.5]")


def test_a_terminal_gets_readable_lines_from_a_real_process() -> None:
    """Through a pseudo-terminal, as a person's shell runs ``canvasfill serve``; a pipe
    (the same code, stderr captured) gets JSON."""
    code = (
        "import logging\n"
        "from canvasfill.jobs.logs import configure_logging\n"
        "configure_logging('INFO', 'auto')\n"
        "logging.getLogger('canvasfill.x').info('hello')\n"
    )
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    piped = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert json.loads(piped.stderr)["message"] == "hello"
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-c", code], env=env, stderr=follower, timeout=60, check=True
        )
        assert process.returncode == 0
        written = os.read(leader, 4096).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert "INFO    canvasfill.x: hello" in written
    assert "{" not in written
