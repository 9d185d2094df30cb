"""``at_once``: independent calls side by side, all ended before it returns or raises."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from canvasfill.jobs.at_once import at_once


def test_results_come_in_call_order() -> None:
    assert at_once([lambda: 1, lambda: 2, lambda: 3]) == [1, 2, 3]
    assert at_once([]) == []


def test_the_calls_run_at_the_same_time() -> None:
    # each waits for all three to arrive: one after another, the barrier would break
    barrier = threading.Barrier(3, timeout=5)
    assert sorted(at_once([barrier.wait, barrier.wait, barrier.wait])) == [0, 1, 2]


def test_a_failure_is_raised_after_every_call_has_ended() -> None:
    ended: list[str] = []

    def slow() -> str:
        time.sleep(0.2)
        ended.append("slow")
        return "slow"

    def broken() -> str:
        raise ValueError("bad upload")

    with pytest.raises(ValueError, match="bad upload"):
        at_once([broken, slow])
    assert ended == ["slow"]


def test_the_first_failure_in_call_order_wins() -> None:
    def first() -> None:
        time.sleep(0.1)
        raise KeyError("first")

    def second() -> None:
        raise ValueError("second")

    with pytest.raises(ValueError, match="second"):
        at_once([lambda: None, second, first])
    with pytest.raises(KeyError):
        at_once([first, second])


def test_calls_see_the_callers_context() -> None:
    task = contextvars.ContextVar[str]("task")
    task.set("t-1")
    assert at_once([task.get, task.get]) == ["t-1", "t-1"]
