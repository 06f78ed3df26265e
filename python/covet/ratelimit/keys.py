"""Who a request counts against: key functions.

A key function takes the `Request` and returns a string (the bucket the request is counted
in), or None to leave the request unlimited. Each key carries a kind prefix (`ip:`, `key:`,
`user:`) so an API key can never collide with an address.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Awaitable, Callable, Iterable

from covet.requests import Request

__all__ = ["APIKey", "ClientIP", "KeyFunc", "api_key", "client_ip", "engine_key_spec", "global_key", "user_identity"]

KeyFunc = Callable[[Request], "str | None | Awaitable[str | None]"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientIP:
    """Keys a request by the client's address (made by `client_ip()`; see there)."""

    def __init__(self, trusted_proxies: Iterable[str], header: str, ipv6_prefix: int) -> None:
        self.trusted_proxies = [trusted_proxies] if isinstance(trusted_proxies, str) else list(trusted_proxies)
        self.trusted = _networks(self.trusted_proxies)
        self.header = header.lower()
        self.ipv6_prefix = ipv6_prefix

    def is_trusted(self, address: str) -> bool:
        if self.trusted is None:
            return True
        ip = _parse_ip(address)
        return ip is not None and any(ip in net for net in self.trusted)

    def __call__(self, request: Request) -> str:
        client = request.client
        peer = client.host if client else ""
        trusted = self.trusted
        if not peer or (trusted is not None and not trusted) or not self.is_trusted(peer):
            return "ip:" + _normalize(peer, self.ipv6_prefix)
        hops = [h.strip() for value in request.headers.getlist(self.header) for h in value.split(",")]
        hops = [h for h in hops if h]
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return "ip:" + _normalize(hop, self.ipv6_prefix)
        return "ip:" + _normalize(hops[0] if hops else peer, self.ipv6_prefix)

    def engine_spec(self) -> dict[str, object]:
        """How the engine computes the same key (see `engine_key_spec`)."""
        trusted = None if self.trusted is None else [str(net) for net in self.trusted]
        return {"kind": "ip", "trusted_proxies": trusted, "header": self.header, "ipv6_prefix": self.ipv6_prefix}


def client_ip(
    trusted_proxies: Iterable[str] = (),
    *,
    header: str = "x-forwarded-for",
    ipv6_prefix: int = 64,
) -> ClientIP:
    """Keys a request by the client's address.

    By default that is the socket peer: a forwarding header is only read when the peer is one
    of `trusted_proxies` (addresses or networks such as "10.0.0.0/8"; "*" trusts any peer).
    The header is then read right to left, skipping the hops your own proxies added, and the
    first address no trusted proxy owns is the client: entries a client wrote itself, further
    left, are never believed. IPv6 clients are keyed by their /64 (`ipv6_prefix`), since one
    host usually holds a whole /64 and could otherwise rotate addresses to dodge the limit.
    """
    return ClientIP(trusted_proxies, header, ipv6_prefix)


class APIKey:
    """Keys a request by an API key header (made by `api_key()`; see there)."""

    def __init__(self, header: str, fallback: KeyFunc | None) -> None:
        self.header = header.lower()
        self.fallback = fallback

    def __call__(self, request: Request) -> str | None | Awaitable[str | None]:
        value = request.headers.get(self.header)
        if value:
            return "key:" + hashlib.sha256(value.encode()).hexdigest()[:32]
        return self.fallback(request) if self.fallback is not None else None

    def engine_spec(self) -> dict[str, object] | None:
        fallback = None
        if self.fallback is not None:
            fallback = engine_key_spec(self.fallback)
            if fallback is None:
                return None
        return {"kind": "api_key", "header": self.header, "fallback": fallback}


def api_key(header: str = "x-api-key", *, fallback: KeyFunc | None = None) -> APIKey:
    """Keys a request by the API key in `header`; without one, by `fallback` (for example
    `client_ip()`), or not limited when there is no fallback. Keys are stored hashed, so
    secrets never appear in Redis or in logs."""
    return APIKey(header, fallback)


def global_key(request: Request) -> str:
    """One bucket for every client: a limit on the whole service (or route)."""
    return "*"


def engine_key_spec(key: object) -> dict[str, object] | None:
    """The description of `key` the Rust engine can compute itself, or None for a key only
    Python can compute (a function of your own)."""
    if key is global_key:
        return {"kind": "global"}
    spec = getattr(key, "engine_spec", None)
    return spec() if isinstance(key, ClientIP | APIKey) and spec is not None else None


def user_identity(value: object) -> str | None:
    """The key for a user given by a dependency: its `id` attribute when it has one, else the
    value itself; None (an anonymous request) gives no user key."""
    if value is None:
        return None
    return "user:" + str(getattr(value, "id", value))


def _networks(specs: Iterable[str]) -> list[Network] | None:
    """The trusted networks; None means every peer is trusted ("*")."""
    specs = [specs] if isinstance(specs, str) else list(specs)
    if "*" in specs:
        return None
    networks = []
    for spec in specs:
        try:
            networks.append(ipaddress.ip_network(spec.strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies: {spec!r} is not an IP address or network (e.g. '10.0.0.0/8')") from None
    return networks


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51000"
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _normalize(address: str, ipv6_prefix: int) -> str:
    ip = _parse_ip(address)
    if ip is None:
        return address.strip()[:100]  # not an address (a test client, a unix socket): as is
    if isinstance(ip, ipaddress.IPv6Address) and ipv6_prefix < 128:
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)
