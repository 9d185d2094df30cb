"""A newcomer's first session, end to end, as issue 23's "must show" lists it.

Real ``canvasfill serve`` processes on a clean data folder, in the order a person meets
them: the port they try first is taken (the start fails before any key is made, so the
key is not lost), they start on another port (the first key is printed once, with the
playground link and the engines line), ``/readyz`` says ready only after a worker has
warmed its engines (the log says so in one line), a run streams progress between 0 and
100 as the playground's bar reads it (``/v1/tasks/{id}/events``), and in the playground
(Chromium) the bar shows a value between 0 and 100 and Stop cancels the running task:
``canceled``, its credits back. What is checked is order and outcome,
never how long anything took.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import playwright.sync_api as playwright_sync
import pytest
from playwright.sync_api import expect
from service_testkit import (
    canvasfill_command,
    free_port,
    png,
    serve_env,
    serve_process,
    wait_until,
)

CHROMIUM = Path(os.environ.get("CANVASFILL_TEST_CHROMIUM", "/usr/bin/chromium"))
KEY = re.compile(r"^  (cf_[A-Za-z0-9_\-]{20,})$", re.MULTILINE)
READY_LINE = "ready to take work at full speed"
"""The one line the server logs when a worker has warmed its engines."""


def _events(base: str, key: str, task_id: str) -> list[tuple[str, dict[str, object]]]:
    """Every Server-Sent Event of a task until its stream ends (the playground's bar)."""
    seen: list[tuple[str, dict[str, object]]] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream(
        "GET", f"{base}/v1/tasks/{task_id}/events", headers=headers, timeout=60
    ) as stream:
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                seen.append((kind, json.loads(line.removeprefix("data: "))))
    return seen


@contextlib.contextmanager
def _browser() -> Iterator[playwright_sync.Browser]:
    """Debian's Chromium, as tests/web drives it (Playwright never downloads one)."""
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium: scripts/install-chromium.sh")
def test_a_new_users_first_session(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "serve.log"
    # the first key's worker warms up slowly (the test engine's warm-up), as a fresh
    # install's JIT compiles do: long enough to see /readyz say "not yet"
    env = {**serve_env(data, default_engine="steppy"), "CANVASFILL_TEST_WARM_UP_S": "4"}

    # 1. the port they try is taken: one line says how to choose another, and no key
    #    is made (a key shown once must not scroll past a failed start)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy_port = taken.getsockname()[1]
        busy = subprocess.run(
            [sys.executable, "-m", "canvasfill.cli", "serve", "--port", str(busy_port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert busy.returncode == 1
    assert KEY.search(busy.stdout) is None
    [line] = busy.stderr.splitlines()
    assert f"port {busy_port} on 127.0.0.1 is in use" in line
    assert "--port" in line
    assert not (data / "canvasfill.db").exists()

    # 2. another port: the first key, once, with the playground link and the engines line
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serve_process(env, port, log) as server:
        # healthz answers (serve_process waited for it): is the service ready yet?
        early = httpx.get(f"{base}/readyz", timeout=10)
        printed = log.read_text()
        found = KEY.search(printed)
        assert found, printed
        key = found.group(1)
        assert f"playground: {base}/#key={key}" in printed
        assert re.search(r"^engines here: .*patch", printed, re.MULTILINE), printed

        # 3. /readyz says ready only once a worker has warmed its engines
        assert early.status_code == 503, early.text
        assert early.json()["checks"]["dispatcher"] is False
        assert READY_LINE not in log.read_text()
        wait_until(lambda: httpx.get(f"{base}/readyz", timeout=10).status_code == 200, 120)
        wait_until(lambda: READY_LINE in log.read_text(), timeout=10)
        assert log.read_text().count(READY_LINE) == 1

        # 4. a run: the bar's events go from 0 to 100 through values in between
        headers = {"Authorization": f"Bearer {key}"}
        image = base64.b64encode(png(96, 64)).decode()
        body = {"image": image, "ratios": {"right": 0.25}, "prompt": "2"}
        created = httpx.post(f"{base}/v1/expand", json=body, headers=headers, timeout=30)
        assert created.status_code == 202, created.text
        events = _events(base, key, created.json()["id"])
        progress = [int(data["progress"]) for kind, data in events if kind == "progress"]
        assert progress == sorted(progress)
        assert any(0 < value < 100 for value in progress), progress
        kind, final = events[-1]
        assert kind == "task"
        assert final["status"] == "succeeded"
        assert final["progress"] == 100

        # 5. Stop, in the playground: a limited key's running task ends canceled and its
        #    credits come back; the bar shows a value between 0 and 100 while it runs
        made = canvasfill_command("keys", "create", "--name", "stop", "--credits", "3", env=env)
        limited = re.search(r"(cf_[A-Za-z0-9_\-]{20,})", made)
        assert limited, made
        stop_headers = {"Authorization": f"Bearer {limited.group(1)}"}

        def account() -> int:
            answer = httpx.get(f"{base}/v1/account", headers=stop_headers, timeout=10)
            return int(answer.json()["credits"])

        photo = tmp_path / "photo.png"
        photo.write_bytes(png(240, 160))
        with _browser() as browser:
            page = browser.new_page(base_url=base)
            page.set_default_timeout(30_000)
            page.goto(f"/#key={limited.group(1)}")  # the link serve prints, with this key
            # the engine list arriving says the page has started (its inputs listen):
            # a photo given before then is not read, as in the other browser tests
            page.get_by_test_id("engine").select_option("steppy")
            page.get_by_test_id("file-input").set_input_files(str(photo))
            # the photo is read asynchronously; a click before it is in refuses the run
            # ("open a photo first"), as it should: wait as a user sees it arrive
            expect(page.locator("#image-info")).to_contain_text("240 \u00d7 160")
            page.locator("#p-prompt").fill("120")  # steppy: this many seconds, in steps
            page.get_by_test_id("side-left").fill("0.1")
            run = page.get_by_test_id("run")
            run.click()
            bar = page.get_by_test_id("progress")
            expect(bar).to_have_attribute("data-state", "running", timeout=60_000)
            between = re.compile(r"^(?!0$|100$)\d+(\.\d+)?$")
            expect(bar).to_have_attribute("aria-valuenow", between, timeout=60_000)
            assert account() == 2  # held while it runs
            run.click()  # the same button reads Stop while a task runs
            expect(page.get_by_test_id("error")).to_contain_text("canceled", timeout=60_000)
            expect(run).to_have_text("Expand")
        wait_until(lambda: account() == 3, timeout=30)
        listed = httpx.get(f"{base}/v1/tasks", headers=stop_headers, timeout=10).json()
        [stopped] = listed["data"]
        assert stopped["status"] == "canceled"
        assert stopped["results"] == []
        assert server.poll() is None
