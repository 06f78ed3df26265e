"""A login form with sessions and CSRF protection: log in, see a page only a logged-in user
sees, log out.

Run it with `python -m covet run examples.sessions_login.app:app` and open
http://127.0.0.1:8000/ (user `ada`, password `lovelace`).

Sessions are kept in Redis when `SESSION_REDIS_URL` is set (`redis://127.0.0.1:6379/0`), which
every worker shares; otherwise in this process's memory (development only: with `--workers N`
each worker would have its own). The secret signing cookies and tokens is `$SESSION_SECRET`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import os

from covet import Covet, Form, Request, status
from covet.csrf import CSRFMiddleware, csrf_input
from covet.responses import HTMLResponse, RedirectResponse, Response
from covet.sessions import MemorySessionBackend, RedisSessionBackend, SessionBackend, SessionMiddleware

logger = logging.getLogger("examples.sessions_login")

SECRET = os.environ.get("SESSION_SECRET", "")
if not SECRET:
    SECRET = "dev-only-secret-set-SESSION_SECRET-in-production"
    logger.warning("SESSION_SECRET is not set: using a development secret")


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)


# One demo user; a real app keeps password hashes in its database.
_SALT = b"example-salt-ada"
USERS = {"ada": _hash("lovelace", _SALT)}


def check_password(username: str, password: str) -> bool:
    stored = USERS.get(username)
    candidate = _hash(password, _SALT)  # hashed even for an unknown user: same time either way
    return stored is not None and hmac.compare_digest(stored, candidate)


def session_backend() -> SessionBackend:
    url = os.environ.get("SESSION_REDIS_URL")
    return RedisSessionBackend(url, prefix="examples:sessions_login:") if url else MemorySessionBackend()


backend = session_backend()
app = Covet(on_shutdown=[backend.aclose])
# CSRF first, sessions second: the last added runs first, so the CSRF check sees request.session.
app.add_middleware(CSRFMiddleware, secret_key=SECRET)
app.add_middleware(SessionMiddleware, secret_key=SECRET, backend=backend)


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{body}",
        status_code=status_code,
    )


def login_page(request: Request, error: str = "", status_code: int = 200) -> HTMLResponse:
    message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    form = (
        '<form method="post" action="/login">'
        f"{csrf_input(request)}"
        '<label>User <input name="username" autocomplete="username"></label>'
        '<label>Password <input name="password" type="password" autocomplete="current-password"></label>'
        "<button>Log in</button></form>"
    )
    return page("Log in", message + form, status_code)


@app.get("/")
async def home(request: Request) -> Response:
    user = request.session.get("user")
    if user is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    visits = request.session["visits"] = request.session.get("visits", 0) + 1
    logout = f'<form method="post" action="/logout">{csrf_input(request)}<button>Log out</button></form>'
    return page(f"Hello, {user}", f"<p>Visits this session: {visits}</p>{logout}")


@app.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return login_page(request)


@app.post("/login")
async def login(request: Request, username: str = Form(), password: str = Form()) -> Response:
    if not check_password(username, password):
        logger.info("Failed login for %r", username)
        return login_page(request, "Wrong user name or password", status.HTTP_401_UNAUTHORIZED)
    # A new session id at login: an id someone planted or saw before now opens nothing.
    request.session.regenerate()
    request.session["user"] = username
    return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)


@app.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    request.session.clear()  # deletes the server-side entry and the cookie
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
