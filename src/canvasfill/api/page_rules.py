"""What the playground checks before it sends, taken from the doors' own declarations.

The page refuses what the server would refuse and writes "copy as code" commands only
with values each door accepts. Rather than copy numbers into JavaScript, it reads this
document: every registered door's request fields (the models its ``Create`` operations
declare, which are also what OpenAPI shows and what the doors' readers check) and its
image limits (``imaging/limits.py``). Changing a declaration changes the page.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel

from canvasfill.api.door import DOORS, Create
from canvasfill.engines.base import SEED_MAX
from canvasfill.imaging.limits import BY_NAME, ImageLimits

KEPT = (
    "type",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "enum",
    "default",
    "const",
)
"""The JSON-schema words a field rule keeps: its type, range, length and choices."""


def field_rules(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Each field of ``model`` as ``{type, minimum, maximum, ..., required}``, with
    references resolved, ``X | None`` read as an optional X, and an object's (or a list of
    objects') own fields under ``fields``."""
    schema = model.model_json_schema()
    defs: Mapping[str, Any] = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    return {
        name: {**_rule(prop, defs), "required": name in required}
        for name, prop in schema.get("properties", {}).items()
    }


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """``prop`` with ``$ref`` replaced by its definition and ``anyOf [X, null]`` by X."""
    merged = dict(prop)
    ref = merged.pop("$ref", None)
    if isinstance(ref, str):
        merged = {**defs[ref.rsplit("/", 1)[-1]], **merged}
    options = merged.pop("anyOf", None)
    if isinstance(options, list):
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            merged = {**_resolve(kept[0], defs), **merged}
    return merged


def _rule(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    resolved = _resolve(prop, defs)
    rule = {word: resolved[word] for word in KEPT if word in resolved}
    if resolved.get("format") == "binary":
        rule["type"] = "file"
    properties = resolved.get("properties")
    items = resolved.get("items")
    if isinstance(items, Mapping):
        properties = _resolve(items, defs).get("properties")
    if isinstance(properties, Mapping):
        rule["fields"] = {name: _rule(sub, defs) for name, sub in properties.items()}
    return rule


def image_rules(limits: ImageLimits) -> dict[str, Any]:
    """A door's image limits, formats as the page's sniffer names them (lower case)."""
    rules = asdict(limits)
    rules["formats"] = sorted(fmt.lower() for fmt in limits.formats)
    return rules


def page_rules() -> dict[str, Any]:
    """Every door: its image limits and, per create path, its fields' rules."""
    doors: dict[str, Any] = {}
    for name, door in sorted(DOORS.items()):
        creates = {
            op.path: field_rules(op.fields)
            for op in door.operations
            if isinstance(op, Create) and op.fields is not None
        }
        if not creates:
            continue
        limits = BY_NAME.get(name)
        doors[name] = {
            "image": image_rules(limits) if limits is not None else None,
            "paths": creates,
        }
    return {"seed_max": SEED_MAX, "doors": doors}


def rules_json() -> bytes:
    """``page_rules()`` as JSON, built once per set of registered doors (about 30 ms of
    schema work that every page load would otherwise repeat)."""
    return _rules_json(tuple(sorted(DOORS)))


@functools.cache
def _rules_json(_doors: tuple[str, ...]) -> bytes:
    return json.dumps(page_rules(), separators=(",", ":")).encode("utf-8")
