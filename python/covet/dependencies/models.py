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

from covet.dependencies.callables import (
    is_async_gen_callable,
    is_coroutine_callable,
    is_gen_callable,
    unwrapped,
)
from covet.security.base import SecurityBase

__all__ = ["ParamField", "Dependant", "flat_params", "scopes_matter", "security_scheme"]


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


@dataclass(eq=False, slots=True)
class Dependant:
    """A handler or dependency, analysed.

    Slotted: a large app holds thousands of these, and a misspelt attribute is an error rather
    than a silent new field. What can be derived from the other fields is not stored twice, with
    two exceptions read on every request and worked out once: the call's kind (from `call`, on
    construction) and `uses_scopes` (by the analysis, once the tree below is complete)."""

    call: Callable[..., Any] | None = None
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
    security_scopes_param_name: str | None = None  # FastAPI's name, which extensions read
    websocket_param: str | None = None
    own_oauth_scopes: list[str] = field(default_factory=list)  # its own Security(..., scopes=)
    parent_oauth_scopes: list[str] = field(default_factory=list)  # those of the dependants above
    use_cache: bool = True
    # True: embed a single body parameter under its name ({"item": {...}}), as Body(embed=True).
    embed_body: bool = False
    # Depends(scope=): when a `yield` dependency's clean-up runs; see `exit_scope`.
    scope: str | None = None
    is_endpoint: bool = False  # the route's handler itself, not a dependency
    # A body sent without Content-Type is read as JSON (the route's `strict_content_type=False`).
    lax_content_type: bool = False
    # Whether its value can depend on the scopes (see `scopes_matter`): only then do scopes
    # split its per-request cache. Set by the analysis.
    uses_scopes: bool = False
    validators: Any = None  # the compiled validators (analysis.Validators), set by the analysis
    is_coroutine: bool = field(default=False, init=False)
    is_gen: bool = field(default=False, init=False)  # a `yield` dependency (sync generator)
    is_async_gen: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.call is not None:
            self.is_async_gen = is_async_gen_callable(self.call)
            self.is_gen = is_gen_callable(self.call)
            self.is_coroutine = is_coroutine_callable(self.call)

    @property
    def security_scopes(self) -> list[str]:
        """The OAuth2 scopes it is solved under: its parents' first, then its own, each once."""
        scopes = list(self.parent_oauth_scopes)
        scopes.extend(s for s in dict.fromkeys(self.own_oauth_scopes) if s not in scopes)
        return scopes

    @property
    def exit_scope(self) -> str | None:
        """ "function" (left when the handler returns), "request" (after the response is sent;
        the default for a `yield` dependency), None for a dependency with no clean-up."""
        if self.scope:
            return self.scope
        return "request" if (self.is_gen or self.is_async_gen) and not self.is_endpoint else None

    @property
    def cache_key(self) -> tuple[Any, tuple[str, ...], str]:
        """What its per-request cache entry is keyed by: the call, the scopes when they matter,
        and the clean-up scope."""
        return _cache_key(self, self.uses_scopes)

    def all_params(self) -> list[ParamField]:
        return [*self.path_params, *self.query_params, *self.header_params, *self.cookie_params]


def _cache_key(dependant: Dependant, uses_scopes: bool) -> tuple[Any, tuple[str, ...], str]:
    scopes = tuple(sorted(set(dependant.security_scopes))) if uses_scopes else ()
    return (dependant.call, scopes, dependant.exit_scope or "")


def security_scheme(dependant: Dependant) -> SecurityBase | None:
    """The security scheme (`OAuth2PasswordBearer(...)`, `APIKeyHeader(...)`) a dependency is,
    seen through partials and decorators; None for any other dependency."""
    call = unwrapped(dependant.call) if dependant.call is not None else None
    return call if isinstance(call, SecurityBase) else None


def scopes_matter(dependant: Dependant, cache: dict[int, tuple[Dependant, bool]] | None = None) -> bool:
    """Whether a dependency's value can vary with the OAuth2 scopes it is solved under: it
    declares scopes, takes `SecurityScopes`, is a security scheme, or depends on one that does.
    Worked out from its current state; `cache` (by identity) shares the answers across a tree."""
    cache = {} if cache is None else cache
    known = cache.get(id(dependant))
    if known is not None and known[0] is dependant:
        return known[1]
    result = bool(
        dependant.own_oauth_scopes
        or dependant.security_scopes_param_name is not None
        or security_scheme(dependant) is not None
        or any(scopes_matter(sub, cache) for sub in dependant.dependencies)
    )
    cache[id(dependant)] = (dependant, result)
    return result


# FastAPI's private helper names for the above (its tests and some extensions import them).


def _get_oauth_scopes(*, dependant: Dependant) -> list[str]:
    return dependant.security_scopes


def _uses_scopes(*, dependant: Dependant, cache: dict[int, tuple[Dependant, bool]] | None = None) -> bool:
    return scopes_matter(dependant, cache)


def _get_computed_scope(*, dependant: Dependant) -> str | None:
    return dependant.exit_scope


def _get_cache_key(*, dependant: Dependant) -> tuple[Any, tuple[str, ...], str]:
    return _cache_key(dependant, scopes_matter(dependant))


def _is_security_scheme(*, dependant: Dependant) -> bool:
    return security_scheme(dependant) is not None


def _get_security_scheme(*, dependant: Dependant) -> SecurityBase | None:
    return security_scheme(dependant)


_is_gen_callable = is_gen_callable
_is_async_gen_callable = is_async_gen_callable
_is_coroutine_callable = is_coroutine_callable
_is_gen_callable_cached = is_gen_callable.by_identity
_is_async_gen_callable_cached = is_async_gen_callable.by_identity
_is_coroutine_callable_cached = is_coroutine_callable.by_identity


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
        flat.own_oauth_scopes.extend(d.security_scopes)
        for sub in d.dependencies:
            visit(sub)

    visit(dependant)
    flat.embed_body = dependant.embed_body
    return flat
