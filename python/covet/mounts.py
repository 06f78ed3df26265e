"""`Mount`: any ASGI application served under a path prefix (a Starlette or FastAPI app,
a static-files app...), from covet's own server, from ASGI servers and from TestClient."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from covet.asgi_scope import route_path
from covet.requests import Request
from covet.responses import StreamingResponse
from covet.route_matching import Match, NoMatchFound
from covet.route_objects import RouteList
from covet.websockets import EngineChannel, WebSocket

if TYPE_CHECKING:
    from covet.pipeline import Runtime

__all__ = ["Mount", "check_prefix"]


def check_prefix(prefix: str, what: str) -> None:
    """Prefixes join to paths by concatenation: "" or "/x", never "x" or "/x/"."""
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"{what} must start with '/' and not end with '/'")


class Mount:
    """`app.mount("/legacy", asgi_app)`: requests under the prefix go to `asgi_app`."""

    def __init__(self, path: str, app: Any = None, *, routes: list[Any] | None = None, name: str | None = None) -> None:
        if path == "/":
            path = ""  # everything (Starlette's meaning of a mount at "/", e.g. a site's files)
        check_prefix(path, f"Mount path {path!r}")
        if (app is None) == (routes is None):
            raise ValueError("A Mount takes either an app or routes")
        if routes is not None:  # Starlette's `Mount(path, routes=[...])`
            app = RouteList(routes)
        self.path = path
        self.app = app
        self.name = name
        self.include_in_schema = False
        self.methods: set[str] = set()

    async def serve(self, request: Request, root_path: str) -> StreamingResponse:
        """Runs the mounted app; its response is streamed back as it sends it."""
        scope = request.scope
        scope.pop("path_params", None)
        scope.pop("app", None)
        scope["root_path"] = request._raw.root_path + root_path
        body = await request.body()
        loop = asyncio.get_running_loop()
        started: asyncio.Future[dict[str, Any]] = loop.create_future()
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        sent_body = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no more messages until the response is done
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.set_result(message)
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if chunk:
                    await chunks.put(chunk)
                if not message.get("more_body", False):
                    await chunks.put(None)

        task = loop.create_task(self.app(scope, receive, send))
        task.add_done_callback(lambda t: chunks.put_nowait(None))
        await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            task.result()  # re-raises the app's exception (answered 500 by covet)
            raise RuntimeError(f"The ASGI app mounted at {self.path!r} returned without a response")
        start = started.result()

        async def stream() -> AsyncIterator[bytes]:
            try:
                while (chunk := await chunks.get()) is not None:
                    yield chunk
            finally:
                if not task.done():
                    task.cancel()

        response = StreamingResponse(stream(), status_code=start["status"])
        response.raw_headers = [(bytes(k).lower(), bytes(v)) for k, v in start.get("headers", [])]
        length = response.headers.get("content-length")
        if length is not None:
            response.content_length = int(length)
            del response.headers["content-length"]
        return response

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        """Starlette's route-object API: FULL for a path under the prefix, whose app then sees
        the prefix in `root_path`."""
        path = route_path(scope)[0]
        under = path == self.path or path.startswith(self.path + "/")
        if scope.get("type") not in ("http", "websocket") or not under:
            return Match.NONE, {}
        return Match.FULL, {"root_path": scope.get("root_path", "") + self.path, "app_root_path": self.path}

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """`"mount_name:route_name"`: the path of a route of the mounted app, under the prefix."""
        inner = getattr(self.app, "url_path_for", None)
        if inner is None or (self.name is not None and not name.startswith(self.name + ":")):
            raise NoMatchFound(name, path_params)
        # An unnamed mount (one covet makes for an included `Host`) passes names through.
        return self.path + inner(name if self.name is None else name[len(self.name) + 1 :], **path_params)

    def websocket_call(self, app: Any, runtime: Runtime) -> Any:
        """What the engine calls for a WebSocket upgrade under this mount: the mounted app
        runs as a Task of `runtime`, speaking ASGI to the engine's connection."""

        def call(conn: Any, raw: Any, root_path: str) -> None:
            websocket = WebSocket(Request(raw, app), EngineChannel(conn))
            runtime.start(self.serve_websocket(websocket, root_path, runtime))

        return call

    async def serve_websocket(self, websocket: WebSocket, root_path: str, runtime: Runtime) -> None:
        scope = websocket.scope
        scope.pop("path_params", None)
        scope.pop("app", None)
        scope["root_path"] = scope.get("root_path", "") + root_path
        error: BaseException | None = None
        try:
            await self.app(scope, websocket.receive, websocket.send)
        except Exception as exc:
            logging.getLogger("covet.error").exception("Exception in the WebSocket app mounted at %s", self.path)
            error = exc
            runtime.report(exc)
        finally:
            await websocket._channel.finish(error)

    def __repr__(self) -> str:
        return f"Mount(path={self.path!r}, app={self.app!r})"
