"""``canvasfill engines``: which engines run here, what they need, what they honour.

The built-in engines are listed from their declarations (``engines/catalog.py``), not by
importing them: their modules load numpy and OpenCV, which would make this newcomer's
command take most of a second. Plugins (the ``canvasfill.engines`` entry points), and
engines registered in this process, are imported and asked as the server asks them.
For the diffusion engines the weights column shows the model the settings name
(environment or ``canvasfill.toml``), or the variable to set when none is, so an
operator sees what would load.

A table for a person on a terminal (wrapped to its width); piped or redirected, every
cell is printed whole, one line per engine, so ``grep`` and ``cut`` see full names.
"""

from __future__ import annotations

import sys
from typing import Any

from canvasfill.cli.options import JsonOpt
from canvasfill.cli.output import cell, guarded, out, print_json

_UNWRAPPED = 100_000
"""The width a table is laid out in when no terminal limits it: wide enough for any
row, and rich lays a table out at its natural width, not this one."""


def engines(as_json: JsonOpt = False) -> None:
    """List engines: whether each runs here, what it needs and which parameters it honours."""
    from rich.console import Console
    from rich.table import Table

    rows = guarded(_rows)  # a config file named but missing: one line, exit 2
    if as_json:
        print_json(rows)
        return
    table = Table(title="canvasfill engines")
    table.add_column("engine", no_wrap=True)
    for column in ("available", "runs on", "weights", "honours", "what it is"):
        table.add_column(column, overflow="fold")
    for row in rows:
        available = "yes" if row["available"] else f"no: {row['reason']}"
        table.add_row(
            cell(row["name"]),
            cell(available),
            cell(row["hardware"]),
            cell(_weights(row)),
            cell(", ".join(row["honours"]) or "-"),
            cell(row["summary"]),
        )
    # Console.print's own width= is capped at the console's: a wider console is needed
    console = out if out.is_terminal else Console(width=_UNWRAPPED, soft_wrap=True)
    console.print(table)


def engines_line() -> str:
    """One line for ``serve`` to print at start: which engines run here, how to get more.

    A newcomer otherwise learns of learned removal and prompts only by finding
    ``canvasfill engines``; this names the one command (or extra) that adds each.
    """
    rows = _rows()
    here = [row["name"] for row in rows if row["available"]]
    more = []
    missing = {row["name"]: row for row in rows if not row["available"]}
    learned = [name for name in ("migan", "lama") if name in missing]
    if learned:
        more.append(f"`canvasfill models pull {learned[0]}` for learned removal")
    if not any(row["model_env"] is not None and row["available"] for row in rows):
        from canvasfill.engines.diffusion.loading import INSTALL_HINT, missing_extras

        extra = f"`{INSTALL_HINT}`, " if missing_extras() else ""
        more.append(f"{extra}a GPU and a model (CANVASFILL_SDXL_INPAINT_MODEL...) for prompts")
    line = f"engines here: {', '.join(here) or 'none'}"
    if more:
        line += f"; for more: {'; '.join(more)} (see `canvasfill engines`)"
    return line


def _weights(row: dict[str, Any]) -> str:
    """What the engine loads: pinned models, or a diffusion engine's model setting."""
    if row["model_env"] is not None:
        return row["model"] or f"none set ({row['model_env']})"
    return ", ".join(row["weights"]) or "none needed"


def _rows() -> list[dict[str, Any]]:
    from canvasfill.engines.catalog import BUILT_IN

    rows = [_declared_row(declared) for declared in BUILT_IN]
    known = {row["name"] for row in rows}
    rows.extend(_engine_row(engine) for engine in _other_engines() if engine.name not in known)
    return sorted(rows, key=lambda row: str(row["name"]))


def _declared_row(declared: Any) -> dict[str, Any]:
    reason = declared.unavailable()
    setting = declared.model_setting()
    return {
        "name": declared.name,
        "available": not reason,
        "reason": reason,
        "hardware": declared.hardware,
        "weights": list(declared.weights),
        "model": (setting[1] or None) if setting else None,
        "model_env": setting[0] if setting else None,
        "honours": sorted(declared.honours),
        "summary": declared.summary,
    }


def _other_engines() -> list[Any]:
    """Engines beyond the declared ones: plugins, or classes registered in this process.

    Only then is the registry (and with it numpy) imported: a plain install lists its
    engines without it.
    """
    from importlib.metadata import entry_points  # 20 ms: not for every command's start

    from canvasfill.engines.catalog import ENTRY_POINT_GROUP

    if not entry_points(group=ENTRY_POINT_GROUP) and "canvasfill.engines.registry" not in (
        sys.modules
    ):
        return []
    from canvasfill.engines.registry import all_engines

    return all_engines()


def _engine_row(engine: Any) -> dict[str, Any]:
    availability = engine.availability()
    return {
        "name": engine.name,
        "available": availability.available,
        "reason": availability.reason,
        "hardware": engine.hardware.value,
        "weights": list(engine.weights),
        "model": None,
        "model_env": None,
        "honours": sorted(param.value for param in engine.honours),
        "summary": engine.summary,
    }
