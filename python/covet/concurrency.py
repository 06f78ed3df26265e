"""Running blocking code off the event loop, and deciding which coroutines can run inline."""

from __future__ import annotations

import asyncio
import contextvars
import dis
import functools
import types
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")

__all__ = ["run_in_threadpool", "iterate_in_threadpool", "can_suspend"]

# As many threads as anyio gives FastAPI's sync handlers by default.
_executor = ThreadPoolExecutor(max_workers=40, thread_name_prefix="covet-sync")

_SUSPENDING_OPS = {"GET_AWAITABLE", "GET_AITER", "GET_ANEXT", "BEFORE_ASYNC_WITH", "YIELD_VALUE", "SEND"}


async def run_in_threadpool(func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Calls a blocking function in the worker's thread pool, with the caller's context."""
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, func, *args, **kwargs)
    return await loop.run_in_executor(_executor, call)


class _StopIteration(Exception):
    pass


def _next(iterator: Iterator[_T]) -> _T:
    try:
        return next(iterator)
    except StopIteration:
        raise _StopIteration from None


async def iterate_in_threadpool(iterable: Iterable[_T]) -> AsyncIterator[_T]:
    """Drives a blocking iterator from the thread pool, one item at a time."""
    iterator = iter(iterable)
    while True:
        try:
            yield await run_in_threadpool(_next, iterator)
        except _StopIteration:
            break


def can_suspend(func: Callable[..., Any]) -> bool:
    """Whether a coroutine function's code could ever suspend (await, async for/with).

    A coroutine that cannot suspend finishes on its first `send(None)`, so the engine runs it
    inline without a Task; the check is made once, at startup, on the bytecode.
    """
    code = getattr(func, "__code__", None)
    if code is None:
        call = getattr(func, "__call__", None)  # noqa: B004 - callable objects
        code = getattr(call, "__code__", None)
    if not isinstance(code, types.CodeType):
        return True
    return _code_suspends(code)


def _code_suspends(code: types.CodeType) -> bool:
    for ins in dis.get_instructions(code):
        if ins.opname in _SUSPENDING_OPS:
            return True
    return False
