"""The test kit cleans up after itself: no test engine outlives the server that loaded it."""

from __future__ import annotations

from pathlib import Path

from service_testkit import TEST_ENGINE_NAMES, live_service, service_settings

from canvasfill.engines.registry import engine_names


def test_test_engines_leave_the_registry_with_their_server(tmp_path: Path) -> None:
    with live_service(service_settings(tmp_path)):
        assert set(TEST_ENGINE_NAMES) <= set(engine_names())
    assert not set(TEST_ENGINE_NAMES) & set(engine_names())
    with live_service(service_settings(tmp_path)):  # and a later server loads them again
        assert set(TEST_ENGINE_NAMES) <= set(engine_names())
        with live_service(service_settings(tmp_path / "inner")):
            pass
        assert set(TEST_ENGINE_NAMES) <= set(engine_names())  # a nested server's end keeps them
