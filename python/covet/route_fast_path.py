"""What the engine may do for a route without Python: check a response model's shape itself,
build simple arguments itself, validate one JSON body straight from the raw bytes. Decided
once, when a route is made (`APIRoute`), from its analysed signature.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from covet import _engine
from covet.dependencies.models import Dependant
from covet.dependencies.type_shapes import strip_optional as _strip_optional

__all__ = ["_fast_args", "_fast_body", "_shape"]

_FAST_KINDS = _engine.ArgSpec.KINDS


_SCALARS = _engine.ResponseShape.SCALARS


def _shape(model: Any) -> Any:
    """What the engine checks a return value against instead of calling pydantic (a
    `ResponseShape`) for models made of list[...],
    dict[str, ...], Any/object and str/int/float/bool/None (and unions of those); None for
    anything else. A value that does not fit exactly is still given to pydantic."""
    if model is Any or model is object:
        return _engine.ResponseShape.any()
    if model in _SCALARS:
        return _engine.ResponseShape.scalars([model])
    origin, args = get_origin(model), get_args(model)
    if origin in (Union, types.UnionType):
        if not all(arg in _SCALARS for arg in args):
            return None
        return _engine.ResponseShape.scalars(list(args))
    if origin is list and len(args) == 1:
        inner = _shape(args[0])
        return None if inner is None else _engine.ResponseShape.list(inner)
    if origin is dict and len(args) == 2 and args[0] is str:
        inner = _shape(args[1])
        return None if inner is None else _engine.ResponseShape.dict(inner)
    return None


def _fast_args(dependant: Dependant) -> list[_engine.ArgSpec] | None:
    """An `ArgSpec` for each argument, when all of them
    are unconstrained path/query scalars, plus at most one JSON body (see `_fast_body`); None
    otherwise (pydantic validates as usual)."""
    d = dependant
    if d.header_params or d.cookie_params or d.request_param:
        return None
    if d.body_params and (d.validators.body_single is None or d.body_params[0].source != "body"):  # type: ignore[attr-defined]
        return None
    specs = []
    for f in (*d.path_params, *d.query_params):
        kind = _strip_optional(f.annotation)
        info = f.field_info
        if kind not in _FAST_KINDS:
            return None
        if f.is_model or f.is_sequence or f.alias_choices or info.metadata or info.default_factory:
            return None
        if f.annotation is not _strip_optional(f.annotation) and not f.required and f.default is not None:
            return None  # `X | None` with a non-None default: leave it to pydantic
        specs.append(
            _engine.ArgSpec(f.name, f.alias, kind, from_path=f.source == "path", required=f.required, default=f.default)
        )
    return specs


def _fast_body(dependant: Dependant) -> tuple[str, Any] | None:
    """(name, validate_json) of the one JSON body the engine may validate itself: pydantic-core
    straight from the raw bytes; any failure goes back to the full path for its 422."""
    single = dependant.validators.body_single  # type: ignore[attr-defined]
    if single is None:
        return None
    return (single.name, dependant.validators.body.validator.validate_json)  # type: ignore[attr-defined]
