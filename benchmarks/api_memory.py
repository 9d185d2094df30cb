"""The API process's memory while tiny files that declare huge images arrive.

A red team sent twenty concurrent ``POST /v1/expand`` with a 195 KB PNG declaring
8192x8192 pixels and took the API process from 217 MB to 15 GB. This starts a real
server (uvicorn, embedded, one worker), samples the API process's resident memory
every 10 ms from ``/proc``, and sends three bursts of ``--requests`` concurrent
requests, each with a PNG of a few hundred KB declaring ``--side`` x ``--side``
pixels:

- accepted: an 8 px expansion whose canvas is within the limits (202);
- refused: a canvas past the limits (422, ``canvas_too_large``);
- no credits: the same request from a key with 0 credits (402).

It prints the idle RSS and, per burst, the peak RSS above idle (target: under 300 MB).

    python -m benchmarks.api_memory
    python -m benchmarks.api_memory --requests 20 --side 8000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from tests.support_images import huge_blank_png

from benchmarks.api import _env, _healthy, free_port, process, wait_for
from canvasfill.jobs.runtime import build_runtime
from canvasfill.settings import Settings

TARGET_MB = 300


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class PeakSampler:
    """The highest RSS of ``pid`` seen while the block runs, sampled every 10 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.01)


def burst(send: Callable[[], int], count: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _i: send(), range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--side", type=int, default=8000, help="declared width and height")
    args = parser.parse_args()
    console = Console()
    fits = huge_blank_png(args.side)
    past = huge_blank_png(8192)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "data"
        env = _env(data, workers="1")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "uvicorn", "canvasfill.api.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        with process(command, env, folder / "server.log") as server:
            wait_for(lambda: _healthy(base) or server.poll() is not None, 90, "server start")
            runtime = build_runtime(Settings(data_dir=data))
            paying = runtime.keys.create(name="bench").key
            broke = runtime.keys.create(name="broke", credits=0).key
            runtime.close()
            time.sleep(2)
            idle = rss_mb(server.pid)

            def expand(image: bytes, key: str) -> Callable[[], int]:
                def send() -> int:
                    files = {"image": ("big.png", image, "image/png")}
                    form = {"left_px": "8", "engine": "telea"}
                    headers = {"Authorization": f"Bearer {key}"}
                    with httpx.Client(timeout=120) as client:
                        answer = client.post(
                            f"{base}/v1/expand", headers=headers, files=files, data=form
                        )
                    return answer.status_code

                return send

            table = Table(title=f"API process RSS, {args.requests} concurrent requests")
            for column in ("burst", "statuses", "seconds", "peak above idle (MB)", "target"):
                table.add_column(column)
            bursts = (
                ("accepted", expand(fits, paying)),
                ("canvas too large", expand(past, paying)),
                ("no credits", expand(fits, broke)),
            )
            for name, send in bursts:
                started = time.perf_counter()
                with PeakSampler(server.pid) as sampler:
                    statuses = burst(send, args.requests)
                seconds = time.perf_counter() - started
                above = sampler.peak - idle
                verdict = "met" if above < TARGET_MB else "NOT met"
                counts = ", ".join(f"{s} x{statuses.count(s)}" for s in sorted(set(statuses)))
                table.add_row(name, counts, f"{seconds:.2f}", f"{above:.0f}", verdict)
    console.print(f"idle RSS of the API process: {idle:.0f} MB")
    console.print(table)


if __name__ == "__main__":
    main()
