"""`covet.dependencies.utils`: a callable's signature with its annotations resolved, as the
parameter analysis reads it (string annotations from `from __future__ import annotations`
evaluated in the defining module), for libraries that analyse callables as covet does."""

from __future__ import annotations

import inspect

import pytest

from covet import Covet
from covet.dependencies.utils import get_typed_annotation, get_typed_signature
from covet.testclient import TestClient


class Item:
    pass


def handler(item: Item, count: int = 1, *, tags: list[str] | None = None) -> None:
    pass  # pragma: no cover - only its signature is read


class Service:
    def __init__(self, count: int) -> None:
        self.count = count

    def __call__(self, item: Item) -> Item:
        return item  # pragma: no cover


def test_get_typed_annotation() -> None:
    assert get_typed_annotation("None", globals()) is None
    assert get_typed_annotation("list[Item]", globals()) == list[Item]
    assert get_typed_annotation(int, {}) is int


def test_get_typed_signature_resolves_string_annotations() -> None:
    params = get_typed_signature(handler).parameters
    assert params["item"].annotation is Item
    assert params["count"].annotation is int and params["count"].default == 1
    assert params["tags"].annotation == list[str] | None
    assert params["tags"].kind is inspect.Parameter.KEYWORD_ONLY
    # A class is described by its __init__, an instance by its __call__.
    assert get_typed_signature(Service).parameters["count"].annotation is int
    assert get_typed_signature(Service(1)).parameters["item"].annotation is Item


def test_an_unresolvable_annotation_names_the_parameter() -> None:
    def broken(ok: int, missing: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass  # pragma: no cover

    with pytest.raises(ValueError, match="'NotDefinedAnywhere' of parameter 'missing'"):
        get_typed_signature(broken)


def test_a_handler_with_string_annotations_is_served() -> None:
    app = Covet()

    @app.get("/count")
    def count(n: int = 2) -> dict[str, int]:
        return {"n": n * 2}

    with TestClient(app) as client:
        assert client.get("/count", params={"n": "4"}).json() == {"n": 8}
        assert client.get("/count", params={"n": "x"}).status_code == 422
