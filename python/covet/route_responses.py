"""How a route's result becomes its response, decided once per route where it can be: the
response model's validator (none where it would change nothing, a refusal at start-up where
pydantic cannot handle it), the statuses that forbid a body, and what the handler set on its
`response: Response` parameter. `covet.routing` builds routes from these.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import PydanticSchemaGenerationError, TypeAdapter

from covet.dependencies.solve import RequestContext
from covet.exceptions import FastAPIError
from covet.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, _content_type

TRIVIAL_MODELS = (dict, list, Any, object)

_JSON_HEADER = (b"content-type", b"application/json")


def json_bytes_response(body: bytes, status: int) -> Response:
    """A JSON response from bytes pydantic-core already serialized (no second encoding)."""
    response = JSONResponse.__new__(JSONResponse)
    response.status_code = status
    response.background = None
    response.body = body
    response.raw_headers = [_JSON_HEADER]
    return response


def bodiless_status(status: int | None, ctx: RequestContext | None) -> int | None:
    """The answer's status (the route's, or what the handler set on its `response`) when it
    forbids a body, else None."""
    sub = ctx.response if ctx is not None else None
    if sub is not None and sub.status_code:
        status = sub.status_code
    return status if status is not None and (status < 200 or status in (204, 304)) else None


def merge_response_param(response: Response, ctx: RequestContext) -> None:
    """Applies what the handler set on its `response: Response` parameter, and background tasks."""
    sub = ctx.response
    if sub is not None:
        if sub.status_code:
            response.status_code = sub.status_code
        response.raw_headers.extend(sub.raw_headers)
    tasks = ctx.background
    if tasks is not None and tasks.tasks:
        if response.background is None:
            response.background = tasks
        else:
            tasks.tasks.insert(0, response.background)  # type: ignore[arg-type]
            response.background = tasks


def return_annotation(endpoint: Callable[..., Any]) -> Any:
    try:
        annotation = get_type_hints(endpoint).get("return")
    except Exception:
        annotation = inspect.signature(endpoint).return_annotation
        if isinstance(annotation, str) or annotation is inspect.Signature.empty:
            return None
    if annotation is None or annotation is type(None):
        return None
    if isinstance(annotation, type) and issubclass(annotation, Response):
        return None
    return annotation


def response_adapter(model: Any) -> TypeAdapter[Any] | None:
    """A validator/serializer for the response model; none where it would change nothing.
    A model pydantic cannot handle is refused here, at start-up (FastAPIError, as FastAPI)."""
    if model is None or model in TRIVIAL_MODELS:
        return None
    try:
        return TypeAdapter(model)
    except PydanticSchemaGenerationError as exc:
        raise FastAPIError(
            f"Invalid response model {model!r}: check that it is a valid Pydantic field type. "
            "For a return annotation that is not one (a Response, or a union of a Response and "
            "a dict or None), set the path operation decorator parameter response_model=None "
            f"to use no response model. ({exc})"
        ) from None


_CHECKED_MODELS: set[Any] = set()


def check_response_models(responses: dict[int | str, dict[str, Any]]) -> None:
    """The `model` of each documented response must be a type pydantic can describe (checked
    once per model: a router's responses repeat on each of its routes)."""
    for response in responses.values():
        model = response.get("model") if isinstance(response, dict) else None
        if model is None:
            continue
        try:
            if model in _CHECKED_MODELS:
                continue
        except TypeError:  # unhashable: checked every time
            response_adapter(model)
            continue
        response_adapter(model)
        _CHECKED_MODELS.add(model)


def text_type(response_class: type[Response]) -> bytes | None:
    """The content-type value the engine writes for a `str` result, for the text response
    classes whose rendering of a `str` is just its UTF-8 bytes (not their subclasses, which may
    render differently)."""
    if response_class is PlainTextResponse or response_class is HTMLResponse:
        assert response_class.media_type is not None
        return _content_type(response_class.media_type, response_class.charset)[1]
    return None
