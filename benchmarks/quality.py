"""Removal and expansion quality of ``patch`` against Telea, Navier-Stokes and pypatchmatch.

Protocol: ``../shared/eval/README.md``. For every photo: three LaMa-style removal
masks (thin, medium, thick) and one of object silhouettes (people, cars, poles;
``masks.py``), and four expansions by crop and expand
back: the photo's middle is kept and the fill must rebuild what was cut away on
both sides (left and right, 20% of the width each), top and bottom (20% each), all
round (20% of each side) or one side (the right 30%). Every method sees the same
input: the photo with the hole blacked out, so nothing can leak from the truth.

Per photo set and mask kind the table gives, for each method, the median PSNR, SSIM,
blurred SSIM (sigma 3 px: structure, not grain), sharpness ratio (mean gradient
magnitude of the fill over the truth's; 1 is right, a smear is far below), flat share
(the fill's 16x16 blocks left flat where the truth is not, %) and seam discontinuity
on the filled pixels (``metrics.py``), the share of photos on which ``patch`` scores
higher than the method on PSNR, on SSIM, on blurred SSIM and on PSNR and blurred SSIM
both, and the median over photos of the method's wall time divided by pypatchmatch's
on the same photo and mask. A last table checks issue 22's goals: removals per mask
kind, expansions of all layouts pooled.

``--sheet OUT.png`` draws a contact sheet, one row per case (input with the hole
tinted, truth, then each method); ``--cases kodak/kodim05/objects,...`` runs only the
cases it names (set/photo stem/kind), one row each; without it every case run is drawn.

    python -m benchmarks.quality                       # everything
    python -m benchmarks.quality --limit 6             # the first 6 photos of each set
    python -m benchmarks.quality --photos even --kinds sides,allround --sets kodak
    python -m benchmarks.quality --from-json out.json  # the tables of an earlier run
    python -m benchmarks.quality --limit 2 --kinds objects --sheet sheet.png
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
from benchmarks.metrics import blurred_ssim, flat_share, psnr, seam, sharpness, ssim
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
    blurred_ssim: float = float("nan")
    flat: float = float("nan")
    """Flat share, %: records of runs before issue 22 have neither."""


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


Case = tuple[str, str, str]
"""(set, photo stem, kind): one row of a contact sheet."""
Pictures = dict[Case, dict[str, np.ndarray]]


def run(sets: dict[str, Path], limit: int | None, which: str, names: tuple[str, ...],
        kinds: tuple[str, ...], console: Console, images: Path | None,
        keep: Pictures | None = None, wanted: set[Case] | None = None) -> list[Record]:  # fmt: skip
    """Every method on every case, or only on the ``wanted`` ones when given (a sheet
    of a few cases does not wait for the whole run); ``keep`` collects their pictures
    for a contact sheet."""
    records = []
    for set_name, folder in sets.items():
        for index, path in photos(folder, limit, which):
            truth = read_rgb(path)
            for kind in kinds:
                case = (set_name, path.stem, kind)
                if wanted is not None and case not in wanted:
                    continue
                if kind in EXPANSIONS:
                    mask = expansion_mask(truth.shape[:2], Layout(kind))
                    operation = Operation.EXPAND
                else:
                    mask = make_mask(truth.shape[:2], Family(kind), index)
                    operation = Operation.REMOVE
                given = truth.copy()
                given[mask] = 0
                if keep is not None:
                    keep[case] = {"input": _tinted(given, mask), "truth": truth}
                for name in names:
                    fill = methods.method(name, operation)
                    started = time.perf_counter()
                    result = fill(given, mask)
                    seconds = time.perf_counter() - started
                    records.append(Record(
                        set_name, path.name, kind, name,
                        psnr(result, truth, mask), ssim(result, truth, mask),
                        seam(result, truth, mask), sharpness(result, truth, mask), seconds,
                        blurred_ssim(result, truth, mask), flat_share(result, truth, mask),
                    ))  # fmt: skip
                    if keep is not None:
                        keep[case][name] = result
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
    values = [getattr(r, metric) for r in rows.values()]
    values = [v for v in values if v == v]  # the flat share is nan where nothing is textured
    return statistics.median(values) if values else float("nan")


def table(records: list[Record], photo_set: str, kinds: tuple[str, ...], title: str,
          names: tuple[str, ...]) -> Table:  # fmt: skip
    out = Table(title=f"{photo_set} / {title}")
    for column in ("method", "PSNR", "SSIM", "bSSIM", "sharpness", "flat %", "seam",
                   "patch wins PSNR", "SSIM", "bSSIM", "PSNR+bSSIM",
                   "time / pypatchmatch"):  # fmt: skip
        out.add_column(column, justify="left" if column == "method" else "right")
    ours = _by(records, photo_set, kinds, "patch")
    reference = _by(records, photo_set, kinds, "pypatchmatch")
    for name in names:
        rows = _by(records, photo_set, kinds, name)
        if not rows:
            continue
        ratios = [rows[c].seconds / reference[c].seconds for c in rows if c in reference]
        wins = ["-", "-", "-", "-"] if name == "patch" else [
            f"{_share(ours, rows, metrics):.0f}%"
            for metrics in (("psnr",), ("ssim",), ("blurred_ssim",), ("psnr", "blurred_ssim"))
        ]  # fmt: skip
        out.add_row(
            name,
            f"{_median(rows, 'psnr'):.2f}",
            f"{_median(rows, 'ssim'):.4f}",
            f"{_median(rows, 'blurred_ssim'):.4f}",
            f"{_median(rows, 'sharpness'):.2f}",
            f"{_median(rows, 'flat'):.1f}",
            f"{_median(rows, 'seam'):.2f}",
            *wins,
            f"{statistics.median(ratios):.2f}x" if ratios else "-",
        )
    return out


def goals(records: list[Record], photo_sets: list[str]) -> Table:
    """Issue 22's quality goals, per set: removals per mask kind, expansions pooled."""
    out = Table(title="issue 22 goals (removals per mask kind, expansions pooled)")
    for column in ("set", "goal", "measured", "target", "met"):
        out.add_column(column, justify="left" if column in ("set", "goal") else "right")

    def row(photo_set: str, goal: str, value: float, target: str, met: bool) -> None:
        out.add_row(photo_set, goal, f"{value:.2f}", target, "yes" if met else "NO")

    for photo_set in photo_sets:
        kinds = dict.fromkeys(r.kind for r in records if r.photo_set == photo_set)
        for kind in (k for k in REMOVALS if k in kinds):
            ours = _by(records, photo_set, (kind,), "patch")
            pypm = _by(records, photo_set, (kind,), "pypatchmatch")
            if ours:
                sharp = _median(ours, "sharpness")
                row(photo_set, f"remove {kind}: median sharpness", sharp, "0.8..1.25",
                    0.8 <= sharp <= 1.25)  # fmt: skip
            if ours and pypm:
                share = _share(ours, pypm, ("psnr", "blurred_ssim"))
                row(photo_set, f"remove {kind}: PSNR+bSSIM wins vs pypatchmatch %", share,
                    ">= 70", share >= 70)  # fmt: skip
        ours = _by(records, photo_set, EXPANSIONS, "patch")
        telea = _by(records, photo_set, EXPANSIONS, "telea")
        if ours:
            sharp = _median(ours, "sharpness")
            row(photo_set, "expand: median sharpness", sharp, "0.8..1.25", 0.8 <= sharp <= 1.25)
            flat = _median(ours, "flat")
            row(photo_set, "expand: median flat share %", flat, "<= 1.5", flat <= 1.5)
        if ours and telea:
            ratio = _median(ours, "blurred_ssim") / _median(telea, "blurred_ssim")
            row(photo_set, "expand: median bSSIM / Telea's", ratio, ">= 1.10", ratio >= 1.10)
            gap = _median(ours, "psnr") - _median(telea, "psnr")
            row(photo_set, "expand: median PSNR - Telea's (dB)", gap, ">= 0", gap >= 0)
    return out


