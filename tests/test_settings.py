"""Settings: safe defaults, environment variables over a TOML file, a persisted secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from canvasfill.config_sources import setting_value
from canvasfill.engines import models
from canvasfill.engines.settings import engine_settings
from canvasfill.settings import Settings


def test_defaults_keep_everything_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CANVASFILL_CONFIG", "CANVASFILL_DATA_DIR", "CANVASFILL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.data_dir == Path("canvasfill-data")
    assert settings.resolved_database_url == (
        f"sqlite:///{tmp_path / 'canvasfill-data' / 'canvasfill.db'}"
    )
    assert settings.resolved_blob_dir == tmp_path / "canvasfill-data" / "blobs"
    assert settings.result_ttl_s == 3600
    assert settings.price_for("expand") == settings.price_for("remove") == 1


def test_environment_wins_over_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "canvasfill.toml"
    config.write_text(
        'rate_limit = 5\nurl_allow = ["10.0.0.0/8"]\npublic_url = "https://a.example"\n'
        "[price_per_image]\nexpand = 8\n"
    )
    monkeypatch.setenv("CANVASFILL_CONFIG", str(config))
    monkeypatch.setenv("CANVASFILL_PUBLIC_URL", "https://b.example")
    settings = Settings()
    assert settings.rate_limit == 5
    assert settings.url_allow == ["10.0.0.0/8"]
    assert settings.public_url == "https://b.example"
    assert settings.price_for("expand") == 8


def test_a_missing_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVASFILL_CONFIG", "/nonexistent/canvasfill.toml")
    with pytest.raises(FileNotFoundError, match="CANVASFILL_CONFIG"):
        Settings()


def test_the_signing_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = settings.secret()
    assert len(first) == 64
    assert Settings(data_dir=tmp_path / "data").secret() == first
    assert (tmp_path / "data" / "signing.key").stat().st_mode & 0o077 == 0
    assert Settings(data_dir=tmp_path, signing_secret="s" * 32).secret() == b"s" * 32


def test_engine_settings_read_the_same_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A diffusion model named in ``canvasfill.toml`` reaches the engines (it used not to)."""
    monkeypatch.chdir(tmp_path)
    for name in ("CANVASFILL_CONFIG", "CANVASFILL_SD_INPAINT_MODEL", "CANVASFILL_MODELS_DIR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "canvasfill.toml").write_text(
        'sd_inpaint_model = "/weights/sd15"\nmodels_dir = "/weights/onnx"\nrate_limit = 2\n'
    )
    assert engine_settings().sd_inpaint_model == "/weights/sd15"
    assert engine_settings().models_dir == Path("/weights/onnx")
    settings = Settings()
    assert (settings.sd_inpaint_model, settings.rate_limit) == ("/weights/sd15", 2)
    monkeypatch.setenv("CANVASFILL_SD_INPAINT_MODEL", "/elsewhere")
    assert engine_settings().sd_inpaint_model == "/elsewhere", "the environment wins"


def test_engine_settings_refuse_a_missing_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVASFILL_CONFIG", "/nonexistent/canvasfill.toml")
    with pytest.raises(FileNotFoundError, match="CANVASFILL_CONFIG"):
        engine_settings()


@pytest.mark.parametrize(
    ("environment", "written"),
    [
        ({}, ""),
        ({}, 'sdxl_inpaint_model = "from/file"\nmodels_dir = "/file/models"\n'),
        ({"CANVASFILL_SDXL_INPAINT_MODEL": "from/env", "CANVASFILL_MODELS_DIR": "~/m"}, ""),
        (
            {"canvasfill_sdxl_inpaint_model": "lower/case", "CANVASFILL_MODELS_DIR": "/env"},
            'sdxl_inpaint_model = "from/file"\nmodels_dir = "/file/models"\n',
        ),
        ({"CANVASFILL_SDXL_INPAINT_MODEL": ""}, 'sdxl_inpaint_model = "from/file"\n'),
    ],
)
def test_a_value_read_without_pydantic_is_the_settings_value(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    written: str,
) -> None:
    """``canvasfill engines`` and the model cache read these without the settings class
    (``setting_value``): they must see what the engines see."""
    monkeypatch.chdir(tmp_path)
    for name in ("CANVASFILL_CONFIG", "CANVASFILL_SDXL_INPAINT_MODEL", "CANVASFILL_MODELS_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if written:
        (tmp_path / "canvasfill.toml").write_text(written)
    settings = engine_settings()
    assert (setting_value("sdxl_inpaint_model") or "") == settings.sdxl_inpaint_model
    assert models.models_dir() == settings.models_dir.expanduser()
