"""A running task's previews in the blob store: where a worker puts them, what readers find.

Previews (``pipeline/previews.py``) are kept beside the task's results, under
``results/<task>/<k>-preview.<ext>``, so they expire and are deleted with them and a
task record needs no column for them. A worker stores preview ``k`` first and then
announces progress on the task's events (the same wake-up a progress write sends:
``dispatch/notices.py`` in the embedded pool, Redis for Celery); a reader that was
woken, or that re-reads on its period, looks for ``k``, ``k + 1``... in the store. So a
lost event delays a preview and loses nothing, and the order is the order they were made.
A preview that cannot be stored is skipped (logged), never failing the task.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from canvasfill.imaging.encode import OutputFormat
from canvasfill.jobs.events import ProgressHook
from canvasfill.jobs.runtime import Runtime
from canvasfill.pipeline.previews import PreviewImage, PreviewSink
from canvasfill.storage.base import BlobStore, result_key

log = logging.getLogger(__name__)


def preview_key(task_id: str, index: int, fmt: OutputFormat) -> str:
    return result_key(task_id, index, fmt.extension, "preview")


def previews_asked(spec: Mapping[str, Any]) -> int:
    """How many previews a stored spec asked for (0 for specs from before previews)."""
    return int(spec.get("previews") or 0)


def preview_format(spec: Mapping[str, Any]) -> OutputFormat:
    """Previews are encoded as the results are (``pipeline/previews.py``)."""
    output = spec.get("output")
    name = output.get("format") if isinstance(output, Mapping) else None
    return OutputFormat(name or OutputFormat.PNG.value)


def keep_previews(runtime: Runtime, task_id: str, announce: ProgressHook) -> PreviewSink:
    """The sink a worker hands the pipeline: store each preview, then announce it."""
    stored = 0

    def keep(preview: PreviewImage) -> None:
        nonlocal stored
        try:
            runtime.blobs.put(preview_key(task_id, stored, preview.format), preview.data)
        except Exception:  # a preview is a courtesy: the result is what must be stored
            log.warning("a preview was not stored", exc_info=True, extra={"event": "preview"})
            return
        stored += 1
        announce(task_id)

    return keep


def stored_previews(
    blobs: BlobStore, task_id: str, spec: Mapping[str, Any], start: int = 0
) -> list[str]:
    """Keys of the task's previews from index ``start`` on, as far as they are stored."""
    asked, fmt = previews_asked(spec), preview_format(spec)
    keys = []
    for index in range(start, asked):
        key = preview_key(task_id, index, fmt)
        if not blobs.exists(key):
            break
        keys.append(key)
    return keys
