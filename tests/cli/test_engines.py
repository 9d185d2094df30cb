"""``canvasfill engines``: what it shows comes from the same settings the engines read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canvasfill.cli import app
from canvasfill.engines.diffusion.loading import missing_extras
from canvasfill.engines.settings import engine_settings

runner = CliRunner()
WIDE = {"COLUMNS": "400"}


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working folder with no config file and no diffusion settings."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "CANVASFILL_CONFIG",
        "CANVASFILL_SD_INPAINT_MODEL",
        "CANVASFILL_SDXL_INPAINT_MODEL",
        "CANVASFILL_FLUX_FILL_MODEL",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _rows(args: list[str] | None = None) -> dict[str, dict[str, object]]:
    result = runner.invoke(app, ["engines", "--json", *(args or [])])
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_a_model_named_in_canvasfill_toml_is_shown_and_read(clean_env: Path) -> None:
    weights = clean_env / "sd15"
    weights.mkdir()
    (clean_env / "canvasfill.toml").write_text(f'sd_inpaint_model = "{weights}"\n')
    assert engine_settings().sd_inpaint_model == str(weights)
    rows = _rows()
    assert rows["sd-inpaint"]["model"] == str(weights)
    assert rows["sdxl-inpaint"]["model"] is None
    assert "no weights" not in str(rows["sd-inpaint"]["reason"])
    table = runner.invoke(app, ["engines"], env=WIDE)
    assert table.exit_code == 0
    assert str(weights) in table.stdout


def test_a_config_file_named_by_canvasfill_config_is_read(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = clean_env / "elsewhere" / "fill.toml"
    config.parent.mkdir()
    config.write_text('flux_fill_model = "someone/some-fill-model"\n')
    monkeypatch.setenv("CANVASFILL_CONFIG", str(config))
    assert _rows()["flux-fill"]["model"] == "someone/some-fill-model"
    assert engine_settings().flux_fill_model == "someone/some-fill-model"


@pytest.mark.skipif(bool(missing_extras()), reason="the diffusion extra shows the model path")
def test_brackets_in_what_is_printed_are_kept(clean_env: Path) -> None:
    """rich reads ``[draft]`` as markup and drops it unless the text is escaped."""
    (clean_env / "canvasfill.toml").write_text('sd_inpaint_model = "w[draft]"\n')
    table = runner.invoke(app, ["engines"], env=WIDE)
    assert table.exit_code == 0
    # one word each, so a table squeezed by other engines' rows may wrap around them
    assert "CANVASFILL_SD_INPAINT_MODEL=w[draft]:" in table.stdout, table.stdout
    assert re.search(r"│ w\[draft\] +│", table.stdout), table.stdout


def test_a_missing_config_file_is_a_usage_error(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANVASFILL_CONFIG", str(clean_env / "absent.toml"))
    result = runner.invoke(app, ["engines"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: CANVASFILL_CONFIG names {str(clean_env / 'absent.toml')!r}, which is not a file"
    )


def test_piped_output_prints_every_cell_whole_one_line_per_engine(clean_env: Path) -> None:
    """CliRunner's stdout is no terminal, as a pipe or a file: nothing is cut short."""
    result = runner.invoke(app, ["engines"], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    lines = result.stdout.splitlines()
    for row in _rows().values():
        [line] = [line for line in lines if line.startswith(f"│ {row['name']} ")]
        assert row["summary"] in line
        assert (row["reason"] or "yes") in line


def test_diffusion_rows_say_which_model_would_load_or_that_none_is_set(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANVASFILL_SDXL_INPAINT_MODEL", "someone/sdxl-fill")
    rows = _rows()
    assert rows["sdxl-inpaint"]["model"] == "someone/sdxl-fill"
    assert rows["sd-inpaint"]["model"] is None
    assert rows["sd-inpaint"]["model_env"] == "CANVASFILL_SD_INPAINT_MODEL"
    assert rows["patch"]["model_env"] is None
    lines = runner.invoke(app, ["engines"]).stdout.splitlines()

    def weights_cell(name: str) -> str:
        [line] = [line for line in lines if line.startswith(f"│ {name} ")]
        return line.split("│")[4].strip()

    assert weights_cell("sdxl-inpaint") == "someone/sdxl-fill"
    assert weights_cell("sd-inpaint") == "none set (CANVASFILL_SD_INPAINT_MODEL)"
    assert weights_cell("flux-fill") == "none set (CANVASFILL_FLUX_FILL_MODEL)"
    assert weights_cell("lama") == "lama"
    assert weights_cell("telea") == "none needed"
