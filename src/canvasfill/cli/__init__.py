"""The ``canvasfill`` command: fill files or folders, list engines and models, run the service.

One module per command group: :mod:`.fill` (``expand``, ``remove``, sharing
:class:`~canvasfill.cli.options.FillOptions`), :mod:`.batch` (folders),
:mod:`.running` (one file), :mod:`.output` (printing, files written, exit codes),
:mod:`.help` (the placeholders ``--help`` shows), :mod:`.engines`, :mod:`.demo`,
:mod:`.serve`, :mod:`.worker`, :mod:`.keys` and :mod:`.models`.

Importing this package imports typer and the command declarations only: each command
imports what it needs (the pipeline, the database, FastAPI, torch through an engine)
when it runs, so ``canvasfill --help`` and ``canvasfill engines`` start in a fraction
of a second. A test keeps it so (``tests/cli/test_imports.py``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from canvasfill import __version__
from canvasfill.cli.demo import demo
from canvasfill.cli.engines import engines
from canvasfill.cli.fill import expand, remove
from canvasfill.cli.help import plain_help
from canvasfill.cli.keys import keys_app
from canvasfill.cli.models import models_app
from canvasfill.cli.output import EXIT_FAILED
from canvasfill.cli.serve import serve
from canvasfill.cli.worker import worker
from canvasfill.extras import missing_extra

app = typer.Typer(
    name="canvasfill",
    help="Self-hosted image expansion (outpainting) and object removal (inpainting).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"canvasfill {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Self-hosted image expansion (outpainting) and object removal (inpainting)."""


app.command("serve")(serve)
app.command("worker")(worker)
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
app.command()(expand)
app.command()(remove)
app.command()(engines)
app.command()(demo)
plain_help(app)  # after every command is declared: INPUT and PATH, not {INPUT} and <path>


def main() -> None:
    """Entry point of the ``canvasfill`` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except ModuleNotFoundError as error:
        # a command of an extra that is not installed: one line naming the extra
        message = missing_extra(error)
        if message is None:
            raise
        print(f"Error: {message}", file=sys.stderr)
        sys.exit(EXIT_FAILED)


__all__ = ["app", "main"]
