"""Parameter declarations: where a handler argument comes from, and its constraints.

`Query()`, `Path()`, `Header()`, `Cookie()`, `Body()`, `Form()` and `File()` are pydantic
`FieldInfo`s that also say which part of the request holds the value, so pydantic's
constraints (`gt`, `max_length`, `pattern`...) apply unchanged. `Depends()` and `Security()`
declare dependencies. The declarations are read once, when a route is registered.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = [
    "Param",
    "PathParam",
    "QueryParam",
    "HeaderParam",
    "CookieParam",
    "BodyParam",
    "FormParam",
    "FileParam",
    "DependsParam",
    "SecurityParam",
    "Path",
    "Query",
    "Header",
    "Cookie",
    "Body",
    "Form",
    "File",
    "Depends",
    "Security",
]

_FIELD_OPTIONS = (
    "default_factory",
    "alias",
    "alias_priority",
    "validation_alias",
    "serialization_alias",
    "title",
    "description",
    "examples",
    "deprecated",
    "json_schema_extra",
    "pattern",
    "strict",
    "gt",
    "ge",
    "lt",
    "le",
    "multiple_of",
    "min_length",
    "max_length",
    "allow_inf_nan",
    "max_digits",
    "decimal_places",
    "discriminator",
)


class Param(FieldInfo):
    """A request value with pydantic constraints; `source` says where it is read from."""

    source = "query"

    def __init__(
        self,
        default: Any = PydanticUndefined,
        *,
        include_in_schema: bool = True,
        openapi_examples: dict[str, Any] | None = None,
        regex: str | None = None,
        **options: Any,
    ) -> None:
        self.include_in_schema = include_in_schema
        self.openapi_examples = openapi_examples
        self.example = _deprecated_example(options)
        if regex is not None:
            from covet.exceptions import FastAPIDeprecationWarning

            warnings.warn(
                "`regex` has been deprecated, please use `pattern` instead", FastAPIDeprecationWarning, _caller_level()
            )
            if options.get("pattern") is None:
                options["pattern"] = regex
        unknown = set(options) - set(_FIELD_OPTIONS)
        extra = {k: options.pop(k) for k in unknown}
        if extra:
            schema_extra = dict(options.get("json_schema_extra") or {})
            schema_extra.update(extra)
            options["json_schema_extra"] = schema_extra
        given = {k: v for k, v in options.items() if v is not None and v is not PydanticUndefined}
        if default is ...:
            default = PydanticUndefined
        super().__init__(default=default, **given)

    def __repr__(self) -> str:
        # As FastAPI shows them: the function's name (`Query`, not `QueryParam`), the default
        # as str() (`Query(None)`, `Query(teststr)`, `Path(PydanticUndefined)`).
        name = type(self).__name__
        if name != "Param" and name.endswith("Param"):
            name = name[: -len("Param")]
        return f"{name}({self.default})"


def _caller_level() -> int:
    """The stacklevel of the first frame outside this module: the user's `Query(...)` call."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == __file__:
        level, frame = level + 1, frame.f_back
    return level


def _deprecated_example(options: dict[str, Any]) -> Any:
    """FastAPI's deprecated `example=`: kept for ported code (OpenAPI writes it beside the
    parameter or body schema, not in it), with FastAPI's warning to move to `examples=`."""
    if "example" not in options:
        return PydanticUndefined
    import warnings

    from covet.exceptions import FastAPIDeprecationWarning

    warnings.warn(
        "`example` has been deprecated, please use `examples` instead", FastAPIDeprecationWarning, _caller_level()
    )
    return options.pop("example")


class PathParam(Param):
    source = "path"

    def __init__(self, default: Any = ..., **options: Any) -> None:
        # Path parameters are always required (the route cannot match without them).
        if default is not ... and default is not PydanticUndefined:
            from covet.exceptions import InvalidParameter

            raise InvalidParameter("Path parameters cannot have a default value")
        super().__init__(PydanticUndefined, **options)


