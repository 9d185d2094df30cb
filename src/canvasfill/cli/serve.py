"""``canvasfill serve``: run the HTTP service (native API, dialects, playground, metrics).

It prints where it listens and, on a fresh data folder (no key yet), makes a first key
and prints it once, so a newcomer can call the API straight away. A port that is taken
ends it first, before any key is made: a key shown once must not scroll past a failed
start. FastAPI, uvicorn and
the database are imported when the command runs, not when the CLI starts.
"""

from __future__ import annotations

import errno
import socket

import typer

from canvasfill.cli.output import EXIT_FAILED, fail, say


def serve(
    host: str | None = typer.Option(
        None,
        help="Address to listen on (0.0.0.0: every one) [default: CANVASFILL_HOST or 127.0.0.1].",
        show_default=False,
    ),
    port: int | None = typer.Option(
        None,
        min=1,
        max=65535,
        help="Port to listen on [default: CANVASFILL_PORT or 8000].",
        show_default=False,
    ),
    workers: int | None = typer.Option(
        None, help="Worker processes running engines (default: the setting, half the CPUs)."
    ),
) -> None:
    """Run the HTTP service: native API, result files, health and metrics."""
    import uvicorn

    from canvasfill.api.app import create_app
    from canvasfill.api.connection_guard import guarded_protocol
    from canvasfill.api.playground import playground_link
    from canvasfill.cli.engines import engines_line
    from canvasfill.cli.keys import open_key_store
    from canvasfill.jobs.logs import configure_logging
    from canvasfill.settings import Settings

    overrides: dict[str, object] = {}
    if workers is not None:
        overrides["workers"] = workers
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    host, port = settings.host, settings.port
    configure_logging(settings.log_level, settings.log_json)
    _check_port(host, port)
    keys = open_key_store(settings)
    # where to point a browser: result and callback URLs come from each request instead
    # (its Host, a trusted proxy's forwarded headers), unless CANVASFILL_PUBLIC_URL is set
    url = settings.public_url or f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
    first_key = None
    if keys.count() == 0:
        created = keys.create(name="first key")
        first_key = created.key
        say("A first API key was made (it is shown only this once):", style="bold")
        say(f"  {created.key}")
        say(f"  webhook secret: {created.record.webhook_secret}")
    say(f"canvasfill is serving at {url}  (API docs: {url}/docs)")
    say(f"playground: {playground_link(url, first_key)}")
    say(f"data folder: {settings.data_dir.resolve()}")
    say(engines_line())
    app = create_app(settings)
    # canvasfill's forwarded_allow_ips is the one list of trusted proxies (api/forwarded.py)
    # uvicorn bounds neither a slow request head nor connections per client: ours does
    http = guarded_protocol(settings.header_timeout_s, settings.connections_per_peer)
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=http,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


def _check_port(host: str, port: int) -> None:
    """End the command, in one line, when ``host:port`` cannot be bound (taken by
    another process, or not an address here); the port is free again on return.

    uvicorn binds it the same way (``SO_REUSEADDR``) a moment later; a process that
    takes the port in between still fails that bind, with uvicorn's own message.
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}", EXIT_FAILED)
    family, kind, proto, _, address = found[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            why = (
                "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            )
            fail(
                f"port {port} on {host} {why}; choose another with --port (or CANVASFILL_PORT)",
                EXIT_FAILED,
            )
