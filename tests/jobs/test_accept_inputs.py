"""Acceptance writes a task's inputs while it checks the upload: a refused upload leaves
nothing behind, an accepted one finds both files stored."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from canvasfill.engines.base import Operation
from canvasfill.errors import InputError
from canvasfill.jobs.accept import accept
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Submission
from canvasfill.pipeline.spec import JobSpec, MaskRemoval
from canvasfill.storage.base import input_key


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def removal(image: bytes, mask: bytes) -> Submission:
    spec = JobSpec(operation=Operation.REMOVE, geometry=MaskRemoval(), engine="telea", seed=1)
    return Submission(spec=spec, image=image, mask=mask)


def photo_and_mask() -> tuple[bytes, bytes]:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    mask = np.zeros((96, 128), dtype=np.uint8)
    mask[30:60, 40:90] = 255
    return _png(image), _png(mask)


def stored_files(runtime: Runtime) -> list[str]:
    root = runtime.settings.resolved_blob_dir
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_a_refused_upload_leaves_no_file_behind(sqlite_runtime: Runtime) -> None:
    key = sqlite_runtime.keys.create("k").record
    image, mask = photo_and_mask()
    cut = image[: len(image) // 2]  # the header holds; the pixel data stops halfway
    with pytest.raises(InputError):
        accept(sqlite_runtime, key, removal(cut, mask))
    assert stored_files(sqlite_runtime) == []
    assert sqlite_runtime.tasks.count_by_status() == {}


def test_an_accepted_task_finds_both_inputs_stored(sqlite_runtime: Runtime) -> None:
    key = sqlite_runtime.keys.create("k").record
    image, mask = photo_and_mask()
    task, created = accept(sqlite_runtime, key, removal(image, mask))
    assert created
    assert sqlite_runtime.blobs.get(input_key(task.id, "image")) == image
    assert sqlite_runtime.blobs.get(input_key(task.id, "mask")) == mask
