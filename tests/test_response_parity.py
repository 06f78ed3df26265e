"""Responses where FastAPI has a rule of its own: how models are documented (a response class
with no media type, computed fields without separate input and output schemas), and its
deprecated ORJSONResponse/UJSONResponse names, which work without orjson or ujson."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, computed_field

from covet import Covet
from covet.exceptions import FastAPIDeprecationWarning
from covet.responses import ORJSONResponse, Response, UJSONResponse
from covet.testclient import TestClient


class Error(BaseModel):
    title: str


class Rectangle(BaseModel):
    width: int
    length: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def area(self) -> int:
        return self.width * self.length


def test_response_class_without_media_type_documents_models_as_json() -> None:
    app = Covet()

    @app.get("/a", response_class=Response, responses={500: {"description": "Error", "model": Error}})
    async def a() -> None:
        pass

    responses = app.openapi()["paths"]["/a"]["get"]["responses"]
    assert responses["200"] == {"description": "Successful Response"}
    assert responses["500"]["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def test_computed_fields_shown_without_separate_schemas() -> None:
    app = Covet(separate_input_output_schemas=False)

    @app.get("/")
    def read() -> list[Rectangle]:
        return [Rectangle(width=3, length=4)]

    schema = app.openapi()["components"]["schemas"]["Rectangle"]
    assert schema["properties"]["area"] == {"type": "integer", "title": "Area", "readOnly": True}
    assert schema["required"] == ["width", "length", "area"]


@pytest.mark.parametrize("response_class", [ORJSONResponse, UJSONResponse])
def test_orjson_and_ujson_names_need_neither_package(response_class: type[Response]) -> None:
    with pytest.warns(FastAPIDeprecationWarning, match=f"{response_class.__name__} is deprecated"):
        assert response_class({1: "non-str key", "x": [1.5, None]}).body == b'{"1":"non-str key","x":[1.5,null]}'
    app = Covet()

    @app.get("/item", response_class=response_class)
    def item() -> Error:
        return Error(title="t")

    with TestClient(app) as tc, pytest.warns(FastAPIDeprecationWarning):
        response = tc.get("/item")
    assert response.json() == {"title": "t"}
    assert response.headers["content-type"] == "application/json"
