"""Removal and expansion quality of ``patch`` against Telea, Navier-Stokes and pypatchmatch.

Protocol: ``../shared/eval/README.md``. For every photo: three LaMa-style removal
masks (thin, medium, thick; ``masks.py``) and four expansions by crop and expand
back: the photo's middle is kept and the fill must rebuild what was cut away on
both sides (left and right, 20% of the width each), top and bottom (20% each), all
round (20% of each side) or one side (the right 30%). Every method sees the same
input: the photo with the hole blacked out, so nothing can leak from the truth.

Per photo set and mask kind the table gives, for each method, the median PSNR, SSIM,
sharpness ratio (mean gradient magnitude of the fill over the truth's; 1 is right, a
smear is far below) and seam discontinuity on the filled pixels (``metrics.py``), the
share of photos on which ``patch`` scores higher than the method on PSNR, on SSIM and
on both, and the median over photos of the method's wall time divided by
pypatchmatch's on the same photo and mask. A last table checks issue 15's goals,
with the expansions of all layouts pooled and the removals of all mask kinds pooled.

    python -m benchmarks.quality                       # everything
    python -m benchmarks.quality --limit 6             # the first 6 photos of each set
    python -m benchmarks.quality --photos even --kinds sides,allround --sets kodak
    python -m benchmarks.quality --from-json out.json  # the tables of an earlier run
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks import methods
from benchmarks.masks import Family, Layout, expansion_mask, make_mask
from benchmarks.metrics import psnr, seam, sharpness, ssim
from canvasfill.engines.base import Operation

HERE = Path(__file__).resolve().parent
EVAL = HERE.parent.parent / "shared" / "eval"
REMOVALS = tuple(family.value for family in Family)
EXPANSIONS = tuple(layout.value for layout in Layout)
KINDS = (*REMOVALS, *EXPANSIONS)
DEFAULT_METHODS = ("patch", "pypatchmatch", "telea")


@dataclass(frozen=True)
class Record:
    photo_set: str
    photo: str
    kind: str
    method: str
    psnr: float
    ssim: float
    seam: float
    sharpness: float
    seconds: float


def photos(folder: Path, limit: int | None, which: str = "all") -> list[tuple[int, Path]]:
    """The set's photos with their index (which fixes their removal masks); ``which``
    keeps all, the even-indexed or the odd-indexed ones (a tuning/checking split)."""
    found = list(enumerate(sorted(folder.glob("*.png"))))
    if not found:
        raise SystemExit(f"no .png photos in {folder}")
    if which != "all":
        found = [(i, path) for i, path in found if i % 2 == (0 if which == "even" else 1)]
    return found[:limit] if limit else found


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def run(sets: dict[str, Path], limit: int | None, which: str, names: tuple[str, ...],
        kinds: tuple[str, ...], console: Console, images: Path | None) -> list[Record]:  # fmt: skip
    records = []
    for set_name, folder in sets.items():
        for index, path in photos(folder, limit, which):
            truth = read_rgb(path)
            for kind in kinds:
                if kind in EXPANSIONS:
                    mask = expansion_mask(truth.shape[:2], Layout(kind))
                    operation = Operation.EXPAND
                else:
                    mask = make_mask(truth.shape[:2], Family(kind), index)
                    operation = Operation.REMOVE
                given = truth.copy()
                given[mask] = 0
                for name in names:
                    fill = methods.method(name, operation)
                    started = time.perf_counter()
                    result = fill(given, mask)
                    seconds = time.perf_counter() - started
                    records.append(Record(
                        set_name, path.name, kind, name,
                        psnr(result, truth, mask), ssim(result, truth, mask),
                        seam(result, truth, mask), sharpness(result, truth, mask), seconds,
                    ))  # fmt: skip
                    if images is not None:
                        out = images / f"{set_name}-{path.stem}-{kind}-{name}.png"
                        cv2.imwrite(str(out), np.ascontiguousarray(result[:, :, ::-1]))
            console.log(f"{set_name} {path.name}")
    return records


def _by(records: list[Record], photo_set: str, kinds: tuple[str, ...], method: str
        ) -> dict[tuple[str, str], Record]:  # fmt: skip
    return {
        (r.photo, r.kind): r
        for r in records
        if r.photo_set == photo_set and r.kind in kinds and r.method == method
    }


def _share(ours: dict[tuple[str, str], Record], theirs: dict[tuple[str, str], Record],
           metrics: tuple[str, ...]) -> float:  # fmt: skip
    """Percentage of the cases both ran on which ``patch`` beats the other on every metric."""
    both = [case for case in ours if case in theirs]
    if not both:
        return float("nan")
    wins = 0
    for case in both:
        a, b = ours[case], theirs[case]
        wins += all(
            getattr(a, m) < getattr(b, m) if m == "seam" else getattr(a, m) > getattr(b, m)
            for m in metrics
        )
    return 100.0 * wins / len(both)


def _median(rows: dict[tuple[str, str], Record], metric: str) -> float:
    return statistics.median(getattr(r, metric) for r in rows.values())


def table(records: list[Record], photo_set: str, kinds: tuple[str, ...], title: str,
          names: tuple[str, ...]) -> Table:  # fmt: skip
    out = Table(title=f"{photo_set} / {title}")
    for column in ("method", "PSNR", "SSIM", "sharpness", "seam", "patch wins PSNR",
                   "patch wins SSIM", "patch wins both", "time / pypatchmatch"):  # fmt: skip
        out.add_column(column, justify="left" if column == "method" else "right")
    ours = _by(records, photo_set, kinds, "patch")
    reference = _by(records, photo_set, kinds, "pypatchmatch")
    for name in names:
        rows = _by(records, photo_set, kinds, name)
        if not rows:
            continue
        ratios = [rows[c].seconds / reference[c].seconds for c in rows if c in reference]
        wins = ["-", "-", "-"] if name == "patch" else [
            f"{_share(ours, rows, metrics):.0f}%"
            for metrics in (("psnr",), ("ssim",), ("psnr", "ssim"))
        ]  # fmt: skip
        out.add_row(
            name,
            f"{_median(rows, 'psnr'):.2f}",
            f"{_median(rows, 'ssim'):.4f}",
            f"{_median(rows, 'sharpness'):.2f}",
            f"{_median(rows, 'seam'):.2f}",
            *wins,
            f"{statistics.median(ratios):.2f}x" if ratios else "-",
        )
    return out


def goals(records: list[Record], photo_sets: list[str]) -> Table:
    """Issue 15's quality goals, per set, expansions and removals each pooled over kinds."""
    out = Table(title="issue 15 goals (pooled over layouts / mask kinds)")
    for column in ("set", "goal", "measured", "target", "met"):
        out.add_column(column, justify="left" if column in ("set", "goal") else "right")

    def row(photo_set: str, goal: str, value: float, target: str, met: bool) -> None:
        out.add_row(photo_set, goal, f"{value:.2f}", target, "yes" if met else "NO")

    for photo_set in photo_sets:
        ours = _by(records, photo_set, EXPANSIONS, "patch")
        pypm = _by(records, photo_set, EXPANSIONS, "pypatchmatch")
        telea = _by(records, photo_set, EXPANSIONS, "telea")
        if ours and pypm:
            share = _share(ours, pypm, ("ssim",))
            row(photo_set, "expand: SSIM wins vs pypatchmatch %", share, ">= 70", share >= 70)
        if ours:
            sharp = _median(ours, "sharpness")
            row(photo_set, "expand: median sharpness", sharp, "0.8..1.25", 0.8 <= sharp <= 1.25)
        if ours and telea:
            ratio = _median(ours, "ssim") / _median(telea, "ssim")
            row(photo_set, "expand: median SSIM / Telea's", ratio, ">= 0.95", ratio >= 0.95)
        ours = _by(records, photo_set, REMOVALS, "patch")
        pypm = _by(records, photo_set, REMOVALS, "pypatchmatch")
        telea = _by(records, photo_set, REMOVALS, "telea")
        if ours and pypm:
            share = _share(ours, pypm, ("psnr", "ssim"))
            row(photo_set, "remove: PSNR+SSIM wins vs pypatchmatch %", share, ">= 70",
                share >= 70)  # fmt: skip
        if ours and telea:
            share = _share(ours, telea, ("ssim",))
            row(photo_set, "remove: SSIM wins vs Telea %", share, ">= 70", share >= 70)
    return out


