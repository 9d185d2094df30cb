"""Wall time and peak memory of ``patch`` against its peers, by canvas size and operation.

Cases, on a Kodak photo stretched to each square:

- ``remove:N``: an N px square with a medium LaMa-style mask (``masks.py``);
- ``expand:N``: an N px square whose middle is kept and whose outer 20% on every side
  is filled (the all-round layout of ``quality.py``, crop and expand back);
- ``remove:4096``: a 4096 px square with a centred hole of a quarter of its area;
- ``expand:5400x3600``: the photo at 1800x1200 in the middle of a 5400x3600 canvas
  (expanded by its own size on every side; 89% of the canvas is filled).

Each (method, case) runs in a fresh process, so its peak resident memory
(``ru_maxrss``) is its own; the table gives that peak and the part of it the fill
added on top of the process after its warm-up (interpreter, libraries, compiled
kernels). Times are the median of ``--repeat`` fills after a warm-up (the largest
cases run once), and the ratio column divides by pypatchmatch's time on the same case
in the same run. A last table checks issue 15's speed goals.

    python -m benchmarks.speed
    python -m benchmarks.speed --cases remove:512,expand:512 --repeat 1
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
from benchmarks.masks import Family, Layout, expansion_mask, make_mask
from benchmarks.quality import EVAL, read_rgb
from canvasfill.engines.base import Operation

LARGE = 4096
WIDE = "5400x3600"
SMALL_CASES = [f"{op}:{side}" for side in (512, 768, 1024, 2048) for op in ("remove", "expand")]
CASES = [*SMALL_CASES, f"remove:{LARGE}", f"expand:{WIDE}"]
PEERS_LARGE = {f"remove:{LARGE}": "patch,telea", f"expand:{WIDE}": "patch"}
"""Methods run on the large cases (pypatchmatch takes many minutes there)."""
ONCE = {"remove:2048", "expand:2048", f"remove:{LARGE}", f"expand:{WIDE}"}


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _case(photo: Path, case: str) -> tuple[np.ndarray, np.ndarray, Operation]:
    operation, size = case.split(":")
    if size == WIDE:
        canvas_w, canvas_h = (int(v) for v in WIDE.split("x"))
        image = np.zeros((canvas_h, canvas_w, 3), dtype=np.uint8)
        mask = np.ones((canvas_h, canvas_w), dtype=bool)
        w, h = canvas_w // 3, canvas_h // 3
        image[h : 2 * h, w : 2 * w] = cv2.resize(read_rgb(photo), (w, h), cv2.INTER_AREA)
        mask[h : 2 * h, w : 2 * w] = False
        return image, mask, Operation.EXPAND
    side = int(size)
    image = cv2.resize(read_rgb(photo), (side, side), interpolation=cv2.INTER_CUBIC)
    if operation == "expand":
        mask = expansion_mask((side, side), Layout.ALL_ROUND)
    elif side == LARGE:
        mask = np.zeros((side, side), dtype=bool)
        mask[side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = True
    else:
        mask = make_mask((side, side), Family.MEDIUM, 0)
    image[mask] = 0
    kind = Operation.EXPAND if operation == "expand" else Operation.REMOVE
    return np.ascontiguousarray(image), mask, kind


def measure_one(name: str, case: str, photo: Path, repeat: int) -> dict[str, float]:
    """Run in the child process: warm up, then time ``repeat`` fills of one case."""
    image, mask, operation = _case(photo, case)
    methods.warm_up()
    fill = methods.method(name, operation)
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
    parser.add_argument("--cases", default=",".join(CASES), help=",".join(CASES))
    parser.add_argument("--methods", default="patch,telea,pypatchmatch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    photo = args.kodak / args.photo
    if args.one:
        result = measure_one(args.one[0], args.one[1], photo, args.repeat)
        print(json.dumps(result))
        return
    console = Console(width=150)
    out = Table(title=f"speed and memory ({photo.name} stretched to each canvas)")
    for column in ("case", "hole", "method", "time s", "time / pypatchmatch", "peak MB",
                   "fill added MB"):  # fmt: skip
        out.add_column(column, justify="left" if column in ("case", "method") else "right")
    measured: dict[str, dict[str, dict[str, float]]] = {}
    for case in args.cases.split(","):
        names = PEERS_LARGE.get(case, args.methods).split(",")
        repeat = 1 if case in ONCE else args.repeat
        rows = measured.setdefault(case, {})
        for name in names:
            command = [sys.executable, "-m", "benchmarks.speed", "--kodak", str(args.kodak),
                       "--photo", args.photo, "--repeat", str(repeat), "--one", name,
                       case]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            rows[name] = json.loads(done.stdout.strip().splitlines()[-1])
            console.log(f"{case} {name}: {rows[name]['seconds']:.2f} s")
        reference = rows.get("pypatchmatch")
        for name, row in rows.items():
            ratio = f"{row['seconds'] / reference['seconds']:.2f}x" if reference else "-"
            out.add_row(case, f"{100 * row['hole']:.0f}%", name, f"{row['seconds']:.2f}", ratio,
                        f"{row['peak_mb']:.0f}", f"{row['added_mb']:.0f}")  # fmt: skip
    console.print(out)
    console.print(goals(measured))


def goals(measured: dict[str, dict[str, dict[str, float]]]) -> Table:
    """Issue 15's speed goals, from the cases that were run."""
    out = Table(title="issue 15 speed goals")
    for column in ("goal", "measured", "target", "met"):
        out.add_column(column, justify="left" if column == "goal" else "right")
    for case, rows in measured.items():
        patch, pypm = rows.get("patch"), rows.get("pypatchmatch")
        if patch and pypm:
            ratio = patch["seconds"] / pypm["seconds"]
            out.add_row(f"{case}: time / pypatchmatch", f"{ratio:.2f}x", "<= 0.25x",
                        "yes" if ratio <= 0.25 else "NO")  # fmt: skip
    large = measured.get(f"remove:{LARGE}", {}).get("patch")
    if large:
        out.add_row(f"remove:{LARGE}: time", f"{large['seconds']:.1f} s", "<= 10 s",
                    "yes" if large["seconds"] <= 10 else "NO")  # fmt: skip
        out.add_row(f"remove:{LARGE}: peak memory", f"{large['peak_mb']:.0f} MB", "<= 1024 MB",
                    "yes" if large["peak_mb"] <= 1024 else "NO")  # fmt: skip
    wide = measured.get(f"expand:{WIDE}", {}).get("patch")
    if wide:
        out.add_row(f"expand:{WIDE}: time", f"{wide['seconds']:.1f} s", "<= 20 s",
                    "yes" if wide["seconds"] <= 20 else "NO")  # fmt: skip
    return out


if __name__ == "__main__":
    main()
