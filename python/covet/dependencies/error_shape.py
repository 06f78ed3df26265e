"""Validation errors in FastAPI's shape (`{"type", "loc", "msg", "input", "ctx"}`): what the
solver, the form reader and the body-error reporter all produce, in a leaf module they share."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

__all__ = ["missing", "validation_errors"]


def validation_errors(
    exc: ValidationError, prefix: tuple[str | int, ...], per_field: bool = True
) -> list[dict[str, Any]]:
    """pydantic's errors in FastAPI's shape: loc prefixed with the request part, no URLs.
    FastAPI validates each parameter on its own, so a missing parameter shows input None
    (`per_field`); deeper inside a value, the enclosing object is the input, as pydantic says."""
    out = []
    for e in exc.errors(include_url=False):
        item: dict[str, Any] = {"type": e["type"], "loc": [*prefix, *e["loc"]], "msg": e["msg"], "input": e["input"]}
        if e["type"] == "missing" and per_field and len(e["loc"]) == 1:
            item["input"] = None
        if "ctx" in e:
            # An exception raised by a validator shows as {} (what FastAPI's encoder makes of it).
            item["ctx"] = {k: {} if isinstance(v, BaseException) else v for k, v in e["ctx"].items()}
        out.append(item)
    return out


def missing(loc: tuple[str | int, ...]) -> dict[str, Any]:
    return {"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}
