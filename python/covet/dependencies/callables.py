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

__all__ = [
    "CallKind",
    "call_kind",
    "check_exit_scope",
    "is_async_gen_callable",
    "is_coroutine_callable",
    "is_gen_callable",
    "resolve_alias",
    "unwrapped",
]


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
    return CallKind(is_async_gen_callable(call), is_gen_callable(call), is_coroutine_callable(call))


class _ByIdentity:
    """A call as a cache key: equal to itself only. Two callables may compare equal and still
    differ in kind (an instance's `__eq__` says nothing of its `__call__`), and an unhashable
    callable is still one object."""

    __slots__ = ("call",)

    def __init__(self, call: Any) -> None:
        self.call = call

    def __hash__(self) -> int:
        return id(self.call)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByIdentity) and other.call is self.call


class _CallTest:
    """One question about a call's kind, answered once per call object and remembered: a
    dependency used by many routes is inspected once. Bounded (4096 calls, the least recently
    asked dropped first) so that calls made on the fly cannot grow it without end."""

    def __init__(self, test: Callable[[list[Any]], bool]) -> None:
        self.by_identity = functools.lru_cache(maxsize=4096)(lambda key: test(list(_layers(key.call))))

    def __call__(self, call: Any) -> bool:
        return bool(self.by_identity(_ByIdentity(call)))


def _any_async_gen(layers: list[Any]) -> bool:
    return any(inspect.isasyncgenfunction(t) for t in layers)


def _any_gen(layers: list[Any]) -> bool:
    return any(inspect.isgeneratorfunction(t) for t in layers)


is_async_gen_callable = _CallTest(_any_async_gen)
is_gen_callable = _CallTest(lambda layers: not _any_async_gen(layers) and _any_gen(layers))
is_coroutine_callable = _CallTest(
    lambda layers: (
        not (_any_async_gen(layers) or _any_gen(layers)) and any(inspect.iscoroutinefunction(t) for t in layers)
    )
)


def unwrapped(call: Any) -> Any:
    """The object under a call's partials and decorators (`functools.wraps`)."""
    return inspect.unwrap(_impartial(call))


def resolve_alias(annotation: Any) -> Any:
    """A PEP 695 `type X = Annotated[...]` (or typing_extensions' TypeAliasType) read as its value,
    so a dependency or parameter declared through an alias is seen as if written out."""
    while type(annotation).__name__ == "TypeAliasType" and hasattr(annotation, "__value__"):
        annotation = annotation.__value__
    return annotation


def check_exit_scope(dependant: Any, sub_scope: str | None) -> None:
    """A `yield` dependency cleaned up after the response cannot use one already cleaned up
    when the handler returned: refused when the route is declared, not found out per request."""
    if sub_scope == "function" and dependant.exit_scope == "request" and (dependant.is_gen or dependant.is_async_gen):
        from covet.exceptions import DependencyScopeError

        name = getattr(dependant.call, "__name__", repr(dependant.call))
        raise DependencyScopeError(
            f'The dependency "{name}" has a scope of "request", it cannot depend on dependencies with scope "function".'
        )
