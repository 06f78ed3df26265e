"""A JSON body that failed validation, reported as FastAPI reports it (only on that path).

covet validates a JSON body straight from its bytes (pydantic-core's JSON mode, no Python
objects in between); FastAPI parses it first and validates the Python values. The two agree
on what is valid but word some errors differently (`model_type` vs `model_attributes_type`,
"a valid array" vs "a valid list"), and FastAPI reads each embedded value from the decoded
object on its own. So a body that failed is decoded once more and its errors are taken the
way FastAPI takes them: the 422 body is FastAPI's, byte for byte, and the fast path stays
untouched.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from covet.dependencies.error_shape import missing as _missing
from covet.dependencies.error_shape import validation_errors as _errors
from covet.dependencies.models import Dependant
from covet.exceptions import HTTPException

__all__ = ["body_errors"]


def body_errors(exc: ValidationError, raw: bytes, dependant: Dependant, as_json: bool) -> list[dict[str, Any]]:
    """`as_json`: the body was validated as JSON (else as the text it is, for a request not
    declared as JSON)."""
    v = dependant.validators
    if as_json and exc.errors(include_url=False)[0]["type"] == "json_invalid":
        return _invalid_json(raw, exc)
    data = json.loads(raw) if as_json else raw.decode("utf-8", "replace")
    if v.body_single is None and not isinstance(data, dict):
        # Embedded values are looked up in an object; there is none, so each one is missing.
        return [_missing(("body", f.alias)) for f in dependant.body_params if f.source == "body"]
    try:
        v.body.validate_python(data, from_attributes=True)
    except ValidationError as again:
        return _errors(again, ("body",), per_field=v.body_single is None)
    return _errors(exc, ("body",), per_field=v.body_single is None)  # the two modes disagreed


def _invalid_json(raw: bytes, exc: ValidationError) -> list[dict[str, Any]]:
    """FastAPI's report of a body that is not JSON: where Python's parser stopped and why.
    Bytes that are not UTF-8 are not a JSON text at all: 400, as FastAPI answers."""
    try:
        json.loads(raw)
    except UnicodeDecodeError:
        raise HTTPException(400, "There was an error parsing the body") from None
    except ValueError as err:
        pos, msg = getattr(err, "pos", 0), getattr(err, "msg", str(err))
    except RecursionError:  # nesting deeper than Python's limit (pydantic stops earlier)
        pos, msg = 0, exc.errors(include_url=False)[0]["msg"]
    else:
        pos, msg = 0, exc.errors(include_url=False)[0]["msg"]
    return [
        {"type": "json_invalid", "loc": ["body", pos], "msg": "JSON decode error", "input": {}, "ctx": {"error": msg}}
    ]
