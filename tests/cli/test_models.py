"""``canvasfill models``: list, pull (download or --from), verify, path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canvasfill.cli.models import models_app
from canvasfill.engines import models
from tests.engines.onnx_graphs import isolate_models, pin_payload

PAYLOAD = b"not really weights, " * 5000
runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = isolate_models(tmp_path, monkeypatch)
    pin_payload(monkeypatch, "migan", PAYLOAD, filename="migan_pipeline_v2.onnx", licence="MIT")
    return folder


@pytest.fixture
def serving(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/migan_pipeline_v2.onnx"
    spec = models.MODELS["migan"]
    monkeypatch.setitem(models.MODELS, "migan", replace(spec, url=url))
    try:
        yield url
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_path_prints_the_folder_and_a_models_file(folder: Path) -> None:
    assert runner.invoke(models_app, ["path"]).stdout.strip() == str(folder)
    result = runner.invoke(models_app, ["path", "lama"])
    assert result.stdout.strip() == str(folder / "lama_fp32.onnx")


def test_list_shows_every_model_its_licence_and_whether_it_is_here(folder: Path) -> None:
    result = runner.invoke(models_app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for expected in ("migan", "lama", "MIT", "Apache-2.0", "missing", str(folder)):
        assert expected in result.stdout


def test_pull_downloads_with_a_progress_bar_and_verifies(serving: str, folder: Path) -> None:
    result = runner.invoke(models_app, ["pull", "migan"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "migan (migan_pipeline_v2.onnx)" in result.stdout, "the progress bar's label"
    assert "verified" in result.stdout
    assert (folder / "migan_pipeline_v2.onnx").read_bytes() == PAYLOAD
    listed = runner.invoke(models_app, ["list"], env={"COLUMNS": "200"})
    assert "verified" in listed.stdout


def test_pull_offline_fails_fast_and_tells_how_to_import(folder: Path) -> None:
    result = runner.invoke(models_app, ["pull", "migan"])
    assert result.exit_code == 1
    assert "canvasfill models pull migan --from FILE" in " ".join(result.stderr.split())


def test_pull_from_a_file_imports_it_and_refuses_a_wrong_one(folder: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.onnx"
    wrong.write_bytes(PAYLOAD[:-1] + b"!")
    result = runner.invoke(models_app, ["pull", "migan", "--from", str(wrong)])
    assert result.exit_code == 1
    assert "sha256" in result.stderr
    assert not (folder / "migan_pipeline_v2.onnx").exists()

    right = tmp_path / "right.onnx"
    right.write_bytes(PAYLOAD)
    result = runner.invoke(models_app, ["pull", "migan", "--from", str(right)])
    assert result.exit_code == 0, result.output
    assert (folder / "migan_pipeline_v2.onnx").read_bytes() == PAYLOAD


def test_verify_reports_ok_missing_and_damaged_files(folder: Path, tmp_path: Path) -> None:
    source = tmp_path / "right.onnx"
    source.write_bytes(PAYLOAD)
    models.import_file("migan", source)
    result = runner.invoke(models_app, ["verify"])
    assert result.exit_code == 0
    assert "migan: ok" in result.stdout
    assert "lama: missing" in result.stdout
    assert runner.invoke(models_app, ["verify", "lama"]).exit_code == 1

    target = folder / "migan_pipeline_v2.onnx"
    target.write_bytes(b"X" + PAYLOAD[1:])
    models._verified.clear()
    result = runner.invoke(models_app, ["verify", "migan"])
    assert result.exit_code == 1
    assert "migan: corrupt" in result.stdout
    assert "canvasfill models pull migan" in result.stdout


def test_an_unknown_model_is_an_error(folder: Path) -> None:
    result = runner.invoke(models_app, ["pull", "nope"])
    assert result.exit_code == 1
    assert "no model named 'nope'" in result.stderr


def test_list_shows_each_models_pinned_url_and_sha256(folder: Path) -> None:
    result = runner.invoke(models_app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name, spec in models.MODELS.items():
        assert f"{name}: {spec.url}" in result.stdout
        assert f"sha256 {spec.sha256}" in result.stdout


def test_list_as_json(folder: Path) -> None:
    result = runner.invoke(models_app, ["list", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert listed["folder"] == str(folder)
    rows = {row["name"]: row for row in listed["models"]}
    assert sorted(rows) == sorted(models.MODELS)
    lama = models.MODELS["lama"]
    assert rows["lama"]["url"] == lama.url
    assert rows["lama"]["sha256"] == lama.sha256
    assert rows["lama"]["size"] == lama.size
    assert rows["lama"]["state"] == "missing"
    assert rows["lama"]["path"] == str(folder / lama.filename)
    assert rows["migan"]["licence"] == "MIT"
