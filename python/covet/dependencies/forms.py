"""Form and file parameters: the form is parsed (in Rust) by `Request.form()`, then its fields
are validated like any other request part, with `loc` starting at `body` as in FastAPI.

A browser sends every field of a form, empty or not: an empty text field (`age=`) and an
unselected file input (no filename, no content) mean "not given", so the declared default
applies (or the field is reported missing), as in FastAPI.

A form model (`Annotated[Model, Form()]`, or a union of models) reads the whole form. Each
model's fields are picked out of the form by their request names, repeated keys kept as lists
only where the field is a sequence; a union normalises the form once per branch, so each
model sees the form as it would alone.
"""

from __future__ import annotations

import copy
from functools import cache, partial
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AliasChoices, BaseModel, BeforeValidator, Tag, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from covet.dependencies.error_shape import validation_errors as _errors
from covet.dependencies.models import Dependant, ParamField
from covet.dependencies.type_shapes import is_sequence as _is_sequence
from covet.dependencies.type_shapes import item_type as _item_type
from covet.dependencies.type_shapes import strip_optional as _strip_optional
from covet.requests import Request

__all__ = ["form_values", "form_model_adapter", "form_models"]


async def form_values(dependant: Dependant, request: Request, errors: list[dict[str, Any]]) -> dict[str, Any]:
    form = await request.form()
    v = dependant.validators
    values: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for f in dependant.body_params:
        if f.is_model:
            _validate_form_model(f, form, values, errors)
            continue
        for key in (f.alias, *f.alias_choices):
            items = _given(form.getlist(key), f.is_sequence)
            if items:
                items = [await _file_bytes(item, f) for item in items]
                data[key] = items if f.is_sequence else items[-1]
                break
    if v.form is not None:
        from pydantic import ValidationError

        try:
            values.update(v.form.model_validate(data).__dict__)
        except ValidationError as exc:
            errors.extend(_errors(exc, ("body",)))
    return values


def _validate_form_model(field: ParamField, form: Any, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    from pydantic import ValidationError

    if not field.required and not any(_supplied(m, form) for m in field.form_models):
        values[field.name] = field.field_info.get_default(call_default_factory=True)
        return
    raw = {key: _one_or_all(form.getlist(key)) for key in form.keys()}
    try:
        values[field.name] = field.adapter.validate_python(raw)  # type: ignore[union-attr]
    except ValidationError as exc:
        # The model's input is the form as read for it, as FastAPI reports it.
        errors.extend(_errors(exc, ("body",), per_field=False))


def _given(items: list[Any], is_sequence: bool) -> list[Any]:
    """The values a browser really filled in (see the module docstring)."""
    items = [item for item in items if not _empty_file(item)]
    if not is_sequence and items and items[-1] == "":
        return []
    return items


def _empty_file(item: Any) -> bool:
    return hasattr(item, "filename") and not item.filename and not getattr(item, "size", None)


def _one_or_all(items: list[Any]) -> Any:
    return items if len(items) > 1 else items[0]


async def _file_bytes(item: Any, field: ParamField) -> Any:
    """`File()` declared as `bytes` gets the upload's content rather than the UploadFile."""
    target = _item_type(field.annotation) if field.is_sequence else _strip_optional(field.annotation)
    if target is bytes and hasattr(item, "read"):
        return await item.read()
    return item


# --- form models (analysed once, at startup) ----------------------------------------------------


def form_models(annotation: Any) -> list[type[BaseModel]]:
    """The models a form parameter stands for: one, or the branches of a union (None aside)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) is Annotated:
        return form_models(get_args(annotation)[0])
    if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
        branches = [a for a in get_args(annotation) if a is not type(None)]
        models = [m for a in branches for m in form_models(a)]
        return models if len(models) == len(branches) else []
    return []


def form_model_adapter(annotation: Any) -> TypeAdapter[Any]:
    """Validates the raw form (every key, repeated ones as lists) into `annotation`: each model
    first reads the form its own way (`_for_model`)."""
    return TypeAdapter(_normalised(annotation))


def _normalised(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Annotated[annotation, BeforeValidator(partial(_for_model, keys=_model_keys(annotation)))]
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return Annotated[(_normalised(base), *metadata)]
    if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
        return Union[tuple(_branch(a) for a in get_args(annotation))]  # noqa: UP007
    return annotation


def _branch(member: Any) -> Any:
    """A union branch, labelled in errors by its model's name (or the `Tag` it already has),
    as FastAPI labels them: `loc` is ["body", "UserForm", "email"]."""
    if member is type(None):
        return member
    metadata = get_args(member)[1:] if get_origin(member) is Annotated else ()
    if any(isinstance(item, Tag) for item in metadata):
        return _normalised(member)
    models = form_models(member)
    return Annotated[_normalised(member), Tag(models[0].__name__)] if models else _normalised(member)


@cache
def _model_keys(model: type[BaseModel]) -> list[tuple[list[str], bool, Any]]:
    """For each field: the request names it may come by (in preference order), whether it takes
    a list, and the default it is read as when the form lacks it (`_NO_DEFAULT`: none)."""
    by_name = bool(model.model_config.get("populate_by_name") or model.model_config.get("validate_by_name"))
    out = []
    for name, info in model.model_fields.items():
        va = info.validation_alias
        if isinstance(va, AliasChoices) and all(isinstance(c, str) for c in va.choices):
            keys = [str(c) for c in va.choices]
        else:
            keys = [va if isinstance(va, str) and va else info.alias or name]
        if by_name and name not in keys:
            keys.append(name)
        out.append((keys, _is_sequence(info.annotation), _form_default(info)))
    return out


_NO_DEFAULT = object()


def _form_default(info: FieldInfo) -> Any:
    """A field's plain default (not None, not a factory's), which a missing form field is read
    as: the model's input, and so a 422's `input`, shows the form as the model saw it, as in
    FastAPI (`{"tags": ["foo", "bar"]}` for an untouched `tags: list[str] = ["foo", "bar"]`)."""
    if info.default is PydanticUndefined or info.default is None:
        return _NO_DEFAULT
    return copy.deepcopy(info.default)


def _for_model(value: Any, *, keys: list[tuple[list[str], bool, Any]]) -> Any:
    if not isinstance(value, dict):
        return value
    known = {k for names, _, _ in keys for k in names}
    out: dict[str, Any] = {}
    for names, is_sequence, default in keys:
        for key in names:
            if key not in value:
                continue
            items = _given(value[key] if isinstance(value[key], list) else [value[key]], is_sequence)
            if items:
                out[key] = items if is_sequence else items[-1]
                break
        else:
            if default is not _NO_DEFAULT:
                out[names[0]] = copy.deepcopy(default)
    out.update((k, v) for k, v in value.items() if k not in known)  # extra="allow"/"forbid" see them
    return out


def _supplied(model: type[BaseModel], form: Any) -> bool:
    """Whether the form carries anything for `model` (else an optional form model is None)."""
    names = {k for keys, _, _ in _model_keys(model) for k in keys}
    extra = model.model_config.get("extra") in ("allow", "forbid")
    return bool(names.intersection(form.keys()) or (extra and len(form)))
