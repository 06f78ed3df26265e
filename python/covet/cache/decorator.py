"""`@cache(ttl=..., key=...)`: an async function's result, cached under a key made from its
arguments (or a template of them), computed once per process and across processes."""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .core import Cache

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
_DEFAULT = object()


def cached(
    cache: Cache,
    *,
    ttl: float | None | object = _DEFAULT,
    key: str | Callable[..., str] | None = None,
    tags: Sequence[str] | Callable[..., Sequence[str]] = (),
    stale: float = 0.0,
    beta: float = 1.0,
) -> Callable[[F], F]:
    """`key`: a template formatted with the call's arguments by name ("user:{user_id}"), a
    function of the arguments, or None for the function's name and a hash of its arguments.
    `tags`: the same, per tag, to invalidate by."""

    def decorate(fn: F) -> F:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"@cache goes on an async def function; {fn.__qualname__} is not one")
        signature = inspect.signature(fn)
        name = f"{fn.__module__}.{fn.__qualname__}"

        def bound(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            arguments = signature.bind(*args, **kwargs)
            arguments.apply_defaults()
            return dict(arguments.arguments)

        def make_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            if callable(key):
                return key(*args, **kwargs)
            if isinstance(key, str):
                return key.format(**bound(args, kwargs))
            digest = hashlib.blake2b(repr(sorted(bound(args, kwargs).items())).encode(), digest_size=12).hexdigest()
            return f"{name}:{digest}"

        def make_tags(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[str]:
            if callable(tags):
                return list(tags(*args, **kwargs))
            if not tags:
                return []
            values = bound(args, kwargs)
            return [t.format(**values) for t in tags]

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            options: dict[str, Any] = {"tags": make_tags(args, kwargs), "stale": stale, "beta": beta}
            if ttl is not _DEFAULT:
                options["ttl"] = ttl
            return await cache.get_or_set(make_key(args, kwargs), lambda: fn(*args, **kwargs), **options)

        wrapper.cache = cache  # type: ignore[attr-defined]
        wrapper.key_for = lambda *a, **kw: make_key(a, kw)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
