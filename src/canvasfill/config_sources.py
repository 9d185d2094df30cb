"""The sources of every setting, without pydantic: the config file, and one raw value.

:mod:`canvasfill.config` hands these sources to pydantic-settings; this module is what
needs no pydantic (a leaf: it imports nothing of canvasfill). ``canvasfill engines``
reads the few settings it shows through :func:`setting_value`, since importing
pydantic-settings (and the asyncio it imports) took half of the command's 0.27 s.

The engines' settings are built with no arguments (``engine_settings()``), so their
value is the ``CANVASFILL_*`` variable (any case, as pydantic-settings matches it), else
the TOML file's key, else the field's default: :func:`setting_value` reads the first
two in that order. It is for text and path settings only (nothing is parsed), and a
test holds it equal to ``EngineSettings`` (``tests/test_settings.py``).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

CONFIG_ENV = "CANVASFILL_CONFIG"
DEFAULT_CONFIG_FILE = "canvasfill.toml"
ENV_PREFIX = "CANVASFILL_"


class ConfigFileMissingError(FileNotFoundError):
    """``$CANVASFILL_CONFIG`` names a file that does not exist."""


def config_file() -> Path | None:
    """The TOML file to read, or None when there is none; read afresh on every call."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigFileMissingError(f"{CONFIG_ENV} names {named!r}, which is not a file")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def setting_value(field: str) -> str | None:
    """Setting ``field`` as written in the environment or the config file; None: neither
    sets it (the field's default applies)."""
    # pydantic-settings lower-cases the variables' names, so the last spelling wins there too
    environment = {name.lower(): value for name, value in os.environ.items()}
    value = environment.get(f"{ENV_PREFIX}{field}".lower())
    if value is not None:
        return value
    path = config_file()
    if path is None:
        return None
    with path.open("rb") as handle:
        written = tomllib.load(handle).get(field)
    return None if written is None else str(written)