class QueryParam(Param):
    source = "query"


class HeaderParam(Param):
    source = "header"

    def __init__(self, default: Any = PydanticUndefined, *, convert_underscores: bool = True, **options: Any) -> None:
        self.convert_underscores = convert_underscores
        super().__init__(default, **options)


class CookieParam(Param):
    source = "cookie"


class BodyParam(Param):
    source = "body"

    def __init__(
        self,
        default: Any = PydanticUndefined,
        *,
        embed: bool | None = None,
        media_type: str = "application/json",
        **options: Any,
    ) -> None:
        self.embed = embed
        self.media_type = media_type
        super().__init__(default, **options)


class FormParam(BodyParam):
    source = "form"

    def __init__(
        self, default: Any = PydanticUndefined, *, media_type: str = "application/x-www-form-urlencoded", **options: Any
    ) -> None:
        super().__init__(default, embed=True, media_type=media_type, **options)


class FileParam(FormParam):
    source = "file"

    def __init__(
        self, default: Any = PydanticUndefined, *, media_type: str = "multipart/form-data", **options: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **options)


class DependsParam:
    """`Depends(call)`: the argument is whatever `call` returns (solved before the handler)."""

    def __init__(
        self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True, scope: str | None = None
    ) -> None:
        if scope not in (None, "function", "request"):
            raise ValueError(f'Depends scope must be "function" or "request", not {scope!r}')
        self.dependency = dependency
        self.use_cache = use_cache
        # For a `yield` dependency, when its clean-up runs: "function" as soon as the handler
        # returns (before the response is sent), "request" (the default) after the response.
        self.scope = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", type(self.dependency).__name__)
        return f"{type(self).__name__}({name})"

    # Equal declarations are interchangeable (tools put them in sets and dict keys).
    def _key(self) -> tuple[Any, ...]:
        return (type(self), self.dependency, self.use_cache, self.scope, tuple(getattr(self, "scopes", ())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DependsParam) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


class SecurityParam(DependsParam):
    """`Security(call, scopes=[...])`: a dependency that also declares OAuth2 scopes."""

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: list[str] | None = None,
        use_cache: bool = True,
        scope: str | None = None,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache, scope=scope)
        self.scopes = list(scopes or [])


# The functions users call. They return the declaration objects above; their annotations say
# `Any` so that `q: int = Query(1)` type-checks, as in FastAPI.


def Path(default: Any = ..., **options: Any) -> Any:  # noqa: N802 - FastAPI's name
    return PathParam(default, **options)


def Query(default: Any = PydanticUndefined, **options: Any) -> Any:  # noqa: N802
    return QueryParam(default, **options)


def Header(default: Any = PydanticUndefined, *, convert_underscores: bool = True, **options: Any) -> Any:  # noqa: N802
    return HeaderParam(default, convert_underscores=convert_underscores, **options)


def Cookie(default: Any = PydanticUndefined, **options: Any) -> Any:  # noqa: N802
    return CookieParam(default, **options)


def Body(  # noqa: N802
    default: Any = PydanticUndefined, *, embed: bool | None = None, media_type: str = "application/json", **options: Any
) -> Any:
    return BodyParam(default, embed=embed, media_type=media_type, **options)


def Form(default: Any = PydanticUndefined, **options: Any) -> Any:  # noqa: N802
    return FormParam(default, **options)


def File(default: Any = PydanticUndefined, **options: Any) -> Any:  # noqa: N802
    return FileParam(default, **options)


def Depends(  # noqa: N802
    dependency: Callable[..., Any] | None = None, *, use_cache: bool = True, scope: str | None = None
) -> Any:
    return DependsParam(dependency, use_cache=use_cache, scope=scope)


def Security(  # noqa: N802
    dependency: Callable[..., Any] | None = None,
    *,
    scopes: list[str] | None = None,
    use_cache: bool = True,
    scope: str | None = None,
) -> Any:
    return SecurityParam(dependency, scopes=scopes, use_cache=use_cache, scope=scope)
