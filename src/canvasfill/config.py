"""Where canvasfill's settings come from: ``CANVASFILL_*`` variables over one TOML file.

A leaf module (it imports nothing of canvasfill), so both the engines' settings
(``engines/settings.py``, the lowest layer that reads any) and the service's
(``settings.py``, which extends them) take their values from the same sources in the
same order, and a key in ``canvasfill.toml`` means the same thing to a server, a worker
and the CLI. Before this, the engines read only the environment, and a
``sd_inpaint_model`` in the file was silently ignored.

The file is ``$CANVASFILL_CONFIG`` when set, else ``./canvasfill.toml`` when it exists.
Naming a file that is not there is an error (a typo must not fall back to defaults).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

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


class CanvasfillSettings(BaseSettings):
    """Base of every settings class: arguments, then the environment, then the TOML file.

    Keys the class does not know are ignored, so one file serves every part (the
    engines' settings skip the service's keys and the other way round).
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)
