"""``canvasfill serve`` and ``canvasfill keys``, run through the real ``canvasfill`` app."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from canvasfill.api.connection_guard import GuardedH11Protocol
from canvasfill.cli import app
from canvasfill.engines import registry
from canvasfill.engines.diffusion.loading import missing_extras
from canvasfill.jobs.database import make_engine, make_sessions
from canvasfill.jobs.keys import KeyStore

KEY = re.compile(r"cf_[A-Za-z0-9_\-]{20,}")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("CANVASFILL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CANVASFILL_PUBLIC_URL", raising=False)
    return app


def store(tmp_path: Path) -> KeyStore:
    url = f"sqlite:///{tmp_path / 'data' / 'canvasfill.db'}"
    return KeyStore(make_sessions(make_engine(url)))


def test_keys_create_list_and_revoke(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--name", "ci", "--credits", "25"])
    assert created.exit_code == 0, created.output
    key = KEY.search(created.output)
    assert key is not None
    assert "whsec_" in created.output
    record = store(tmp_path).authenticate(key.group(0))
    assert record is not None
    assert (record.name, record.credits) == ("ci", 25)

    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0
    assert record.id in listed.output
    assert "25" in listed.output
    assert key.group(0) not in listed.output  # shown once, never again

    revoked = runner.invoke(cli, ["keys", "revoke", record.id])
    assert revoked.exit_code == 0
    assert "revoked" in revoked.output
    assert store(tmp_path).authenticate(key.group(0)) is None
    unknown = runner.invoke(cli, ["keys", "revoke", "nope"])
    assert unknown.exit_code == 1
    assert unknown.stdout.strip() == "there is no key 'nope'; see 'canvasfill keys list'"


def test_keys_create_refuses_negative_credits(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["keys", "create", "--credits", "-3"])
    assert result.exit_code == 2  # click's usage error
    assert "Invalid value for '--credits'" in result.stderr
    # Typer 0.29 words the range; older ones print Click's "x>=0"
    assert "greater than or equal to 0" in result.stderr or "x>=0" in result.stderr


def test_serve_prints_the_url_and_a_first_key_once(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(app: FastAPI, **options: Any) -> None:
        assert isinstance(app, FastAPI)
        calls.append(options)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    runner = CliRunner()
    first = runner.invoke(cli, ["serve", "--port", "8123", "--workers", "1"])
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:8123" in first.output
    key = KEY.search(first.output)
    assert key is not None
    assert store(tmp_path).authenticate(key.group(0)) is not None
    [options] = calls
    # the connection guard (slow heads, connections per peer) is the HTTP protocol
    guard = options.pop("http")
    assert issubclass(guard, GuardedH11Protocol)
    assert guard.header_timeout_s == 10.0
    assert options == {
        "host": "127.0.0.1",
        "port": 8123,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
    }
    # the playground link carries the first key in its fragment, never sent to the server
    assert f"playground: http://127.0.0.1:8123/#key={key.group(0)}" in first.output

    second = runner.invoke(cli, ["serve", "--port", "8123"])
    assert second.exit_code == 0
    assert KEY.search(second.output) is None  # the data folder already has a key
    assert "playground: http://127.0.0.1:8123/\n" in second.output


def test_serve_on_a_busy_port_fails_first_and_keeps_the_first_key_for_later(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = CliRunner().invoke(cli, ["serve", "--port", str(port), "--workers", "1"])
    assert busy.exit_code == 1
    assert busy.stdout == ""  # no key shown (and lost), no URL
    [line] = busy.stderr.splitlines()
    assert f"port {port} on 127.0.0.1 is in use" in line
    assert "--port" in line
    assert started == []
    assert not (tmp_path / "data" / "canvasfill.db").exists()  # nothing made yet

    free = CliRunner().invoke(cli, ["serve", "--port", str(port), "--workers", "1"])
    assert free.exit_code == 0, free.output
    key = KEY.search(free.output)  # the first key, shown once, on the start that works
    assert key is not None
    assert store(tmp_path).authenticate(key.group(0)) is not None


def test_serve_listens_where_the_settings_say_unless_an_option_says_otherwise(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.setenv("CANVASFILL_HOST", "127.0.0.1")
    monkeypatch.setenv("CANVASFILL_PORT", "8124")
    from_settings = CliRunner().invoke(cli, ["serve", "--workers", "1"])
    assert from_settings.exit_code == 0, from_settings.output
    assert "serving at http://127.0.0.1:8124" in from_settings.output
    from_option = CliRunner().invoke(cli, ["serve", "--port", "8125"])
    assert from_option.exit_code == 0, from_option.output
    assert [(call["host"], call["port"]) for call in calls] == [
        ("127.0.0.1", 8124),
        ("127.0.0.1", 8125),
    ]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_serve_passes_port_and_host_given_on_its_command_line() -> None:
    root = Path(__file__).parent.parent.parent

    def serve_line(*args: str, **env: str) -> str:
        dry = subprocess.run(
            ["make", "-n", "-C", str(root), "serve", *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        [line] = [line for line in dry.stdout.splitlines() if "canvasfill serve" in line]
        return line.split("canvasfill serve", 1)[1]

    assert serve_line("PORT=9000") == " --port 9000"
    assert serve_line("PORT=9000", "HOST=0.0.0.0") == " --host 0.0.0.0 --port 9000"
    # a HOST or PORT the shell exports for something else is not taken for these
    assert serve_line(HOST="workstation", PORT="5000") == ""


def test_keys_credits_tops_up_a_limited_key(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--credits", "2"])
    key_id = re.search(r"^id: (\S+)$", created.output, re.M)
    assert key_id is not None
    topped = runner.invoke(cli, ["keys", "credits", key_id.group(1), "--add", "5"])
    assert topped.exit_code == 0, topped.output
    assert topped.stdout.strip() == f"{key_id.group(1)} now has 7 credits"
    record = store(tmp_path).get(key_id.group(1))
    assert record is not None
    assert record.credits == 7
    unknown = runner.invoke(cli, ["keys", "credits", "nope", "--add", "1"])
    assert unknown.exit_code == 1
    assert unknown.stdout.strip() == "there is no key 'nope'; see 'canvasfill keys list'"
    unlimited = runner.invoke(cli, ["keys", "create"])
    unlimited_id = re.search(r"^id: (\S+)$", unlimited.output, re.M)
    assert unlimited_id is not None
    same = runner.invoke(cli, ["keys", "credits", unlimited_id.group(1), "--add", "3"])
    assert same.stdout.strip() == f"{unlimited_id.group(1)} has unlimited credits; nothing to add"


def test_worker_without_a_broker_says_what_to_set(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CANVASFILL_BROKER_URL", raising=False)
    result = CliRunner().invoke(cli, ["worker", "--queues", "cpu"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: canvasfill worker needs CANVASFILL_BROKER_URL (redis://host:6379/0)"
    )


def test_worker_refuses_an_unknown_queue(cli: typer.Typer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVASFILL_BROKER_URL", "redis://127.0.0.1:6379/15")
    result = CliRunner().invoke(cli, ["worker", "--queues", "cpu,tpu"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: queues must be cpu and/or gpu (got cpu, tpu)"


@pytest.mark.skipif(bool(missing_extras()), reason="sdxl-inpaint needs the diffusion extra")
def test_serve_says_which_engines_run_here_and_how_to_get_more(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)
    monkeypatch.chdir(tmp_path)  # no canvasfill.toml naming a model
    for name in ("CANVASFILL_SD_INPAINT_MODEL", "CANVASFILL_SDXL_INPAINT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CANVASFILL_FLUX_FILL_MODEL", raising=False)
    monkeypatch.setenv("CANVASFILL_MODELS_DIR", str(tmp_path / "no-models"))
    # other test modules register engines of their own when imported: list canvasfill's
    registry.all_engines()
    ours = {n: c for n, c in registry._classes.items() if c.__module__.startswith("canvasfill.")}
    monkeypatch.setattr(registry, "_classes", ours)
    port = str(_free_port())
    result = CliRunner().invoke(cli, ["serve", "--port", port, "--workers", "1"])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("engines here:")]
    assert line.startswith("engines here: ns, patch, telea;")
    assert "`canvasfill models pull migan` for learned removal" in line
    assert "for prompts" in line

    (tmp_path / "sdxl").mkdir()
    monkeypatch.setenv("CANVASFILL_SDXL_INPAINT_MODEL", str(tmp_path / "sdxl"))
    monkeypatch.setenv("CANVASFILL_DIFFUSION_DEVICE", "cpu")
    again = CliRunner().invoke(cli, ["serve", "--port", port])
    [line] = [line for line in again.stdout.splitlines() if line.startswith("engines here:")]
    assert "sdxl-inpaint" in line.split(";")[0]
    assert "for prompts" not in line


def _free_port() -> int:
    """A port the OS has just handed out (serve checks it is free before starting)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
