"""Sessions: `request.session`, kept in a signed cookie or in a server-side store.

    from covet.sessions import SessionMiddleware, RedisSessionBackend

    app.add_middleware(SessionMiddleware, secret_key=SECRET, backend=RedisSessionBackend(REDIS_URL))

See docs/sessions.md.
"""

from covet.sessions.backends import CookieSessionBackend, SessionBackend
from covet.sessions.flash import flash, get_flashed_messages
from covet.sessions.memory import MemorySessionBackend
from covet.sessions.middleware import SessionMiddleware
from covet.sessions.redis import RedisSessionBackend
from covet.sessions.session import Session

__all__ = [
    "CookieSessionBackend",
    "MemorySessionBackend",
    "RedisSessionBackend",
    "Session",
    "SessionBackend",
    "SessionMiddleware",
    "flash",
    "get_flashed_messages",
]
