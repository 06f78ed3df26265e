"""Password hashing with Argon2id (RFC 9106), through argon2-cffi (`pip install covet[passwords]`).

The hash string carries its own parameters, so raising them later is safe: old hashes still
verify, `needs_rehash` tells which are weaker than the current settings, and
`verify_and_update` re-hashes on the next successful login, when the plain password is at hand.

Hashing is deliberately slow (tens of milliseconds). argon2-cffi releases the GIL while it
works, so from an `async def` handler call it through `covet.concurrency.run_in_threadpool`
to keep the event loop serving other requests."""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError as _Argon2InvalidHash
from argon2.exceptions import VerificationError, VerifyMismatchError

__all__ = [
    "InvalidHashError",
    "PasswordHasher",
    "hash_password",
    "needs_rehash",
    "verify_and_update",
    "verify_password",
]


class InvalidHashError(ValueError):
    """The stored hash is not an Argon2 hash this library can read: a data problem (truncated
    column, another scheme's hash), never a wrong password."""


class PasswordHasher:
    """Argon2id with the given costs. The defaults are argon2-cffi's, the RFC 9106
    "low memory" profile: 3 passes over 64 MiB with 4 lanes."""

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
        hash_len: int = argon2.DEFAULT_HASH_LENGTH,
        salt_len: int = argon2.DEFAULT_RANDOM_SALT_LENGTH,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )

    @property
    def time_cost(self) -> int:
        return int(self._hasher.time_cost)

    @property
    def memory_cost(self) -> int:
        """In KiB."""
        return int(self._hasher.memory_cost)

    @property
    def parallelism(self) -> int:
        return int(self._hasher.parallelism)

    def hash(self, password: str | bytes) -> str:
        """A new salted hash (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`)."""
        return str(self._hasher.hash(password))

    def verify(self, password: str | bytes, hashed: str) -> bool:
        """True when `password` matches. A wrong password is False; a hash that cannot be read
        raises `InvalidHashError`."""
        try:
            return bool(self._hasher.verify(hashed, password))
        except VerifyMismatchError:
            return False
        except _Argon2InvalidHash as exc:
            raise InvalidHashError(f"not a valid Argon2 hash: {_preview(hashed)}") from exc
        except VerificationError as exc:
            # Decodes but cannot be checked (for example a corrupted hash with valid syntax).
            raise InvalidHashError(f"Argon2 hash could not be verified ({exc}): {_preview(hashed)}") from exc

    def needs_rehash(self, hashed: str) -> bool:
        """True when `hashed` was made with other (usually weaker) parameters than these."""
        try:
            return bool(self._hasher.check_needs_rehash(hashed))
        except (_Argon2InvalidHash, ValueError) as exc:
            raise InvalidHashError(f"not a valid Argon2 hash: {_preview(hashed)}") from exc

    def verify_and_update(self, password: str | bytes, hashed: str) -> tuple[bool, str | None]:
        """Verifies, and when it matches and the hash is outdated, returns a new hash to store:
        `(ok, new_hash_or_None)`."""
        if not self.verify(password, hashed):
            return False, None
        return True, self.hash(password) if self.needs_rehash(hashed) else None


def _preview(hashed: object) -> str:
    # Enough to recognise the scheme in a log, never the whole digest.
    text = str(hashed)
    return repr(text[:16] + ("..." if len(text) > 16 else ""))


_default = PasswordHasher()


def hash_password(password: str | bytes) -> str:
    """`PasswordHasher().hash` with the default parameters."""
    return _default.hash(password)


def verify_password(password: str | bytes, hashed: str) -> bool:
    """`PasswordHasher().verify` with the default parameters."""
    return _default.verify(password, hashed)


def needs_rehash(hashed: str) -> bool:
    """`PasswordHasher().needs_rehash` with the default parameters."""
    return _default.needs_rehash(hashed)


def verify_and_update(password: str | bytes, hashed: str) -> tuple[bool, str | None]:
    """`PasswordHasher().verify_and_update` with the default parameters."""
    return _default.verify_and_update(password, hashed)
