"""Request fields declared once, and read the way the hosted APIs do: typed, ranged,
defaulted.

A dialect declares each field as a :class:`Field` (name, kind, default, range,
description). The same declaration is what :meth:`FieldReader.read` checks, what
:func:`fields_model` turns into the pydantic model that documents the door's body in
OpenAPI, and so what a client (the playground) can read as the door's limits. Every
refusal is an ``InputError`` naming the field and the range, so each dialect can render
it in its own error shape without knowing which check failed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import pydantic
from pydantic import BaseModel

from canvasfill.errors import ErrorCode, InputError


class Kind(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    TEXT = "text"
    CHOICE = "choice"
    FILE = "file"
    """An uploaded file (documented; read from the body's files, not by the reader)."""
    OBJECT = "object"
    """A JSON object (documented; the dialect checks its shape)."""


@dataclass(frozen=True)
class Field:
    """One request field of a door, declared once for parsing, docs and limits."""

    name: str
    kind: Kind
    default: Any = None
    """Used when the field is absent or empty; None with ``required`` False: the field is
    optional and absent means "the engine's own default"."""
    minimum: float | None = None
    maximum: float | None = None
    minimum_exclusive: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    description: str = ""


def _missing(name: str) -> InputError:
    return InputError(ErrorCode.MISSING_PARAMETER, f"{name} is required", field=name)


def _invalid(name: str, expectation: str, raw: object) -> InputError:
    return InputError(
        ErrorCode.INVALID_PARAMETER, f"{name} must be {expectation} (got {raw!r})", field=name
    )


class FieldReader:
    """Typed access to a request's fields (multipart form values or a JSON object).

    Empty strings count as absent, as form clients send them for unset inputs.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def read(self, field: Field) -> Any:
        """``field``'s value, checked as it declares."""
        name, low, high = field.name, field.minimum, field.maximum
        optional = field.default is None and not field.required
        if field.kind is Kind.NUMBER:
            if optional:
                return self.optional_number(name, minimum=low, maximum=high)
            exclusive = field.minimum_exclusive
            return self.number(
                name, field.default, minimum=low, maximum=high, minimum_exclusive=exclusive
            )
        if field.kind is Kind.INTEGER:
            low_int = None if low is None else int(low)
            high_int = None if high is None else int(high)
            if optional:
                return self.optional_integer(name, minimum=low_int, maximum=high_int)
            return self.integer(name, field.default, minimum=low_int, maximum=high_int)
        if field.kind is Kind.CHOICE:
            return self.choice(name, field.default, field.choices)
        if field.kind is Kind.TEXT:
            return self.text(name, field.default or "", max_length=field.max_length)
        raise ValueError(f"{name} is a {field.kind.value}: the dialect reads it itself")

    def present(self, name: str) -> bool:
        return self._values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def number(
        self,
        name: str,
        default: float | None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        minimum_exclusive: bool = False,
    ) -> float:
        """A float in [minimum, maximum] (or (minimum, maximum] when exclusive)."""
        raw = self._values.get(name)
        if raw in (None, ""):
            if default is None:
                raise _missing(name)
            return default
        expectation = _range_text("a number", minimum, maximum, minimum_exclusive)
        if isinstance(raw, bool):
            raise _invalid(name, expectation, raw)
        try:
            value = float(raw)
        except (TypeError, ValueError, OverflowError):  # 10**400 overflows a float
            raise _invalid(name, expectation, raw) from None
        if not math.isfinite(value):
            raise _invalid(name, expectation, raw)
        below = minimum is not None and (value <= minimum if minimum_exclusive else value < minimum)
        if below or (maximum is not None and value > maximum):
            raise _invalid(name, expectation, raw)
        return value

    def optional_number(
        self, name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float | None:
        """A ranged float, or None when the caller left it out (engine default applies)."""
        if not self.present(name):
            return None
        return self.number(name, None, minimum=minimum, maximum=maximum)

    def optional_integer(
        self, name: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        """A ranged integer, or None when the caller left it out (engine default applies)."""
        if not self.present(name):
            return None
        return self.integer(name, None, minimum=minimum, maximum=maximum)

    def integer(
        self,
        name: str,
        default: int | None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        """An integer in [minimum, maximum]; "3.0" is accepted, "3.5" is not."""
        raw = self._values.get(name)
        if raw in (None, ""):
            if default is None:
                raise _missing(name)
            return default
        expectation = _range_text("an integer", minimum, maximum, False)
        if isinstance(raw, bool):
            raise _invalid(name, expectation, raw)
        try:
            as_float = float(raw)
        except (TypeError, ValueError, OverflowError):  # 10**400 overflows a float
            raise _invalid(name, expectation, raw) from None
        if not as_float.is_integer():
            raise _invalid(name, expectation, raw)
        value = int(as_float)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise _invalid(name, expectation, raw)
        return value

    def text(self, name: str, default: str = "", *, max_length: int | None = None) -> str:
        raw = self._values.get(name)
        if raw is None:
            return default
        if not isinstance(raw, str):
            raise _invalid(name, "a string", raw)
        if max_length is not None and len(raw) > max_length:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"{name} must be at most {max_length} characters (got {len(raw)})",
                field=name,
            )
        return raw

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self._values.get(name)
        if raw in (None, ""):
            return default
        value = str(raw).strip().lower()
        if value not in choices:
            raise _invalid(name, "one of " + ", ".join(choices), raw)
        return value


def _range_text(kind: str, low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}]"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} <= {high:g}"
    return kind


def fields_model(name: str, fields: Sequence[Field]) -> type[BaseModel]:
    """A pydantic model of ``fields``: what OpenAPI shows of the door's body (types,
    defaults, ranges, descriptions), made from the declarations the reader checks."""
    definitions: dict[str, Any] = {}
    for field in fields:
        annotation: Any = {
            Kind.NUMBER: float,
            Kind.INTEGER: int,
            Kind.TEXT: str,
            Kind.FILE: bytes,
            Kind.OBJECT: dict[str, Any],
        }.get(field.kind)
        if field.kind is Kind.CHOICE:
            annotation = Literal[field.choices]
        if not field.required and field.default is None:
            annotation = annotation | None  # absent: the engine's own default
        low = field.minimum
        constraints: dict[str, Any] = {
            "gt" if field.minimum_exclusive else "ge": low,
            "le": field.maximum,
            "max_length": field.max_length,
        }
        extra: dict[str, Any] | None = {"format": "binary"} if field.kind is Kind.FILE else None
        definitions[field.name] = (
            annotation,
            pydantic.Field(
                ... if field.required else field.default,
                description=field.description or None,
                json_schema_extra=extra,
                **{key: value for key, value in constraints.items() if value is not None},
            ),
        )
    model: type[BaseModel] = pydantic.create_model(name, **definitions)
    return model
