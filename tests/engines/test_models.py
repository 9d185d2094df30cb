"""Model pins, the cache folder, and pull/import/verify: nothing unverified is ever used."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from canvasfill.engines import models
from canvasfill.engines.settings import EngineSettings
from canvasfill.errors import EngineError
from tests.engines.onnx_graphs import isolate_models, pin_payload

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit: several chunks


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_models(tmp_path, monkeypatch)


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch, folder: Path) -> models.ModelSpec:
    """Model 'lama' re-pinned to PAYLOAD, so no real weights are needed."""
    return pin_payload(
        monkeypatch, "lama", PAYLOAD, filename="lama_fp32.onnx", licence="Apache-2.0"
    )


@dataclass
class Served:
    """What the loopback server sends; changed by each test."""

    body: bytes = PAYLOAD
    honour_range: bool = True
    cut_after: int | None = None
    """Announce the full length but close the connection after this many bytes."""
    ranges: list[str | None] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            wanted = self.headers.get("Range")
            served.ranges.append(wanted)
            body, status = served.body, 200
            match = re.fullmatch(r"bytes=(\d+)-", wanted or "")
            if match and served.honour_range:
                start = int(match.group(1))
                body, status = served.body[start:], 206
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            if status == 206:
                total = len(served.body)
                self.send_header("Content-Range", f"bytes {total - len(body)}-{total - 1}/{total}")
            self.end_headers()
            if served.cut_after is not None:
                self.wfile.write(body[: served.cut_after])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/lama_fp32.onnx", served
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_published_files_are_pinned_to_a_revision_size_and_sha256() -> None:
    migan, lama = models.MODELS["migan"], models.MODELS["lama"]
    assert (migan.filename, migan.size, migan.licence) == (
        "migan_pipeline_v2.onnx",
        28_079_181,
        "MIT",
    )
    assert migan.sha256 == "6f1f3530a1a2324b19752018ce756088b07973cda8d7d890034ace5c8a48c40b"
    assert (lama.filename, lama.size, lama.licence) == ("lama_fp32.onnx", 208_044_816, "Apache-2.0")
    assert lama.sha256 == "1faef5301d78db7dda502fe59966957ec4b79dd64e16f03ed96913c7a4eb68d6"
    for spec in (migan, lama):
        assert re.search(r"/resolve/[0-9a-f]{40}/", spec.url), "pinned to a commit, not a branch"
        assert spec.url.endswith("/" + spec.filename)


def test_the_cache_folder_defaults_under_the_home_cache_and_follows_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CANVASFILL_MODELS_DIR", raising=False)
    assert EngineSettings().models_dir == Path.home() / ".cache" / "canvasfill" / "models"
    monkeypatch.setenv("CANVASFILL_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert models.model_path("migan") == tmp_path / "elsewhere" / "migan_pipeline_v2.onnx"


def test_a_missing_model_names_the_command_that_gets_it(folder: Path) -> None:
    assert models.state("lama") is models.ModelState.MISSING
    with pytest.raises(EngineError, match=r"canvasfill models pull lama"):
        models.require("lama")
    reason = models.missing_reason("migan")
    assert reason is not None
    assert "canvasfill models pull migan" in reason


def test_an_unknown_model_is_refused_with_the_known_names(folder: Path) -> None:
    with pytest.raises(EngineError, match="known models: lama, migan"):
        models.get_model("nope")


def test_import_verifies_then_moves_into_place(
    pinned: models.ModelSpec, folder: Path, tmp_path: Path
) -> None:
    source = tmp_path / "downloaded-elsewhere.onnx"
    source.write_bytes(PAYLOAD)
    seen: list[tuple[int, int]] = []
    path = models.import_file(
        "lama", source, progress=lambda done, total: seen.append((done, total))
    )
    assert path == folder / "lama_fp32.onnx"
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert models.state("lama") is models.ModelState.VERIFIED
    assert models.require("lama") == path


def test_import_refuses_a_tampered_file_and_leaves_nothing_behind(
    pinned: models.ModelSpec, folder: Path, tmp_path: Path
) -> None:
    tampered = bytearray(PAYLOAD)
    tampered[1000] ^= 0xFF
    source = tmp_path / "tampered.onnx"
    source.write_bytes(bytes(tampered))
    with pytest.raises(EngineError, match="sha256"):
        models.import_file("lama", source)
    assert list(folder.iterdir()) == []
    short = tmp_path / "short.onnx"
    short.write_bytes(PAYLOAD[:-1])
    with pytest.raises(EngineError, match="not the pinned file"):
        models.import_file("lama", short)


def test_a_file_tampered_in_place_is_refused_before_loading(
    pinned: models.ModelSpec, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder.mkdir(parents=True)
    tampered = bytearray(PAYLOAD)
    tampered[-1] ^= 0x01
    (folder / "lama_fp32.onnx").write_bytes(bytes(tampered))
    assert models.state("lama") is models.ModelState.PRESENT  # right size: looks fine cheaply
    assert models.verify("lama") is models.ModelState.CORRUPT
    with pytest.raises(EngineError, match="does not match its pin"):
        models.require("lama")


def test_pull_streams_with_progress_verifies_and_moves_into_place(
    pinned: models.ModelSpec, folder: Path, server: tuple[str, Served]
) -> None:
    url, served = server
    seen: list[tuple[int, int]] = []
    path = models.pull("lama", url=url, progress=lambda d, t: seen.append((d, t)))
    assert path.read_bytes() == PAYLOAD
    assert not (folder / "lama_fp32.onnx.partial").exists()
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert len(done) > 2, "progress reported chunk by chunk"
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert served.ranges == [None]
    # a second pull finds the verified file and fetches nothing
    models.pull("lama", url=url)
    assert served.ranges == [None]


def test_pull_refuses_corrupt_bytes_and_keeps_nothing(
    pinned: models.ModelSpec, folder: Path, server: tuple[str, Served]
) -> None:
    url, served = server
    served.body = bytes(len(PAYLOAD))  # right length, wrong bytes
    with pytest.raises(EngineError, match="sha256"):
        models.pull("lama", url=url)
    assert list(folder.iterdir()) == []
    with pytest.raises(EngineError, match="is not in"):
        models.require("lama")


def test_pull_refuses_a_file_of_the_wrong_length_before_downloading_it(
    pinned: models.ModelSpec, folder: Path, server: tuple[str, Served]
) -> None:
    url, served = server
    served.body = PAYLOAD + b"extra"
    with pytest.raises(EngineError, match="not the pinned file"):
        models.pull("lama", url=url)
    assert list(folder.iterdir()) == []


def test_an_interrupted_pull_is_never_used_and_resumes_with_a_range_request(
    pinned: models.ModelSpec, folder: Path, server: tuple[str, Served]
) -> None:
    url, served = server
    served.cut_after = 300_000
    with pytest.raises(EngineError, match="broke off after 300000 of"):
        models.pull("lama", url=url)
    assert not (folder / "lama_fp32.onnx").exists(), "a partial file never takes the real name"
    assert (folder / "lama_fp32.onnx.partial").stat().st_size == 300_000
    with pytest.raises(EngineError, match="is not in"):
        models.require("lama")

    served.cut_after = None
    seen: list[int] = []
    path = models.pull("lama", url=url, progress=lambda d, t: seen.append(d))
    assert served.ranges[-1] == "bytes=300000-"
    assert seen[0] == 300_000
    assert path.read_bytes() == PAYLOAD


def test_a_resumed_download_with_a_damaged_first_part_is_refused(
    pinned: models.ModelSpec, folder: Path, server: tuple[str, Served]
) -> None:
    url, served = server
    folder.mkdir(parents=True)
    (folder / "lama_fp32.onnx.partial").write_bytes(b"\x00" * 4096)  # not PAYLOAD's start
    with pytest.raises(EngineError, match="sha256"):
        models.pull("lama", url=url)
    assert served.ranges == ["bytes=4096-"]
    assert list(folder.iterdir()) == [], "the damaged partial is discarded, not kept"
    # the next pull starts clean and succeeds
    assert models.pull("lama", url=url).read_bytes() == PAYLOAD
    assert served.ranges[-1] is None


def test_a_server_that_ignores_the_range_restarts_from_zero(
    pinned: models.ModelSpec, folder: Path, server: tuple[str, Served]
) -> None:
    url, served = server
    served.honour_range = False
    folder.mkdir(parents=True)
    (folder / "lama_fp32.onnx.partial").write_bytes(PAYLOAD[:5000])
    assert models.pull("lama", url=url).read_bytes() == PAYLOAD


def test_offline_pull_fails_fast_and_says_how_to_import_instead(
    pinned: models.ModelSpec, folder: Path
) -> None:
    started = time.monotonic()
    with pytest.raises(EngineError) as caught:
        models.pull("lama", url="http://127.0.0.1:9/lama_fp32.onnx", connect_timeout=2.0)
    assert time.monotonic() - started < 5
    assert "canvasfill models pull lama --from FILE" in caught.value.message
    assert "http://127.0.0.1:9/never" in caught.value.message, "names the pinned URL to fetch"
    assert not (folder / "lama_fp32.onnx").exists()
