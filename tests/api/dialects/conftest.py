"""A finished task view to render, and small inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from canvasfill.api.view import DialectResult, TaskView
from tests.conftest import encode

PNG_BYTES = encode(np.zeros((4, 4, 3), dtype=np.uint8))
JPEG_BYTES = encode(np.zeros((4, 4, 3), dtype=np.uint8), "JPEG")
CREATED = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
STARTED = datetime(2026, 11, 21, 12, 0, 1, tzinfo=UTC)
FINISHED = datetime(2026, 11, 21, 12, 0, 3, 500000, tzinfo=UTC)


def task(status: str = "succeeded", **changes: object) -> TaskView:
    values: dict[str, object] = {
        "id": "t_1",
        "status": status,
        "progress": 100 if status == "succeeded" else 0,
        "created_at": CREATED,
        "updated_at": FINISHED,
        "started_at": STARTED,
        "finished_at": FINISHED,
        "engine": "telea",
        "seed": 1234,
        "results": (
            DialectResult(
                url="http://h/files/r1?sig=x",
                width=4,
                height=4,
                format="png",
                data=PNG_BYTES,
                watermark_url="http://h/files/w1?sig=y",
            ),
        )
        if status == "succeeded"
        else (),
    }
    values.update(changes)
    return TaskView(**values)  # type: ignore[arg-type]


@pytest.fixture
def done() -> TaskView:
    return task()
