"""Flask's message flashing on covet's sessions: `flash(request, "Saved")` in one request,
`get_flashed_messages(request)` (or `get_flashed_messages()` in a template) in the next one,
which takes them out of the session."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["flash", "get_flashed_messages"]

_KEY = "_flashes"


def flash(request: Any, message: str, category: str = "message") -> None:
    """Keeps `message` in the session until a later request reads the flashed messages."""
    flashes = list(request.session.get(_KEY, []))
    flashes.append([category, message])
    request.session[_KEY] = flashes


def get_flashed_messages(
    request: Any, *, with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[Any]:
    """The messages flashed so far, oldest first, removed from the session; read twice in one
    request, they are the same both times. `with_categories` gives `(category, message)` pairs;
    `category_filter` keeps the named categories only."""
    cached = getattr(request.state, "_covet_flashes", None)
    if cached is None:
        cached = [tuple(item) for item in request.session.get(_KEY, [])]
        if _KEY in request.session:
            del request.session[_KEY]
        request.state._covet_flashes = cached
    wanted = set(category_filter)
    chosen = [item for item in cached if not wanted or item[0] in wanted]
    return list(chosen) if with_categories else [message for _, message in chosen]