def _tinted(given: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The input as every method saw it, its hole shown in magenta rather than black."""
    shown = given.copy()
    shown[mask] = (200, 0, 200)
    return shown


SHEET_HEIGHT = 200
"""Each picture of a contact sheet is scaled to this height."""


def sheet(pictures: Pictures, names: tuple[str, ...], out: Path) -> None:
    """A contact sheet: one row per case, input (hole tinted), truth, then each method."""
    columns = ("input", "truth", *names)
    rows = []
    for (photo_set, stem, kind), shots in pictures.items():
        tiles = []
        for column in columns:
            picture = shots.get(column)
            if picture is None:
                continue
            height, width = picture.shape[:2]
            size = (round(width * SHEET_HEIGHT / height), SHEET_HEIGHT)
            tile = np.ascontiguousarray(cv2.resize(picture, size, interpolation=cv2.INTER_AREA))
            label = f"{column}" if column != "input" else f"{photo_set}/{stem}/{kind}"
            for colour, weight in (((0, 0, 0), 3), ((255, 255, 255), 1)):
                cv2.putText(tile, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, weight)
            tiles.append(tile)
        rows.append(np.hstack(tiles))
    if not rows:
        raise SystemExit("no case to draw: check --cases against the photos and kinds run")
    width = max(row.shape[1] for row in rows)
    padded = [np.pad(row, ((0, 4), (0, width - row.shape[1]), (0, 0))) for row in rows]
    cv2.imwrite(str(out), np.ascontiguousarray(np.vstack(padded)[:, :, ::-1]))


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
    parser.add_argument(
        "--sheet",
        type=Path,
        default=None,
        help="draw a contact sheet of the --cases (or of every case) here",
    )
    parser.add_argument(
        "--cases",
        default=None,
        help="run only these cases (and draw them): set/photo stem/kind,... e.g. "
        "kodak/kodim05/objects",
    )
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
    pictures: Pictures | None = {} if args.sheet else None
    wanted = None
    if args.cases:
        wanted = {(a, b, c) for a, b, c in (case.split("/") for case in args.cases.split(","))}
    records = run(sets, args.limit, args.photos, names, kinds, console, args.images,
                  pictures, wanted)  # fmt: skip
    if args.sheet and pictures is not None:
        sheet(pictures, names, args.sheet)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in records], indent=1))
    print_tables(records, console)


if __name__ == "__main__":
    main()
