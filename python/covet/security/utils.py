"""Parsing the `Authorization` header, shared by the HTTP and OAuth2 schemes."""

from __future__ import annotations

__all__ = ["get_authorization_scheme_param"]


def get_authorization_scheme_param(authorization_header_value: str | None) -> tuple[str, str]:
    """`"Bearer abc"` -> `("Bearer", "abc")`; a missing or empty header gives `("", "")`.

    The scheme is returned as sent (schemes are case-insensitive; callers compare lowered)."""
    if not authorization_header_value:
        return "", ""
    scheme, _, param = authorization_header_value.partition(" ")
    return scheme, param.strip()
