"""covet.passwords: Argon2id hashing, verification, and re-hashing when costs are raised."""

from __future__ import annotations

import pytest

from covet import passwords
from covet.passwords import InvalidHashError, PasswordHasher

# Small costs keep the suite quick; the defaults are exercised once below.
FAST = {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}


def test_hash_and_verify() -> None:
    hasher = PasswordHasher(**FAST)
    hashed = hasher.hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert hasher.hash("correct horse") != hashed  # a fresh salt every time
    assert hasher.verify("correct horse", hashed) is True
    assert hasher.verify(b"correct horse", hashed) is True
    assert hasher.verify("wrong horse", hashed) is False
    assert hasher.verify("", hashed) is False


def test_module_functions_use_argon2id_defaults() -> None:
    hashed = passwords.hash_password("s3cret")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password("s3cret", hashed)
    assert not passwords.verify_password("s3cret!", hashed)
    assert not passwords.needs_rehash(hashed)
    assert passwords.verify_and_update("s3cret", hashed) == (True, None)


@pytest.mark.parametrize(
    "bad", ["", "plaintext", "$2b$12$abcdefghijklmnopqrstuv", "$argon2id$v=19$m=8192,t=1,p=1$abc$def"]
)
def test_malformed_hash_is_a_clear_error(bad: str) -> None:
    hasher = PasswordHasher(**FAST)
    with pytest.raises(InvalidHashError, match="Argon2 hash"):
        hasher.verify("anything", bad)


def test_needs_rehash_on_malformed_hash_is_a_clear_error() -> None:
    with pytest.raises(InvalidHashError):
        PasswordHasher(**FAST).needs_rehash("not a hash")


@pytest.mark.parametrize("raised", [{"time_cost": 2}, {"memory_cost": 16384}, {"parallelism": 2}])
def test_rehash_on_login_when_parameters_are_raised(raised: dict[str, int]) -> None:
    old = PasswordHasher(**FAST)
    new = PasswordHasher(**{**FAST, **raised})
    stored = old.hash("hunter2")
    assert new.needs_rehash(stored)
    assert new.verify_and_update("wrong", stored) == (False, None)
    ok, updated = new.verify_and_update("hunter2", stored)
    assert ok and updated is not None
    assert not new.needs_rehash(updated)
    assert new.verify("hunter2", updated)
    assert new.verify_and_update("hunter2", updated) == (True, None)
    assert (new.time_cost, new.memory_cost, new.parallelism) == tuple({**FAST, **raised}.values())
