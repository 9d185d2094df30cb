"""Wall time and peak memory of ``patch`` against its peers, by canvas size.

Cases: 512, 1024 and 2048 px squares with a medium LaMa-style mask (``masks.py``),
and a 4096 px square with a centred hole of a quarter of its area, the large-canvas
case of issue 3. The picture is a Kodak photo stretched to the square. Each
(method, case) runs in a fresh process, so its peak resident memory (``ru_maxrss``)
is its own; the table gives that peak and the part of it the fill added on top of
the process after its warm-up (interpreter, libraries, compiled kernels). Times are
the median of ``--repeat`` fills after a warm-up, and the ratio column divides by
pypatchmatch's time on the same case in the same run.

    python -m benchmarks.speed
    python -m benchmarks.speed --sizes 512,1024 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks import methods
from benchmarks.masks import Family, make_mask
from benchmarks.quality import EVAL, read_rgb

LARGE = 4096


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _case(photo: Path, side: int) -> tuple[np.ndarray, np.ndarray]:
    image = cv2.resize(read_rgb(photo), (side, side), interpolation=cv2.INTER_CUBIC)
    if side == LARGE:
        mask = np.zeros((side, side), dtype=bool)
        mask[side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = True
    else:
        mask = make_mask((side, side), Family.MEDIUM, 0)
    image[mask] = 0
    return np.ascontiguousarray(image), mask


def measure_one(name: str, side: int, photo: Path, repeat: int) -> dict[str, float]:
    """Run in the child process: warm up, then time ``repeat`` fills of one case."""
    image, mask = _case(photo, side)
    methods.warm_up()
    fill = methods.method(name)
    before = _rss_mb()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fill(image, mask)
        times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": statistics.median(times), "peak_mb": peak, "added_mb": peak - before,
            "hole": float(mask.mean())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kodak", type=Path, default=EVAL / "kodak")
    parser.add_argument("--photo", default="kodim05.png")
    parser.add_argument("--sizes", default=f"512,1024,2048,{LARGE}")
    parser.add_argument("--methods", default="patch,telea,pypatchmatch")
    parser.add_argument(
        "--large-methods",
        default="patch,telea",
        help=f"methods run at {LARGE} px (pypatchmatch takes minutes there)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    photo = args.kodak / args.photo
    if args.one:
        result = measure_one(args.one[0], int(args.one[1]), photo, args.repeat)
        print(json.dumps(result))
        return
    console = Console()
    out = Table(title=f"speed and memory ({photo.name} stretched to each square)")
    for column in ("canvas", "hole", "method", "time s", "time / pypatchmatch", "peak MB",
                   "fill added MB"):  # fmt: skip
        out.add_column(column, justify="left" if column in ("canvas", "method") else "right")
    for side in (int(s) for s in args.sizes.split(",")):
        names = (args.large_methods if side == LARGE else args.methods).split(",")
        rows = {}
        for name in names:
            command = [sys.executable, "-m", "benchmarks.speed", "--kodak", str(args.kodak),
                       "--photo", args.photo, "--repeat", str(args.repeat), "--one", name,
                       str(side)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            rows[name] = json.loads(done.stdout.strip().splitlines()[-1])
            console.log(f"{side} {name}: {rows[name]['seconds']:.2f} s")
        reference = rows.get("pypatchmatch")
        for name, row in rows.items():
            ratio = f"{row['seconds'] / reference['seconds']:.2f}x" if reference else "-"
            out.add_row(f"{side}x{side}", f"{100 * row['hole']:.0f}%", name,
                        f"{row['seconds']:.2f}", ratio, f"{row['peak_mb']:.0f}",
                        f"{row['added_mb']:.0f}")  # fmt: skip
    console.print(out)


if __name__ == "__main__":
    main()
