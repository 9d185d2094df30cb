"""Doors document themselves: each create body from its declared fields, each route
with its door's security scheme, under its door's tag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import service_testkit
from service_testkit import service_settings

from canvasfill.api.app import create_app
from canvasfill.api.dialects import ailab, kling, openai, picwish, stability, stability_v2
from canvasfill.api.dialects.fields import Field, FieldReader, Kind
from canvasfill.api.door import DOORS, Create
from canvasfill.errors import InputError


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # the settings load the test engines: they leave the registry with the app, or a later
    # test (the fast tier runs no live server in between) lists them as this host's
    with service_testkit.test_engines_registered():
        app = create_app(service_settings(Path(tmp_path_factory.mktemp("openapi"))))
        schema: dict[str, Any] = app.openapi()
    return schema


def test_every_create_documents_its_declared_fields(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    for door in DOORS.values():
        for operation in door.operations:
            if not isinstance(operation, Create):
                continue
            route = openapi["paths"][operation.path]["post"]
            assert route["tags"] == [door.tag]
            (security,) = route["security"]
            assert set(security) <= set(schemes)
            assert operation.fields is not None, f"{door.name} {operation.path}"
            content = route["requestBody"]["content"]
            declared = set(operation.fields.model_fields)
            for media in content.values():
                assert set(media["schema"]["properties"]) == declared


def test_declared_ranges_reach_the_schema(openapi: dict[str, Any]) -> None:
    body = openapi["paths"][ailab.EXPAND_PATH]["post"]["requestBody"]["content"]
    properties = body["multipart/form-data"]["schema"]["properties"]
    strength = properties["strength"]
    assert (strength["type"], strength["minimum"], strength["maximum"]) == ("number", 0.1, 1.0)
    assert strength["default"] == 0.8
    assert properties["image"]["format"] == "binary"


DECLARED: list[Field] = [
    *ailab.EXPAND_FIELDS,
    *stability.FIELDS,
    *picwish.EXPAND_FIELDS,
    *picwish.INPAINT_FIELDS,
    *kling.FIELDS,
    *openai.FIELDS,
    *stability_v2.OUTPAINT_FIELDS,
    *stability_v2.ERASE_FIELDS,
    *stability_v2.INPAINT_FIELDS,
]


@pytest.mark.parametrize("field", [f for f in DECLARED if f.maximum is not None], ids=str)
def test_the_reader_refuses_past_a_declared_maximum(field: Field) -> None:
    assert field.maximum is not None
    with pytest.raises(InputError) as refused:
        FieldReader({field.name: str(field.maximum + 1)}).read(field)
    assert refused.value.field == field.name


@pytest.mark.parametrize(
    "field", [f for f in DECLARED if f.kind in (Kind.NUMBER, Kind.INTEGER)], ids=str
)
def test_an_absent_field_reads_as_its_declared_default(field: Field) -> None:
    assert FieldReader({}).read(field) == field.default
