"""`Session`: the dict a handler sees as `request.session`.

It is a real `dict` (so `json.dumps(session)`, `isinstance(session, dict)` and Starlette-style
code keep working) that remembers whether it was changed, so the middleware writes the store and
the cookie only when there is something new to write.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Session", "new_session_id"]


def new_session_id() -> str:
    """256 random bits, URL-safe: unguessable, so an id is as good as a password for its session."""
    return secrets.token_urlsafe(32)


class Session(dict[str, Any]):
    """Session data, with change tracking and id rotation.

    Writes through the dict API (`session[k] = v`, `del`, `pop`, `update`, `clear`, ...) mark the
    session as modified. A change *inside* a stored value (`session["cart"].append(item)`) cannot
    be seen: set `session.modified = True` after one, as in Flask.
    """

    def __init__(self, data: Mapping[str, Any] | None = None, session_id: str | None = None) -> None:
        super().__init__(data or {})
        self._id = session_id
        self.loaded_id = session_id  # the id the request came with, deleted from the store on rotation
        self.modified = False

    @property
    def id(self) -> str:
        """The session's id, assigned on first use. With server-side sessions it is the store key;
        with cookie sessions it travels in the signed cookie. CSRF tokens are bound to it."""
        if self._id is None:
            self._id = new_session_id()
        return self._id

    @property
    def has_id(self) -> bool:
        return self._id is not None

    def regenerate(self) -> None:
        """Gives the session a new id, keeping its data; call it when the user logs in (or their
        privileges change). An attacker who planted or learnt the old id (session fixation) is left
        holding an id that no longer exists: the old server-side entry is deleted when the response
        is sent, and CSRF tokens issued for the old id stop being accepted."""
        self._id = new_session_id()
        self.modified = True

    @property
    def regenerated(self) -> bool:
        return self.loaded_id is not None and self._id != self.loaded_id

    # --- change tracking --------------------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.modified = True

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.modified = True

    def __ior__(self, other: Any) -> Session:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        if self:
            self.modified = True
        super().clear()

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self.modified = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self.modified = True
        return item

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        items: Iterable[Any] = other.items() if isinstance(other, Mapping) else other
        for key, value in items:
            self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    def __repr__(self) -> str:
        return f"Session({dict.__repr__(self)})"