def print_tables(records: list[Record], console: Console) -> None:
    photo_sets = list(dict.fromkeys(r.photo_set for r in records))
    names = tuple(dict.fromkeys(r.method for r in records))
    kinds = tuple(dict.fromkeys(r.kind for r in records))
    for photo_set in photo_sets:
        for kind in kinds:
            title = f"expand {kind}" if kind in EXPANSIONS else f"{kind} masks"
            console.print(table(records, photo_set, (kind,), title, names))
        if sum(kind in EXPANSIONS for kind in kinds) > 1:
            console.print(table(records, photo_set, EXPANSIONS, "expand, all layouts", names))
        if sum(kind in REMOVALS for kind in kinds) > 1:
            console.print(table(records, photo_set, REMOVALS, "remove, all masks", names))
    console.print(goals(records, photo_sets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kodak", type=Path, default=EVAL / "kodak")
    parser.add_argument("--bsds", type=Path, default=EVAL / "bsds68")
    parser.add_argument("--sets", default="kodak,bsds68", help="kodak,bsds68")
    parser.add_argument("--limit", type=int, default=None, help="first N photos of each set")
    parser.add_argument("--photos", choices=("all", "even", "odd"), default="all",
                        help="all photos, or the even- or odd-indexed half (tune on one, "
                        "check on the other)")  # fmt: skip
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help=f"any of {','.join(methods.ALL)}")  # fmt: skip
    parser.add_argument("--kinds", default=",".join(KINDS), help=",".join(KINDS))
    parser.add_argument("--json", type=Path, default=None, help="also write every record here")
    parser.add_argument("--images", type=Path, default=None, help="write every result here")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="print the tables of --json records; run nothing")  # fmt: skip
    args = parser.parse_args()
    console = Console(width=150)
    if args.from_json:
        loaded = json.loads(args.from_json.read_text())
        print_tables([Record(**r) for r in loaded], console)
        return
    names = tuple(args.methods.split(","))
    kinds = tuple(args.kinds.split(","))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise SystemExit(f"unknown kinds {unknown}; choose from {','.join(KINDS)}")
    if args.images:
        args.images.mkdir(parents=True, exist_ok=True)
    methods.warm_up()
    folders = {"kodak": args.kodak, "bsds68": args.bsds}
    sets = {name: folders[name] for name in args.sets.split(",")}
    records = run(sets, args.limit, args.photos, names, kinds, console, args.images)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in records], indent=1))
    print_tables(records, console)


if __name__ == "__main__":
    main()
