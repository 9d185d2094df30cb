"""The ``canvasfill`` command: expand and remove on files or folders, list engines, run a demo.

Every command builds a :class:`~canvasfill.jobs.spec.JobSpec` and runs it through
:mod:`canvasfill.jobs.processing`, the same path the server takes. Bad input exits
non-zero with one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from canvasfill.api.commands import keys_app, serve
from canvasfill.engines.base import Operation, resolve_seed
from canvasfill.engines.models_cli import models_app
from canvasfill.engines.registry import all_engines
from canvasfill.errors import CanvasfillError, ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat
from canvasfill.jobs.processing import JobOutput, run_job
from canvasfill.jobs.spec import (
    Box,
    BoxRemoval,
    CanvasMask,
    Geometry,
    JobSpec,
    MaskRemoval,
    OutputOptions,
    PixelExpansion,
    RatioExpansion,
)

app = typer.Typer(
    name="canvasfill",
    help="Self-hosted image expansion (outpainting) and object removal (inpainting).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(serve)
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

T = TypeVar("T")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
_CALLER_ENGINE_ERRORS = frozenset({ErrorCode.ENGINE_NOT_FOUND, ErrorCode.ENGINE_UNAVAILABLE})


# -- options shared by expand and remove -------------------------------------------------

OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Output file (or folder).")]
PromptOpt = Annotated[
    str, typer.Option(help="What to see in the filled area (engines that use it).")
]
NegativeOpt = Annotated[str, typer.Option(help="What not to see (engines that use it).")]
SeedOpt = Annotated[int, typer.Option(help="Seed; -1 draws a random one (reported).")]
StepsOpt = Annotated[int | None, typer.Option(min=1, help="Amount of work; engine-specific.")]
StrengthOpt = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=1.0,
        help="0..1. Diffusion: how far to depart from the input. patch removal: the share of "
        "copied texture kept deep in the hole (1: sharp everywhere; default: soft there).",
    ),
]
GuidanceOpt = Annotated[float | None, typer.Option(min=0.0, help="Prompt guidance scale.")]
CountOpt = Annotated[int, typer.Option("-n", "--n", min=1, max=9, help="Images to make (1..9).")]
EngineOpt = Annotated[str, typer.Option(help="Engine name, or auto for the best available.")]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="png, jpeg or webp (default: from OUTPUT's suffix).")
]
QualityOpt = Annotated[int, typer.Option(min=1, max=100, help="JPEG/WebP quality.")]
MaxWidthOpt = Annotated[int, typer.Option(min=0, help="Scale the result to fit; 0 = no limit.")]
MaxHeightOpt = Annotated[int, typer.Option(min=0, help="Scale the result to fit; 0 = no limit.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")]


@dataclass(frozen=True)
class Settings:
    """What every command run shares, whatever the geometry."""

    prompt: str
    negative_prompt: str
    seed: int
    steps: int | None
    strength: float | None
    guidance: float | None
    n: int
    engine: str
    fmt: str | None
    quality: int
    max_width: int
    max_height: int
    as_json: bool


@app.command()
def expand(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Image file or folder.")],
    output: OutputOpt,
    left: Annotated[
        float, typer.Option(min=0.0, help="Fraction of the width to add on the left.")
    ] = 0.0,
    right: Annotated[
        float, typer.Option(min=0.0, help="Fraction of the width to add on the right.")
    ] = 0.0,
    top: Annotated[
        float, typer.Option(min=0.0, help="Fraction of the height to add on top.")
    ] = 0.0,
    bottom: Annotated[
        float, typer.Option(min=0.0, help="Fraction of the height to add below.")
    ] = 0.0,
    left_px: Annotated[int, typer.Option(min=0, help="Pixels to add on the left.")] = 0,
    right_px: Annotated[int, typer.Option(min=0, help="Pixels to add on the right.")] = 0,
    top_px: Annotated[int, typer.Option(min=0, help="Pixels to add on top.")] = 0,
    bottom_px: Annotated[int, typer.Option(min=0, help="Pixels to add below.")] = 0,
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
    ratios = (left, right, top, bottom)
    pixels = (left_px, right_px, top_px, bottom_px)
    chosen = sum((any(ratios), any(pixels), mask is not None))
    if chosen != 1:
        _fail_usage(
            "give exactly one of: side ratios (--left ...), side pixels (--left-px ...), --mask"
        )
    geometry: Geometry
    if any(ratios):
        geometry = RatioExpansion(left=left, right=right, top=top, bottom=bottom)
    elif any(pixels):
        geometry = PixelExpansion(left=left_px, right=right_px, top=top_px, bottom=bottom_px)
    else:
        geometry = CanvasMask()
    settings = Settings(
        prompt,
        negative_prompt,
        seed,
        steps,
        strength,
        guidance,
        n,
        engine,
        fmt,
        quality,
        max_width,
        max_height,
        as_json,
    )
    _run(Operation.EXPAND, geometry, input_path, output, mask, settings)


@app.command()
def remove(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Image file or folder.")],
    output: OutputOpt,
    mask: Annotated[
        Path | None,
        typer.Option(help="Mask file (white = remove), or a folder of same-named masks."),
    ] = None,
    box: Annotated[
        list[str] | None, typer.Option(help="X,Y,W,H of a box to remove; repeat for more.")
    ] = None,
    grow: Annotated[int, typer.Option(min=0, max=256, help="Grow the mask by N pixels.")] = 0,
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
    """Remove objects: what a mask marks, or what lies in one or more boxes."""
    if (mask is None) == (not box):
        _fail_usage("give exactly one of --mask or --box")
    geometry: Geometry
    if box:
        geometry = BoxRemoval(boxes=tuple(_parse_box(text) for text in box), grow=grow)
    else:
        geometry = MaskRemoval(grow=grow)
    settings = Settings(
        prompt,
        negative_prompt,
        seed,
        steps,
        strength,
        guidance,
        n,
        engine,
        fmt,
        quality,
        max_width,
        max_height,
        as_json,
    )
    _run(Operation.REMOVE, geometry, input_path, output, mask, settings)


@app.command()
def engines(as_json: JsonOpt = False) -> None:
    """List engines: whether each runs here, what it needs and which parameters it honours."""
    rows = []
    for engine in all_engines():
        availability = engine.availability()
        rows.append(
            {
                "name": engine.name,
                "available": availability.available,
                "reason": availability.reason,
                "hardware": engine.hardware.value,
                "weights": list(engine.weights),
                "honours": sorted(param.value for param in engine.honours),
                "summary": engine.summary,
            }
        )
    if as_json:
        out.print_json(data=rows)
        return
    table = Table(title="canvasfill engines")
    for column in ("engine", "available", "runs on", "weights", "honours", "what it is"):
        table.add_column(column)
    for row in rows:
        available = "yes" if row["available"] else f"no: {row['reason']}"
        table.add_row(
            str(row["name"]),
            available,
            str(row["hardware"]),
            ", ".join(row["weights"]) or "none",  # type: ignore[arg-type]
            ", ".join(row["honours"]) or "-",  # type: ignore[arg-type]
            str(row["summary"]),
        )
    out.print(table)


@app.command()
def demo(
    folder: Annotated[
        Path, typer.Option(help="Where to write the sample and its expansion.")
    ] = Path("canvasfill-demo"),
) -> None:
    """Expand a generated sample photo by a quarter on each side and say where the result is."""
    from canvasfill.sample import sample_photo_png

    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "sample.png"
    source.write_bytes(sample_photo_png())
    target = folder / "sample-expanded.png"
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=RatioExpansion(left=0.25, right=0.25, top=0.1, bottom=0.1),
        seed=resolve_seed(None),
    )
    result = _guarded(lambda: run_job(spec, source.read_bytes()))
    target.write_bytes(result.images[0].data)
    out.print(f"sample photo:  {source.resolve()}")
    out.print(
        f"expanded with engine [bold]{result.engine}[/] (seed {result.seed}) in "
        f"{result.seconds:.2f} s:\n  {target.resolve()}  "
        f"({result.images[0].width}x{result.images[0].height})"
    )


# -- running one file or a folder ---------------------------------------------------------


def _run(
    operation: Operation,
    geometry: Geometry,
    input_path: Path,
    output: Path,
    mask: Path | None,
    settings: Settings,
) -> None:
    if input_path.is_dir():
        _run_folder(operation, geometry, input_path, output, mask, settings)
        return
    if not input_path.is_file():
        _fail(f"{input_path}: no such file or folder", EXIT_BAD_INPUT)
    if mask is not None and not mask.is_file():
        _fail(f"{mask}: no such mask file", EXIT_BAD_INPUT)
    fmt = _output_format(settings.fmt, output)
    spec = _spec(operation, geometry, settings, fmt)
    result = _guarded(lambda: _process(spec, input_path, mask))
    written = _write(result, output, fmt)
    summary = _summary(input_path, written, result)
    if settings.as_json:
        out.print_json(data=summary)
    else:
        for path in written:
            out.print(f"wrote {path}")
        out.print(f"engine {result.engine}, seed {result.seed}, {result.seconds:.2f} s")


def _run_folder(
    operation: Operation,
    geometry: Geometry,
    folder: Path,
    output: Path,
    mask: Path | None,
    settings: Settings,
) -> None:
    if output.exists() and not output.is_dir():
        _fail(f"{output}: INPUT is a folder, so OUTPUT must be a folder too", EXIT_BAD_INPUT)
    if mask is not None and not mask.is_dir():
        _fail(f"{mask}: with a folder of images, --mask must be a folder of masks", EXIT_BAD_INPUT)
    inputs = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not inputs:
        _fail(f"{folder}: no .png, .jpg, .jpeg or .webp images in this folder", EXIT_BAD_INPUT)
    output.mkdir(parents=True, exist_ok=True)
    fmt = _output_format(settings.fmt, None)
    done: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    with _progress(quiet=settings.as_json) as progress:
        task = progress.add_task("filling", total=len(inputs))
        for path in inputs:
            progress.update(task, description=path.name)
            try:
                item_mask = _matching_mask(mask, path) if mask is not None else None
                # each image gets its own seed when the caller asked for random ones
                spec = _spec(operation, geometry, settings, fmt)
                result = _process(spec, path, item_mask)
                written = _write(result, output / f"{path.stem}.{fmt.extension}", fmt)
                done.append(_summary(path, written, result))
            except CanvasfillError as exc:
                failures.append(
                    {"input": str(path), "code": exc.code.value, "message": exc.message}
                )
            except OSError as exc:
                failures.append({"input": str(path), "code": "io_error", "message": str(exc)})
            progress.advance(task)
    if settings.as_json:
        out.print_json(data={"items": done, "failures": failures})
    else:
        out.print(f"{len(done)} of {len(inputs)} images written to {output}")
        for failure in failures:
            err.print(f"failed: {failure['input']}: {failure['message']} ({failure['code']})")
    if failures:
        raise typer.Exit(EXIT_FAILED)


def _progress(*, quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
    )


def _matching_mask(mask_folder: Path, image: Path) -> Path:
    for candidate in sorted(mask_folder.iterdir()):
        if candidate.stem == image.stem and candidate.suffix.lower() in IMAGE_SUFFIXES:
            return candidate
    raise InputError(
        ErrorCode.INVALID_PARAMETER, f"no mask named {image.stem}.* in {mask_folder}", field="mask"
    )


def _spec(
    operation: Operation, geometry: Geometry, settings: Settings, fmt: OutputFormat
) -> JobSpec:
    return JobSpec(
        operation=operation,
        geometry=geometry,
        seed=resolve_seed(settings.seed),
        engine=settings.engine,
        n=settings.n,
        prompt=settings.prompt,
        negative_prompt=settings.negative_prompt,
        steps=settings.steps,
        strength=settings.strength,
        guidance_scale=settings.guidance,
        output=OutputOptions(
            format=fmt,
            quality=settings.quality,
            max_width=settings.max_width,
            max_height=settings.max_height,
        ),
    )


def _process(spec: JobSpec, image: Path, mask: Path | None) -> JobOutput:
    mask_bytes = mask.read_bytes() if mask is not None else None
    return run_job(spec, image.read_bytes(), mask_bytes)


def _write(result: JobOutput, output: Path, fmt: OutputFormat) -> list[Path]:
    """OUTPUT itself for one image; OUTPUT-1, OUTPUT-2, ... (suffix kept) for several."""
    if output.suffix == "":
        output = output.with_suffix(f".{fmt.extension}")
    output.parent.mkdir(parents=True, exist_ok=True)
    paths = list(_numbered(output, len(result.images)))
    for path, image in zip(paths, result.images, strict=True):
        path.write_bytes(image.data)
    return paths


def _numbered(output: Path, count: int) -> Iterator[Path]:
    if count == 1:
        yield output
        return
    for index in range(1, count + 1):
        yield output.with_name(f"{output.stem}-{index}{output.suffix}")


def _summary(source: Path, written: list[Path], result: JobOutput) -> dict[str, Any]:
    return {
        "input": str(source),
        "outputs": [str(path) for path in written],
        "sizes": [[image.width, image.height] for image in result.images],
        "engine": result.engine,
        "seed": result.seed,
        "ignored": sorted(param.value for param in result.ignored),
        "seconds": round(result.seconds, 3),
    }


def _output_format(explicit: str | None, output: Path | None) -> OutputFormat:
    if explicit is not None:
        return _guarded(lambda: OutputFormat.parse(explicit, field="format"))
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    return (
        OutputFormat.parse(suffix) if suffix in ("png", "jpg", "jpeg", "webp") else OutputFormat.PNG
    )


def _parse_box(text: str) -> Box:
    parts = text.split(",")
    try:
        x, y, width, height = (int(part.strip()) for part in parts)
    except ValueError:
        _fail_usage(f"--box {text!r}: write four integers X,Y,W,H, for example 10,20,100,50")
    if width <= 0 or height <= 0:
        _fail_usage(f"--box {text!r}: width and height must be positive")
    return Box(x=x, y=y, width=width, height=height)


def _guarded(action: Callable[[], T]) -> T:
    """Run ``action``; turn expected failures into one line on stderr and an exit code."""
    try:
        return action()
    except CanvasfillError as exc:
        caller_can_fix = isinstance(exc, InputError) or exc.code in _CALLER_ENGINE_ERRORS
        _fail(
            f"{exc.message} ({exc.code.value})", EXIT_BAD_INPUT if caller_can_fix else EXIT_FAILED
        )
    except OSError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)


def _fail_usage(message: str) -> NoReturn:
    _fail(message, EXIT_BAD_INPUT)


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def main() -> None:
    """Entry point of the ``canvasfill`` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
