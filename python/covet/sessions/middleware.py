"""`SessionMiddleware`: loads `request.session` before the handler, saves it after.

Starlette's options mean the same here (`secret_key`, `session_cookie`, `max_age`, `path`,
`same_site`, `https_only`, `domain`); covet adds a choice of storage (`backend`), sliding expiry
(`refresh_each_request`) and id rotation (`request.session.regenerate()`).

Signing uses itsdangerous, the library Flask and Starlette sign their session cookies with: it
does the timestamped HMAC, constant-time comparison, key rotation (a list of secrets) and
URL-safe encoding that a hand-written stdlib `hmac` version would have to get right again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any, Literal

try:
    from itsdangerous import BadSignature, SignatureExpired, Signer, URLSafeTimedSerializer
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError('covet.sessions signs cookies with itsdangerous: pip install "covet[sessions]"') from exc

from covet.middleware import BaseHTTPMiddleware, CallNext
from covet.requests import Request
from covet.responses import Response
from covet.sessions.backends import CookieSessionBackend, SessionBackend
from covet.sessions.session import Session

__all__ = ["SessionMiddleware", "request_is_https"]

logger = logging.getLogger("covet.sessions")

SecretKey = str | bytes | Sequence[str | bytes]
SameSite = Literal["lax", "strict", "none"]

DEFAULT_MAX_AGE = 14 * 24 * 60 * 60  # two weeks, as Starlette
# Browsers ignore a cookie over 4096 bytes (name, value and attributes together), silently.
_COOKIE_LIMIT = 4093


def request_is_https(request: Request, trust_forwarded_proto: bool = False) -> bool:
    """Whether the client reached us over HTTPS: the request's own scheme (TLS, or an ASGI server
    that applied proxy headers), or, when the app sits behind a proxy it trusts, the proxy's
    `X-Forwarded-Proto` header."""
    if request.url.scheme == "https":
        return True
    if trust_forwarded_proto:
        proto = request.headers.get("x-forwarded-proto", "")
        return proto.split(",")[0].strip().lower() == "https"
    return False


class SessionMiddleware(BaseHTTPMiddleware):
    """`app.add_middleware(SessionMiddleware, secret_key=...)` gives every request a
    `request.session`.

    `backend`: None or `CookieSessionBackend()` keeps the data in the signed cookie;
    `MemorySessionBackend()` or `RedisSessionBackend(url)` keep it on the server, the cookie
    holding only a signed random id. `https_only`: None marks the cookie `Secure` when the request
    came over HTTPS (see `request_is_https`), True always, False never. `refresh_each_request`:
    send the cookie (and restart a server-side entry's TTL) on every request that has a session,
    so it expires `max_age` after the last visit instead of after the last change.

    A server-side store that cannot be reached (`RedisSessionBackend` with Redis down or frozen)
    raises `RedisUnavailable` from here; the app answers it 503 with `Retry-After`, without a
    traceback, for requests that send a session cookie or change their session only (docs/redis.md).
    """

    def __init__(
        self,
        app: Any,
        secret_key: SecretKey,
        backend: SessionBackend | CookieSessionBackend | None = None,
        *,
        session_cookie: str = "session",
        max_age: int | None = DEFAULT_MAX_AGE,
        path: str = "/",
        same_site: SameSite = "lax",
        https_only: bool | None = None,
        domain: str | None = None,
        refresh_each_request: bool = False,
        trust_forwarded_proto: bool = False,
    ) -> None:
        super().__init__(app)
        if not secret_key:
            raise ValueError("SessionMiddleware needs a secret_key: a long random string kept out of the code")
        if same_site not in ("lax", "strict", "none"):
            raise ValueError(f"same_site must be 'lax', 'strict' or 'none', not {same_site!r}")
        if same_site == "none" and https_only is False:
            raise ValueError("same_site='none' needs a Secure cookie: browsers refuse it with https_only=False")
        self.store = backend if isinstance(backend, SessionBackend) else None
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.ttl = max_age or DEFAULT_MAX_AGE  # a server-side entry always expires
        self.path = path
        self.same_site = same_site
        self.https_only = https_only
        self.domain = domain
        self.refresh_each_request = refresh_each_request
        self.trust_forwarded_proto = trust_forwarded_proto
        keys: Any = secret_key if isinstance(secret_key, (str, bytes)) else list(secret_key)
        self._data_serializer = URLSafeTimedSerializer(
            keys, salt="covet.sessions.cookie", signer_kwargs={"digest_method": hashlib.sha256}
        )
        self._id_signer = Signer(keys, salt="covet.sessions.id", digest_method=hashlib.sha256)

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        cookie = request.cookies.get(self.session_cookie)
        session = await self._load(cookie) if cookie else Session()
        request.scope_extra["session"] = session
        response = await call_next(request)
        await self._commit(request, session, cookie is not None, response)
        return response

    # --- reading ----------------------------------------------------------------------------------

    async def _load(self, cookie: str) -> Session:
        """The session a cookie names; a tampered, expired or unknown one gives an empty session
        (logged at debug: a stale cookie is normal, not an error)."""
        if self.store is None:
            try:
                payload = self._data_serializer.loads(cookie, max_age=self.max_age)
            except SignatureExpired:
                logger.debug("Session cookie expired (older than max_age=%s s)", self.max_age)
                return Session()
            except BadSignature:
                logger.debug("Session cookie refused: bad signature (tampered, or signed with another secret)")
                return Session()
            if not (isinstance(payload, dict) and isinstance(payload.get("id"), str)) or not isinstance(
                payload.get("data"), dict
            ):
                logger.debug("Session cookie refused: not a covet session payload")
                return Session()
            return Session(payload["data"], payload["id"])
        try:
            session_id = self._id_signer.unsign(cookie).decode()
        except BadSignature:
            logger.debug("Session cookie refused: bad signature on the session id")
            return Session()
        data = await self.store.read(session_id)
        if data is None:
            logger.debug("Session id not in the store (expired, logged out or rotated)")
            return Session()
        return Session(data, session_id)

    # --- writing ----------------------------------------------------------------------------------

    async def _commit(self, request: Request, session: Session, had_cookie: bool, response: Response) -> None:
        store = self.store
        if store is not None and session.regenerated:
            assert session.loaded_id is not None
            await store.delete(session.loaded_id)  # the old id must stop working at once
        if not session:
            if store is not None and session.loaded_id is not None and not session.regenerated:
                await store.delete(session.loaded_id)
            if had_cookie:
                self._delete_cookie(request, response)
            return
        if session.modified:
            value = await self._save(session)
        elif self.refresh_each_request:
            value = await self._refresh(session)
        else:
            return
        self._set_cookie(request, response, value)

    async def _save(self, session: Session) -> str:
        if self.store is None:
            return self._data_serializer.dumps({"id": session.id, "data": dict(session)})
        await self.store.write(session.id, dict(session), self.ttl)
        return self._id_signer.sign(session.id).decode()

    async def _refresh(self, session: Session) -> str:
        """Sliding expiry: a new timestamp on the cookie, a new TTL on the server-side entry, with
        the data untouched (a concurrent request's change to it is not overwritten)."""
        if self.store is None:
            return self._data_serializer.dumps({"id": session.id, "data": dict(session)})
        await self.store.touch(session.id, self.ttl)
        return self._id_signer.sign(session.id).decode()

    def _secure(self, request: Request) -> bool:
        if self.https_only is not None:
            return self.https_only
        return self.same_site == "none" or request_is_https(request, self.trust_forwarded_proto)

    def _set_cookie(self, request: Request, response: Response, value: str) -> None:
        if len(self.session_cookie) + len(value) > _COOKIE_LIMIT:
            logger.warning(
                "Session cookie is %d bytes: browsers drop cookies over 4 KB, so this session will be lost. "
                "Store less in it, or use a server-side backend (RedisSessionBackend).",
                len(value),
            )
        response.set_cookie(
            self.session_cookie,
            value,
            max_age=self.max_age,
            path=self.path,
            domain=self.domain,
            secure=self._secure(request),
            httponly=True,
            samesite=self.same_site,
        )

    def _delete_cookie(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            self.session_cookie,
            path=self.path,
            domain=self.domain,
            secure=self._secure(request),
            httponly=True,
            samesite=self.same_site,
        )
