"""``canvasfill models``: list, pull (or import), verify and locate pinned model files.

The CLI mounts ``models_app`` as its ``models`` group; everything here is a thin shell
over ``engines.models``, which does the work and the checking.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from canvasfill.engines import models
from canvasfill.errors import CanvasfillError

models_app = typer.Typer(
    name="models",
    help="Model files for the learned engines: list, pull, verify, path.",
    no_args_is_help=True,
)

_console = Console()
_errors = Console(stderr=True)


@contextmanager
def _progress_bar(description: str) -> Iterator[models.Progress]:
    """A rich download bar, handed to ``models`` as a plain (done, total) callback."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=_console, transient=False) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _fail(error: CanvasfillError) -> typer.Exit:
    _errors.print(f"[red]error:[/red] {error.message}", highlight=False)
    return typer.Exit(1)


@models_app.command("list")
def list_models() -> None:
    """Every known model: what it is, its licence, size, and whether it is here."""
    table = Table("name", "file", "size", "licence", "state", "what it is")
    for name, spec in sorted(models.MODELS.items()):
        table.add_row(
            name,
            spec.filename,
            f"{spec.size / 1e6:.1f} MB",
            spec.licence,
            models.state(name).value,
            spec.summary,
        )
    _console.print(table)
    _console.print(f"folder: {models.models_dir()}", highlight=False)


@models_app.command()
def pull(
    name: str = typer.Argument(..., help="The model to get (see `canvasfill models list`)."),
    from_file: Path | None = typer.Option(
        None,
        "--from",
        help="Import this file (downloaded elsewhere) instead of downloading.",
        exists=True,
        dir_okay=False,
    ),
) -> None:
    """Download a model (or import a file), verify its sha256, then put it in place."""
    try:
        spec = models.get_model(name)
        with _progress_bar(f"{name} ({spec.filename})") as progress:
            if from_file is None:
                path = models.pull(name, progress=progress)
            else:
                path = models.import_file(name, from_file, progress=progress)
    except CanvasfillError as error:
        raise _fail(error) from None
    _console.print(f"{name}: verified, {path}", highlight=False)


@models_app.command("verify")
def verify_models(
    name: str | None = typer.Argument(None, help="One model; all that are present if left out."),
) -> None:
    """Check size and sha256 of model files; exit 1 if any is damaged (or the named one missing)."""
    try:
        names = [models.get_model(name).name] if name else sorted(models.MODELS)
    except CanvasfillError as error:
        raise _fail(error) from None
    failed = False
    for each in names:
        result = models.verify(each)
        if result is models.ModelState.MISSING and name is None:
            _console.print(f"{each}: missing (not checked)", highlight=False)
            continue
        if result is not models.ModelState.VERIFIED:
            failed = True
            advice = f"; run `{models.pull_command(each)}`"
            _console.print(f"{each}: {result.value}{advice}", highlight=False)
        else:
            _console.print(f"{each}: ok ({models.model_path(each)})", highlight=False)
    if failed:
        raise typer.Exit(1)


@models_app.command()
def path(
    name: str | None = typer.Argument(None, help="A model's file; the folder if left out."),
) -> None:
    """Print the models folder (set with CANVASFILL_MODELS_DIR), or one model's file path."""
    try:
        where = models.model_path(name) if name else models.models_dir()
    except CanvasfillError as error:
        raise _fail(error) from None
    typer.echo(str(where))
