"""A folder of images in, a folder of results out; one bad image does not stop the rest.

Each image gets its own seed when the caller asked for random ones, masks are matched
by file name, progress goes to stderr (so ``--json`` on stdout stays parseable), and
any failure is listed at the end and reported in the exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from canvasfill.cli.options import FillOptions
from canvasfill.cli.output import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    err,
    fail,
    print_json,
    say,
    summary,
    write,
)
from canvasfill.cli.running import process
from canvasfill.errors import CanvasfillError, ErrorCode, InputError

if TYPE_CHECKING:
    from rich.progress import Progress

    from canvasfill.engines.base import Operation
    from canvasfill.pipeline.spec import Geometry

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})


def run_folder(
    operation: Operation,
    geometry: Geometry,
    folder: Path,
    output: Path,
    mask: Path | None,
    options: FillOptions,
) -> None:
    """Fill every image in ``folder`` into the folder ``output``."""
    if output.exists() and not output.is_dir():
        fail(f"{output}: INPUT is a folder, so OUTPUT must be a folder too", EXIT_BAD_INPUT)
    if mask is not None and not mask.is_dir():
        fail(f"{mask}: with a folder of images, --mask must be a folder of masks", EXIT_BAD_INPUT)
    inputs = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not inputs:
        fail(f"{folder}: no .png, .jpg, .jpeg or .webp images in this folder", EXIT_BAD_INPUT)
    output.mkdir(parents=True, exist_ok=True)
    fmt = options.output_format(None)
    done: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    with _progress(quiet=options.as_json) as progress:
        task = progress.add_task("filling", total=len(inputs))
        for path in inputs:
            progress.update(task, description=path.name)
            try:
                item_mask = matching_mask(mask, path) if mask is not None else None
                spec = options.spec(operation, geometry, fmt)
                result = process(spec, path, item_mask)
                written = write(result, output / f"{path.stem}.{fmt.extension}", fmt)
                done.append(summary(path, written, result))
            except CanvasfillError as exc:
                failures.append(
                    {"input": str(path), "code": exc.code.value, "message": exc.message}
                )
            except OSError as exc:
                failures.append({"input": str(path), "code": "io_error", "message": str(exc)})
            progress.advance(task)
    if options.as_json:
        print_json({"items": done, "failures": failures})
    else:
        say(f"{len(done)} of {len(inputs)} images written to {output}")
        for failure in failures:
            say(
                f"failed: {failure['input']}: {failure['message']} ({failure['code']})",
                console=err,
            )
    if failures:
        raise typer.Exit(EXIT_FAILED)


def matching_mask(mask_folder: Path, image: Path) -> Path:
    """The mask in ``mask_folder`` with ``image``'s name (any image suffix)."""
    for candidate in sorted(mask_folder.iterdir()):
        if candidate.stem == image.stem and candidate.suffix.lower() in IMAGE_SUFFIXES:
            return candidate
    raise InputError(
        ErrorCode.INVALID_PARAMETER, f"no mask named {image.stem}.* in {mask_folder}", field="mask"
    )


def _progress(*, quiet: bool) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
    )
