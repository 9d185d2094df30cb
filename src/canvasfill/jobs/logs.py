"""Logs that carry the request and task ids of the work they describe.

The ids live in context variables: the API's middleware sets the request id, and
``execute`` sets the task id, so any module's plain ``log.info(...)`` is attributed
without passing ids around. Fields given as ``extra=`` become JSON keys, or
``key=value`` pairs after the message in the readable form.

Which form: JSON lines for a log collector, readable lines for a person. ``auto`` (the
default) tells them apart by whether stderr is a terminal, so ``canvasfill serve`` in a
shell reads like a program's output and the same command under systemd, Docker or a
pipe writes JSON with nothing configured.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id: ContextVar[str | None] = ContextVar("task_id", default=None)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


@contextmanager
def task_context(value: str) -> Iterator[None]:
    token = task_id.set(value)
    try:
        yield
    finally:
        task_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, var in (("request_id", request_id), ("task_id", task_id)):
            value = var.get()
            if value is not None:
                entry[name] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ReadableFormatter(logging.Formatter):
    """``12:00:01 INFO canvasfill.api.app: message key=value ...``: one line for a person,
    with the same ids and extra fields as the JSON form (a traceback follows on its own
    lines)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = {name: var.get() for name, var in (("request", request_id), ("task", task_id))}
        fields.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")
        )
        pairs = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
        if pairs:
            line = f"{line}  [{pairs}]"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


LogForm = bool | Literal["auto"]
"""``True``: JSON; ``False``: readable; ``"auto"``: readable on a terminal, else JSON."""


def wants_json(as_json: LogForm, stream: object) -> bool:
    """Whether logs written to ``stream`` should be JSON (see :data:`LogForm`)."""
    if as_json != "auto":
        return bool(as_json)
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def configure_logging(level: str = "INFO", as_json: LogForm = "auto") -> None:
    """Send canvasfill's (and uvicorn's) logs to stderr, in the form ``as_json`` picks."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if wants_json(as_json, sys.stderr) else ReadableFormatter()
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # alembic says "Context impl SQLiteImpl" on every start: noise beside real warnings
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
