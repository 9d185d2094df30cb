"""Where canvasfill's settings come from: ``CANVASFILL_*`` variables over one TOML file.

Nearly a leaf (it imports only :mod:`canvasfill.config_sources`, which finds the file
and reads one value without pydantic), so both the engines' settings
(``engines/settings.py``, the lowest layer that reads any) and the service's
(``settings.py``, which extends them) take their values from the same sources in the
same order, and a key in ``canvasfill.toml`` means the same thing to a server, a worker
and the CLI. Before this, the engines read only the environment, and a
``sd_inpaint_model`` in the file was silently ignored.

The file is ``$CANVASFILL_CONFIG`` when set, else ``./canvasfill.toml`` when it exists.
Naming a file that is not there is an error (a typo must not fall back to defaults).
"""

from __future__ import annotations

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from canvasfill.config_sources import (
    CONFIG_ENV,
    DEFAULT_CONFIG_FILE,
    ENV_PREFIX,
    ConfigFileMissingError,
    config_file,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "CanvasfillSettings",
    "ConfigFileMissingError",
    "config_file",
]


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
