"""Flask's request hooks: `before_request`, `after_request` and `teardown_request`, on the app
and on routers (for the routes a router serves once included).

    @app.before_request
    async def load_user(request): ...          # a non-None return answers the request

    @app.after_request
    def stamp(request, response): ...          # returns the response (the same or another)

    @app.teardown_request
    def close_db(request, exc): ...            # always, with the unhandled exception or None

The order is Flask's: `before_request` hooks in registration order, the app's first, then each
router's from the outermost; `after_request` and `teardown_request` hooks in the reverse order.
A hook can be sync (run in the thread pool, as sync endpoints are) or async.

An app and routers without hooks cost nothing: the pipeline wraps the request path only when a
hook exists (covet.pipeline), so the engine's fast paths stay for everything else.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from covet.concurrency import run_in_threadpool
from covet.requests import Request
from covet.responses import HTMLResponse, JSONResponse, Response

__all__ = ["HookRegistry", "RequestHooks", "run_with_hooks"]

logger = logging.getLogger("covet.error")

H = TypeVar("H", bound=Callable[..., Any])
CallNext = Callable[[Request], Awaitable[Response]]
#: Turns an exception into its response; also says whether it was unhandled (a 500).
OnError = Callable[[Request, Exception], Awaitable[tuple[Response, bool]]]

#: The request scope key holding an unhandled exception for the outer (app) teardown hooks.
ERROR_KEY = "covet.hooks.error"


class RequestHooks:
    """The hooks registered on one app or router."""

    __slots__ = ("before", "after", "teardown")

    def __init__(self) -> None:
        self.before: list[Callable[..., Any]] = []
        self.after: list[Callable[..., Any]] = []
        self.teardown: list[Callable[..., Any]] = []

    def __bool__(self) -> bool:
        return bool(self.before or self.after or self.teardown)


class HookRegistry:
    """The decorators, shared by `Covet` and `APIRouter`."""

    @property
    def request_hooks(self) -> RequestHooks:
        return self.__dict__.setdefault("_request_hooks", RequestHooks())  # type: ignore[no-any-return]

    def _hooks_changed(self) -> None:
        """Routers re-derive their included routes (which carry their hooks); apps recompile."""
        mark = getattr(self, "_mark_routes_changed", None)
        if mark is not None:
            mark()

    def before_request(self, func: H) -> H:
        """`func(request)` before the route; a non-None return is the response (the route is
        not called, `after_request` hooks still run)."""
        self.request_hooks.before.append(func)
        self._hooks_changed()
        return func

    def after_request(self, func: H) -> H:
        """`func(request, response)` returns the response to send (reverse registration order)."""
        self.request_hooks.after.append(func)
        self._hooks_changed()
        return func

    def teardown_request(self, func: H) -> H:
        """`func(request, exc)` at the end of every request, `exc` the unhandled exception or
        None; an exception it raises is logged, never sent."""
        self.request_hooks.teardown.append(func)
        self._hooks_changed()
        return func


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None)):  # noqa: B004
        return await func(*args)
    result = await run_in_threadpool(func, *args)
    if inspect.isawaitable(result):
        return await result
    return result


def as_response(value: Any) -> Response:
    """What a `before_request` hook returned, as a response (Flask's view return values: a
    `str` is HTML; covet's JSON for the rest)."""
    if isinstance(value, Response):
        return value
    if isinstance(value, str):
        return HTMLResponse(value)
    return JSONResponse(value)


async def run_with_hooks(
    groups: Sequence[RequestHooks], request: Request, call: CallNext, on_error: OnError
) -> Response:
    """`call(request)` inside the hooks of `groups` (outermost first); see the module docstring."""
    error: BaseException | None = None
    try:
        try:
            response = await _before(groups, request)
            if response is None:
                response = await call(request)
        except Exception as exc:
            response, unhandled = await on_error(request, exc)
            if unhandled:
                error = exc
        try:
            response = await _after(groups, request, response)
        except Exception as exc:
            response, _ = await on_error(request, exc)
            error = exc
        return response
    except BaseException as exc:  # cancelled: the teardown hooks still run
        error = exc
        raise
    finally:
        if error is not None:
            request.scope_extra.setdefault(ERROR_KEY, error)
        await _teardown(groups, request, request.scope_extra.get(ERROR_KEY))


async def _before(groups: Sequence[RequestHooks], request: Request) -> Response | None:
    for hooks in groups:
        for func in hooks.before:
            value = await _call(func, request)
            if value is not None:
                return as_response(value)
    return None


async def _after(groups: Sequence[RequestHooks], request: Request, response: Response) -> Response:
    for hooks in reversed(groups):
        for func in reversed(hooks.after):
            response = await _call(func, request, response)
            if not isinstance(response, Response):
                raise TypeError(f"after_request hook {func.__qualname__} returned {response!r}, not the response")
    return response


async def _teardown(groups: Sequence[RequestHooks], request: Request, error: BaseException | None) -> None:
    for hooks in reversed(groups):
        for func in reversed(hooks.teardown):
            try:
                await _call(func, request, error)
            except Exception:
                logger.exception("teardown_request hook %s failed", getattr(func, "__qualname__", func))
