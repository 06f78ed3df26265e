"""`ORJSONResponse` and `UJSONResponse`, kept for ported code (FastAPI deprecates both).

covet's `JSONResponse` is already serialized by the engine's Rust encoder, so a third-party JSON
library would not make it faster: both names are `JSONResponse` with a deprecation warning when
one is built, and neither needs orjson or ujson installed.
"""

from __future__ import annotations

import warnings
from typing import Any

from covet.exceptions import FastAPIDeprecationWarning
from covet.responses import JSONResponse

__all__ = ["ORJSONResponse", "UJSONResponse"]


class _DeprecatedJSON(JSONResponse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            f"{type(self).__name__} is deprecated: covet's JSONResponse is encoded in Rust already; use it instead.",
            FastAPIDeprecationWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)


class ORJSONResponse(_DeprecatedJSON):
    """Deprecated: `JSONResponse`."""


class UJSONResponse(_DeprecatedJSON):
    """Deprecated: `JSONResponse`."""
