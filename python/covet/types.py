"""The ASGI type names (Starlette's `types` module), for code that annotates ASGI apps and
middleware it mounts on covet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send", "Lifespan", "StatelessLifespan", "StatefulLifespan"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
StatelessLifespan = Callable[[Any], Any]  # app -> async context manager yielding None
StatefulLifespan = Callable[[Any], Any]  # app -> async context manager yielding a state Mapping
Lifespan = StatelessLifespan | StatefulLifespan
