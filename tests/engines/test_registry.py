"""The registry: discovery, lookup, automatic choice; and seeds."""

from __future__ import annotations

import numpy as np
import pytest

from canvasfill.engines.base import (
    SEED_MAX,
    Availability,
    Engine,
    FillParams,
    Operation,
    Param,
    resolve_seed,
)
from canvasfill.engines.registry import (
    choose_engine,
    engine_names,
    get_engine,
    register,
    warm_up_all,
)
from canvasfill.errors import EngineError, ErrorCode, InputError


@register
class _UnavailableEngine(Engine):
    """Registered by this test module: an engine this host can never run."""

    name = "test-unavailable"
    summary = "needs hardware no test machine has"

    def availability(self) -> Availability:
        return Availability(False, "needs a quantum accelerator")

    def preference(self, operation: Operation, params: FillParams) -> int | None:
        return 10_000  # would win auto if availability were ignored

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams) -> list[np.ndarray]:
        raise AssertionError("never called")


def test_builtin_engines_register_themselves() -> None:
    assert {"telea", "ns"} <= set(engine_names())


def test_get_engine_returns_one_instance_per_process() -> None:
    assert get_engine("telea") is get_engine("telea")


def test_unknown_engine_lists_the_known_ones() -> None:
    with pytest.raises(EngineError) as caught:
        get_engine("nope")
    assert caught.value.code is ErrorCode.ENGINE_NOT_FOUND
    assert "telea" in caught.value.message
    assert "auto" in caught.value.message


def test_named_unavailable_engine_says_why() -> None:
    with pytest.raises(EngineError) as caught:
        choose_engine("test-unavailable", Operation.REMOVE, FillParams(seed=1))
    assert caught.value.code is ErrorCode.ENGINE_UNAVAILABLE
    assert "quantum" in caught.value.message


def test_auto_skips_unavailable_engines_and_takes_the_highest_rank() -> None:
    params = FillParams(seed=1)
    chosen = choose_engine("auto", Operation.REMOVE, params)
    assert chosen.name != "test-unavailable"
    ranks = [
        engine.preference(Operation.REMOVE, params)
        for engine in map(get_engine, engine_names())
        if engine.availability().available
    ]
    assert chosen.preference(Operation.REMOVE, params) == max(r for r in ranks if r is not None)


def test_two_engines_cannot_share_a_name() -> None:
    class Impostor(_UnavailableEngine):
        pass

    with pytest.raises(ValueError, match="two engines"):
        register(Impostor)


def test_given_parameters() -> None:
    params = FillParams(seed=1, prompt="a beach", steps=10)
    assert params.given() == {Param.SEED, Param.N, Param.PROMPT, Param.STEPS}


def test_seed_for_each_image_wraps() -> None:
    params = FillParams(seed=SEED_MAX, n=3)
    assert [params.seed_for(i) for i in range(3)] == [SEED_MAX, 0, 1]


def test_resolve_seed() -> None:
    assert resolve_seed(42) == 42
    assert resolve_seed(0) == 0  # 0 is a fixed seed unless the door says otherwise
    drawn = {resolve_seed(-1) for _ in range(5)}
    assert all(1 <= seed <= SEED_MAX for seed in drawn)
    assert len(drawn) > 1
    assert 1 <= resolve_seed(0, random_values=frozenset({0})) <= SEED_MAX
    assert 1 <= resolve_seed(None) <= SEED_MAX


def test_seed_out_of_range_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        resolve_seed(SEED_MAX + 1)
    assert caught.value.field == "seed"


def test_warm_up_all_skips_unavailable_engines_and_survives_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    @register
    class _WarmEngine(_UnavailableEngine):
        name = "test-warm"

        def availability(self) -> Availability:
            return Availability(True)

        def preference(self, operation: Operation, params: FillParams) -> int | None:
            return None  # registered for the whole session: never chosen by auto

        def warm_up(self) -> None:
            calls.append(self.name)
            raise RuntimeError("compiler crashed")

    @register
    class _ColdEngine(_UnavailableEngine):
        name = "test-cold"

        def warm_up(self) -> None:
            calls.append(self.name)

    warm_up_all()
    assert calls == ["test-warm"]  # test-cold has a warm-up but cannot run here
    assert "test-warm" in caplog.text
