"""A handler's or dependency's signature with its annotations resolved.

`from __future__ import annotations` (or a quoted type) leaves an annotation as a string; the
parameter analysis needs the type itself. Resolution happens once per callable, at startup. A
library that analyses callables the way covet does (to build its own dependency plans) can use
these two functions rather than redo the resolution."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

__all__ = ["get_typed_annotation", "get_typed_signature"]


def get_typed_annotation(annotation: Any, globalns: dict[str, Any]) -> Any:
    """`annotation` as a type: a string is evaluated in `globalns` (the defining module's
    globals), so `"None"` is None and `"list[Item]"` is `list[Item]`; a type is returned as is."""
    if isinstance(annotation, str):
        return eval(annotation, dict(globalns))  # noqa: S307 - the application's own annotation
    return annotation


def get_typed_signature(call: Callable[..., Any]) -> inspect.Signature:
    """`call`'s signature with every parameter annotation resolved. A class is described by its
    `__init__`, a callable instance by its `__call__`. An annotation that cannot be resolved is
    a ValueError naming the parameter and the callable."""
    signature = inspect.signature(call)
    hints = _type_hints(call, signature)
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    return signature.replace(parameters=parameters)


def _type_hints(call: Callable[..., Any], signature: inspect.Signature) -> dict[str, Any]:
    target: Any = call
    if inspect.isclass(call):
        target = call.__init__
    elif not inspect.isroutine(call) and hasattr(call, "__call__"):  # noqa: B004
        target = call.__call__  # type: ignore[operator]
    try:
        return get_type_hints(target, include_extras=True)
    except Exception:
        pass
    # One annotation could not be resolved: resolve the others one by one, and name the culprit.
    namespace = dict(getattr(inspect.unwrap(target), "__globals__", {}))
    hints: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        try:
            annotation = get_typed_annotation(param.annotation, namespace)
        except Exception as exc:
            where = getattr(call, "__qualname__", repr(call))
            raise ValueError(
                f"Cannot resolve the annotation {param.annotation!r} of parameter '{name}' of {where}: "
                f"{exc}. Define or import the type at module level."
            ) from None
        if annotation is not inspect.Parameter.empty:
            hints[name] = annotation
    return hints
