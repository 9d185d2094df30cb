"""``migan``: MI-GAN (Picsart AI Research, ICCV 2023), the authors' ONNX pipeline.

The published ``migan_pipeline_v2.onnx`` is a whole pipeline in one graph: it crops
around the hole, resizes to 512, runs the network, resizes back and blends. Its
contract: ``image`` uint8 RGB planar [1,3,H,W], ``mask`` uint8 [1,1,H,W] where 255
means *keep* and 0 means *fill*, and ``result`` uint8 RGB planar [1,3,H,W]. Small
(28 MB) and fast on a CPU; LaMa is usually better on large holes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from canvasfill.engines.base import RGB, Mask
from canvasfill.engines.onnx_engine import OnnxInpaintEngine
from canvasfill.engines.onnx_session import Signature, TensorSpec
from canvasfill.engines.registry import register

_KEEP = 255
_FILL = 0

SIGNATURE = Signature(
    inputs=(
        TensorSpec("image", "tensor(uint8)", (None, 3, None, None)),
        TensorSpec("mask", "tensor(uint8)", (None, 1, None, None)),
    ),
    outputs=(TensorSpec("result", "tensor(uint8)", (None, 3, None, None)),),
)


def to_inputs(pixels: RGB, holes: Mask) -> dict[str, np.ndarray]:
    image = np.ascontiguousarray(pixels.transpose(2, 0, 1)[None])
    mask = np.where(holes, _FILL, _KEEP).astype(np.uint8)[None, None]
    return {"image": image, "mask": mask}


def from_output(result: np.ndarray) -> RGB:
    return np.ascontiguousarray(np.asarray(result, dtype=np.uint8)[0].transpose(1, 2, 0))


@register
class MiganEngine(OnnxInpaintEngine):
    name = "migan"
    summary = "MI-GAN on ONNX Runtime: fast learned object removal (28 MB of weights)"
    weights = ("migan",)
    model = "migan"
    signature = SIGNATURE
    removal_rank = 70
    expansion_rank = 40

    def infer(self, session: Any, pixels: RGB, holes: Mask) -> RGB:
        (result,) = session.run(["result"], to_inputs(pixels, holes))
        return from_output(result)
