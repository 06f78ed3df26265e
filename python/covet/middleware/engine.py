"""Engine middleware: classes whose work covet does in Rust, before routing.

`app.add_middleware(CORSMiddleware, ...)` does not put these in the Python chain. Their options
are compiled into one `covet._engine.Policy` (outermost first, as declared), which covet's own
server runs on each parsed request (an answer such as a CORS preflight is written from Rust)
and which the ASGI adapter calls for the same result under uvicorn. Engine middleware always
sits outside Python middleware: it sees the request first and the response last.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

from covet import _engine
from covet.responses import Response

__all__ = ["EngineMiddleware", "compile_policy", "engine_policy", "is_engine_middleware"]

logger = logging.getLogger("covet.server")

Send = Callable[[dict[str, Any]], Awaitable[None]]


class EngineMiddleware:
    """Base of the engine middleware classes: a stage name and its options for the engine."""

    engine_stage: ClassVar[str]

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.app = app
        self.options = options
        # The engine checks the options now (bad patterns, CR/LF in header values), so a
        # mistake is reported where the middleware is added, not at the first request.
        _engine.Policy([self.engine_config()])

    def engine_config(self) -> tuple[str, dict[str, Any]]:
        return (self.engine_stage, self.options)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        name = type(self).__name__
        raise TypeError(
            f"{name} runs inside covet's engine and cannot wrap an ASGI app: "
            f"use app.add_middleware({name}, ...) or Covet(middleware=[Middleware({name}, ...)])"
        )


def is_engine_middleware(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, EngineMiddleware)


def compile_policy(app: Any, declarations: Sequence[Any]) -> tuple[list[Any], Any | None]:
    """Splits declarations (outermost first) into the Python ones and one engine `Policy`."""
    python: list[Any] = []
    stages: list[tuple[str, dict[str, Any]]] = []
    for decl in declarations:
        if is_engine_middleware(decl.cls):
            stages.append(decl.cls(app, *decl.args, **decl.kwargs).engine_config())
        elif (stage := _engine_stage_of(app, decl)) is not None:
            stages.append(stage)
        else:
            python.append(decl)
    return python, (_engine.Policy(stages) if stages else None)


def _engine_stage_of(app: Any, decl: Any) -> tuple[str, dict[str, Any]] | None:
    """A Python middleware that the engine can stand in for with some options (such as
    `RateLimitMiddleware` on the memory backend) says so through `engine_config_for`."""
    probe = getattr(decl.cls, "engine_config_for", None)
    return probe(app, *decl.args, **decl.kwargs) if probe is not None else None


def engine_policy(policy: Any, raw: Any, send: Send) -> tuple[Response | None, Send]:
    """The ASGI side: the response to give at once, or `send` wrapped to add the policy's
    headers to the response head (the response object itself is left as it is)."""
    if policy is None:
        return None, send
    verdict = policy.check(raw)
    if isinstance(verdict, tuple):
        status, headers, body, refused = verdict
        if refused is not None:
            client = raw.client
            where = f"{client[0]}:{client[1]}" if client else "-"
            logger.warning("Refused a request from %s: %d %s", where, status, refused)
        early = Response(body, status_code=status)
        early.raw_headers = headers
        return early, send

    async def send_with_headers(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = message["headers"] = list(message.get("headers", ()))
            verdict.apply(headers)
        await send(message)

    return None, send_with_headers
