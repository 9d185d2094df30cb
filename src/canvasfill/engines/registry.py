"""Engines register themselves; the core never lists them (as Pillow's format plugins do).

The modules that ``engines/catalog.py`` declares, and every module of the
``canvasfill.engines`` package, are imported once, on first use, and their
``@register`` decorators fill the table; third-party packages add engines through
the ``canvasfill.engines`` entry-point group. Engine modules keep heavy imports
(torch, onnxruntime) inside functions, so discovery stays cheap and never fails
because an optional extra is missing.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from importlib.metadata import entry_points
from typing import TypeVar

from canvasfill.engines.base import Engine, FillParams, Operation
from canvasfill.engines.catalog import ENTRY_POINT_GROUP
from canvasfill.errors import EngineError, ErrorCode

log = logging.getLogger(__name__)

AUTO = "auto"

_classes: dict[str, type[Engine]] = {}
_instances: dict[str, Engine] = {}
_lock = threading.Lock()
_discovered = False

EngineClass = TypeVar("EngineClass", bound=type[Engine])


def register(cls: EngineClass) -> EngineClass:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    existing = _classes.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"two engines are named {cls.name!r}: {existing} and {cls}")
    _classes[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Forget engine ``name`` (its class and any instance); unknown names are ignored.

    For tests and plugins that register engines for a while: the table is process-wide.
    """
    with _lock:
        _classes.pop(name, None)
        _instances.pop(name, None)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    with _lock:
        if _discovered:
            return
        from canvasfill.engines.catalog import declared_modules

        # the built-in engines where the catalog declares them (a subpackage such as
        # ``diffusion`` does not import its engine module by itself), then any module
        # of the package, so an engine added without a declaration still registers
        for name in declared_modules():
            importlib.import_module(name)
        package = importlib.import_module("canvasfill.engines")
        for module in pkgutil.iter_modules(package.__path__, prefix="canvasfill.engines."):
            importlib.import_module(module.name)
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                entry.load()
            except Exception:  # a broken plugin must not take the built-in engines down
                log.exception("engine plugin %s failed to load", entry.value)
        _discovered = True


def engine_names() -> list[str]:
    _discover()
    return sorted(_classes)


def get_engine(name: str) -> Engine:
    """The process-wide instance of engine ``name`` (engines cache sessions and weights)."""
    _discover()
    cls = _classes.get(name)
    if cls is None:
        known = ", ".join([AUTO, *sorted(_classes)])
        raise EngineError(
            ErrorCode.ENGINE_NOT_FOUND,
            f"there is no engine named {name!r}; choose one of: {known}",
            field="engine",
        )
    with _lock:
        if name not in _instances:
            _instances[name] = cls()
        return _instances[name]


def all_engines() -> list[Engine]:
    return [get_engine(name) for name in engine_names()]


def choose_engine(
    name: str | None, operation: Operation, params: FillParams, *, default: str | None = None
) -> Engine:
    """The engine to run: the one named, or for ``auto``/None the operator's default,
    and where that is ``auto`` too, the best available here.

    ``default`` is that default as the caller's settings, read once, hold it (the
    server passes its own); without it the engine settings are read now (the CLI).
    """
    if not name or name == AUTO:
        if default is None:
            from canvasfill.engines.settings import engine_settings

            default = engine_settings().default_engine
        name = default
    if name and name != AUTO:
        engine = get_engine(name)
        availability = engine.availability()
        if not availability.available:
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"engine {name!r} cannot run here: {availability.reason}",
                field="engine",
            )
        return engine
    ranked: list[tuple[int, str, Engine]] = []
    for engine in all_engines():
        rank = engine.preference(operation, params)
        if rank is not None and engine.availability().available:
            ranked.append((rank, engine.name, engine))
    if not ranked:
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE, f"no engine available on this host can {operation}"
        )
    return max(ranked, key=lambda item: (item[0], item[1]))[2]


def warm_up_all() -> None:
    """Warm every engine that has a warm-up and can run here; failures are logged.

    Engines without their own ``warm_up`` are skipped before ``availability()`` is asked,
    so a worker's start-up does no probing (extras, weights, devices) it does not need.
    """
    for engine in all_engines():
        if type(engine).warm_up is Engine.warm_up or not engine.availability().available:
            continue
        try:
            engine.warm_up()
        except Exception:  # a warm-up is an optimisation: the first request retries for real
            log.exception("warming up engine %s failed", engine.name)
