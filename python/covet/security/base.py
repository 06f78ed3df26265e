"""The base every security scheme shares: what it contributes to the OpenAPI document.

A security scheme is a callable dependency (it reads credentials from the request) that also
describes itself: `model` is the OpenAPI Security Scheme Object and `scheme_name` its key in
`components.securitySchemes`. The OpenAPI generator recognises a dependency as a scheme by
this base class.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SecurityBase"]


class SecurityBase:
    """A security scheme: `model` (a JSON-ready dict) is documented under `scheme_name`."""

    model: dict[str, Any]
    scheme_name: str


def scheme_model(**fields: Any) -> dict[str, Any]:
    """A Security Scheme Object with the unset (None) fields left out, as OpenAPI expects."""
    return {k: v for k, v in fields.items() if v is not None}
