"""Turning a handler's or dependency's signature into a `Dependant` (once, at startup)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import inspect
import ipaddress
import re
import uuid
from collections.abc import Callable
from pathlib import PurePath
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AliasChoices,
    AnyUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    IPvAnyAddress,
    IPvAnyInterface,
    IPvAnyNetwork,
    Json,
    NameEmail,
    SecretBytes,
    SecretStr,
    TypeAdapter,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from covet.background import BackgroundTasks
from covet.dependencies.callables import check_exit_scope, resolve_alias
from covet.dependencies.declarations import check_param_type, declared_in_annotated, plain_field_on_body_type
from covet.dependencies.models import Dependant, ParamField, scopes_matter
from covet.dependencies.pydantic_v1 import refuse_pydantic_v1
from covet.dependencies.type_shapes import is_sequence as _is_sequence
from covet.dependencies.type_shapes import item_type as _item_type
from covet.dependencies.type_shapes import strip_optional as _strip_optional
from covet.dependencies.utils import get_typed_signature
from covet.params import (
    BodyParam,
    DependsParam,
    FileParam,
    HeaderParam,
    Param,
    PathParam,
    QueryParam,
    SecurityParam,
)
from covet.requests import Request
from covet.responses import Response

__all__ = ["get_dependant", "build_validators", "wire_name", "model_class"]

_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_SCALARS = (str, int, float, bool, bytes, decimal.Decimal, uuid.UUID, enum.Enum, PurePath)
_TIMES = (datetime.datetime, datetime.date, datetime.time, datetime.timedelta)
# pydantic's string-like special types: scalars, so read from the query as in FastAPI.
_PYDANTIC_SCALARS = (
    AnyUrl,
    EmailStr,
    NameEmail,
    IPvAnyAddress,
    IPvAnyInterface,
    IPvAnyNetwork,
    SecretStr,
    SecretBytes,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)
_SEQUENCES = (list, tuple, set, frozenset)


def path_param_names(path: str) -> set[str]:
    return set(_PATH_PARAM.findall(path))


def get_dependant(
    call: Callable[..., Any],
    *,
    path: str,
    name: str | None = None,
    use_cache: bool = True,
    security_scopes: list[str] | None = None,
    parent_scopes: list[str] | None = None,
    scope: str | None = None,
    endpoint: bool = False,
) -> Dependant:
    """Analyses `call`'s parameters into a plan; sub-dependencies are analysed recursively.
    `security_scopes`: the scopes its own `Security()` declares; `parent_scopes`: those it is
    solved under from above. `endpoint`: `call` is the route's handler (a generator handler
    streams; it is no `yield` dependency with a clean-up scope)."""
    dependant = Dependant(
        call=call,
        name=name,
        is_endpoint=endpoint,
        path=path,
        use_cache=use_cache,
        own_oauth_scopes=list(security_scopes or []),
        parent_oauth_scopes=list(parent_scopes or []),
        scope=scope,
    )
    path_names = path_param_names(path)
    for param in get_typed_signature(call).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = param.annotation
        if annotation is inspect.Parameter.empty:
            annotation = Any
        refuse_pydantic_v1(annotation, f"Parameter '{param.name}' of {getattr(call, '__qualname__', call)!r}")
        _add_param(dependant, param, annotation, path_names)
    dependant.uses_scopes = scopes_matter(dependant)
    build_validators(dependant)
    return dependant


def _add_param(dependant: Dependant, param: inspect.Parameter, annotation: Any, path_names: set[str]) -> None:
    base, declared = _split_annotated(annotation)
    if get_origin(annotation) is Annotated:
        declared = declared_in_annotated(param.name, list(get_args(annotation)[1:]), param.default)
    if isinstance(param.default, (FieldInfo, DependsParam)):
        declared = param.default
    if plain_field_on_body_type(declared, base) and param.name not in path_names:
        base, declared = Annotated[base, declared], None
    if isinstance(declared, DependsParam):
        sub_call = declared.dependency or base
        check_exit_scope(dependant, declared.scope)
        sub = get_dependant(
            sub_call,
            path=dependant.path,
            name=param.name,
            use_cache=declared.use_cache,
            security_scopes=declared.scopes if isinstance(declared, SecurityParam) else [],
            parent_scopes=dependant.security_scopes,
            scope=declared.scope,
        )
        dependant.dependencies.append(sub)
        return
    if declared is None and _special(dependant, param.name, base):
        return
    default = param.default if param.default is not inspect.Parameter.empty else PydanticUndefined
    if declared is not None and default is declared:  # `x: T = Body()`, `q = Query()`: the marker, not a default
        default = PydanticUndefined
    field_info, source = _field_info(param.name, base, declared, default, path_names)
    alias = wire_name(param.name, field_info)
    is_sequence = source in ("query", "header", "form", "file") and _is_sequence(base)
    is_model = source in ("query", "header", "cookie", "form") and _is_model(base)
    check_param_type(param.name, source, base, is_model)
    if source == "form" and not is_model:
        from covet.dependencies.forms import form_models

        is_model = bool(form_models(base))  # a union of form models
    if source in ("body", "form", "file"):
        if _is_json_text(annotation):
            is_sequence = False  # `Json[list[str]]`: one JSON text, not repeated keys
    field = ParamField(
        name=param.name,
        alias=alias,
        source=source,
        annotation=base,
        field_info=field_info,
        required=field_info.is_required(),
        default=None if field_info.default is PydanticUndefined else field_info.default,
        is_sequence=is_sequence,
        is_model=is_model,
        alias_choices=other_choices(field_info) if source != "path" else (),
    )
    groups = {
        "path": dependant.path_params,
        "query": dependant.query_params,
        "header": dependant.header_params,
        "cookie": dependant.cookie_params,
    }
    groups.get(source, dependant.body_params).append(field)
    if isinstance(field_info, BodyParam) and field_info.embed and not (source == "form" and is_model):
        # A form model is the whole form (documented as the model itself), never embedded.
        dependant.embed_body = True


def _special(dependant: Dependant, name: str, base: Any) -> bool:
    """Parameters filled by type, not from request data (FastAPI's special parameters)."""
    if not isinstance(base, type):
        return False
    if issubclass(base, Request):
        dependant.request_param = name
    elif issubclass(base, Response):
        dependant.response_param = name
    elif issubclass(base, BackgroundTasks):
        dependant.background_param = name
    elif base.__name__ == "SecurityScopes" and base.__module__.startswith("covet.security"):
        dependant.security_scopes_param_name = name
    elif base.__name__ == "WebSocket" and base.__module__.startswith("covet"):
        dependant.websocket_param = name
    else:
        return False
    return True


def _field_info(name: str, base: Any, declared: Any, default: Any, path_names: set[str]) -> tuple[FieldInfo, str]:
    if isinstance(declared, FieldInfo):
        info = declared
        if default is not PydanticUndefined and info.default is PydanticUndefined and not info.default_factory:
            info = _with_default(info, default)
        if isinstance(info, Param):
            source = info.source
        else:
            source = "path" if name in path_names else "query"
        if name in path_names and source != "path":
            raise ValueError(f"Parameter '{name}' is in the path, so it cannot be declared as {type(info).__name__}")
        return info, source
    if name in path_names:
        return PathParam(), "path"
    if _is_upload(base):
        return FileParam(default), "file"
    if _is_scalar(base):
        return QueryParam(default), "query"
    # As in FastAPI, a list is read from the query only when declared with Query().
    return BodyParam(default), "body"


def _with_default(info: FieldInfo, default: Any) -> FieldInfo:
    # merge_field_infos keeps covet's Param subclass and its options (source, embed...).
    return FieldInfo.merge_field_infos(info, default=default)


def wire_name(name: str, info: FieldInfo, convert_underscores: bool | None = None) -> str:
    """The key a parameter is read from and reported under (its error `loc`, its OpenAPI
    name): a string `validation_alias` first, then `alias`, then the name, which a header
    spells with hyphens (FastAPI's reading; an AliasPath names no request key)."""
    validation_alias = info.validation_alias
    if isinstance(validation_alias, AliasChoices) and _string_choices(validation_alias):
        return str(validation_alias.choices[0])  # the others: `other_choices`
    key = validation_alias if isinstance(validation_alias, str) and validation_alias else info.alias or name
    if convert_underscores is None:
        convert_underscores = isinstance(info, HeaderParam) and info.convert_underscores
    if convert_underscores and key == name:
        return name.replace("_", "-")
    return key


def other_choices(info: FieldInfo) -> tuple[str, ...]:
    """`AliasChoices("q", "query")`: the request names tried after the first, in order."""
    validation_alias = info.validation_alias
    if isinstance(validation_alias, AliasChoices) and _string_choices(validation_alias):
        return tuple(str(choice) for choice in validation_alias.choices[1:])
    return ()


def _string_choices(choices: AliasChoices) -> bool:
    return all(isinstance(choice, str) for choice in choices.choices)


def _is_json_text(annotation: Any) -> bool:

    return get_origin(annotation) is Annotated and any(
        item is Json or isinstance(item, Json) for item in get_args(annotation)[1:]
    )


def _split_annotated(annotation: Any) -> tuple[Any, Any]:
    declared = None
    annotation = resolve_alias(annotation)
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        for item in metadata:
            if isinstance(item, (FieldInfo, DependsParam)):
                declared = item
        # Other metadata (Gt(5), pydantic's Json, validators...) stays with the type it constrains.
        rest = [item for item in metadata if not isinstance(item, (FieldInfo, DependsParam))]
        return (Annotated[(base, *rest)] if rest else base), declared
    return annotation, declared


def _is_scalar(tp: Any) -> bool:
    tp = _strip_optional(tp)
    if tp is Any:
        return True
    origin = get_origin(tp)
    if origin is Annotated:
        return _is_scalar(get_args(tp)[0])
    if origin is not None and str(origin) == "typing.Literal":
        return True
    if origin in (Union,) or type(tp).__name__ == "UnionType":
        return all(_is_scalar(a) for a in get_args(tp) if a is not type(None))
    return isinstance(tp, type) and issubclass(tp, (*_SCALARS, *_TIMES, *_PYDANTIC_SCALARS))


def _is_upload(tp: Any) -> bool:
    from covet.datastructures import UploadFile

    tp = _strip_optional(tp)
    if _is_sequence(tp):
        tp = _item_type(tp)
    return isinstance(tp, type) and issubclass(tp, UploadFile)


def _is_model(tp: Any) -> bool:
    return model_class(tp) is not None


def model_class(tp: Any) -> type[BaseModel] | None:
    """The pydantic model a parameter model's annotation names (`Filters | None`, Annotated...)."""
    tp = _strip_optional(tp)
    if get_origin(tp) is Annotated:
        return model_class(get_args(tp)[0])
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


# --- validators -------------------------------------------------------------------------------

_CONFIG = ConfigDict(arbitrary_types_allowed=True)


@dataclasses.dataclass(eq=False)
class Validators:
    """Compiled pydantic validators for one Dependant, one per request part."""

    path: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    header: type[BaseModel] | None = None
    cookie: type[BaseModel] | None = None
    body: TypeAdapter[Any] | None = None  # validates the raw JSON bytes
    body_single: ParamField | None = None  # the body is this one parameter's value
    form: type[BaseModel] | None = None


def build_validators(dependant: Dependant) -> None:
    name = getattr(dependant.call, "__name__", type(dependant.call).__name__)
    v = Validators()
    for source in ("path", "query", "header", "cookie"):
        fields = [f for f in getattr(dependant, f"{source}_params") if not f.is_model]
        for f in getattr(dependant, f"{source}_params"):
            if f.is_model:
                f.adapter = TypeAdapter(f.annotation)
                convert = getattr(f.field_info, "convert_underscores", True)
                f.model_keys = _model_keys(model_class(f.annotation), source, convert)  # type: ignore[arg-type]
        if fields:
            setattr(v, source, _model(f"{source}_{name}", fields))
    json_fields = [f for f in dependant.body_params if f.source == "body"]
    form_fields = [f for f in dependant.body_params if f.source in ("form", "file")]
    if json_fields and form_fields:
        raise ValueError(f"{name}: a handler cannot take both JSON Body() and Form()/File() parameters")
    if len(json_fields) == 1 and not dependant.embed_body:
        field = json_fields[0]
        v.body_single = field
        metadata = field.field_info.metadata
        v.body = TypeAdapter(Annotated[(field.annotation, *metadata)] if metadata else field.annotation)
    elif json_fields:
        v.body = TypeAdapter(_model(f"Body_{name}", json_fields))
    for f in form_fields:
        if f.is_model:
            from covet.dependencies.forms import form_model_adapter, form_models

            f.adapter = form_model_adapter(f.annotation)
            f.form_models = tuple(form_models(f.annotation))
    plain_form = [f for f in form_fields if not f.is_model]
    if plain_form:
        v.form = _model(f"Form_{name}", plain_form)
    dependant.validators = v


def _model_keys(model: type[BaseModel], source: str, convert: bool = True) -> list[tuple[str, str, bool]]:
    keys = []
    for name, info in model.model_fields.items():
        key = wire_name(name, info, convert_underscores=False)
        wire = wire_name(name, info, convert_underscores=source == "header" and convert)
        keys.append((key, wire, _is_sequence(info.annotation)))
    return keys


def _model(name: str, fields: list[ParamField]) -> type[BaseModel]:
    definitions: dict[str, Any] = {}
    for f in fields:
        key = AliasChoices(f.alias, *f.alias_choices) if f.alias_choices else f.alias
        definitions[f.name] = (f.annotation, FieldInfo.merge_field_infos(f.field_info, validation_alias=key))
    model_name = re.sub(r"\W", "_", name)
    return create_model(model_name, __config__=_CONFIG, **definitions)
