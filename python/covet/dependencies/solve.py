"""Executing a `Dependant` for one request: validate its request values, solve its
dependencies (cached per request), and collect every validation error before failing."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from covet.background import BackgroundTasks
from covet.concurrency import run_in_threadpool
from covet.dependencies.error_shape import missing as _missing
from covet.dependencies.error_shape import validation_errors as _errors
from covet.dependencies.models import Dependant, ParamField
from covet.exceptions import RequestValidationError
from covet.requests import Request
from covet.responses import Response

__all__ = ["RequestContext", "solve", "validate_request_values", "endpoint_context"]


class RequestContext:
    """Per-request state shared by every dependency of one endpoint."""

    __slots__ = ("request", "response", "background", "cache", "stack", "handler_stack", "overrides", "analysed", "exc")

    def __init__(self, request: Request, overrides: dict[Any, Any], analysed: dict[Any, Dependant]) -> None:
        self.request = request
        self.analysed = analysed  # overrides, analysed on first use
        self.exc: BaseException | None = None  # the handler's exception, for `yield` clean-up
        self.response: Response | None = None  # the `response: Response` parameter, if asked for
        self.background: BackgroundTasks | None = None
        self.cache: dict[Any, Any] = {}
        self.stack: contextlib.AsyncExitStack | None = None
        # Left as soon as the handler returns or raises, before the response is built: a
        # database unit of work commits here, so a failed commit can still change the answer.
        self.handler_stack: contextlib.AsyncExitStack | None = None
        self.overrides = overrides

    def sub_response(self) -> Response:
        if self.response is None:
            self.response = Response()
            self.response.status_code = None  # type: ignore[assignment]
        return self.response

    def background_tasks(self) -> BackgroundTasks:
        if self.background is None:
            self.background = BackgroundTasks()
        return self.background

    def exit_stack(self) -> contextlib.AsyncExitStack:
        if self.stack is None:
            self.stack = contextlib.AsyncExitStack()
        return self.stack

    def handler_exit_stack(self) -> contextlib.AsyncExitStack:
        if self.handler_stack is None:
            self.handler_stack = contextlib.AsyncExitStack()
        return self.handler_stack

    async def close(self) -> None:
        """What `Request.close()` calls once the response is sent: see `close` below."""
        await close(self)

    async def leave_handler(self, exc: BaseException | None) -> None:
        """Leaves what was entered for the handler's duration; may raise (a failed commit)."""
        stack, self.handler_stack = self.handler_stack, None
        if stack is None:
            return
        if exc is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(exc), exc, exc.__traceback__)


async def solve(dependant: Dependant, ctx: RequestContext) -> dict[str, Any]:
    """The keyword arguments for `dependant.call`; raises RequestValidationError."""
    errors: list[dict[str, Any]] = []
    values = await _solve(dependant, ctx, errors)
    if errors:
        raise RequestValidationError(errors, endpoint_ctx=endpoint_context(dependant, ctx.request))
    return values


def endpoint_context(dependant: Dependant, request: Request | None) -> dict[str, Any]:
    """Where a request was refused, for the error's text: the handler's name, file and line,
    and `METHOD /mount/path` (`WS ...` for a WebSocket). Only computed on a validation error."""
    call = dependant.call
    ctx: dict[str, Any] = {}
    code = getattr(inspect.unwrap(call), "__code__", None) if call is not None else None
    if code is not None:
        ctx.update(file=code.co_filename, line=code.co_firstlineno, function=getattr(call, "__name__", None))
    if dependant.path and request is not None:
        method = "WS" if request.scope.get("type") == "websocket" else request.method
        ctx["path"] = f"{method} {request.scope.get('root_path', '').rstrip('/')}{dependant.path}"
    return ctx


