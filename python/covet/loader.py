"""Loading an application from a "module:attribute" string: what `covet run` and `covet db`
(and the tests' server fixture) share, in a leaf module so that neither command's code imports
the other's."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["AppLoadError", "load_app"]


class AppLoadError(Exception):
    """The `module:attribute` given on the command line could not be loaded."""


def load_app(spec: str) -> Any:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise AppLoadError(f'Application must be given as "module:attribute", got "{spec}"')
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppLoadError(f'Could not import module "{module_name}"') from None
        raise
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f'Attribute "{attr}" not found in module "{module_name}"') from None
    return obj
