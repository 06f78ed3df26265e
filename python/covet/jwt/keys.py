"""Key objects: which algorithm a key is for, its id, and its material.

A key is bound to one algorithm when it is made, and the engine only ever verifies with that
algorithm, so a token's header cannot turn an RSA public key into an HMAC secret. `generate()`
makes fresh keys (for tests and first start); it needs the `cryptography` package for RSA,
EC and Ed25519 (`pip install covet[jwt]`)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any, ClassVar

from covet._engine import JwtKeys

__all__ = ["ECKey", "EdDSAKey", "HMACKey", "JWTKey", "RSAKey"]


def _derived_kid(algorithm: str, material: bytes) -> str:
    # A one-way digest of the material: stable across restarts, reveals nothing of the key.
    return f"{algorithm}-{hashlib.sha256(material).hexdigest()[:16]}"


def _cryptography() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("generating RSA/EC/Ed25519 keys needs `cryptography`: pip install covet[jwt]") from exc
    return serialization


@dataclass(frozen=True)
class JWTKey:
    """Base of the key types: `algorithm` is the one algorithm it signs and verifies with."""

    algorithms: ClassVar[tuple[str, ...]] = ()
    algorithm: str
    kid: str = ""

    def __post_init__(self) -> None:
        if self.algorithm not in self.algorithms:
            raise ValueError(f"{type(self).__name__} supports {', '.join(self.algorithms)}, not {self.algorithm!r}")

    def add_to(self, keys: JwtKeys, *, signing: bool) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class HMACKey(JWTKey):
    """A shared secret (HS256/384/512), at least as long as the hash: 32, 48 or 64 bytes."""

    algorithms: ClassVar[tuple[str, ...]] = ("HS256", "HS384", "HS512")
    secret: bytes = field(default=b"", repr=False)

    def __init__(self, secret: bytes | str, algorithm: str = "HS256", kid: str | None = None) -> None:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        object.__setattr__(self, "secret", raw)
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "kid", kid or _derived_kid(algorithm, raw))
        self.__post_init__()

    @classmethod
    def generate(cls, algorithm: str = "HS256", kid: str | None = None) -> HMACKey:
        size = {"HS256": 32, "HS384": 48, "HS512": 64}.get(algorithm, 64)
        return cls(secrets.token_bytes(size), algorithm, kid)

    def add_to(self, keys: JwtKeys, *, signing: bool) -> None:
        keys.add_secret(self.kid, self.algorithm, self.secret, signing)


@dataclass(frozen=True)
class _PEMKey(JWTKey):
    """A PEM key: a private key signs and verifies, a public key only verifies."""

    pem: bytes = field(default=b"", repr=False)

    def __init__(self, pem: bytes | str, algorithm: str | None = None, kid: str | None = None) -> None:
        raw = pem.encode() if isinstance(pem, str) else bytes(pem)
        algorithm = algorithm or self.algorithms[0]
        object.__setattr__(self, "pem", raw)
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "kid", kid or _derived_kid(algorithm, raw))
        self.__post_init__()

    @classmethod
    def from_pem(cls, pem: bytes | str, algorithm: str | None = None, kid: str | None = None) -> Any:
        return cls(pem, algorithm, kid)

    @property
    def is_private(self) -> bool:
        return b"PRIVATE KEY-----" in self.pem

    def public_key(self) -> Any:
        """The same key without its private half (same kid), for a service that only verifies."""
        serialization = _cryptography()
        if not self.is_private:
            return self
        private = serialization.load_pem_private_key(self.pem, password=None)
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return type(self)(public, self.algorithm, self.kid)

    def add_to(self, keys: JwtKeys, *, signing: bool) -> None:
        keys.add_pem(self.kid, self.algorithm, self.pem, signing)

    @staticmethod
    def _private_pem(private: Any) -> bytes:
        serialization = _cryptography()
        return bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


class RSAKey(_PEMKey):
    """RSA (RS256/384/512, PS256/384/512), 2048 bits or more."""

    algorithms: ClassVar[tuple[str, ...]] = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")

    @classmethod
    def generate(cls, algorithm: str = "RS256", kid: str | None = None, bits: int = 2048) -> RSAKey:
        _cryptography()
        from cryptography.hazmat.primitives.asymmetric import rsa

        return cls(cls._private_pem(rsa.generate_private_key(public_exponent=65537, key_size=bits)), algorithm, kid)


class ECKey(_PEMKey):
    """ECDSA: ES256 on P-256, ES384 on P-384."""

    algorithms: ClassVar[tuple[str, ...]] = ("ES256", "ES384")

    @classmethod
    def generate(cls, algorithm: str = "ES256", kid: str | None = None) -> ECKey:
        _cryptography()
        from cryptography.hazmat.primitives.asymmetric import ec

        curve = ec.SECP384R1() if algorithm == "ES384" else ec.SECP256R1()
        return cls(cls._private_pem(ec.generate_private_key(curve)), algorithm, kid)


class EdDSAKey(_PEMKey):
    """EdDSA on Ed25519."""

    algorithms: ClassVar[tuple[str, ...]] = ("EdDSA",)

    @classmethod
    def generate(cls, algorithm: str = "EdDSA", kid: str | None = None) -> EdDSAKey:
        _cryptography()
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return cls(cls._private_pem(ed25519.Ed25519PrivateKey.generate()), algorithm, kid)
