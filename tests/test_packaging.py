"""Packaging (issue 24): a core without the extras' modules, one version, extras named.

The core install is the Python API and ``canvasfill expand``/``remove`` on the classical
engines: running them must import no web, database, ONNX or diffusion module, and a
command that needs an extra says which one, in one line. The slow test builds a fresh
virtual environment with the core alone and runs both there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

import canvasfill
from canvasfill.cli import app
from canvasfill.extras import EXTRA_OF, missing_extra

ROOT = Path(__file__).resolve().parents[1]

# what the core must never import (each an extra's); checked by top-level module name
EXTRA_MODULES = sorted(EXTRA_OF)

# run by a fresh interpreter: the Python API, then the CLI's expand and remove, in one
# process; prints the extras' modules that got imported (there must be none)
CORE_RUN = """
import json, sys
from pathlib import Path
import canvasfill
from canvasfill.cli import main
from canvasfill.sample import sample_photo
from PIL import Image

folder, extras = Path(sys.argv[1]), set(json.loads(sys.argv[2]))
result = canvasfill.expand(sample_photo(96, 64, seed=2), left=0.25, right=0.25, seed=1)
assert result.images[0].size == (144, 64), result.images[0].size
Image.fromarray(sample_photo(96, 64, seed=2)).save(folder / "in.png")
mask = Image.new("L", (96, 64)); mask.paste(255, (40, 20, 56, 40)); mask.save(folder / "m.png")
for argv in (
    ["expand", str(folder / "in.png"), "-o", str(folder / "wide.png"), "--left", "0.25"],
    ["remove", str(folder / "in.png"), "-o", str(folder / "clean.png"),
     "--mask", str(folder / "m.png")],
):
    sys.argv = ["canvasfill", *argv]
    try:
        main()
    except SystemExit as stop:
        assert not stop.code, (argv, stop.code)
print(json.dumps({
    "imported": sorted({m.split(".")[0] for m in sys.modules} & extras),
    "wide": Image.open(folder / "wide.png").size,
    "clean": Image.open(folder / "clean.png").size,
}))
"""


def _run_core(python: str, folder: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [python, "-c", CORE_RUN, str(folder), json.dumps(EXTRA_MODULES)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_the_core_paths_import_no_extra(tmp_path: Path) -> None:
    answer = _run_core(sys.executable, tmp_path)
    assert answer == {"imported": [], "wide": [120, 64], "clean": [96, 64]}


def test_a_missing_extra_is_named_in_one_line() -> None:
    # the server's modules made unimportable, as in a core-only install
    blocked = (
        "import sys\nfor name in ('uvicorn', 'fastapi', 'sqlalchemy'): sys.modules[name] = None\n"
    )
    for command, extra in (("serve", "server"), ("keys", "server")):
        argv = [command, "list"] if command == "keys" else [command]
        run = f"sys.argv = ['canvasfill', *{argv!r}]\nfrom canvasfill.cli import main\nmain()"
        code = blocked + run
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert f"pip install 'canvasfill[{extra}]'" in lines[0]


def test_extras_map_modules_to_what_pyproject_declares() -> None:
    error = ModuleNotFoundError("No module named 'onnxruntime'", name="onnxruntime")
    message = missing_extra(error)
    assert message is not None
    assert "canvasfill[onnx]" in message
    assert "canvasfill[onnx-gpu]" in message  # the GPU build is the alternative
    other = ModuleNotFoundError("No module named 'nothing_of_ours'", name="nothing_of_ours")
    assert missing_extra(other) is None
    pyproject = (ROOT / "pyproject.toml").read_text()
    for extra in set(EXTRA_OF.values()):
        assert f"\n{extra} = [" in pyproject, extra


def test_the_version_is_the_installed_distributions() -> None:
    assert canvasfill.__version__ == version("canvasfill")
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"canvasfill {canvasfill.__version__}"


def _installer(python: str) -> list[str]:
    """uv's pip when the test stack has it (a tenth of pip's minute in CI), else pip."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    return [find_uv_bin(), "pip", "install", "-q", "--python", python]


@pytest.mark.slow
def test_a_fresh_core_install_expands_without_the_extras(tmp_path: Path) -> None:
    """``pip install canvasfill`` alone, in a new venv from the package registries."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [*_installer(python), str(ROOT)], capture_output=True, text=True, timeout=900, env=environ
    )
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        check=True,
    )
    names = {entry["name"].lower() for entry in json.loads(listed.stdout)}
    assert "canvasfill" in names
    assert not names & {"fastapi", "starlette", "uvicorn", "sqlalchemy", "onnxruntime", "torch"}
    work = tmp_path / "work"
    work.mkdir()
    answer = _run_core(python, work, environ)
    assert answer == {"imported": [], "wide": [120, 64], "clean": [96, 64]}
