"""Removal and expansion quality of ``patch`` against Telea, Navier-Stokes and pypatchmatch.

Protocol: ``../shared/eval/README.md``. For every photo: three LaMa-style masks
(thin, medium, thick; ``masks.py``) and one expansion (the centre crop losing 20% on
each side, expanded back to the full frame). Every method sees the same input: the
photo with the hole blacked out, so nothing can leak from the truth. Per photo set
and mask family the table gives, for each method, the median PSNR, SSIM and seam
discontinuity on the filled pixels (``metrics.py``), the share of photos on which
``patch`` scores higher (PSNR, SSIM) or a lower seam, and the median over photos of
the method's wall time divided by pypatchmatch's on the same photo and mask.

    python -m benchmarks.quality                 # everything (about half an hour)
    python -m benchmarks.quality --limit 6       # the first 6 photos of each set
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
from benchmarks.masks import Family, expansion_mask, make_mask
from benchmarks.metrics import psnr, seam, ssim
from canvasfill.engines.base import Operation

HERE = Path(__file__).resolve().parent
EVAL = HERE.parent.parent / "shared" / "eval"
EXPAND = "expand"
KINDS = (*[family.value for family in Family], EXPAND)


@dataclass(frozen=True)
class Record:
    photo_set: str
    photo: str
    kind: str
    method: str
    psnr: float
    ssim: float
    seam: float
    seconds: float


def photos(folder: Path, limit: int | None) -> list[Path]:
    found = sorted(folder.glob("*.png"))
    if not found:
        raise SystemExit(f"no .png photos in {folder}")
    return found[:limit] if limit else found


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def run(sets: dict[str, Path], limit: int | None, names: tuple[str, ...], kinds: tuple[str, ...],
        console: Console) -> list[Record]:  # fmt: skip
    records = []
    for set_name, folder in sets.items():
        for index, path in enumerate(photos(folder, limit)):
            truth = read_rgb(path)
            for kind in kinds:
                if kind == EXPAND:
                    mask = expansion_mask(truth.shape[:2])
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
                        seam(result, truth, mask), seconds,
                    ))  # fmt: skip
            console.log(f"{set_name} {path.name}")
    return records


def _by(records: list[Record], photo_set: str, kind: str, method: str) -> dict[str, Record]:
    return {
        r.photo: r
        for r in records
        if r.photo_set == photo_set and r.kind == kind and r.method == method
    }


def _share(ours: dict[str, Record], theirs: dict[str, Record], better: str) -> float:
    photos_both = [p for p in ours if p in theirs]
    if not photos_both:
        return float("nan")
    wins = 0
    for photo in photos_both:
        a, b = getattr(ours[photo], better), getattr(theirs[photo], better)
        wins += a < b if better == "seam" else a > b
    return 100.0 * wins / len(photos_both)


def table(records: list[Record], photo_set: str, kind: str, names: tuple[str, ...]) -> Table:
    title = f"{photo_set} / {kind}" + (" (each side 20%)" if kind == EXPAND else " masks")
    out = Table(title=title)
    for column in ("method", "PSNR", "SSIM", "seam", "patch wins PSNR", "patch wins SSIM",
                   "patch wins seam", "time / pypatchmatch"):  # fmt: skip
        out.add_column(column, justify="left" if column == "method" else "right")
    ours = _by(records, photo_set, kind, "patch")
    reference = _by(records, photo_set, kind, "pypatchmatch")
    for name in names:
        rows = _by(records, photo_set, kind, name)
        if not rows:
            continue
        values = list(rows.values())
        ratios = [rows[p].seconds / reference[p].seconds for p in rows if p in reference]
        wins = ["-", "-", "-"] if name == "patch" else [
            f"{_share(ours, rows, metric):.0f}%" for metric in ("psnr", "ssim", "seam")
        ]  # fmt: skip
        out.add_row(
            name,
            f"{statistics.median(r.psnr for r in values):.2f}",
            f"{statistics.median(r.ssim for r in values):.4f}",
            f"{statistics.median(r.seam for r in values):.2f}",
            *wins,
            f"{statistics.median(ratios):.2f}x" if ratios else "-",
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kodak", type=Path, default=EVAL / "kodak")
    parser.add_argument("--bsds", type=Path, default=EVAL / "bsds68")
    parser.add_argument("--limit", type=int, default=None, help="first N photos of each set")
    parser.add_argument("--methods", default=",".join(methods.ALL))
    parser.add_argument("--kinds", default=",".join(KINDS), help="thin,medium,thick,expand")
    parser.add_argument("--json", type=Path, default=None, help="also write every record here")
    args = parser.parse_args()
    names = tuple(args.methods.split(","))
    kinds = tuple(args.kinds.split(","))
    console = Console()
    methods.warm_up()
    sets = {"kodak": args.kodak, "bsds68": args.bsds}
    records = run(sets, args.limit, names, kinds, console)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in records], indent=1))
    for photo_set in sets:
        for kind in kinds:
            console.print(table(records, photo_set, kind, names))


if __name__ == "__main__":
    main()
