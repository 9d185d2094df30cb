"""The catalog ``canvasfill engines`` lists from says what the engine classes say."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from canvasfill.engines import registry
from canvasfill.engines.catalog import BUILT_IN, declared_modules
from canvasfill.engines.diffusion import DiffusionEngine
from canvasfill.engines.diffusion.loading import missing_extras


def _built_in_engines() -> dict[str, registry.Engine]:
    """The registered engines whose classes live in canvasfill itself (not plugins or tests)."""
    return {
        engine.name: engine
        for engine in registry.all_engines()
        if type(engine).__module__.startswith("canvasfill.engines.")
    }


def test_every_built_in_engine_is_declared_once() -> None:
    names = [declared.name for declared in BUILT_IN]
    assert len(names) == len(set(names))
    assert set(names) == set(_built_in_engines())


@pytest.mark.parametrize("declared", BUILT_IN, ids=lambda declared: declared.name)
def test_a_declaration_matches_its_class(declared: object) -> None:
    from canvasfill.engines.catalog import Declared

    assert isinstance(declared, Declared)
    engine = _built_in_engines()[declared.name]
    assert type(engine).__module__ == declared.module
    assert declared.summary == engine.summary
    assert declared.hardware == engine.hardware.value
    assert declared.honours == {param.value for param in engine.honours}
    assert declared.weights == engine.weights
    family = engine.family if isinstance(engine, DiffusionEngine) else None
    assert declared.family == family
    availability = engine.availability()
    assert declared.unavailable() == availability.reason
    assert availability.available is (declared.unavailable() == "")


def test_declared_modules_register_the_engines() -> None:
    for name in declared_modules():
        importlib.import_module(name)
    assert {declared.name for declared in BUILT_IN} <= set(registry.engine_names())


@pytest.mark.skipif(bool(missing_extras()), reason="the probe reads the setting with the extra")
def test_a_diffusion_engines_probe_follows_its_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Availability is read at each call, as the class's is: a folder named now counts."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CANVASFILL_CONFIG", raising=False)
    [sd] = [declared for declared in BUILT_IN if declared.name == "sd-inpaint"]
    monkeypatch.delenv("CANVASFILL_SD_INPAINT_MODEL", raising=False)
    assert "no weights: set CANVASFILL_SD_INPAINT_MODEL" in sd.unavailable()
    assert sd.model_setting() == ("CANVASFILL_SD_INPAINT_MODEL", "")
    monkeypatch.setenv("CANVASFILL_SD_INPAINT_MODEL", str(tmp_path / "absent"))
    assert sd.unavailable().endswith("absent: no such file or folder")
    assert sd.unavailable() == registry.get_engine("sd-inpaint").availability().reason
