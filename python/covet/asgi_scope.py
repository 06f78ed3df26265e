"""ASGI scopes as the engine's `RawRequest`: what the ASGI adapter, WebSocket routing and the
ASGI middleware bridge all need, in a leaf module that imports nothing else of covet's."""

from __future__ import annotations

from typing import Any

from covet._engine import RawRequest

__all__ = ["handshake_request", "raw_request", "route_path"]


def raw_request(scope: dict[str, Any], body: bytes) -> RawRequest:
    """The engine's request object for an ASGI `http` scope."""
    path, raw_path = route_path(scope)
    return RawRequest(
        scope["method"],
        path,
        raw_path,
        scope.get("query_string", b""),
        scope.get("headers", []),
        body,
        scope.get("http_version", "1.1"),
        tuple(scope["client"]) if scope.get("client") else None,
        tuple(scope["server"]) if scope.get("server") else None,
        scope.get("scheme", "http"),
        scope.get("root_path", ""),
    )


def handshake_request(scope: dict[str, Any], path: str, raw_path: bytes, *route: Any) -> RawRequest:
    """The engine's request for the handshake of an ASGI `websocket` scope; `route` is the
    matched route's index and path parameters, when it has been routed."""
    return RawRequest(
        "GET",
        path,
        raw_path,
        scope.get("query_string", b""),
        scope.get("headers", []),
        b"",
        scope.get("http_version", "1.1"),
        tuple(scope["client"]) if scope.get("client") else None,
        tuple(scope["server"]) if scope.get("server") else None,
        "https" if scope.get("scheme") == "wss" else "http",
        scope.get("root_path", ""),
        *route,
    )


def route_path(scope: dict[str, Any]) -> tuple[str, bytes]:
    """The path the app routes on. As in ASGI since 2.3 (and Starlette), `path` includes
    `root_path`: a covet app mounted under another app, or served behind a proxy prefix,
    routes on what follows it."""
    path = scope["path"]
    if not path.isascii():
        # A server that decoded invalid UTF-8 escapes with surrogates (%c0%ae): those become
        # U+FFFD, a name no route or file has, rather than an error.
        path = path.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    raw_path = scope.get("raw_path") or path.encode()
    root = scope.get("root_path", "").rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :] or "/"
        encoded = root.encode()
        if raw_path.startswith(encoded):
            raw_path = raw_path[len(encoded) :] or b"/"
    return path, raw_path
