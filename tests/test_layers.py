"""Lower layers never import higher ones (DESIGN.md, "Layout"), read from the source.

Every ``import`` counts, those inside functions included: a lazy import still ties a
lower layer to a higher one. The allowed sets name canvasfill's own packages and the
leaf modules (``errors``, ``config``, ``config_sources``, ``extras``) that any layer
may use.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import canvasfill

PACKAGE = Path(canvasfill.__file__).parent
LEAVES = {"errors", "config", "config_sources", "extras"}
ALLOWED: dict[str, set[str]] = {
    "imaging": {"imaging"} | LEAVES,
    "storage": {"storage"} | LEAVES,
    "engines": {"engines", "imaging"} | LEAVES,
    "pipeline": {"pipeline", "engines", "imaging"} | LEAVES,
    "jobs": {"jobs", "pipeline", "engines", "imaging", "storage", "settings"} | LEAVES,
    "api": {"api", "jobs", "pipeline", "engines", "imaging", "storage", "settings", "web"} | LEAVES,
}


def canvasfill_imports(path: Path) -> set[str]:
    """The first part below ``canvasfill`` of every module ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "canvasfill" and len(parts) > 1:
                found.add(parts[1])
    return found


def modules_of(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_what_lies_below_it(layer: str) -> None:
    modules = modules_of(layer)
    assert modules, f"canvasfill/{layer} has no modules: the layer rules are out of date"
    breaches = {
        str(path.relative_to(PACKAGE)): sorted(canvasfill_imports(path) - ALLOWED[layer])
        for path in modules
    }
    assert {path: names for path, names in breaches.items() if names} == {}


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "upward.py"
    module.write_text("def f():\n    from canvasfill.api.doors import submit\n")
    assert canvasfill_imports(module) == {"api"}
