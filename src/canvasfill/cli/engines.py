"""``canvasfill engines``: which engines run here, what they need, what they honour.

Discovery imports every engine module, which is cheap by design (heavy libraries load
inside functions); for the diffusion engines the weights column shows the model the
settings name (environment or ``canvasfill.toml``), so an operator sees what would
load.
"""

from __future__ import annotations

from typing import Any

from canvasfill.cli.options import JsonOpt
from canvasfill.cli.output import cell, guarded, out, print_json


def engines(as_json: JsonOpt = False) -> None:
    """List engines: whether each runs here, what it needs and which parameters it honours."""
    from rich.table import Table

    rows = guarded(_rows)  # a config file named but missing: one line, exit 2
    if as_json:
        print_json(rows)
        return
    table = Table(title="canvasfill engines")
    for column in ("engine", "available", "runs on", "weights", "honours", "what it is"):
        table.add_column(column)
    for row in rows:
        available = "yes" if row["available"] else f"no: {row['reason']}"
        weights = [*row["weights"], *([row["model"]] if row["model"] else [])]
        table.add_row(
            cell(row["name"]),
            cell(available),
            cell(row["hardware"]),
            cell(", ".join(weights) or "none"),
            cell(", ".join(row["honours"]) or "-"),
            cell(row["summary"]),
        )
    out.print(table)


def _rows() -> list[dict[str, Any]]:
    from canvasfill.engines.diffusion import DiffusionEngine
    from canvasfill.engines.registry import all_engines

    rows = []
    for engine in all_engines():
        availability = engine.availability()
        model = engine.model_source() if isinstance(engine, DiffusionEngine) else ""
        rows.append(
            {
                "name": engine.name,
                "available": availability.available,
                "reason": availability.reason,
                "hardware": engine.hardware.value,
                "weights": list(engine.weights),
                "model": model or None,
                "honours": sorted(param.value for param in engine.honours),
                "summary": engine.summary,
            }
        )
    return rows
