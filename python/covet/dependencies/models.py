"""What an endpoint needs from a request, worked out once at startup from its signature.

A `Dependant` is the analysed form of a handler or of a dependency: the request values it
takes (each a `ParamField`, grouped by where it comes from), the dependencies it calls first,
and the special objects it asks for by type. Requests only execute this plan (`solve.py`); the
OpenAPI document is generated from it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

__all__ = ["ParamField", "Dependant", "flat_params"]


@dataclass(eq=False)
class ParamField:
    """One value taken from the request."""

    name: str  # the Python parameter name
    alias: str  # the name in the request: query key, header name, cookie name, body key
    source: str  # "path" | "query" | "header" | "cookie" | "body" | "form" | "file"
    annotation: Any  # the declared type (Annotated metadata stripped)
    field_info: FieldInfo  # a covet.params.Param (Query(), Path()...) or pydantic FieldInfo
    required: bool
    default: Any
    # Query/header values that repeat (list[int]) collect every occurrence.
    is_sequence: bool = False
    # A pydantic model standing for several query/header/cookie/form parameters at once.
    is_model: bool = False
    adapter: TypeAdapter[Any] | None = None
    # For a parameter model: (key the model validates, name in the request, takes a list).
    model_keys: list[tuple[str, str, bool]] = field(default_factory=list)
    # `validation_alias=AliasChoices(...)`: request names tried after `alias`, in order.
    alias_choices: tuple[str, ...] = ()
    # A form model parameter: the model(s) it stands for (several for a union of models).
    form_models: tuple[Any, ...] = ()

    @property
    def include_in_schema(self) -> bool:
        return bool(getattr(self.field_info, "include_in_schema", True))


@dataclass(eq=False)
class Dependant:
    """A handler or dependency, analysed."""

    call: Callable[..., Any] | None
    name: str | None = None  # the parameter this dependency's value is passed to
    path: str = ""
    path_params: list[ParamField] = field(default_factory=list)
    query_params: list[ParamField] = field(default_factory=list)
    header_params: list[ParamField] = field(default_factory=list)
    cookie_params: list[ParamField] = field(default_factory=list)
    body_params: list[ParamField] = field(default_factory=list)  # Body(), Form(), File()
    dependencies: list[Dependant] = field(default_factory=list)
    request_param: str | None = None
    response_param: str | None = None
    background_param: str | None = None
    security_scopes_param: str | None = None
    websocket_param: str | None = None
    security_scopes: list[str] = field(default_factory=list)  # from Security(..., scopes=)
    use_cache: bool = True
    # True: embed a single body parameter under its name ({"item": {...}}), as Body(embed=True).
    embed_body: bool = False
    is_coroutine: bool = False
    is_gen: bool = False  # a `yield` dependency (sync generator)
    is_async_gen: bool = False
    # Whether its value can depend on the scopes (it declares or reads them, or is a security
    # scheme, or something below it does): only then do scopes split its per-request cache.
    uses_scopes: bool = False
    # Depends(scope=): when a `yield` dependency's clean-up runs; see `exit_scope`.
    scope: str | None = None
    is_endpoint: bool = False  # the route's handler itself, not a dependency

    @property
    def exit_scope(self) -> str | None:
        """ "function" (left when the handler returns), "request" (after the response is sent;
        the default for a `yield` dependency), None for a dependency with no clean-up."""
        if self.scope:
            return self.scope
        return "request" if (self.is_gen or self.is_async_gen) and not self.is_endpoint else None

    @property
    def cache_key(self) -> tuple[Any, tuple[str, ...], str]:
        return (self.call, tuple(sorted(set(self.security_scopes))) if self.uses_scopes else (), self.exit_scope or "")

    def all_params(self) -> list[ParamField]:
        return [*self.path_params, *self.query_params, *self.header_params, *self.cookie_params]


def flat_params(dependant: Dependant) -> Dependant:
    """Every request value an endpoint takes, its own and its dependencies' (for OpenAPI)."""
    flat = Dependant(call=dependant.call, path=dependant.path)
    seen: set[tuple[str, str]] = set()

    def visit(d: Dependant) -> None:
        for group in ("path_params", "query_params", "header_params", "cookie_params", "body_params"):
            for p in getattr(d, group):
                key = (p.source, p.alias)
                if key not in seen:
                    seen.add(key)
                    getattr(flat, group).append(p)
        flat.security_scopes.extend(d.security_scopes)
        for sub in d.dependencies:
            visit(sub)

    visit(dependant)
    flat.embed_body = dependant.embed_body
    return flat
