"""CSRF protection: `CSRFMiddleware`, `csrf_token(request)`, `csrf_input(request)`, `@csrf_exempt`.

A cross-site request forgery is another site making the user's browser send a request to this
one: the browser attaches this site's cookies, so without a check the request acts as the user.
The defence is a token that the other site cannot know, required on every request that changes
something (any method but GET, HEAD, OPTIONS, TRACE).

The token is a *signed double submit*, bound to who the browser is:

- with a session (SessionMiddleware installed outside this one, and the session holds data), it
  is bound to the session id, so a token from another session (an attacker's own, or this
  user's from before login) is refused, and `session.regenerate()` retires the old tokens;
- otherwise to a random per-browser secret, kept in the HttpOnly `csrftoken` cookie, so a
  token is only valid together with the cookie it was made for.

Token layout (URL-safe base64): nonce (16 random bytes, so each rendering differs and a page's
token leaks nothing through compression) | kind (`s` session, `c` cookie) | binding tag
(HMAC of the session id or cookie secret, 16 bytes) | signature (HMAC-SHA256 over the rest).
Every comparison is constant-time (`hmac.compare_digest`). The signature tells a forged token
("invalid") from a genuine one made for someone else ("mismatch", "another session").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import logging
import re
import secrets
from collections.abc import Callable, Collection
from typing import Any, Literal, TypeVar

from covet import _engine
from covet.exceptions import HTTPException
from covet.middleware import BaseHTTPMiddleware, CallNext
from covet.requests import Request
from covet.responses import JSONResponse, Response
from covet.sessions.middleware import SessionMiddleware, request_is_https

__all__ = ["CSRFMiddleware", "csrf_exempt", "csrf_input", "csrf_token"]

logger = logging.getLogger("covet.csrf")

F = TypeVar("F", bound=Callable[..., Any])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_NONCE, _TAG, _SIG = 16, 16, 32
_EXEMPT_ATTR = "_covet_csrf_exempt"


def csrf_exempt(endpoint: F) -> F:
    """Marks an endpoint as not needing a CSRF token (a webhook called by another server, an API
    authenticated by a header rather than a cookie). Works above or below `@app.post(...)`."""
    setattr(endpoint, _EXEMPT_ATTR, True)
    return endpoint


def csrf_token(request: Request) -> str:
    """A token for the current session or browser, for a form field or the `X-CSRF-Token`
    header. Call it after the handler's last change to the session (log in, regenerate, log
    out): the token is bound to the session as it is at that moment."""
    middleware = request.scope_extra.get("csrf")
    assert isinstance(middleware, CSRFMiddleware), "CSRFMiddleware must be installed to use csrf_token(request)"
    return middleware.new_token(request)


class _Markup(str):
    """HTML that is already escaped: Jinja2 (through markupsafe's `__html__` protocol) inserts it
    as it is instead of escaping it a second time."""

    def __html__(self) -> str:
        return str(self)


def csrf_input(request: Request) -> str:
    """`<input type="hidden" name="csrf_token" value="...">` for a form, escaped."""
    middleware = request.scope_extra.get("csrf")
    assert isinstance(middleware, CSRFMiddleware), "CSRFMiddleware must be installed to use csrf_input(request)"
    name = html.escape(middleware.form_field, quote=True)
    value = html.escape(middleware.new_token(request), quote=True)
    return _Markup(f'<input type="hidden" name="{name}" value="{value}">')


class CSRFFailure(Exception):
    """Why a request's token was refused: `reason` is a stable code, the message says what to fix."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CSRFMiddleware(BaseHTTPMiddleware):
    """Refuses unsafe requests (POST, PUT, PATCH, DELETE...) without a valid token: 403 with
    `{"detail": ..., "reason": "csrf_missing" | "csrf_invalid" | "csrf_mismatch" | "csrf_session"}`.

    The token is read from the `header_name` header, or else from the `form_field` field of an
    urlencoded or multipart body (the form is parsed once and cached: the handler reads the same
    `await request.form()`). Exempt an endpoint with `@csrf_exempt`, or a whole path prefix with
    `exempt_paths=["/webhooks/"]`. With sessions, add this middleware before SessionMiddleware,
    so that it runs inside it and sees `request.session`.
    """

    def __init__(
        self,
        app: Any,
        secret_key: str | bytes,
        *,
        cookie_name: str = "csrftoken",
        header_name: str = "x-csrf-token",
        form_field: str = "csrf_token",
        safe_methods: Collection[str] = SAFE_METHODS,
        exempt_paths: Collection[str] = (),
        cookie_path: str = "/",
        cookie_domain: str | None = None,
        cookie_secure: bool | None = None,
        cookie_samesite: Literal["lax", "strict", "none"] = "lax",
        cookie_max_age: int | None = 365 * 24 * 60 * 60,
        trust_forwarded_proto: bool = False,
    ) -> None:
        super().__init__(app)
        if not secret_key:
            raise ValueError("CSRFMiddleware needs a secret_key: a long random string kept out of the code")
        _check_order(app)
        key = secret_key.encode() if isinstance(secret_key, str) else secret_key
        self._key = hashlib.sha256(b"covet.csrf|" + key).digest()  # never the session's key itself
        self.cookie_name = cookie_name
        self.header_name = header_name
        self.form_field = form_field
        self.safe_methods = frozenset(m.upper() for m in safe_methods)
        self.exempt_paths = tuple(exempt_paths)
        self.cookie_path = cookie_path
        self.cookie_domain = cookie_domain
        self.cookie_secure = cookie_secure
        self.cookie_samesite = cookie_samesite
        self.cookie_max_age = cookie_max_age
        self.trust_forwarded_proto = trust_forwarded_proto

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        request.scope_extra["csrf"] = self
        if request.method not in self.safe_methods and not self._exempt(request):
            try:
                await self.verify(request)
            except CSRFFailure as failure:
                logger.warning(
                    "CSRF check failed for %s %s from %s: %s (%s)",
                    request.method,
                    request.path,
                    request.client.host if request.client else "-",
                    failure,
                    failure.reason,
                )
                return JSONResponse({"detail": str(failure), "reason": failure.reason}, status_code=403)
            except HTTPException as exc:  # a malformed or oversized form body
                return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        response = await call_next(request)
        new_secret = request.scope_extra.get("csrf_new_secret")
        if new_secret is not None:
            response.set_cookie(
                self.cookie_name,
                new_secret,
                max_age=self.cookie_max_age,
                path=self.cookie_path,
                domain=self.cookie_domain,
                secure=self._secure(request),
                httponly=True,  # only the server reads it: pages get tokens from csrf_token()
                samesite=self.cookie_samesite,
            )
        return response

    # --- tokens ------------------------------------------------------------------------------------

    def new_token(self, request: Request) -> str:
        kind, binding = self._binding(request, create=True)
        assert binding is not None
        payload = secrets.token_bytes(_NONCE) + kind + self._tag(kind, binding)
        return base64.urlsafe_b64encode(payload + self._sign(payload)).rstrip(b"=").decode("ascii")

    async def verify(self, request: Request) -> None:
        """Raises CSRFFailure unless the request carries a token made for its session or browser."""
        token = await self._submitted_token(request)
        if not token:
            raise CSRFFailure(
                "csrf_missing",
                f"CSRF token missing: send it in the {self.header_name} header or the {self.form_field} form field",
            )
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        payload, signature = raw[:-_SIG], raw[-_SIG:]
        if len(raw) != _NONCE + 1 + _TAG + _SIG or not hmac.compare_digest(signature, self._sign(payload)):
            raise CSRFFailure("csrf_invalid", "CSRF token invalid: it was altered or not issued by this site")
        token_kind, token_tag = payload[_NONCE : _NONCE + 1], payload[_NONCE + 1 :]
        kind, binding = self._binding(request, create=False)
        if binding is not None and token_kind == kind and hmac.compare_digest(token_tag, self._tag(kind, binding)):
            return
        if b"s" in (kind, token_kind):
            raise CSRFFailure(
                "csrf_session", "CSRF token from another session: reload the page to get a token for this session"
            )
        if binding is None:
            raise CSRFFailure(
                "csrf_mismatch", f"CSRF cookie {self.cookie_name!r} missing: load the form from this site first"
            )
        raise CSRFFailure("csrf_mismatch", f"CSRF token mismatch: it does not match the {self.cookie_name!r} cookie")

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, b"token|" + payload, hashlib.sha256).digest()

    def _tag(self, kind: bytes, binding: str) -> bytes:
        return hmac.new(self._key, b"bind|" + kind + b"|" + binding.encode(), hashlib.sha256).digest()[:_TAG]

    def _binding(self, request: Request, *, create: bool) -> tuple[bytes, str | None]:
        """What the token is bound to: the session id while the session holds data, else the
        browser's secret cookie (created, when `create`, and sent with the response)."""
        session = request.scope_extra.get("session")
        session_id = getattr(session, "id", None) if session else None
        if isinstance(session_id, str):
            return b"s", session_id
        secret = request.scope_extra.get("csrf_new_secret")
        if secret is None:
            cookie = request.cookies.get(self.cookie_name)
            if cookie is not None and _SECRET.fullmatch(cookie):
                secret = cookie
            elif create:
                secret = request.scope_extra["csrf_new_secret"] = secrets.token_urlsafe(32)
        return b"c", secret

    async def _submitted_token(self, request: Request) -> str | None:
        token = request.headers.get(self.header_name)
        if token:
            return token
        content_type = (request.headers.get("content-type") or "").partition(";")[0].strip().lower()
        if content_type in _FORM_TYPES:
            value = (await request.form()).get(self.form_field)  # cached: the handler gets the same form
            return value if isinstance(value, str) else None
        return None

    # --- configuration -------------------------------------------------------------------------------

    def _exempt(self, request: Request) -> bool:
        path = request.path
        for prefix in self.exempt_paths:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return True
        raw = request._raw
        index = raw.endpoint
        if index is None:
            outcome, index, _, _ = self.app.compile().router.lookup(raw.method, raw.path)
            if outcome in (_engine.NOT_FOUND, _engine.METHOD_NOT_ALLOWED, _engine.REDIRECT):
                return True  # no handler will run: let the app answer 404/405/redirect
            if outcome != _engine.FOUND:
                return False
        endpoint = getattr(self.app.served_routes[index], "endpoint", None)
        return bool(getattr(endpoint, _EXEMPT_ATTR, False))

    def _secure(self, request: Request) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.cookie_samesite == "none" or request_is_https(request, self.trust_forwarded_proto)


def _check_order(app: Any) -> None:
    """Tokens are bound to the session, so this middleware must see `request.session`: refuse at
    startup an app where SessionMiddleware would run inside it instead of around it."""
    declared = [decl.cls for decl in getattr(app, "user_middleware", [])]  # outermost first
    mine = next((i for i, cls in enumerate(declared) if issubclass(cls, CSRFMiddleware)), None)
    theirs = next((i for i, cls in enumerate(declared) if issubclass(cls, SessionMiddleware)), None)
    if mine is not None and theirs is not None and theirs > mine:
        raise RuntimeError(
            "CSRFMiddleware must run inside SessionMiddleware: call app.add_middleware(CSRFMiddleware, ...) "
            "before app.add_middleware(SessionMiddleware, ...) (the last added runs first)"
        )
