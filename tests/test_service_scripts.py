"""``scripts/start-services.sh`` and ``scripts/cluster.sh`` as an operator runs them.

start-services reuses an S3 port only when the SeaweedFS there is its own; the cluster
survives a worker's death (the worker is started again) and Ctrl-C stops every process
it started, the SeaweedFS it started included, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_testkit import (
    alive,
    descendant_pids,
    free_port,
    fresh_postgres_database,
    redis_server,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
BIN = Path(sys.executable).parent
S3_KEYS = {
    "CANVASFILL_TEST_S3_ACCESS_KEY": "canvasfill-test",
    "CANVASFILL_TEST_S3_SECRET_KEY": "canvasfill-test-secret",
}


def _weed_ports() -> dict[str, str]:
    """Free ports for a SeaweedFS of the test's own, as start-services.sh reads them.

    Each also needs its port + 10000 free (weed's gRPC), so they are drawn below 55535.
    """
    chosen: dict[str, str] = {}
    rng = random.Random()
    while len(chosen) < 4:
        port = rng.randrange(20000, 30000)
        if all(_free(candidate) for candidate in (port, port + 10000)):
            chosen[
                f"CANVASFILL_SEAWEEDFS_{('S3', 'MASTER', 'VOLUME', 'FILER')[len(chosen)]}_PORT"
            ] = str(port)
    return chosen


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "CANVASFILL_PYTHON": sys.executable, **extra}


def _start_services(**extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/start-services.sh"],
        cwd=ROOT,
        env=_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextlib.contextmanager
def _listener() -> Iterator[int]:
    """A port some other program holds (it accepts connections and says nothing)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_stranger_on_the_s3_port_is_reported_not_taken_for_seaweedfs(tmp_path: Path) -> None:
    with _listener() as port:
        # a pid file left behind, naming a live process that is not a SeaweedFS
        (tmp_path / "weed.pid").write_text(f"{os.getpid()}\n")
        started = tmp_path / "started"
        result = _start_services(
            CANVASFILL_SEAWEEDFS_S3_PORT=str(port),
            CANVASFILL_SEAWEEDFS_DIR=str(tmp_path),
            CANVASFILL_SERVICES_STARTED=str(started),
        )
    assert result.returncode == 3, result.stderr
    assert f"127.0.0.1:{port} is taken by a server this script did not start" in result.stderr
    assert not started.exists() or "seaweedfs" not in started.read_text()
    assert not (tmp_path / "data").exists()  # no SeaweedFS was started beside it


def test_its_own_seaweedfs_is_reused_not_started_twice(tmp_path: Path) -> None:
    started = tmp_path / "started"
    env = {
        **_weed_ports(),
        **S3_KEYS,
        "CANVASFILL_SEAWEEDFS_DIR": str(tmp_path / "weed"),
        "CANVASFILL_SERVICES_STARTED": str(started),
    }
    first = _start_services(**env)
    try:
        assert first.returncode == 0, first.stderr
        [line] = started.read_text().splitlines()
        kind, pid = line.split()
        assert kind == "seaweedfs"
        assert alive(int(pid))
        again = _start_services(**env)
        assert again.returncode == 0, again.stderr
        assert started.read_text().splitlines() == [line]  # reused: nothing new started
    finally:
        for line in started.read_text().splitlines():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[1]), signal.SIGKILL)  # test data only
        for line in started.read_text().splitlines():
            wait_until(lambda pid=int(line.split()[1]): not alive(pid), timeout=20)


class _Output:
    """A process's output, read as it comes (so a wait can look for a line)."""

    def __init__(self, stream: object) -> None:
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
            self.text += line


def _sigint_as_in_a_terminal() -> None:
    """SIGINT at its default in the script, as a shell started from a terminal has it.
    A child inherits an ignored SIGINT, and bash cannot trap a signal ignored on entry:
    when an earlier test of the run left this process ignoring SIGINT, the script
    never heard the Ctrl-C (two CI runs timed out that way)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_the_cluster_outlives_a_dead_worker_and_ctrl_c_stops_all_it_started(
    tmp_path: Path,
) -> None:
    weed_ports = _weed_ports()
    s3_port = int(weed_ports["CANVASFILL_SEAWEEDFS_S3_PORT"])
    api_ports = [free_port(), free_port()]
    data = tmp_path / "cluster"
    with fresh_postgres_database() as url, redis_server(tmp_path / "redis.log") as redis:
        env = _env(
            **S3_KEYS,
            **weed_ports,
            CANVASFILL_SEAWEEDFS_DIR=str(tmp_path / "weed"),
            CANVASFILL_TEST_S3_ENDPOINT=f"http://127.0.0.1:{s3_port}",
            CANVASFILL_CLUSTER_BIN=str(BIN),
            CANVASFILL_CLUSTER_DIR=str(data),
            CANVASFILL_CLUSTER_PORTS=" ".join(map(str, api_ports)),
            CANVASFILL_CLUSTER_DATABASE=url.rsplit("/", 1)[1],
            CANVASFILL_CLUSTER_BROKER=redis.url,
            CANVASFILL_LOG_JSON="true",
        )
        cluster = subprocess.Popen(
            ["bash", "scripts/cluster.sh"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=_sigint_as_in_a_terminal,
        )
        out, err = _Output(cluster.stdout), _Output(cluster.stderr)
        everything: set[int] = set()
        try:
            wait_until(lambda: "Ctrl-C" in out.text or cluster.poll() is not None, timeout=300)
            assert cluster.poll() is None, out.text + err.text
            pids = dict(
                reversed(line.split(" ", 1))
                for line in (data / "cluster.pids").read_text().splitlines()
            )
            [weed] = [
                int(line.split()[1])
                for line in (data / "services-started").read_text().splitlines()
                if line.startswith("seaweedfs ")
            ]
            worker = int(pids["worker 1"])
            os.kill(worker, signal.SIGKILL)
            wait_until(lambda: "started again as pid" in err.text, timeout=30)
            assert f"worker 1 (pid {worker}) exited with status 137" in err.text
            restarted = int(err.text.split("started again as pid ")[1].split()[0])
            assert alive(restarted)
            assert cluster.poll() is None  # the others went on
            for port in api_ports:
                assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
            everything = {weed, *descendant_pids(cluster.pid)}
            assert restarted in everything
            cluster.send_signal(signal.SIGINT)  # what Ctrl-C sends
            assert cluster.wait(timeout=90) == 130
        finally:
            if cluster.poll() is None:
                os.killpg(cluster.pid, signal.SIGKILL)
                cluster.wait()
        time.sleep(0.2)
        assert "cluster stopped" in out.text
        assert f"stopped SeaweedFS (pid {weed})" in out.text
        assert [pid for pid in everything if alive(pid)] == []
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", s3_port)) != 0
