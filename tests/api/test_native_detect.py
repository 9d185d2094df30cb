"""The native door's ``detect`` field (issue 25): translated to a ``DetectedMask``, and a
task whose detector has no weights fails naming the model to pull, its credits returned."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from service_testkit import live_service, png, service_settings

from canvasfill.api.native.translate import from_json, submission
from canvasfill.engines.base import Operation
from canvasfill.errors import ErrorCode, InputError
from canvasfill.pipeline.spec import Box, DetectedMask

IMAGE = base64.b64encode(png()).decode()


def _geometry(raw: dict[str, object], operation: Operation = Operation.REMOVE) -> object:
    body, image, mask = from_json({"image": IMAGE} | raw)
    return submission(body, image, mask, operation).spec.geometry


def test_detect_alone_with_rectangles_and_with_a_mask() -> None:
    assert _geometry({"detect": "text"}) == DetectedMask(detect=("text",))
    assert _geometry({"detect": "subject,text", "grow": 3}) == DetectedMask(
        detect=("text", "subject"), grow=3
    )
    rectangles = [{"x": 1, "y": 2, "width": 3, "height": 4}]
    assert _geometry({"detect": "text", "rectangles": rectangles}) == DetectedMask(
        detect=("text",), boxes=(Box(x=1, y=2, width=3, height=4),)
    )
    with_mask = _geometry({"detect": "subject", "mask": IMAGE})
    assert with_mask == DetectedMask(detect=("subject",))


@pytest.mark.parametrize(
    ("raw", "operation", "field"),
    [
        ({"detect": "faces"}, Operation.REMOVE, "detect"),
        ({"detect": ""}, Operation.REMOVE, "detect"),
        ({"detect": "text"}, Operation.EXPAND, "detect"),
        ({"detect": "text", "ratios": {"left": 0.2}}, Operation.REMOVE, "ratios"),
        ({"detect": "text" * 10}, Operation.REMOVE, "detect"),
    ],
)
def test_bad_detect_is_refused_with_its_field(
    raw: dict[str, object], operation: Operation, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        _geometry(raw, operation)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_PARAMETER, field)


def test_a_detector_without_weights_fails_the_task_naming_the_model_and_refunds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANVASFILL_MODELS_DIR", str(tmp_path / "no-models"))
    with live_service(service_settings(tmp_path / "data")) as live:
        key = live.new_key(credits=5)
        with live.client(key) as client:
            accepted = client.post(
                "/v1/remove",
                json={"image": IMAGE, "detect": "text", "engine": "telea"},
                headers={"Prefer": "wait=30"},
            )
            refused = client.post("/v1/remove", json={"image": IMAGE, "detect": "faces"})
        record = live.runtime.keys.authenticate(key)
    task = accepted.json()
    assert task["status"] == "failed", task
    assert task["error"]["code"] == "engine_unavailable"
    assert "canvasfill models pull ppocr-det" in task["error"]["message"]
    assert record is not None
    assert record.credits == 5
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "detect"


def test_detect_subject_on_an_expansion_keeps_the_subject_out_of_the_sources() -> None:
    body, image, mask = from_json({"image": IMAGE, "detect": "subject", "pixels": {"top": 8}})
    spec = submission(body, image, mask, Operation.EXPAND).spec
    assert spec.keep_out == ("subject",)
    removal = _geometry({"detect": "subject"})
    assert removal == DetectedMask(detect=("subject",))
    for refused in ("text", "text,subject"):
        with pytest.raises(InputError) as caught:
            _geometry({"detect": refused, "pixels": {"top": 8}}, Operation.EXPAND)
        assert caught.value.field == "detect"
