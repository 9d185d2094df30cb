"""What the CLI prints and how it ends: plain text, summaries, files written, exit codes.

Every message goes through here so that it is printed as text, never read as rich
markup: a message such as ``pip install 'canvasfill[diffusion]'`` or a path with
brackets in it must reach the terminal as written (rich would take ``[diffusion]`` for
a style and drop it). Expected failures end as one line on stderr and an exit code,
never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from canvasfill.errors import CanvasfillError, ErrorCode, InputError

if TYPE_CHECKING:
    from canvasfill.imaging.encode import OutputFormat
    from canvasfill.pipeline.run import JobOutput

T = TypeVar("T")

EXIT_FAILED = 1
"""The work was tried and failed (an engine failed, a batch had failures)."""
EXIT_BAD_INPUT = 2
"""The caller can fix it: bad arguments, files or engine names (as click's usage errors)."""

_CALLER_ENGINE_ERRORS = frozenset({ErrorCode.ENGINE_NOT_FOUND, ErrorCode.ENGINE_UNAVAILABLE})

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def say(message: str, *, console: Console = out, style: str | None = None) -> None:
    """Print ``message`` exactly as written (no markup, no highlighting)."""
    console.print(message, markup=False, highlight=False, style=style)


def cell(value: object) -> Text:
    """A table cell holding ``value`` as plain text (rich parses bare strings as markup)."""
    return Text(str(value))


def fail(message: str, code: int) -> NoReturn:
    """``error: message`` on stderr, then exit with ``code``."""
    err.print(Text.assemble(("error:", "red"), " ", message), highlight=False)
    raise typer.Exit(code)


def fail_usage(message: str) -> NoReturn:
    fail(message, EXIT_BAD_INPUT)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; turn expected failures into one line on stderr and an exit code."""
    try:
        return action()
    except CanvasfillError as exc:
        caller_can_fix = isinstance(exc, InputError) or exc.code in _CALLER_ENGINE_ERRORS
        fail(f"{exc.message} ({exc.code.value})", EXIT_BAD_INPUT if caller_can_fix else EXIT_FAILED)
    except OSError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def write(result: JobOutput, output: Path, fmt: OutputFormat) -> list[Path]:
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


def summary(source: Path, written: list[Path], result: JobOutput) -> dict[str, Any]:
    """One input's result as JSON-ready data (``--json`` prints it, a batch lists them)."""
    return {
        "input": str(source),
        "outputs": [str(path) for path in written],
        "sizes": [[image.width, image.height] for image in result.images],
        "engine": result.engine,
        "seed": result.seed,
        "ignored": sorted(param.value for param in result.ignored),
        "seconds": round(result.seconds, 3),
    }


def print_json(data: object) -> None:
    out.print_json(data=data)
