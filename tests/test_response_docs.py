"""How response models are documented where FastAPI has a rule of its own: a response class
with no media type, and computed fields without separate input and output schemas."""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from covet import Covet
from covet.responses import Response


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
