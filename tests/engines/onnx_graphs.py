"""Tiny ONNX graphs with the exact signatures of the published MI-GAN and LaMa exports.

They are not networks: each copies the known pixels and writes one constant colour
into the hole, which is enough to check every step around the network (tensor
layout, dtypes, scaling, mask polarity, windows, compositing) with exact answers.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from canvasfill.engines import models, onnx_session

OPSET = 17


def _const(name: str, values: Sequence[float], shape: Sequence[int]) -> onnx.NodeProto:
    array = np.asarray(values, dtype=np.float32).reshape(shape)
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(array, name=name))


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def migan_like(path: Path, fill_rgb: tuple[int, int, int] = (0, 255, 0)) -> Path:
    """uint8 image [1,3,H,W] + uint8 mask [1,1,H,W] (255 = keep) -> uint8 result [1,3,H,W]."""
    nodes = [
        helper.make_node("Cast", ["image"], ["image_f"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["mask"], ["mask_f"], to=TensorProto.FLOAT),
        _const("scale", [1.0 / 255.0], [1]),
        helper.make_node("Mul", ["mask_f", "scale"], ["keep"]),
        _const("one", [1.0], [1]),
        helper.make_node("Sub", ["one", "keep"], ["hole"]),
        _const("fill", list(fill_rgb), [1, 3, 1, 1]),
        helper.make_node("Mul", ["image_f", "keep"], ["kept"]),
        helper.make_node("Mul", ["fill", "hole"], ["filled"]),
        helper.make_node("Add", ["kept", "filled"], ["sum"]),
        helper.make_node("Cast", ["sum"], ["result"], to=TensorProto.UINT8),
    ]
    graph = helper.make_graph(
        nodes,
        "migan_like",
        [
            helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 3, "H", "W"]),
            helper.make_tensor_value_info("mask", TensorProto.UINT8, [1, 1, "H", "W"]),
        ],
        [helper.make_tensor_value_info("result", TensorProto.UINT8, [1, 3, "H", "W"])],
    )
    return _save(graph, path)


def lama_like(
    path: Path,
    fill_rgb: tuple[int, int, int] = (255, 0, 0),
    *,
    size: int = 512,
    element: int = TensorProto.FLOAT,
    output_name: str = "output",
) -> Path:
    """float image [b,3,512,512] in 0..1 + float mask (1 = fill) -> float output in 0..255."""
    cast_in = element != TensorProto.FLOAT
    nodes = []
    image, mask = "image", "mask"
    if cast_in:
        nodes += [
            helper.make_node("Cast", ["image"], ["image_f"], to=TensorProto.FLOAT),
            helper.make_node("Cast", ["mask"], ["mask_f"], to=TensorProto.FLOAT),
        ]
        image, mask = "image_f", "mask_f"
    nodes += [
        _const("one", [1.0], [1]),
        helper.make_node("Sub", ["one", mask], ["keep"]),
        _const("to255", [255.0], [1]),
        helper.make_node("Mul", [image, "keep"], ["kept01"]),
        helper.make_node("Mul", ["kept01", "to255"], ["kept"]),
        _const("fill", list(fill_rgb), [1, 3, 1, 1]),
        helper.make_node("Mul", ["fill", mask], ["filled"]),
        helper.make_node("Add", ["kept", "filled"], [output_name]),
    ]
    graph = helper.make_graph(
        nodes,
        "lama_like",
        [
            helper.make_tensor_value_info("image", element, ["batch", 3, size, size]),
            helper.make_tensor_value_info("mask", element, ["batch", 1, size, size]),
        ],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", 3, "h", "w"])],
    )
    return _save(graph, path)


def pin_to(name: str, path: Path, url: str = "http://127.0.0.1:9/unused") -> models.ModelSpec:
    """The registry entry of ``name``, re-pinned to the file at ``path`` (size and sha256)."""
    data = path.read_bytes()
    return replace(
        models.MODELS[name], sha256=hashlib.sha256(data).hexdigest(), size=len(data), url=url
    )


def isolate_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty models folder for one test, and no session or sha256 remembered."""
    folder = tmp_path / "models"
    monkeypatch.setenv("CANVASFILL_MODELS_DIR", str(folder))
    monkeypatch.setenv("CANVASFILL_ONNX_PROVIDERS", "CPUExecutionProvider")
    monkeypatch.setattr(models, "_verified", {})
    onnx_session.forget_sessions()
    return folder


def pin_payload(
    monkeypatch: pytest.MonkeyPatch, name: str, payload: bytes, *, filename: str, licence: str
) -> models.ModelSpec:
    """Re-pin model ``name`` to ``payload`` (its size and sha256), so no real weights are
    needed; its URL answers nothing until a test points it at a server of its own."""
    spec = models.ModelSpec(
        name=name,
        family=name,
        filename=filename,
        url="http://127.0.0.1:9/never",
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        licence=licence,
        summary="test payload",
        homepage="https://example.invalid",
    )
    monkeypatch.setitem(models.MODELS, name, spec)
    return spec


def install(
    name: str, graph: Path, monkeypatch: pytest.MonkeyPatch, *, url: str = "http://127.0.0.1:9/"
) -> Path:
    """Pin model ``name`` to ``graph`` and put the file in the models folder, as a pull would."""
    monkeypatch.setitem(models.MODELS, name, pin_to(name, graph, url))
    target = models.model_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(graph, target)
    return target


def u2netp_like(path: Path) -> Path:
    """float input.1 [1,3,320,320] -> '1959' [1,1,320,320] = sigmoid(4 * channel mean), and
    a second map ('1960') as the real export has six more: bright pixels are the subject."""
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["grey"], axes=[1], keepdims=1),
        _const("gain", [4.0], [1]),
        helper.make_node("Mul", ["grey", "gain"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["1959"]),
        helper.make_node("Identity", ["1959"], ["1960"]),
    ]
    graph = helper.make_graph(
        nodes,
        "u2netp_like",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 320, 320])],
        [
            helper.make_tensor_value_info("1959", TensorProto.FLOAT, [1, 1, 320, 320]),
            helper.make_tensor_value_info("1960", TensorProto.FLOAT, [1, 1, 320, 320]),
        ],
    )
    return _save(graph, path)


def ppocr_det_like(path: Path) -> Path:
    """float x [n,3,h,w] in -1..1 -> 'sigmoid_0.tmp_0' [n,1,h,w] = the brightness in 0..1:
    bright pixels are text, with PP-OCRv4 det's names and dynamic shapes."""
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["grey"], axes=[1], keepdims=1),
        _const("half", [0.5], [1]),
        helper.make_node("Mul", ["grey", "half"], ["scaled"]),
        helper.make_node("Add", ["scaled", "half"], ["sigmoid_0.tmp_0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "ppocr_det_like",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("sigmoid_0.tmp_0", TensorProto.FLOAT, ["n", 1, "h", "w"])],
    )
    return _save(graph, path)
