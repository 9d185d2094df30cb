"""``lama``: big LaMa (Suvorov et al., WACV 2022), Carve's fp32 ONNX export.

The export's contract: ``image`` float32 RGB planar [1,3,512,512] in 0..1, ``mask``
float32 [1,1,512,512] with 1 where to fill, and ``output`` float32 RGB planar in
0..255 (not 0..1: the export scales it). The input is fixed at 512x512, so windows
are squared and scaled to exactly that. The hole is zeroed in the image, as LaMa saw
its training inputs. Best of the learned removers on large holes; 208 MB.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from canvasfill.engines.base import RGB, Mask
from canvasfill.engines.onnx_engine import OnnxInpaintEngine
from canvasfill.engines.onnx_session import Signature, TensorSpec
from canvasfill.engines.registry import register

RESOLUTION = 512

SIGNATURE = Signature(
    inputs=(
        TensorSpec("image", "tensor(float)", (None, 3, RESOLUTION, RESOLUTION)),
        TensorSpec("mask", "tensor(float)", (None, 1, RESOLUTION, RESOLUTION)),
    ),
    outputs=(TensorSpec("output", "tensor(float)", (None, 3, None, None)),),
)


def to_inputs(pixels: RGB, holes: Mask) -> dict[str, np.ndarray]:
    hole = holes.astype(np.float32)
    image = pixels.astype(np.float32) / 255.0 * (1.0 - hole)[:, :, None]
    return {
        "image": np.ascontiguousarray(image.transpose(2, 0, 1)[None]),
        "mask": np.ascontiguousarray(hole[None, None]),
    }


def from_output(output: np.ndarray) -> RGB:
    planar = np.asarray(output, dtype=np.float32)[0]
    pixels: RGB = np.clip(np.rint(planar), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(pixels.transpose(1, 2, 0))


@register
class LamaEngine(OnnxInpaintEngine):
    name = "lama"
    summary = "big LaMa on ONNX Runtime: learned object removal, best on large holes (208 MB)"
    weights = ("lama",)
    model = "lama"
    signature = SIGNATURE
    square: ClassVar[bool] = True
    removal_rank = 80
    expansion_rank = 45

    def infer(self, session: Any, pixels: RGB, holes: Mask) -> RGB:
        (output,) = session.run(["output"], to_inputs(pixels, holes))
        return from_output(output)
