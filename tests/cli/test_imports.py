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
