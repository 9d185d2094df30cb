"""The page's rules come from the server: /web/rules.json is the doors' declarations, and
the page's limits, fields and commands agree with it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from service_testkit import LiveService

from canvasfill.api.door import DOORS, Create
from canvasfill.api.native.schema import NativeRequest, Pixels, Ratios
from canvasfill.engines.base import SEED_MAX
from canvasfill.imaging.limits import BY_NAME
from canvasfill.pipeline.spec import MAX_IMAGES, MAX_STEPS

from .conftest import Page


def rules(live: LiveService) -> dict[str, Any]:
    with live.client() as client:  # no key: the same numbers are public in OpenAPI
        response = client.get("/web/rules.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_rules_are_every_doors_declared_fields_and_limits(live: LiveService) -> None:
    body = rules(live)
    assert body["seed_max"] == SEED_MAX
    creates = {
        name: {op.path: op.fields for op in door.operations if isinstance(op, Create) and op.fields}
        for name, door in DOORS.items()
    }
    assert set(body["doors"]) == {name for name, paths in creates.items() if paths}
    for name, paths in creates.items():
        if not paths:
            continue
        door = body["doors"][name]
        assert set(door["paths"]) == set(paths), name
        for path, model in paths.items():
            assert set(door["paths"][path]) == set(model.model_fields), path
        limits = BY_NAME[name]
        assert door["image"]["max_bytes"] == limits.max_bytes
        assert door["image"]["formats"] == sorted(f.lower() for f in limits.formats)
        assert door["image"]["min_side"] == limits.min_side


def test_a_fields_rule_is_its_declared_range(live: LiveService) -> None:
    native = rules(live)["doors"]["native"]["paths"]["/v1/expand"]
    assert native["seed"]["maximum"] == SEED_MAX
    assert native["steps"]["maximum"] == MAX_STEPS
    assert native["n"]["maximum"] == MAX_IMAGES
    ratios = Ratios.model_json_schema()["properties"]
    pixels = Pixels.model_json_schema()["properties"]
    request = NativeRequest.model_json_schema()["properties"]
    assert native["ratios"]["fields"]["left"]["maximum"] == ratios["left"]["maximum"] == 10
    assert native["pixels"]["fields"]["top"]["maximum"] == pixels["top"]["maximum"]
    assert native["rectangles"]["maxItems"] == request["rectangles"]["anyOf"][0]["maxItems"]
    openai = rules(live)["doors"]["openai"]["paths"]["/v1/images/edits"]
    assert openai["prompt"]["required"] is True
    assert openai["image"]["type"] == "file"
    assert openai["output_format"]["enum"] == ["png", "jpeg", "webp"]


PAGE_LIMITS = """async () => {
  const { NATIVE } = await import('/web/limits.js');
  const { ENDPOINTS } = await import('/web/codegen.js');
  const field = (id) => [document.getElementById(id).min, document.getElementById(id).max];
  return {
    native: JSON.parse(JSON.stringify(NATIVE)),
    endpoints: ENDPOINTS,
    inputs: { seed: field('p-seed'), steps: field('p-steps'), n: field('p-n') },
    promptMax: document.getElementById('p-prompt').maxLength,
    dropzone: document.getElementById('dropzone-limits').textContent,
  };
}"""


@pytest.mark.slow
def test_the_page_and_the_server_agree(page: Page, live: LiveService) -> None:
    page.page.goto("/")
    expect(page.page.locator("body")).to_have_attribute("data-ready", "true")
    seen = page.page.evaluate(PAGE_LIMITS)
    server = rules(live)
    native = seen["native"]
    image = server["doors"]["native"]["image"]
    expand = server["doors"]["native"]["paths"]["/v1/expand"]
    assert native["maxBytes"] == image["max_bytes"] == BY_NAME["native"].max_bytes
    assert native["maxSide"] == image["max_side"]
    assert native["maxCanvasPixels"] == image["max_canvas_pixels"]
    assert native["formats"] == image["formats"]
    assert native["maxRatio"] == expand["ratios"]["fields"]["left"]["maximum"]
    assert native["maxSidePixels"] == expand["pixels"]["fields"]["left"]["maximum"]
    assert native["maxImages"] == expand["n"]["maximum"] == MAX_IMAGES
    assert native["ranges"]["seed"]["maximum"] == SEED_MAX
    assert native["ranges"]["steps"]["maximum"] == MAX_STEPS
    # the form's own bounds are the server's
    assert seen["inputs"]["seed"] == ["0", str(SEED_MAX)]
    assert seen["inputs"]["steps"] == ["1", str(MAX_STEPS)]
    assert seen["inputs"]["n"] == ["1", str(MAX_IMAGES)]
    assert seen["promptMax"] == expand["prompt"]["maxLength"]
    assert f"{image['max_bytes'] // 1048576} MB" in seen["dropzone"]
    # every endpoint the code generator writes is a create path the door declares
    for door, paths in seen["endpoints"].items():
        for path in paths.values():
            assert path in server["doors"][door]["paths"], (door, path)
    assert page.console.unexpected() == []
