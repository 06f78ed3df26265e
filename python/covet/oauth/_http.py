"""The HTTP client module Authlib's httpx integration runs on, so its errors are the ones caught.

Recent Authlib prefers `httpx2` when installed and falls back to `httpx`; covet follows the same
rule for its own requests (discovery, JWKS), so one exception type covers both.
"""

try:
    import httpx2 as http  # type: ignore[import-not-found]
except ImportError:
    import httpx as http

__all__ = ["http"]
