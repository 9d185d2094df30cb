"""``canvasfill keys``: create, list, revoke and top up API keys in the service's database.

The database (SQLAlchemy, alembic migrations) is opened inside each command, so the
rest of the CLI starts without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from canvasfill.cli.output import EXIT_FAILED, cell, out, say

if TYPE_CHECKING:
    from canvasfill.jobs.keys import KeyStore
    from canvasfill.settings import Settings

keys_app = typer.Typer(help="Create, list, revoke and top up API keys.", no_args_is_help=True)


def open_key_store(settings: Settings) -> KeyStore:
    """The key store of ``settings``' database, migrated to the current schema first."""
    from canvasfill.jobs.database import make_engine, make_sessions, migrate
    from canvasfill.jobs.keys import KeyStore

    settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return KeyStore(make_sessions(engine))


@keys_app.command("create")
def create_key(
    name: str = typer.Option("", help="A label to tell keys apart."),
    credits: int | None = typer.Option(
        None, min=0, help="Credits the key may spend (default: unlimited)."
    ),
    kling: bool = typer.Option(
        False, "--kling", help="Also print the Kling access key + secret key pair for JWTs."
    ),
) -> None:
    """Make a new key and print it (once: only its hash is kept)."""
    from canvasfill.settings import Settings

    settings = Settings()
    created = open_key_store(settings).create(name=name, credits=credits)
    record = created.record
    say(f"key: {created.key}")
    say(f"id: {record.id}")
    say(f"webhook secret: {record.webhook_secret}")
    if kling:
        from canvasfill.api.auth import kling_secret_key

        secret = kling_secret_key(settings.secret(), record.id)
        say(f"kling access key: {record.id}")
        say(f"kling secret key: {secret}")
    say("Keep the key now: it cannot be shown again.", style="dim")


@keys_app.command("list")
def list_keys() -> None:
    """Show every key: id, name, prefix, credits left and whether it is revoked."""
    from rich.table import Table

    from canvasfill.settings import Settings

    table = Table("id", "name", "prefix", "credits", "created", "revoked")
    for record in open_key_store(Settings()).list():
        table.add_row(
            cell(record.id),
            cell(record.name),
            cell(record.prefix + "…"),
            cell("unlimited" if record.credits is None else record.credits),
            cell(record.created_at.strftime("%Y-%m-%d %H:%M")),
            cell(record.revoked_at.strftime("%Y-%m-%d %H:%M") if record.revoked_at else ""),
        )
    out.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: str = typer.Argument(..., help="The key's id (or its prefix).")) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from canvasfill.settings import Settings

    record = open_key_store(Settings()).revoke(key_id)
    if record is None:
        say(f"there is no key {key_id!r}; see 'canvasfill keys list'", style="red")
        raise typer.Exit(EXIT_FAILED)
    say(f"revoked {record.id} ({record.name or 'unnamed'})")


@keys_app.command("credits")
def add_credits(
    key_id: str = typer.Argument(..., help="The key's id (or its prefix)."),
    add: int = typer.Option(..., "--add", min=1, help="Credits to add to the key's balance."),
) -> None:
    """Add credits to a key (what a 402 "insufficient credits" answer asks for)."""
    from canvasfill.settings import Settings

    record = open_key_store(Settings()).add_credits(key_id, add)
    if record is None:
        say(f"there is no key {key_id!r}; see 'canvasfill keys list'", style="red")
        raise typer.Exit(EXIT_FAILED)
    if record.credits is None:
        say(f"{record.id} has unlimited credits; nothing to add")
        return
    say(f"{record.id} now has {record.credits} credits")
