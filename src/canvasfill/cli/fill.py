"""``canvasfill expand`` and ``canvasfill remove``: geometry from the flags, then one run.

Each command decides only its geometry (side ratios, side pixels, a canvas and mask,
boxes); everything else is the shared :class:`~canvasfill.cli.options.FillOptions`,
and a file or a folder is run the same way for both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from canvasfill.cli.options import (
    CountOpt,
    EngineOpt,
    FillOptions,
    FormatOpt,
    GuidanceOpt,
    JsonOpt,
    MaxHeightOpt,
    MaxWidthOpt,
    NegativeOpt,
    OutputOpt,
    PromptOpt,
    QualityOpt,
    SeedOpt,
    StepsOpt,
    StrengthOpt,
)
from canvasfill.cli.output import fail_usage
from canvasfill.imaging.limits import MAX_EXPAND_PIXELS, MAX_EXPAND_RATIO

if TYPE_CHECKING:
    from canvasfill.engines.base import Operation
    from canvasfill.pipeline.spec import Box, Geometry

InputArg = Annotated[Path, typer.Argument(metavar="INPUT", help="Image file or folder.")]


def expand(
    input_path: InputArg,
    output: OutputOpt,
    left: Annotated[
        float,
        typer.Option(
            min=0.0, max=MAX_EXPAND_RATIO, help="Fraction of the width to add on the left."
        ),
    ] = 0.0,
    right: Annotated[
        float,
        typer.Option(
            min=0.0, max=MAX_EXPAND_RATIO, help="Fraction of the width to add on the right."
        ),
    ] = 0.0,
    top: Annotated[
        float,
        typer.Option(min=0.0, max=MAX_EXPAND_RATIO, help="Fraction of the height to add on top."),
    ] = 0.0,
    bottom: Annotated[
        float,
        typer.Option(min=0.0, max=MAX_EXPAND_RATIO, help="Fraction of the height to add below."),
    ] = 0.0,
    left_px: Annotated[
        int, typer.Option(min=0, max=MAX_EXPAND_PIXELS, help="Pixels to add on the left.")
    ] = 0,
    right_px: Annotated[
        int, typer.Option(min=0, max=MAX_EXPAND_PIXELS, help="Pixels to add on the right.")
    ] = 0,
    top_px: Annotated[
        int, typer.Option(min=0, max=MAX_EXPAND_PIXELS, help="Pixels to add on top.")
    ] = 0,
    bottom_px: Annotated[
        int, typer.Option(min=0, max=MAX_EXPAND_PIXELS, help="Pixels to add below.")
    ] = 0,
    mask: Annotated[
        Path | None,
        typer.Option(
            help="Canvas mode: INPUT is the whole canvas and MASK (white) marks what to fill."
        ),
    ] = None,
    prompt: PromptOpt = "",
    negative_prompt: NegativeOpt = "",
    seed: SeedOpt = -1,
    steps: StepsOpt = None,
    strength: StrengthOpt = None,
    guidance: GuidanceOpt = None,
    n: CountOpt = 1,
    engine: EngineOpt = "auto",
    fmt: FormatOpt = None,
    quality: QualityOpt = 95,
    max_width: MaxWidthOpt = 0,
    max_height: MaxHeightOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Expand (outpaint) an image: by side ratios, side pixels, or a canvas and mask."""
    from canvasfill.engines.base import Operation
    from canvasfill.pipeline.spec import CanvasMask, PixelExpansion, RatioExpansion

    ratios = (left, right, top, bottom)
    pixels = (left_px, right_px, top_px, bottom_px)
    chosen = sum((any(ratios), any(pixels), mask is not None))
    if chosen != 1:
        fail_usage(
            "give exactly one of: side ratios (--left ...), side pixels (--left-px ...), --mask"
        )
    geometry: Geometry
    if any(ratios):
        geometry = RatioExpansion(left=left, right=right, top=top, bottom=bottom)
    elif any(pixels):
        geometry = PixelExpansion(left=left_px, right=right_px, top=top_px, bottom=bottom_px)
    else:
        geometry = CanvasMask()
    options = FillOptions.from_arguments(locals())
    run(Operation.EXPAND, geometry, input_path, output, mask, options)


def remove(
    input_path: InputArg,
    output: OutputOpt,
    mask: Annotated[
        Path | None,
        typer.Option(help="Mask file (white = remove), or a folder of same-named masks."),
    ] = None,
    box: Annotated[
        list[str] | None,
        typer.Option(metavar="X,Y,W,H", help="A box to remove, in pixels; repeat for more."),
    ] = None,
    grow: Annotated[int, typer.Option(min=0, max=256, help="Grow the mask by N pixels.")] = 0,
    detect: Annotated[
        str | None,
        typer.Option(
            help="Find what to remove: text, subject or text,subject (a --mask or --box "
            "is added to what is found). Needs `canvasfill models pull ppocr-det` (text) "
            "or `canvasfill models pull u2netp` (subject)."
        ),
    ] = None,
    prompt: PromptOpt = "",
    negative_prompt: NegativeOpt = "",
    seed: SeedOpt = -1,
    steps: StepsOpt = None,
    strength: StrengthOpt = None,
    guidance: GuidanceOpt = None,
    n: CountOpt = 1,
    engine: EngineOpt = "auto",
    fmt: FormatOpt = None,
    quality: QualityOpt = 95,
    max_width: MaxWidthOpt = 0,
    max_height: MaxHeightOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Remove objects: what a mask marks, what lies in boxes, or what --detect finds."""
    from canvasfill.engines.base import Operation
    from canvasfill.pipeline.spec import BoxRemoval, DetectedMask, MaskRemoval, parse_detect

    geometry: Geometry
    if detect is not None:
        try:
            kinds = parse_detect(detect)
        except ValueError as exc:
            fail_usage(f"--detect: {exc}")
        boxes = tuple(parse_box(text) for text in box or ())
        geometry = DetectedMask(detect=kinds, boxes=boxes, grow=grow)
    elif (mask is None) == (not box):
        fail_usage("give exactly one of --mask or --box (or --detect)")
    elif box:
        geometry = BoxRemoval(boxes=tuple(parse_box(text) for text in box), grow=grow)
    else:
        geometry = MaskRemoval(grow=grow)
    options = FillOptions.from_arguments(locals())
    run(Operation.REMOVE, geometry, input_path, output, mask, options)


def run(
    operation: Operation,
    geometry: Geometry,
    input_path: Path,
    output: Path,
    mask: Path | None,
    options: FillOptions,
) -> None:
    """A folder runs as a batch; anything else as one file."""
    if input_path.is_dir():
        from canvasfill.cli.batch import run_folder

        run_folder(operation, geometry, input_path, output, mask, options)
        return
    from canvasfill.cli.running import run_file

    run_file(operation, geometry, input_path, output, mask, options)


def parse_box(text: str) -> Box:
    """``X,Y,W,H`` as a box; a usage error (exit 2) when it is not four integers."""
    from canvasfill.pipeline.spec import Box

    parts = text.split(",")
    try:
        x, y, width, height = (int(part.strip()) for part in parts)
    except ValueError:
        fail_usage(f"--box {text!r}: write four integers X,Y,W,H, for example 10,20,100,50")
    if width <= 0 or height <= 0:
        fail_usage(f"--box {text!r}: width and height must be positive")
    return Box(x=x, y=y, width=width, height=height)
