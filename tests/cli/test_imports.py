"""The CLI starts light: the service, the database and the heavy engines load only when used.

Each check runs in a fresh interpreter, since this test process has long imported all
of them. ``--help`` and ``canvasfill engines`` must stay fast (issue 11: under 0.3 s);
what keeps them so is that none of these modules is imported for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("alembic", "sqlalchemy", "fastapi", "uvicorn", "numba", "torch", "canvasfill.api")
SRC = Path(__file__).resolve().parents[2] / "src"

_REPORT = """
import json, sys
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


def _loaded_after(code: str) -> list[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    script = code + _REPORT.format(heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_listing_engines_imports_no_engine_module_numpy_opencv_or_pydantic() -> None:
    """``canvasfill engines`` reads the catalog: importing numpy and OpenCV just to list
    names took it to 0.8 s (issue 23: under 0.3 s), and pydantic (typer's coercion of
    the unset ``--help``, and the settings classes) most of the 0.27 s left."""
    code = """
import sys
from typer.testing import CliRunner
from canvasfill.cli import app
for args in (["engines"], ["engines", "--json"]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "sdxl-inpaint" in result.stdout
"""
    report = """
import json, sys
engines = ("base", "registry", "patch", "opencv", "lama", "migan", "diffusion.engine")
light = ("numpy", "cv2", "torch", "pydantic", "pydantic_settings", "asyncio")
print(json.dumps(sorted(name for name in sys.modules if name in light
    or name.startswith(tuple("canvasfill.engines." + module for module in engines)))))
"""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", code + report], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_engines_script_imports_no_numpy_opencv_torch_or_pydantic(tmp_path: Path) -> None:
    """The command as a user runs it (``python -m canvasfill.cli engines``, piped), in a
    fresh interpreter: what it imports is read from ``sys.modules`` at exit."""
    report = tmp_path / "modules.json"
    code = f"""
import atexit, json, runpy, sys
light = ("numpy", "cv2", "torch", "pydantic", "pydantic_settings")
atexit.register(lambda: open({str(report)!r}, "w").write(
    json.dumps(sorted(name for name in light if name in sys.modules))))
sys.argv = ["canvasfill", "engines"]
runpy.run_module("canvasfill.cli", run_name="__main__")
"""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "sdxl-inpaint" in result.stdout
    assert json.loads(report.read_text()) == []


def test_importing_the_cli_loads_nothing_heavy() -> None:
    assert _loaded_after("import canvasfill.cli") == []


@pytest.mark.parametrize(
    "args", [["--help"], ["engines"], ["engines", "--json"], ["models", "path"]]
)
def test_light_commands_load_nothing_heavy(args: list[str]) -> None:
    code = f"""
from typer.testing import CliRunner
from canvasfill.cli import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
"""
    assert _loaded_after(code) == []
