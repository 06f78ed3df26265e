"""The login transaction: what the callback must find again, kept in a signed browser cookie.

Between the redirect to the provider and the callback, the app must remember the `state`, the
`nonce` and the PKCE `code_verifier` it made up, and bind them to *this* browser. A signed,
HttpOnly, SameSite=Lax cookie does that without server storage or a session middleware: the
provider's redirect back is a top-level GET, which Lax cookies accompany, and a page on another
site cannot read or forge it. The cookie is signed (HMAC-SHA256), not encrypted: the browser it
belongs to may read its own verifier, which is only useful together with a code sent to that
same browser.

`state` is single use within a process: a callback whose state was already consumed is refused
before anything is sent to the provider. Across processes, the provider's own rule that a code
is redeemed once stops a replay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass

from covet.oauth.errors import TransactionInvalid

__all__ = ["Transaction", "TransactionCodec", "SpentStates"]


@dataclass(frozen=True)
class Transaction:
    provider: str
    state: str
    nonce: str | None
    code_verifier: str
    redirect_uri: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TransactionCodec:
    """Turns a transaction into a cookie value and back, checking signature and expiry."""

    def __init__(self, secret_key: str | bytes) -> None:
        secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
        if len(secret) < 16:
            raise ValueError("OAuth(secret_key=...) needs at least 16 bytes of secret to sign login cookies")
        # A key of its own, so the app's secret signs nothing else in the same format.
        self._key = hmac.new(secret, b"covet.oauth.transaction", hashlib.sha256).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def dump(self, tx: Transaction) -> str:
        payload = _b64(json.dumps(asdict(tx), separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def load(self, value: str, provider: str) -> Transaction:
        payload, _, signature = value.partition(".")
        if not value.isascii() or not signature or not hmac.compare_digest(signature, self._sign(payload)):
            raise TransactionInvalid("the login cookie's signature does not match", provider=provider)
        try:
            tx = Transaction(**json.loads(_unb64(payload)))
        except (ValueError, TypeError) as exc:
            raise TransactionInvalid(f"the login cookie cannot be read: {exc}", provider=provider) from None
        if tx.provider != provider:
            raise TransactionInvalid(f"the login cookie belongs to provider {tx.provider!r}", provider=provider)
        if tx.expires <= time.time():
            raise TransactionInvalid("the login took too long; start it again", provider=provider)
        return tx


class SpentStates:
    """States already consumed by a callback in this process, kept until their cookie expires."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}

    def consume(self, state: str, expires: float) -> bool:
        """Marks `state` used; False when it already was."""
        now = time.time()
        if len(self._spent) > 1024:
            self._spent = {k: v for k, v in self._spent.items() if v > now}
        key = hashlib.sha256(state.encode()).hexdigest()
        if self._spent.get(key, 0) > now:
            return False
        self._spent[key] = expires
        return True
