"""The OpenAPI 3.1 document, generated from the routes' analysed signatures.

Everything here runs once, when the document is first asked for (`app.openapi()` caches it).
The document is meant to be the one FastAPI would emit for the same app, so that Swagger UI,
ReDoc, client generators and snapshot tests written against a FastAPI app keep working after a
port. All JSON Schemas come from pydantic, generated in a single pass so that models shared by
several operations land once in `components.schemas` under pydantic's names (`Item`, or
`Item-Input`/`Item-Output` when validation and serialization differ).
"""

from __future__ import annotations

import copy
import functools
import http.client
import inspect
import operator
import re
import types
import typing
import warnings
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import TypeAdapter
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticUndefined, core_schema, to_jsonable_python

from covet.dependencies.analysis import model_class, wire_name

__all__ = [
    "REF_TEMPLATE",
    "REF_PREFIX",
    "get_openapi",
    "get_openapi_path_format",
    "generate_unique_id",
    "VALIDATION_ERROR_SCHEMA",
    "HTTP_VALIDATION_ERROR_SCHEMA",
]

REF_PREFIX = "#/components/schemas/"
REF_TEMPLATE = REF_PREFIX + "{model}"

# The 422 body schemas, exactly as FastAPI documents them (clients generate types from these).
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "properties": {
        "loc": {
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "type": "array",
            "title": "Location",
        },
        "msg": {"type": "string", "title": "Message"},
        "type": {"type": "string", "title": "Error Type"},
        "input": {"title": "Input"},
        "ctx": {"type": "object", "title": "Context"},
    },
    "type": "object",
    "required": ["loc", "msg", "type"],
    "title": "ValidationError",
}
HTTP_VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "properties": {
        "detail": {
            "items": {"$ref": REF_PREFIX + "ValidationError"},
            "type": "array",
            "title": "Detail",
        }
    },
    "type": "object",
    "title": "HTTPValidationError",
}

# Status codes whose responses have no body, so they document no content.
_NO_BODY_STATUS = {204, 205, 304}
# Descriptions of the range keys OpenAPI allows in `responses`.
_RANGE_DESCRIPTIONS = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "DEFAULT": "Default Response",
}
_METHOD_ORDER = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
_CONVERTER = re.compile(r"{([^}:]+):[^}]*}")
_BODY_SOURCES = ("body", "form", "file")
_DEFAULT_MEDIA = {
    "body": "application/json",
    "form": "application/x-www-form-urlencoded",
    "file": "multipart/form-data",
}


def get_openapi_path_format(path: str) -> str:
    """The route path as OpenAPI writes it: Starlette converters (`{id:int}`) removed."""
    return _CONVERTER.sub(r"{\1}", path)