async def _solve(dependant: Dependant, ctx: RequestContext, errors: list[dict[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for sub in dependant.dependencies:
        sub = _overridden(sub, ctx)
        key = sub.cache_key
        if sub.use_cache and key in ctx.cache:
            if sub.name is not None:
                values[sub.name] = ctx.cache[key]
            continue
        before = len(errors)
        kwargs = await _solve(sub, ctx, errors)
        if len(errors) > before:
            continue
        value = await _call(sub, kwargs, ctx)
        if sub.name is not None:  # route- and router-level dependencies give no argument
            values[sub.name] = value
        if sub.use_cache:
            ctx.cache[key] = value
    values.update(validate_request_values(dependant, ctx.request, errors))
    if dependant.body_params:
        values.update(await _body_values(dependant, ctx.request, errors))
    _special_values(dependant, ctx, values)
    return values


def _overridden(sub: Dependant, ctx: RequestContext) -> Dependant:
    if not ctx.overrides:
        return sub
    replacement = ctx.overrides.get(sub.call)
    if replacement is None:
        return sub
    from covet.dependencies.analysis import get_dependant

    key = (replacement, sub.name, sub.path, tuple(sub.own_oauth_scopes), tuple(sub.parent_oauth_scopes))
    if key not in ctx.analysed:
        ctx.analysed[key] = get_dependant(
            replacement,
            path=sub.path,
            name=sub.name,
            use_cache=sub.use_cache,
            security_scopes=sub.own_oauth_scopes,
            parent_scopes=sub.parent_oauth_scopes,
        )
    return ctx.analysed[key]


async def _call(dependant: Dependant, kwargs: dict[str, Any], ctx: RequestContext) -> Any:
    call: Callable[..., Any] = dependant.call  # type: ignore[assignment]
    if dependant.is_async_gen or dependant.is_gen:
        # scope="function": cleaned up when the handler returns, before the response is sent.
        stack = ctx.handler_exit_stack() if dependant.scope == "function" else ctx.exit_stack()
        if dependant.is_async_gen:
            return await stack.enter_async_context(contextlib.asynccontextmanager(call)(**kwargs))
        cm_sync = contextlib.contextmanager(call)(**kwargs)
        return await stack.enter_async_context(_in_threadpool(cm_sync))
    if dependant.is_coroutine:
        return await call(**kwargs)
    return await run_in_threadpool(call, **kwargs)


@contextlib.asynccontextmanager
async def _in_threadpool(cm: contextlib.AbstractContextManager[Any]) -> Any:
    """A sync `yield` dependency: its set-up and clean-up both run in the thread pool."""
    value = await run_in_threadpool(cm.__enter__)
    try:
        yield value
    except BaseException as exc:
        suppressed = await run_in_threadpool(cm.__exit__, type(exc), exc, exc.__traceback__)
        if not suppressed:
            raise
    else:
        await run_in_threadpool(cm.__exit__, None, None, None)


def _special_values(dependant: Dependant, ctx: RequestContext, values: dict[str, Any]) -> None:
    if dependant.request_param:
        values[dependant.request_param] = ctx.request
    if dependant.websocket_param:
        values[dependant.websocket_param] = ctx.request  # a WebSocket endpoint's context holds it
    if dependant.response_param:
        values[dependant.response_param] = ctx.sub_response()
    if dependant.background_param:
        values[dependant.background_param] = ctx.background_tasks()
    if dependant.security_scopes_param_name:
        from covet.security import SecurityScopes

        values[dependant.security_scopes_param_name] = SecurityScopes(scopes=dependant.security_scopes)


# --- request values ---------------------------------------------------------------------------


def validate_request_values(dependant: Dependant, request: Request, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Path, query, header and cookie values, validated by pydantic (synchronous)."""
    v = dependant.validators
    values: dict[str, Any] = {}
    if v.path is not None:
        _validate(v.path, request.path_params, "path", values, errors)
    if v.query is not None:
        _validate(v.query, _collect(dependant.query_params, request.query_params), "query", values, errors)
    if v.header is not None:
        _validate(v.header, _collect(dependant.header_params, request.headers), "header", values, errors)
    if v.cookie is not None:
        cookies = request.cookies
        _validate(
            v.cookie,
            {
                f.alias: cookies[k]
                for f in dependant.cookie_params
                if (k := _request_key(f, cookies) if f.alias_choices else f.alias) in cookies
            },
            "cookie",
            values,
            errors,
        )
    for group, source in (
        (dependant.query_params, "query"),
        (dependant.header_params, "header"),
        (dependant.cookie_params, "cookie"),
    ):
        for f in group:
            if f.is_model:
                data = _model_input(f, request, source)
                _validate_model(f, data, source, values, errors)
    return values


def _collect(fields: list[ParamField], multi: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in fields:
        if f.is_model:
            continue
        key = _request_key(f, multi) if f.alias_choices else f.alias
        if f.is_sequence:
            items = multi.getlist(key)
            if items:
                data[f.alias] = items
        else:
            value = multi.get(key)
            if value is not None:
                data[f.alias] = value
    return data


def _request_key(f: ParamField, present: Any) -> str:
    """The first of a parameter's request names the request has (`AliasChoices`)."""
    if f.alias_choices and f.alias not in present:
        return next((key for key in f.alias_choices if key in present), f.alias)
    return f.alias


def _model_input(field: ParamField, request: Request, source: str) -> dict[str, Any]:
    """A parameter model (e.g. `Annotated[Filters, Query()]`) reads all of its part: its own
    fields by their request names, then every other value of that part, so the model's
    `extra` policy decides about them (kept, ignored, or refused with extra="forbid")."""
    if source == "cookie":
        multi: Any = request.cookies
        items = list(multi.items())
    elif source == "query":
        multi = request.query_params
        items = multi.multi_items()
    else:
        multi = request.headers
        items = multi.items()
    data: dict[str, Any] = {}
    own: set[str] = set()
    for key, wire, is_sequence in field.model_keys:
        # A header's unconverted field name is not an extra either (`x_user_id` for x-user-id).
        own.update((wire.lower(), key.lower()) if source == "header" else (wire,))
        values = multi.getlist(wire) if source != "cookie" else [multi[wire]] if wire in multi else []
        if values:
            data[key] = values if is_sequence else values[-1] if source == "query" else values[0]
    extras: dict[str, list[Any]] = {}
    for name, value in items:
        if name not in own:
            extras.setdefault(name, []).append(value)
    for name, values in extras.items():
        data.setdefault(name, values[0] if len(values) == 1 else values)
    return data


def _validate(model: Any, data: Any, source: str, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    try:
        values.update(model.model_validate(data).__dict__)
    except ValidationError as exc:
        errors.extend(_errors(exc, (source,)))


def _validate_model(
    field: ParamField, data: Any, source: str, values: dict[str, Any], errors: list[dict[str, Any]]
) -> None:
    try:
        values[field.name] = field.adapter.validate_python(data)  # type: ignore[union-attr]
    except ValidationError as exc:
        # The model's whole input is the `input` of a missing field, as in FastAPI.
        errors.extend(_errors(exc, (source,), per_field=False))


async def _body_values(dependant: Dependant, request: Request, errors: list[dict[str, Any]]) -> dict[str, Any]:
    if request._body_pending and any(f.source == "body" for f in dependant.body_params):
        await request.body()  # a large JSON body: collect it before validating
    v = dependant.validators
    if v.form is not None or any(f.is_model for f in dependant.body_params if f.source in ("form", "file")):
        from covet.dependencies.forms import form_values

        return await form_values(dependant, request, errors)
    return body_values(dependant, request, errors)


def body_values(dependant: Dependant, request: Request, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON body, validated by pydantic-core straight from the raw bytes."""
    v = dependant.validators
    raw = request._body if request._body is not None else request._raw.body
    if not raw:
        fields = dependant.body_params
        required = [f for f in fields if f.required]
        if required and v.body_single is not None:
            errors.append({"type": "missing", "loc": ["body"], "msg": "Field required", "input": None})
            return {}
        if required:  # an embedded body: each of its values is missing (FastAPI's report)
            errors.extend(_missing(("body", f.alias)) for f in required)
            return {}
        return {f.name: f.field_info.get_default(call_default_factory=True) for f in fields}
    content_type = request.headers.get("content-type")
    # No Content-Type: JSON only for a route with `strict_content_type=False` (FastAPI's rule).
    is_json = _is_json(content_type) if content_type else dependant.lax_content_type
    if not is_json and v.body_single is None:
        # Not declared as JSON: no field can be found in it (FastAPI's reading).
        values: dict[str, Any] = {}
        for f in dependant.body_params:
            if f.required:
                errors.append({"type": "missing", "loc": ["body", f.alias], "msg": "Field required", "input": None})
            else:
                values[f.name] = f.field_info.get_default(call_default_factory=True)
        return values
    try:
        if is_json:
            value = v.body.validate_json(raw)
        else:
            # Not declared as JSON: validated as the text it is, so a model refuses it (FastAPI).
            value = v.body.validate_python(raw.decode("utf-8", "replace"))
    except ValidationError as exc:
        from covet.dependencies.body_errors import body_errors

        errors.extend(body_errors(exc, raw, dependant, is_json))
        return {}
    if v.body_single is not None:
        return {v.body_single.name: value}
    return dict(value.__dict__)


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # no Content-Type: taken as JSON, as FastAPI does
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def close(ctx: RequestContext) -> None:
    """Runs the clean-up of `yield` dependencies, showing them the handler's exception."""
    if ctx.handler_stack is not None:  # not left yet (a WebSocket handler): function scope first
        await ctx.leave_handler(ctx.exc)
    if ctx.stack is None:
        return
    stack, ctx.stack = ctx.stack, None
    exc = ctx.exc
    if exc is None:
        await stack.aclose()
    else:
        try:
            await stack.__aexit__(type(exc), exc, exc.__traceback__)
        except BaseException as err:
            if err is not exc:
                raise
