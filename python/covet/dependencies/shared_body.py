"""One JSON body shared by a handler and its dependencies.

Each `Dependant` validates the body parameters it declares. When the handler and its
dependencies declare more than one distinct body parameter between them, the body is an object
holding each under its name (FastAPI's rule), so every one of them must read its part rather
than the whole body. A parameter declared twice under the same name (the same model taken by
the handler and a dependency) counts once. Decided once, when the route is built.
"""

from __future__ import annotations

from collections.abc import Iterator

from covet.dependencies.analysis import build_validators
from covet.dependencies.models import Dependant

__all__ = ["embed_shared_body"]


def _tree(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _tree(sub)


def embed_shared_body(dependant: Dependant) -> None:
    """Called on the route's whole tree (route-level dependencies included). One value declared
    `Body(embed=True)` anywhere also makes the body an object for every reader."""
    readers = [d for d in _tree(dependant) if any(f.source == "body" for f in d.body_params)]
    names = {f.alias for d in readers for f in d.body_params if f.source == "body"}
    if len(readers) < 2 or not (len(names) > 1 or any(d.embed_body for d in readers)):
        return
    for d in readers:
        if not d.embed_body:
            d.embed_body = True
            build_validators(d)
    dependant.embed_body = True
