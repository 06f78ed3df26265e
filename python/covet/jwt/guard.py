"""Which routes' bearer tokens the engine verifies before Python runs.

A route whose dependencies include a `JWTAuth` (directly, through `Security(jwt_auth, ...)`, or
inside a dependency of its own) gets a guard in the engine's endpoint table: covet's server
verifies the bearer token in Rust with that `JWTAuth`'s keys and rules, and answers a missing
or bad token with the dependency's own 401, so neither the handler nor any dependency runs.
A token that verifies reaches Python with its claims, and `JWTAuth` only checks revocation and
scopes.

The engine leaves the check to Python where answering early would skip something the app
asked for: an HTTP middleware written in Python (it must see every response), an exception
handler for 401 or `HTTPException`, a `JWTAuth` subclass with its own `__call__`, or
`engine_check=False`. A dependency override (in tests) of the `JWTAuth` or of a dependency
leading to it is honoured per request.
"""

from __future__ import annotations

import logging
from typing import Any

from covet import _engine
from covet.dependencies.models import Dependant
from covet.exceptions import HTTPException
from covet.jwt.auth import JWTAuth
from covet.logtext import printable
from covet.mounts import Mount

__all__ = ["route_guards"]

logger = logging.getLogger("covet.jwt")


def route_guards(app: Any, routes: list[Any], python_middleware: bool) -> list[_engine.GuardSpec | None]:
    """Per route of `app` (in endpoint order): None, or its guard for the engine (the checks
    of each `JWTAuth` with the chain of dependencies from the route down to it).
    `routes`: the routes the engine serves, in endpoint order; `python_middleware`: the app's
    pipeline runs middleware in Python (they see every answer)."""
    if python_middleware or {401, HTTPException} & set(app.exception_handlers):
        return [None] * len(routes)
    guards: list[_engine.GuardSpec | None] = []
    for route in routes:
        dependant = None if isinstance(route, Mount) else getattr(route, "dependant", None)
        found: dict[int, tuple[JWTAuth, list[Any]]] = {}
        if dependant is not None:
            _collect(dependant, [], found)
        checks = [
            _engine.JwtCheckSpec(
                auth._keys, token_type="access", auto_error=auth.auto_error, chain=chain, log=_log_refusal
            )
            for auth, chain in found.values()
        ]
        guards.append(_engine.GuardSpec(app, checks) if checks else None)
    return guards


def _collect(dependant: Dependant, chain: list[Any], found: dict[int, tuple[JWTAuth, list[Any]]]) -> None:
    for sub in dependant.dependencies:
        call = sub.call
        path = [*chain, call]
        if isinstance(call, JWTAuth):
            if call.engine_check and type(call).__call__ is JWTAuth.__call__:
                known = found.setdefault(id(call), (call, []))
                known[1].extend(c for c in path if c not in known[1])
            continue
        _collect(sub, path, found)


def _log_refusal(method: str, path: str, reason: str) -> None:
    logger.info("refused bearer token on %s %s: %s", method, printable(path), reason)
