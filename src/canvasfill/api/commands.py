"""``canvasfill serve`` and ``canvasfill keys``: the service's commands (mounted in cli.py).

``serve`` prints where it listens and, on a fresh data folder (no key yet), makes a
first key and prints it once, so a newcomer can call the API straight away.
"""

from __future__ import annotations

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from canvasfill.jobs.database import make_engine, make_sessions, migrate
from canvasfill.jobs.keys import KeyStore
from canvasfill.jobs.logs import configure_logging
from canvasfill.settings import Settings

console = Console()


def _key_store(settings: Settings) -> KeyStore:
    settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return KeyStore(make_sessions(engine))


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every one)."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int | None = typer.Option(
        None, help="Worker processes running engines (default: the setting, half the CPUs)."
    ),
) -> None:
    """Run the HTTP service: native API, result files, health and metrics."""
    from canvasfill.api.app import create_app

    overrides: dict[str, object] = {}
    if workers is not None:
        overrides["workers"] = workers
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings.log_level, settings.log_json)
    keys = _key_store(settings)
    url = settings.public_url or f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
    if not settings.public_url:
        # callbacks carry result URLs too, and they have no request to take a host from
        settings = settings.model_copy(update={"public_url": url})
    if keys.count() == 0:
        created = keys.create(name="first key")
        console.print("[bold]A first API key was made (it is shown only this once):[/bold]")
        console.print(f"  {created.key}", soft_wrap=True)
        console.print(f"  webhook secret: {created.record.webhook_secret}", soft_wrap=True)
    console.print(
        f"canvasfill is serving at [bold]{url}[/bold]  (API docs: {url}/docs)", soft_wrap=True
    )
    console.print(f"data folder: {settings.data_dir.resolve()}", soft_wrap=True)
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


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
    settings = Settings()
    created = _key_store(settings).create(name=name, credits=credits)
    record = created.record
    console.print(f"key: {created.key}", soft_wrap=True, highlight=False)
    console.print(f"id: {record.id}", highlight=False)
    console.print(f"webhook secret: {record.webhook_secret}", soft_wrap=True, highlight=False)
    if kling:
        from canvasfill.api.auth import kling_secret_key

        secret = kling_secret_key(settings.secret(), record.id)
        console.print(f"kling access key: {record.id}", highlight=False)
        console.print(f"kling secret key: {secret}", soft_wrap=True, highlight=False)
    console.print("Keep the key now: it cannot be shown again.", style="dim")


@keys_app.command("list")
def list_keys() -> None:
    """Show every key: id, name, prefix, credits left and whether it is revoked."""
    table = Table("id", "name", "prefix", "credits", "created", "revoked")
    for record in _key_store(Settings()).list():
        table.add_row(
            record.id,
            record.name,
            record.prefix + "…",
            "unlimited" if record.credits is None else str(record.credits),
            record.created_at.strftime("%Y-%m-%d %H:%M"),
            record.revoked_at.strftime("%Y-%m-%d %H:%M") if record.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: str = typer.Argument(..., help="The key's id (or its prefix).")) -> None:
    """Revoke a key: requests with it are refused from now on."""
    record = _key_store(Settings()).revoke(key_id)
    if record is None:
        console.print(f"there is no key {key_id!r}; see 'canvasfill keys list'", style="red")
        raise typer.Exit(1)
    console.print(f"revoked {record.id} ({record.name or 'unnamed'})", highlight=False)
