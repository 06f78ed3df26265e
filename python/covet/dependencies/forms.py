"""Form and file parameters: the form is parsed (in Rust) by `Request.form()`, then its fields
are validated like any other request part, with `loc` starting at `body` as in FastAPI."""

from __future__ import annotations

from typing import Any

from covet.dependencies.models import Dependant, ParamField
from covet.requests import Request

__all__ = ["form_values"]


async def form_values(dependant: Dependant, request: Request, errors: list[dict[str, Any]]) -> dict[str, Any]:
    from covet.dependencies.solve import _errors, _validate_model

    form = await request.form()
    v = dependant.validators  # type: ignore[attr-defined]
    values: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for f in dependant.body_params:
        if f.is_model:
            model_data = {k: _one_or_all(form.getlist(k), f) for k in form.keys()}
            _validate_model(f, model_data, "body", values, errors)
            continue
        items = form.getlist(f.alias)
        if not items:
            continue
        items = [await _file_bytes(item, f) for item in items]
        data[f.alias] = items if f.is_sequence else items[-1]
    if v.form is not None:
        from pydantic import ValidationError

        try:
            values.update(v.form.model_validate(data).__dict__)
        except ValidationError as exc:
            errors.extend(_errors(exc, ("body",)))
    return values


def _one_or_all(items: list[Any], field: ParamField) -> Any:
    return items if len(items) > 1 else items[0]


async def _file_bytes(item: Any, field: ParamField) -> Any:
    """`File()` declared as `bytes` gets the upload's content rather than the UploadFile."""
    from covet.dependencies.analysis import _item_type, _strip_optional

    target = _item_type(field.annotation) if field.is_sequence else _strip_optional(field.annotation)
    if target is bytes and hasattr(item, "read"):
        return await item.read()
    return item
