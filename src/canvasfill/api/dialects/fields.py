"""Reading form and JSON fields the way the hosted APIs do: typed, ranged, defaulted.

Every refusal is an ``InputError`` naming the field and the range, so each dialect can
render it in its own error shape without knowing which check failed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from canvasfill.errors import ErrorCode, InputError


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