def generate_unique_id(route: Any, method: str) -> str:
    """FastAPI's default operation id: route name + path, non-word characters as `_`, + method.

    Per method rather than per route, so that a route serving GET and POST gets two distinct
    ids (FastAPI gives both the id of whichever method its set yields first)."""
    base = re.sub(r"\W", "_", f"{route.name}{get_openapi_path_format(route.path)}")
    return f"{base}_{method.lower()}"


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    webhooks: Sequence[Any] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document for `routes`, as a JSON-ready dict (FastAPI's signature).

    `webhooks` are routes documented under `webhooks` instead of `paths` (FastAPI's
    `app.webhooks`); they are described exactly like paths."""
    info: dict[str, Any] = {"title": title}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    if terms_of_service:
        info["termsOfService"] = terms_of_service
    if contact:
        info["contact"] = contact
    if license_info:
        info["license"] = license_info
    info["version"] = version

    from covet.route_inclusion import effective_routes  # included routers' routes, in place

    builder = _Builder(separate_input_output_schemas)
    paths = builder.document_routes(effective_routes(routes))
    webhook_paths = builder.document_routes(effective_routes(webhooks or []), webhook=True)
    builder.generate()

    output: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        output["servers"] = servers
    output["paths"] = builder.render(paths)
    if webhooks:
        output["webhooks"] = builder.render(webhook_paths)
    components = builder.components()
    if components:
        output["components"] = components
    if tags:
        output["tags"] = tags
    if external_docs:
        output["externalDocs"] = external_docs
    # FastAPI serializes its document with `exclude_none`: keys whose value is None (a
    # `"default": null`, an unset `refreshUrl`) are absent. Match it, then make sure every
    # value is plain JSON (Enum tags, datetime examples...).
    return _drop_none(to_jsonable_python(output, fallback=str))


# --- the builder -----------------------------------------------------------------------------


@dataclass
class _Field:
    """One documented value: a parameter, a body field or a whole body."""

    alias: str
    source: str
    annotation: Any
    field_info: FieldInfo
    required: bool
    default: Any
    title: str | None  # the generated title; None when only an explicit one may be set


@dataclass
class _SchemaRef:
    """A schema that will exist after the single generation pass: `key` in the mapping."""

    key: Hashable
    mode: Literal["validation", "serialization"]
    field: _Field | None = None  # field-level keywords (title, description...) to add
    title: str | None = None  # a title added when the generated schema is not a `$ref`


class _Builder:
    """Walks the routes, queues every type that needs a JSON Schema, generates them all in one
    pydantic pass (shared definitions), then fills the placeholders left in the operations."""

    def __init__(self, separate_input_output_schemas: bool) -> None:
        self.response_mode: Literal["validation", "serialization"] = (
            "serialization" if separate_input_output_schemas else "validation"
        )
        self._inputs: list[tuple[Hashable, Literal["validation", "serialization"], core_schema.CoreSchema]] = []
        self._mapping: dict[tuple[Hashable, str], JsonSchemaValue] = {}
        self._definitions: dict[str, JsonSchemaValue] = {}
        self._bodies: dict[str, dict[str, Any]] = {}  # Body_{id} models, with placeholders
        self.security_schemes: dict[str, Any] = {}
        self.needs_validation_error = False
        self._operation_ids: set[str] = set()

    # queueing ---------------------------------------------------------------------------------

    def schema_for(
        self,
        annotation: Any,
        mode: Literal["validation", "serialization"],
        *,
        field: _Field | None = None,
        title: str | None = None,
    ) -> _SchemaRef:
        """A placeholder for `annotation`'s schema, filled in by `render` after `generate`."""
        key = len(self._inputs)
        metadata = list(field.field_info.metadata) if field is not None else []
        tp = _document_type(annotation)
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(Annotated[tp, *metadata] if metadata else tp)
            schema = adapter.core_schema
        except Exception:  # a type pydantic cannot describe: document it as "anything"
            schema = core_schema.any_schema()
        self._inputs.append((key, mode, schema))
        return _SchemaRef(key, mode, field, title)

    def generate(self) -> None:
        """Runs pydantic's JSON Schema generator once over everything queued."""
        try:
            self._mapping, self._definitions = _SchemaGenerator(ref_template=REF_TEMPLATE).generate_definitions(
                self._inputs
            )
        except Exception:
            # One type that has no JSON Schema (a Callable, a bare object) would otherwise make
            # the whole document fail; find the culprits, document them as "anything", retry.
            inputs = []
            for key, mode, schema in self._inputs:
                try:
                    _SchemaGenerator(ref_template=REF_TEMPLATE).generate_definitions([(key, mode, schema)])
                except Exception:
                    schema = core_schema.any_schema()
                inputs.append((key, mode, schema))
            self._mapping, self._definitions = _SchemaGenerator(ref_template=REF_TEMPLATE).generate_definitions(inputs)
        # A docstring's text after a form feed is for the code's readers only (FastAPI cuts it
        # from path operation descriptions and model descriptions alike).
        for definition in self._definitions.values():
            if isinstance(definition.get("description"), str):
                definition["description"] = definition["description"].split("\f")[0]

    # routes -----------------------------------------------------------------------------------

    def document_routes(self, routes: Iterable[Any], *, webhook: bool = False) -> dict[str, dict[str, Any]]:
        paths: dict[str, dict[str, Any]] = {}
        for route in routes:
            methods = getattr(route, "methods", None)
            if not methods or not getattr(route, "include_in_schema", False) or not hasattr(route, "endpoint"):
                continue
            documented = {m.upper() for m in methods}
            if documented != {"HEAD"}:
                documented.discard("HEAD")
            path = route.path if not webhook else getattr(route, "path", route.name)
            item = paths.setdefault(get_openapi_path_format(path), {})
            for method in sorted(documented, key=_method_rank):
                item[method.lower()] = self.operation(route, method)
        return paths

    def operation(self, route: Any, method: str) -> dict[str, Any]:
        unique_id = (
            getattr(route, "operation_id", None)
            or getattr(route, "unique_id", None)  # a custom `generate_unique_id_function`'s
            or generate_unique_id(route, method)
        )
        if unique_id in self._operation_ids:
            warnings.warn(
                f"Duplicate Operation ID {unique_id} for function {getattr(route.endpoint, '__name__', route.name)}",
                stacklevel=2,
            )
        self._operation_ids.add(unique_id)

        op: dict[str, Any] = {}
        tags = [t.value if isinstance(t, Enum) else t for t in (getattr(route, "tags", None) or [])]
        if tags:
            op["tags"] = tags
        op["summary"] = getattr(route, "summary", None) or route.name.replace("_", " ").title()
        description = _route_description(route)
        if description:
            op["description"] = description
        op["operationId"] = unique_id
        if getattr(route, "deprecated", False):
            op["deprecated"] = True

        dependant = getattr(route, "dependant", None)
        flat = _flat(dependant)
        parameters = self.parameters(flat) if flat is not None else []
        if parameters:
            op["parameters"] = parameters
        body = self.request_body(flat, unique_id) if flat is not None else None
        if body is not None:
            op["requestBody"] = body
        callbacks = getattr(route, "callbacks", None)
        if callbacks:
            op["callbacks"] = self.callbacks(callbacks)

        op["responses"] = self.responses(route, unique_id)
        has_input = flat is not None and bool(flat.all_params() or flat.body_params)
        if has_input and not any(k in op["responses"] for k in ("422", "4XX", "default")):
            self.needs_validation_error = True
            op["responses"]["422"] = {
                "description": "Validation Error",
                "content": {"application/json": {"schema": {"$ref": REF_PREFIX + "HTTPValidationError"}}},
            }

        security = self.security(dependant) if dependant is not None else []
        if security:
            op["security"] = security
        extra = getattr(route, "openapi_extra", None)
        if extra:
            _deep_update(op, extra)
        return op

    def callbacks(self, routes: list[Any]) -> dict[str, Any]:
        """OpenAPI `callbacks`: each callback route (one of a callback router's routes, its path
        an expression like `{$request.body.callback_url}/events`) documented like a path."""
        out: dict[str, Any] = {}
        for route in routes:
            methods = getattr(route, "methods", None)
            if not methods or not hasattr(route, "endpoint"):
                continue
            documented = {m.upper() for m in methods}
            if documented != {"HEAD"}:
                documented.discard("HEAD")
            item = {m.lower(): self.operation(route, m) for m in sorted(documented, key=_method_rank)}
            out[route.name] = {route.path: item}
        return out

    # parameters -------------------------------------------------------------------------------

    def parameters(self, flat: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for param in flat.all_params():
            if not _in_schema(param.field_info):
                continue
            for f in _expand(param):
                if (f.source, f.alias) in seen or not _in_schema(f.field_info):
                    continue
                seen.add((f.source, f.alias))
                doc: dict[str, Any] = {
                    "name": f.alias,
                    "in": f.source,
                    "required": f.required,
                    "schema": self.schema_for(f.annotation, "validation", field=f, title=f.title),
                }
                fi = f.field_info
                if fi.description and _describes_parameter(param, fi):
                    doc["description"] = fi.description
                doc.update(_media_examples(fi))
                if fi.deprecated:
                    doc["deprecated"] = True
                out.append(doc)
        return out

    def request_body(self, flat: Any, unique_id: str) -> dict[str, Any] | None:
        params = [p for p in flat.body_params if _in_schema(p.field_info)]
        if not params:
            return None
        sources = {p.source for p in params}
        if len(params) == 1 and not flat.embed_body:
            only = params[0]
            f = _field(only)
            schema: Any = self.schema_for(f.annotation, "validation", field=f, title=f.title)
            media_type = getattr(only.field_info, "media_type", None) or _DEFAULT_MEDIA.get(only.source)
            required = only.required
        else:
            name = f"Body_{unique_id}"
            properties: dict[str, Any] = {}
            required_names: list[str] = []
            all_of: list[Any] = []
            for p in params:
                if p.is_model and p.source == "form" and len(params) > 1:
                    # A form model beside other form fields: referenced whole, as FastAPI does.
                    all_of.append(self.schema_for(p.annotation, "validation"))
                    continue
                fields = _expand(p) if p.is_model and len(params) > 1 else [_field(p)]
                for f in fields:
                    title = None if _is_nullable_model(f.annotation) else f.title
                    properties[f.alias] = self.schema_for(f.annotation, "validation", field=f, title=title)
                    if f.required and f.alias not in required_names:
                        required_names.append(f.alias)
            model: dict[str, Any] = {"allOf": all_of} if all_of else {}
            model.update(properties=properties, type="object")
            if required_names:
                model["required"] = required_names
            model["title"] = name
            self._bodies[name] = model
            schema = {"$ref": REF_PREFIX + _normalize_name(name)}
            media_type = _embedded_media_type(params, sources)
            required = bool(required_names)
        body: dict[str, Any] = {"content": {media_type or "application/json": {"schema": schema}}}
        if required:
            body["required"] = True
        if len(params) == 1 and not flat.embed_body:
            next(iter(body["content"].values())).update(_media_examples(params[0].field_info))
        return body

    # responses --------------------------------------------------------------------------------

    def responses(self, route: Any, unique_id: str) -> dict[str, Any]:
        from covet.responses import JSONResponse

        response_class = getattr(route, "response_class", None) or JSONResponse
        media_type = getattr(response_class, "media_type", None)
        status = str(getattr(route, "status_code", None) or 200)
        responses: dict[str, Any] = {}
        main: dict[str, Any] = {"description": getattr(route, "response_description", None) or "Successful Response"}
        if media_type and _body_allowed(status):
            schema: Any = {"type": "string"}
            if isinstance(response_class, type) and issubclass(response_class, JSONResponse):
                model = getattr(route, "response_model", None)
                if model is not None:
                    title = f"Response_{unique_id}".title().replace("_", " ")
                    schema = self.schema_for(model, _output_mode(self.response_mode, model), title=title)
                else:
                    schema = {}
            main["content"] = {media_type: {"schema": schema}}
        stream = getattr(route, "stream", None)
        if stream is not None and stream.kind != "raw" and _body_allowed(status):
            main["content"] = self.stream_content(stream, unique_id)
        responses[status] = main

        for code, extra in (getattr(route, "responses", None) or {}).items():
            key = _response_key(code)
            doc = dict(extra)
            model = doc.pop("model", None)
            if model is not None:
                # A response class with no media type (a bare Response) documents the model
                # as JSON, as FastAPI does.
                model_media = media_type or "application/json"
                title = f"Response_{key}_{unique_id}".title().replace("_", " ")
                content = dict(doc.get("content") or {})
                entry = dict(content.get(model_media) or {})
                entry["schema"] = self.schema_for(model, _output_mode(self.response_mode, model), title=title)
                content[model_media] = entry
                doc["content"] = content
            target = responses.setdefault(key, {})
            _deep_update(target, doc)
            if not target.get("description"):
                target["description"] = _status_description(key)
        return responses

    def stream_content(self, stream: Any, unique_id: str) -> dict[str, Any]:
        """A generator handler's response: the schema of one item (`itemSchema`), of a JSON
        line or of an event whose `data` is the item as JSON."""
        from covet.streams import SSE_ITEM_SCHEMA

        item: Any = {}
        if stream.item_type is not None:
            title = f"StreamItem_{unique_id}".title().replace("_", " ")
            item = self.schema_for(stream.item_type, _output_mode(self.response_mode, stream.item_type), title=title)
        if stream.kind == "jsonl":
            return {"application/jsonl": {"itemSchema": item}}
        event = copy.deepcopy(SSE_ITEM_SCHEMA)
        if stream.item_type is not None:
            event["properties"]["data"] = {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": item,
            }
            event["required"] = ["data"]
        return {"text/event-stream": {"itemSchema": event}}

    # security ---------------------------------------------------------------------------------

    def security(self, dependant: Any) -> list[dict[str, list[str]]]:
        from covet.security.base import SecurityBase

        # One requirement per scheme, its scopes merged across every place the scheme is used
        # (as FastAPI does): `[{"oauth": ["read", "write"]}]`, not one entry per use.
        requirements: dict[str, list[str]] = {}

        def visit(d: Any, scopes: list[str]) -> None:
            for sub in getattr(d, "dependencies", None) or []:
                sub_scopes = _unique([*scopes, *(getattr(sub, "security_scopes", None) or [])])
                call = getattr(sub, "call", None)
                if isinstance(call, SecurityBase):
                    self.security_schemes[call.scheme_name] = call.model
                    merged = requirements.setdefault(call.scheme_name, [])
                    merged.extend(s for s in sub_scopes if s not in merged)
                visit(sub, sub_scopes)

        visit(dependant, _unique(list(getattr(dependant, "security_scopes", None) or [])))
        return [{name: scopes} for name, scopes in requirements.items()]

    # output -------------------------------------------------------------------------------------

    def render(self, value: Any) -> Any:
        """Replaces each `_SchemaRef` placeholder with its generated schema."""
        if isinstance(value, _SchemaRef):
            return self._resolve(value)
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        return value

    def _resolve(self, ref: _SchemaRef) -> dict[str, Any]:
        schema = dict(self._mapping.get((ref.key, ref.mode), {}))
        f = ref.field
        if f is not None:
            fi = f.field_info
            if fi.title:
                schema["title"] = fi.title
            if fi.description:
                schema["description"] = fi.description
            if fi.examples is not None:
                schema["examples"] = to_jsonable_python(fi.examples, fallback=str)
            if fi.deprecated:
                schema["deprecated"] = True
            if not f.required and fi.default_factory is None:
                default = _json_default(f.default)
                if default is not None:
                    schema["default"] = default
            extra = fi.json_schema_extra
            if isinstance(extra, dict):
                schema.update(extra)
            elif callable(extra):
                extra(schema)  # type: ignore[call-arg]
        if ref.title and "$ref" not in schema and "title" not in schema:
            schema["title"] = ref.title
        return schema

    def components(self) -> dict[str, Any]:
        schemas: dict[str, Any] = dict(self._definitions)
        for name, model in self._bodies.items():
            schemas[_normalize_name(name)] = self.render(model)
        if self.needs_validation_error:
            schemas["ValidationError"] = VALIDATION_ERROR_SCHEMA
            schemas["HTTPValidationError"] = HTTP_VALIDATION_ERROR_SCHEMA
        out: dict[str, Any] = {}
        if schemas:
            out["schemas"] = {k: schemas[k] for k in sorted(schemas)}
        if self.security_schemes:
            out["securitySchemes"] = self.security_schemes
        return out


class _SchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, with `bytes` documented as binary content.

    pydantic describes `bytes` as a base64/utf-8 string (`format: binary`); an uploaded file or
    raw body is octet-stream content, which is how FastAPI and OpenAPI 3.1 describe it."""

    def bytes_schema(self, schema: core_schema.BytesSchema) -> JsonSchemaValue:
        json_schema: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
        config_mode = self._config.ser_json_bytes if self.mode == "serialization" else self._config.val_json_bytes
        if config_mode == "base64":
            json_schema["contentEncoding"] = "base64"
        self.update_with_validations(json_schema, schema, self.ValidationsMapping.bytes)
        return json_schema


# --- helpers -----------------------------------------------------------------------------------


def _flat(dependant: Any) -> Any:
    if dependant is None:
        return None
    from covet.dependencies.models import flat_params

    return flat_params(dependant)


def _in_schema(field_info: Any) -> bool:
    return bool(getattr(field_info, "include_in_schema", True))


def _field(param: Any) -> _Field:
    """A ParamField as a documented field; its generated title comes from its alias."""
    return _Field(
        alias=param.alias,
        source=param.source,
        annotation=param.annotation,
        field_info=param.field_info,
        required=param.required,
        default=param.default,
        title=_title(param.alias),
    )


def _describes_parameter(param: Any, info: FieldInfo) -> bool:
    """Whether a description belongs on the parameter itself: one given to `Query()`, `Header()`...
    or to a parameter model's field. pydantic's own `Field(description=)` on a handler parameter
    describes the value's type, so it stays in the parameter's schema (as in FastAPI)."""
    return bool(getattr(param, "is_model", False)) or type(info) is not FieldInfo


def _expand(param: Any) -> list[_Field]:
    """A parameter standing for a pydantic model (`q: Annotated[Filters, Query()]`) is
    documented as one parameter per model field, named as the request carries them."""
    if not getattr(param, "is_model", False):
        return [_field(param)]
    model = model_class(param.annotation)
    fields: dict[str, FieldInfo] = getattr(model, "model_fields", {})
    convert = param.source == "header" and getattr(param.field_info, "convert_underscores", True)
    out = []
    for name, info in fields.items():
        key = wire_name(name, info, convert_underscores=False)
        out.append(
            _Field(
                alias=wire_name(name, info, convert_underscores=convert),
                source=param.source,
                annotation=info.annotation,
                field_info=info,
                required=info.is_required(),
                default=info.default,
                title=_title(key),
            )
        )
    return out


def _is_nullable_model(annotation: Any) -> bool:
    """`Item | None` in a body object: pydantic gives such a property no generated title (its
    schema stands for the model), and FastAPI's Body_ models are pydantic's."""
    from pydantic import BaseModel

    args = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    rest = [a for a in args if a is not type(None)]
    return len(rest) == 1 and len(args) == 2 and isinstance(rest[0], type) and issubclass(rest[0], BaseModel)


def _embedded_media_type(params: list[Any], sources: set[str]) -> str:
    """Several body values in one body: the media type they all declare, else the one of the
    body's kind (a file makes it multipart, a form field urlencoded), as FastAPI documents it."""
    declared = {getattr(p.field_info, "media_type", None) for p in params}
    if len(declared) == 1 and None not in declared:
        return str(declared.pop())
    if "file" in sources:
        return "multipart/form-data"
    if "form" in sources:
        return "application/x-www-form-urlencoded"
    return "application/json"


def _title(name: str) -> str:
    """pydantic's generated field title: `item_id` -> `Item Id`, `x-token` -> `X-Token`."""
    return name.title().replace("_", " ")


def _route_description(route: Any) -> str | None:
    """The route's description, or its endpoint's docstring. A docstring is cut at its first
    form feed (FastAPI's convention: what follows is for developers, not the docs)."""
    description = getattr(route, "description", None)
    doc = getattr(route.endpoint, "__doc__", None)
    docstring = inspect.cleandoc(doc) if doc else None
    if description is None or description == docstring:
        description = docstring.split("\f")[0] if docstring else None
    return description


def _method_rank(method: str) -> int:
    return _METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER)


def _body_allowed(status: str) -> bool:
    if not status.isdigit():
        return True
    code = int(status)
    return code >= 200 and code not in _NO_BODY_STATUS


def _output_mode(
    response_mode: Literal["validation", "serialization"], model: Any
) -> Literal["validation", "serialization"]:
    """With `separate_input_output_schemas=False` responses use the input schema, except a
    model with computed fields: only its output schema has them (FastAPI does the same)."""
    if response_mode == "validation" and _has_computed_fields(model, set()):
        return "serialization"
    return response_mode


def _has_computed_fields(tp: Any, seen: set[Any]) -> bool:
    """Whether `tp` (a model, a pydantic dataclass, or a type built from them) has a computed
    field anywhere inside; `seen` stops recursive models."""
    if isinstance(tp, type):
        if tp in seen:
            return False
        seen.add(tp)
        decorators = getattr(tp, "__pydantic_decorators__", None)
        if decorators is not None and decorators.computed_fields:
            return True
        fields = getattr(tp, "__pydantic_fields__", None) or {}
        return any(_has_computed_fields(f.annotation, seen) for f in fields.values())
    return any(_has_computed_fields(arg, seen) for arg in typing.get_args(tp))


def _media_examples(field_info: FieldInfo) -> dict[str, Any]:
    """A parameter's or single body's `openapi_examples` (or deprecated `example`) are documented
    beside its schema (OpenAPI's `examples`), where Swagger UI offers them in a drop-down."""
    openapi_examples = getattr(field_info, "openapi_examples", None)
    if openapi_examples:
        return {"examples": openapi_examples}
    example = getattr(field_info, "example", PydanticUndefined)
    if example is not PydanticUndefined:
        return {"example": example}  # the deprecated `example=`
    return {}


def _response_key(code: Any) -> str:
    """The `responses` key for an additional response: a status code, a range (`5XX`, written
    upper-case) or `default`. Anything else is a mistake in the app, reported when the document
    is built (FastAPI raises ValueError too)."""
    key = str(code).upper()
    if key == "DEFAULT":
        return "default"
    if key not in _RANGE_DESCRIPTIONS and not key.isdigit():
        raise ValueError(
            f"invalid key {code!r} in `responses`: expected a status code, a range like '5XX' or 'default'"
        )
    return key


def _status_description(key: str) -> str:
    if key.upper() in _RANGE_DESCRIPTIONS:
        return _RANGE_DESCRIPTIONS[key.upper()]
    if key.isdigit() and int(key) in http.client.responses:
        return http.client.responses[int(key)]
    return "Additional Response"


def _json_default(value: Any) -> Any:
    if value is PydanticUndefined or value is Ellipsis or value is None:
        return None
    try:
        return to_jsonable_python(value)
    except Exception:
        return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _normalize_name(name: str) -> str:
    """The component name pydantic would give a model called `name`."""
    return re.sub(r"[^a-zA-Z0-9.\-_]", "_", name)


def _deep_update(target: dict[str, Any], extra: dict[str, Any]) -> None:
    """Merges `extra` into `target`: dicts recursively, lists appended, anything else replaced
    (so `openapi_extra={"parameters": [...]}` adds parameters rather than losing the others)."""
    for key, value in extra.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _deep_update(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            target[key] = current + value
        else:
            target[key] = value


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _is_upload(tp: Any) -> bool:
    return isinstance(tp, type) and tp.__name__ == "UploadFile"


def _document_type(tp: Any) -> Any:
    """The type to describe: uploaded files (`UploadFile`, in any container) become `bytes`,
    which is what they are on the wire and has a JSON Schema."""
    if _is_upload(tp):
        return bytes
    origin = typing.get_origin(tp)
    if origin is None:
        return tp
    args = typing.get_args(tp)
    if origin is Annotated:
        return Annotated[_document_type(args[0]), *args[1:]]
    new_args = tuple(_document_type(a) for a in args)
    if new_args == args:
        return tp
    if origin is typing.Union or origin is types.UnionType:
        return functools.reduce(operator.or_, new_args)
    try:
        return origin[new_args] if len(new_args) > 1 else origin[new_args[0]]
    except TypeError:
        return tp
