"""Detectors: masks found in an image rather than painted (issue 25).

Each detector is a pinned ONNX model run with canvasfill's own session
(:mod:`canvasfill.engines.onnx_session`) and a small OpenCV post-process that turns its
output into a :data:`canvasfill.imaging.masks.Mask`: ``subject`` (U^2-Netp, the main
salient object) and ``text`` (PP-OCRv4's text detector, captions, watermarks, stamps).
They are not engines: they fill nothing, and the engine registry never lists them.
The pipeline runs them on the worker, on the decoded image; the API process never does.

onnxruntime is imported only when a detector runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from canvasfill.imaging.masks import Mask

DetectKind = Literal["text", "subject"]
KINDS: tuple[DetectKind, ...] = ("text", "subject")
MODEL_OF: dict[DetectKind, str] = {"text": "ppocr-det", "subject": "u2netp"}
"""The pinned model (``canvasfill models pull NAME``) each kind of detection needs."""


def detect(kinds: Sequence[DetectKind], rgb: NDArray[np.uint8]) -> Mask:
    """The union of what each kind of detection finds in ``rgb`` (HxWx3 uint8)."""
    found = np.zeros(rgb.shape[:2], dtype=np.bool_)
    for kind in kinds:
        if kind == "text":
            from canvasfill.engines.detect.text import text_mask

            found |= text_mask(rgb)
        else:
            from canvasfill.engines.detect.subject import subject_mask

            found |= subject_mask(rgb)
    return found
