"""What kind of call a handler or dependency is, seen through `functools.partial` and decorators.

A decorator written with `functools.wraps` often hides the kind: a plain `def wrapper` around an
`async def` returns a coroutine, and a partial of a generator function is not itself a generator
function to `inspect`. Deciding once, at startup, from every layer keeps the per-request call a
single branch on a flag.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from covet.security.base import SecurityBase

__all__ = ["CallKind", "call_kind", "check_exit_scope", "reads_scopes", "resolve_alias"]


class CallKind:
    """How a call's result is consumed: awaited, entered as a (async) context, or used as is."""

    __slots__ = ("is_async_gen", "is_gen", "is_coroutine")

    def __init__(self, is_async_gen: bool, is_gen: bool, is_coroutine: bool) -> None:
        self.is_async_gen = is_async_gen
        self.is_gen = is_gen
        self.is_coroutine = is_coroutine


def _impartial(call: Any) -> Any:
    while isinstance(call, functools.partial):
        call = call.func
    return call


def _layers(call: Any) -> Iterator[Any]:
    """The call itself, what its partials and `__wrapped__` chain hold, and their `__call__`.

    A class's `__call__` is left out: calling the class builds an instance, whatever it does."""
    outer = _impartial(call)
    inner = _impartial(inspect.unwrap(outer))
    for target in (outer, inner):
        yield target
        if not inspect.isroutine(target) and not inspect.isclass(target):
            dunder = getattr(target, "__call__", None)  # noqa: B004 - callable instances
            if dunder is not None:
                yield _impartial(dunder)
                yield _impartial(inspect.unwrap(dunder))


def call_kind(call: Callable[..., Any]) -> CallKind:
    """The kind, generators first: an `async def` wrapper around a generator yields, not returns."""
    layers = list(_layers(call))
    is_async_gen = any(inspect.isasyncgenfunction(t) for t in layers)
    is_gen = not is_async_gen and any(inspect.isgeneratorfunction(t) for t in layers)
    is_coroutine = not (is_async_gen or is_gen) and any(inspect.iscoroutinefunction(t) for t in layers)
    return CallKind(is_async_gen, is_gen, is_coroutine)


def resolve_alias(annotation: Any) -> Any:
    """A PEP 695 `type X = Annotated[...]` (or typing_extensions' TypeAliasType) read as its value,
    so a dependency or parameter declared through an alias is seen as if written out."""
    while type(annotation).__name__ == "TypeAliasType" and hasattr(annotation, "__value__"):
        annotation = annotation.__value__
    return annotation


def reads_scopes(dependant: Any) -> bool:
    """Whether a dependency's value can vary with the OAuth2 scopes it is solved under: it takes
    `SecurityScopes`, is a security scheme, or depends on one that does. Scopes it declares itself
    are added by its parent, which knows them."""
    if dependant.security_scopes_param is not None:
        return True
    if isinstance(inspect.unwrap(_impartial(dependant.call)), SecurityBase):
        return True
    return any(sub.uses_scopes for sub in dependant.dependencies)


def check_exit_scope(dependant: Any, sub_scope: str | None) -> None:
    """A `yield` dependency cleaned up after the response cannot use one already cleaned up
    when the handler returned: refused when the route is declared, not found out per request."""
    if sub_scope == "function" and dependant.exit_scope == "request" and (dependant.is_gen or dependant.is_async_gen):
        from covet.exceptions import DependencyScopeError

        name = getattr(dependant.call, "__name__", repr(dependant.call))
        raise DependencyScopeError(
            f'The dependency "{name}" has a scope of "request", it cannot depend on dependencies with scope "function".'
        )
