"""ONNX Runtime sessions for the pinned models: created once per process, checked at load.

A session is expensive (hundreds of milliseconds to seconds, and the weights in
memory), so each verified model file gets one, shared by every request and thread
(``InferenceSession.run`` is thread-safe). Before a session is used, the file's own
signature (input and output names, element types, fixed dimensions) is compared
with what the engine's pre- and post-processing assume, and a file that differs is
refused: feeding a float model uint8 pixels, or reading 0..1 output as 0..255, gives
garbage rather than an error, so the check has to be ours.

onnxruntime is imported inside functions, so discovering engines stays cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from canvasfill.engines import models
from canvasfill.errors import EngineError, ErrorCode
from canvasfill.extras import install_hint


def unavailable_reason(model: str) -> str:
    """Why an engine running pinned model ``model`` cannot run here ("" when it can):
    asked by the engines and by ``canvasfill engines``, which does not import them."""
    if find_spec("onnxruntime") is None:
        return f"onnxruntime is not installed: {install_hint('onnx')}"
    return models.missing_reason(model) or ""


_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"


@dataclass(frozen=True)
class TensorSpec:
    """What one input or output must look like. ``None`` in ``shape`` means any size."""

    name: str
    element_type: str
    """As ONNX Runtime spells it: ``tensor(uint8)``, ``tensor(float)``."""
    shape: tuple[int | None, ...]

    def describe(self) -> str:
        dims = ",".join("?" if dim is None else str(dim) for dim in self.shape)
        return f"{self.name}: {self.element_type} [{dims}]"


@dataclass(frozen=True)
class Signature:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


def providers() -> list[str]:
    """The providers to ask for: the setting, else CUDA when this onnxruntime has it, then CPU."""
    import onnxruntime as ort

    # here, not above: `canvasfill engines` imports this module, and the class imports pydantic
    from canvasfill.engines.settings import engine_settings

    available = list(ort.get_available_providers())
    configured = [name.strip() for name in engine_settings().onnx_providers.split(",")]
    wanted = [name for name in configured if name]
    if wanted:
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"ONNX Runtime here has no {', '.join(unknown)} (it has {', '.join(available)}); "
                "fix CANVASFILL_ONNX_PROVIDERS",
            )
        return wanted
    return [_CUDA, _CPU] if _CUDA in available else [_CPU]


def _dim_matches(expected: int | None, actual: object) -> bool:
    if expected is None:
        return True
    # a symbolic or unknown dimension accepts any size, the expected one included
    return not isinstance(actual, int) or actual == expected


def _mismatches(wanted: Sequence[TensorSpec], found: Sequence[Any], kind: str) -> list[str]:
    by_name = {arg.name: arg for arg in found}
    problems = []
    for spec in wanted:
        arg = by_name.get(spec.name)
        if arg is None:
            names = ", ".join(sorted(by_name)) or "none"
            problems.append(f"no {kind} named {spec.name!r} (it has {names})")
            continue
        shape = list(arg.shape)
        if (
            arg.type != spec.element_type
            or len(shape) != len(spec.shape)
            or not all(_dim_matches(e, a) for e, a in zip(spec.shape, shape, strict=True))
        ):
            problems.append(f"{kind} {arg.name} is {arg.type} {shape}, expected {spec.describe()}")
    extra = sorted(set(by_name) - {spec.name for spec in wanted})
    if extra and kind == "input":
        problems.append(f"unexpected inputs {', '.join(extra)}")
    return problems


def check_signature(session: Any, signature: Signature, *, model: str, path: Path) -> None:
    """Refuse a file whose inputs and outputs are not the ones the engine is written for."""
    problems = _mismatches(signature.inputs, session.get_inputs(), "input")
    problems += _mismatches(signature.outputs, session.get_outputs(), "output")
    if problems:
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"{path} is not the {model!r} export canvasfill is written for: "
            + "; ".join(problems)
            + f". Get the pinned file with `{models.pull_command(model)}`",
        )


_sessions: dict[tuple[Path, int, int, tuple[str, ...]], Any] = {}
_lock = threading.Lock()


def session_for(model: str, signature: Signature) -> Any:
    """The process-wide session of ``model``: verified by sha256, signature checked, reused."""
    path = models.require(model)
    chosen = tuple(providers())
    stat = path.stat()  # a replaced file (new size or time) gets a new session
    key = (path, stat.st_size, stat.st_mtime_ns, chosen)
    with _lock:
        session = _sessions.get(key)
        if session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            try:
                session = ort.InferenceSession(str(path), options, providers=list(chosen))
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise EngineError(
                    ErrorCode.ENGINE_UNAVAILABLE,
                    f"ONNX Runtime cannot load {path}: {exc}",
                ) from exc
            check_signature(session, signature, model=model, path=path)
            _sessions[key] = session
        return session


def forget_sessions() -> None:
    """Drop every cached session (a model file was replaced, or a test wants a clean slate)."""
    with _lock:
        _sessions.clear()
