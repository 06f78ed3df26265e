"""`Request`: what a handler sees of an HTTP request.

It wraps the engine's `RawRequest`, which keeps the parsed request in Rust; every property is
built on first use and cached, so a handler that reads nothing pays for nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine, Generator
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from covet._engine import RawRequest
from covet.datastructures import URL, Address, FormData, Headers, QueryParams, State
from covet.exceptions import HTTPException, InvalidJSONBody
from covet.formparsers import parse_form

if TYPE_CHECKING:
    from covet.applications import Covet
    from covet.sessions.session import Session

__all__ = ["Request", "HTTPConnection"]


class Request:
    """An HTTP request; FastAPI/Starlette-compatible surface."""

    __slots__ = (
        "_raw",
        "_headers",
        "_query",
        "_cookies",
        "_state",
        "_body",
        "_stream_taken",
        "_receive",
        "_json",
        "_form",
        "_path_params",
        "app",
        "scope_extra",
        "_ctx",
    )

    def __init__(self, raw: RawRequest, app: Covet | None = None) -> None:
        self._raw = raw
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._state: State | None = None
        self._body: bytes | None = None
        self._stream_taken = False
        self._receive: Any = None  # under ASGI: where the rest of a large body comes from
        self._json: Any = _UNSET
        self._form: FormData | None = None
        self._path_params: dict[str, Any] | None = None
        self.app = app
        self.scope_extra: dict[str, Any] = {}
        # The dependency context of the endpoint serving this request: whatever it is (the
        # solver's RequestContext), the request only closes it (`await ctx.close()`), so this
        # module needs nothing from the solver.
        self._ctx: Any = None

    @property
    def method(self) -> str:
        return self._raw.method

    @property
    def path(self) -> str:
        return self._raw.path

    @property
    def url(self) -> URL:
        host = self.headers.get("host") or _netloc(self._raw.server)
        raw = self._raw
        return URL(raw.scheme, host, raw.raw_path.decode("latin-1"), raw.query_string.decode("latin-1"))

    @property
    def base_url(self) -> URL:
        host = self.headers.get("host") or _netloc(self._raw.server)
        return URL(self._raw.scheme, host, self._raw.root_path + "/", "")

    @property
    def path_params(self) -> dict[str, Any]:
        if self._path_params is None:
            self._path_params = self._raw.path_params
        return self._path_params

    @path_params.setter
    def path_params(self, value: dict[str, Any]) -> None:
        self._path_params = value

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            self._query = QueryParams(self._raw.query_items())
        return self._query

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(raw=self._raw.headers)
        return self._headers

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = _parse_cookies(self.headers.getlist("cookie"))
        return self._cookies

    @property
    def session(self) -> Session:
        """The session, set by `covet.sessions.SessionMiddleware` (see docs/sessions.md)."""
        assert "session" in self.scope_extra, "SessionMiddleware must be installed to access request.session"
        session: Session = self.scope_extra["session"]
        return session

    @property
    def client(self) -> Address | None:
        client = self._raw.client
        return Address(*client) if client else None

    @property
    def state(self) -> State:
        if self._state is None:
            # A copy of what the lifespans yielded, as Starlette gives it.
            self._state = State(getattr(self.app, "lifespan_state", None))
        return self._state

    @property
    def scope(self) -> dict[str, Any]:
        """An ASGI-style scope, for code that reads one; built on demand."""
        raw = self._raw
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": raw.http_version,
            "method": raw.method,
            "scheme": raw.scheme,
            "path": raw.path,
            "raw_path": raw.raw_path,
            "query_string": raw.query_string,
            "root_path": getattr(self.app, "root_path", "") or raw.root_path,
            "headers": raw.raw_headers,
            "client": raw.client,
            "server": raw.server,
            "path_params": self.path_params,
            "app": self.app,
            "state": self.state,
        }
        route = _matched_route(self.app, raw)
        if route is not None:
            scope["route"] = route  # the route serving it (Starlette sets it when matching)
            add_context = getattr(self.app, "add_route_context", None)
            if add_context is not None:
                add_context(scope, route)
        scope.update(self.scope_extra)
        return scope

    def url_for(self, name: str, /, **path_params: Any) -> str:
        assert self.app is not None, "url_for needs the request's app"
        return str(self.base_url).rstrip("/") + self.app.url_path_for(name, **path_params)

    @property
    def _body_pending(self) -> bool:
        """True while part of a large body is still to be read (see `stream()`)."""
        return self._body is None and (self._raw.body_stream is not None or self._receive is not None)

    async def body(self) -> bytes:
        if self._body is None:
            if self._body_pending:
                self._body = b"".join([chunk async for chunk in self.stream()])
            else:
                self._body = self._raw.body
        return self._body

    async def json(self) -> Any:
        """The body parsed as JSON. A body that is not (bad syntax, bad UTF-8, nesting past the
        parser's depth) raises `InvalidJSONBody`: 400 for the client, not a 500."""
        if self._json is _UNSET:
            body = await self.body()
            try:
                self._json = json.loads(body)
            except json.JSONDecodeError as exc:
                raise InvalidJSONBody(f"{exc.msg} at position {exc.pos}", exc.doc, exc.pos) from None
            except UnicodeDecodeError as exc:
                raise InvalidJSONBody(f"not valid UTF-8 at byte {exc.start}", pos=exc.start) from None
            except RecursionError:
                raise InvalidJSONBody("nested too deeply") from None
            if (b"\\ud" in body or b"\\uD" in body) and _holds_lone_surrogate(self._json):
                # json.loads lets `"\ud800"` through as a str that is not Unicode: it could not
                # even be echoed back (UTF-8 cannot encode it), so it is the client's error.
                self._json = _UNSET
                raise InvalidJSONBody("a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)")
        return self._json

    async def stream(self) -> AsyncIterator[bytes]:
        """The body in chunks, as they arrive. A body up to the engine's stream threshold
        (1 MiB) arrives whole; a larger one is handed over piece by piece, with the socket
        paused while the handler is behind, so it never has to sit whole in memory."""
        if not self._body_pending:
            body = await self.body()
            if body:
                yield body
            yield b""
            return
        if self._stream_taken:
            raise RuntimeError("The request body stream has already been consumed")
        self._stream_taken = True
        first = self._raw.body
        if first:
            yield first
        stream = self._raw.body_stream
        if stream is None:  # under an ASGI server: the rest comes from `receive`
            async for chunk in self._receive_rest():
                yield chunk
            yield b""
            return
        loop = asyncio.get_running_loop()
        while True:
            chunk = stream.get_nowait()
            if chunk is not None:
                yield chunk
                continue
            error = stream.error
            if error is not None:
                raise ClientDisconnect(error[1]) if error[0] == 400 else HTTPException(error[0], error[1])
            if stream.done:
                break
            waiter = loop.create_future()
            stream.set_waiter(waiter)
            await waiter
        yield b""

    async def _receive_rest(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect("The client disconnected")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def form(
        self,
        *,
        max_files: int = 1000,
        max_fields: int = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> _FormCall:
        """The body parsed as a form (urlencoded or multipart), cached after the first call.

        Await it (`form = await request.form()`), or use it as `async with request.form() as
        form:` to close the uploaded files on leaving the block. Otherwise they are closed by
        `close()` once the response is sent. A malformed multipart body answers 400; one over
        a limit answers 413. See `covet.formparsers.parse_form` for the limits.
        """
        return _FormCall(self._get_form(max_files, max_fields, max_part_size))

    async def _get_form(self, max_files: int, max_fields: int, max_part_size: int) -> FormData:
        if self._form is None:
            self._form = await parse_form(self, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
        return self._form

    async def is_disconnected(self) -> bool:
        return False

    async def close(self) -> None:
        """Releases what the request holds once the response is sent: `yield` dependencies
        clean up here (seeing the handler's exception, if any), and uploaded files are closed
        (their temporary files deleted)."""
        try:
            if self._ctx is not None:
                ctx, self._ctx = self._ctx, None
                await ctx.close()
        finally:
            # After the dependencies, whose clean-up may still read an upload.
            if self._form is not None:
                form, self._form = self._form, None
                await form.close()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


HTTPConnection = Request


class ClientDisconnect(Exception):
    """The client went away (or sent a malformed body) before the request body was complete."""


class _FormCall:
    """What `Request.form()` returns: awaitable for the form, or an async context manager that
    closes the form's files on exit (Starlette's `AwaitableOrContextManager`)."""

    __slots__ = ("_coro", "_form")

    def __init__(self, coro: Coroutine[Any, Any, FormData]) -> None:
        self._coro = coro
        self._form: FormData | None = None

    def __await__(self) -> Generator[Any, None, FormData]:
        return self._coro.__await__()

    async def __aenter__(self) -> FormData:
        self._form = await self._coro
        return self._form

    async def __aexit__(self, *exc_info: object) -> None:
        if self._form is not None:
            await self._form.close()


_UNSET: Any = object()


def _netloc(server: tuple[str, int] | None) -> str:
    if not server:
        return ""
    host, port = server
    return f"{host}:{port}"


def _parse_cookies(values: list[str]) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for value in values:
        for part in value.split(";"):
            name, sep, val = part.partition("=")
            name = name.strip()
            if not sep or not name:
                continue
            val = val.strip()
            if len(val) >= 2 and val[0] == val[-1] == '"':
                val = SimpleCookie().value_decode(val)[0]
            cookies[name] = val
    return cookies


def _holds_lone_surrogate(value: Any) -> bool:
    """True when a str anywhere in parsed JSON (keys included) cannot be encoded as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False


def _matched_route(app: Any, raw: Any) -> Any:
    """The app's route that serves `raw`, looked up only when a scope is asked for (the request
    path itself never pays for it): the engine's endpoint index, else the router's answer."""
    routes = getattr(app, "served_routes", None)
    if not routes:
        return None
    index = raw.endpoint
    if index is None:
        from covet import _engine

        outcome, index, _, _ = app.compile().router.lookup(raw.method, raw.path)
        if outcome != _engine.FOUND:
            return None
    return routes[index] if 0 <= index < len(routes) else None
