"""Refusing `pydantic.v1` models where covet validates or documents types.

pydantic 2 cannot validate or describe a v1 model: left alone, it fails per request or in the
OpenAPI document with a confusing error. Checked once, when a route is declared.
"""

from __future__ import annotations

from typing import Any, get_args

from covet.exceptions import PydanticV1NotSupportedError

__all__ = ["refuse_pydantic_v1"]


def _is_v1_model(tp: Any) -> bool:
    return isinstance(tp, type) and any(
        c.__name__ == "BaseModel" and c.__module__.startswith("pydantic.v1") for c in tp.__mro__
    )


def refuse_pydantic_v1(annotation: Any, where: str) -> None:
    """Raises if `annotation` is, or contains (in a union, list, dict, Annotated...), a v1 model."""
    stack, seen = [annotation], 0
    while stack and seen < 1000:
        tp = stack.pop()
        seen += 1
        if _is_v1_model(tp):
            raise PydanticV1NotSupportedError(
                f"{where} uses {tp.__name__}, a pydantic.v1 model: covet validates pydantic 2 models only. "
                "Declare it with `from pydantic import BaseModel`."
            )
        stack.extend(get_args(tp))
