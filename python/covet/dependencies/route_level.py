"""Dependencies declared on a route or router (`dependencies=[Depends(...)]`) rather than as a
parameter: analysed like any dependency, with no argument name, for HTTP and WebSocket routes
alike (a module of its own so that both route kinds use it without importing each other)."""

from __future__ import annotations

from covet.dependencies.analysis import get_dependant
from covet.dependencies.models import Dependant
from covet.params import DependsParam, SecurityParam

__all__ = ["route_dependency"]


def route_dependency(dep: DependsParam, path: str) -> Dependant:
    scopes = dep.scopes if isinstance(dep, SecurityParam) else []
    assert dep.dependency is not None, "route dependencies need a callable: Depends(func)"
    return get_dependant(
        dep.dependency, path=path, name=None, use_cache=dep.use_cache, security_scopes=scopes, scope=dep.scope
    )
