"""The first request after start-up against a steady one (issue 23: at most 2x).

A newcomer runs ``canvasfill serve``, waits for it to say it is ready, and sends the
README's expansion (a photo, a quarter of its width on each side, JPEG, ``Prefer:
wait``). This starts a real ``canvasfill serve`` on a clean data folder and, by default,
an empty numba cache (``NUMBA_CACHE_DIR`` in a fresh folder: a fresh install, whose
workers compile the patch engine's kernels while they warm up), then measures:

- the time from the start to ``/healthz`` (alive) and to ``/readyz`` (ready: a worker
  has warmed its engines);
- the first request, sent the moment ``/readyz`` says ready, result download included;
- ``--repeat`` more of the same request, one at a time (the steady state): p50 and p90;
- the ratio first / steady p50 against the target (2x).

With ``--no-wait-ready`` the first request goes out as soon as ``/healthz`` answers
instead, which is what a client that ignores readiness pays (for comparison only).

    python -m benchmarks.first_request
    python -m benchmarks.first_request --repeat 10 --side 768 --keep-cache
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from canvasfill.sample import sample_photo_png

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2.0
KEY = re.compile(r"^  (cf_[A-Za-z0-9_\-]{20,})$", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _poll(url: str, deadline_s: float) -> float:
    """Seconds until ``url`` answers 200 (polled every 50 ms); fails past the deadline."""
    start = time.perf_counter()
    while time.perf_counter() - start < deadline_s:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer 200 within {deadline_s:.0f} s")


def _expand(client: httpx.Client, photo: bytes) -> float:
    """The README's request and its result's download; seconds, end to end."""
    start = time.perf_counter()
    answer = client.post(
        "/v1/expand",
        headers={"Prefer": "wait=300"},
        files={"image": ("photo.jpg", photo, "image/jpeg")},
        data={"ratios": '{"left":0.25,"right":0.25}', "output_format": "jpeg"},
    )
    answer.raise_for_status()
    task = answer.json()
    if task["status"] != "succeeded":
        raise SystemExit(f"the expansion did not succeed: {task}")
    client.get(task["results"][0]["url"]).raise_for_status()
    return time.perf_counter() - start


def _jpeg(side: int) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(sample_photo_png(side, side * 2 // 3, seed=3))) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=92)
        return buffer.getvalue()


def measure(args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="canvasfill-first-") as scratch:
        folder = Path(scratch)
        port = _free_port()
        env = {
            **os.environ,
            "CANVASFILL_DATA_DIR": str(folder / "data"),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        }
        if not args.keep_cache:
            env["NUMBA_CACHE_DIR"] = str(folder / "numba-cache")
        log = folder / "serve.log"
        command = [sys.executable, "-m", "canvasfill.cli", "serve", "--port", str(port)]
        command += ["--workers", str(args.workers)]
        started = time.perf_counter()
        with log.open("wb") as out:
            server = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        base = f"http://127.0.0.1:{port}"
        try:
            alive = _poll(f"{base}/healthz", 120)
            if args.wait_ready:
                _poll(f"{base}/readyz", 600)
            since_start = time.perf_counter() - started
            found = KEY.search(log.read_text())
            if not found:
                raise SystemExit(f"no first key in the server's output:\n{log.read_text()}")
            photo = _jpeg(args.side)
            headers = {"Authorization": f"Bearer {found.group(1)}"}
            with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
                first = _expand(client, photo)
                steady = [_expand(client, photo) for _ in range(args.repeat)]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
    p50 = statistics.median(steady)
    return {
        "healthz_s": alive,
        "readyz_s": since_start if args.wait_ready else float("nan"),
        "first_s": first,
        "steady_p50_s": p50,
        "steady_p90_s": statistics.quantiles(steady, n=10)[-1] if len(steady) > 1 else p50,
        "ratio": first / p50,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=8, help="steady requests after the first")
    parser.add_argument("--side", type=int, default=768, help="the photo's width in pixels")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--keep-cache", action="store_true", help="use the usual numba cache (not a fresh one)"
    )
    parser.add_argument(
        "--no-wait-ready",
        dest="wait_ready",
        action="store_false",
        help="send the first request when /healthz answers, not /readyz",
    )
    args = parser.parse_args()
    result = measure(args)
    table = Table(title=f"first request after start ({args.side} px photo, patch engine)")
    for column in ("", "seconds"):
        table.add_column(column)
    table.add_row("start -> /healthz 200", f"{result['healthz_s']:.2f}")
    if args.wait_ready:
        table.add_row("start -> /readyz 200 (workers warm)", f"{result['readyz_s']:.2f}")
    table.add_row("first request", f"{result['first_s']:.2f}")
    table.add_row(f"steady p50 ({args.repeat} requests)", f"{result['steady_p50_s']:.2f}")
    table.add_row("steady p90", f"{result['steady_p90_s']:.2f}")
    verdict = "meets" if result["ratio"] <= TARGET else "misses"
    table.add_row(f"first / steady p50 ({verdict} <= {TARGET:g}x)", f"{result['ratio']:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
