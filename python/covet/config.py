"""`app.config`: Flask's configuration mapping, for apps (and Flask habits) that read settings
by key. Only UPPERCASE keys are taken from objects and mappings, as in Flask, so a module can
hold helpers next to its settings. Typed settings belong in `covet.Settings`; `Covet(settings=)`
copies them here too."""

from __future__ import annotations

import importlib
import json
import os
import runpy
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["Config"]


class Config(dict[str, Any]):
    def from_object(self, obj: object | str) -> None:
        """Takes the UPPERCASE attributes of a module, class or object (or of the module a
        dotted path names); a pydantic model's fields are taken by their name in uppercase."""
        if isinstance(obj, str):
            module, _, attr = obj.partition(":")
            obj = importlib.import_module(module)
            if attr:
                obj = getattr(obj, attr)
        if isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                self[name.upper()] = getattr(obj, name)
            return
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **values: Any) -> None:
        for key, value in {**(mapping or {}), **values}.items():
            if key.isupper():
                self[key] = value

    def from_prefixed_env(self, prefix: str = "COVET", *, loads: Callable[[str], Any] = json.loads) -> None:
        """`COVET_SECRET_KEY=...` becomes `config["SECRET_KEY"]`; values are parsed as JSON when
        they are JSON (`COVET_DEBUG=true` is True), else kept as strings; `__` nests into dicts
        (`COVET_DB__POOL=5` sets `config["DB"]["POOL"]`)."""
        start = f"{prefix}_"
        for key in sorted(os.environ):
            if not key.startswith(start):
                continue
            raw = os.environ[key]
            try:
                value = loads(raw)
            except ValueError:
                value = raw
            *parents, last = key[len(start) :].split("__")
            target: dict[str, Any] = self
            for part in parents:
                target = target.setdefault(part, {})
            target[last] = value

    def from_pyfile(self, filename: str | os.PathLike[str], *, silent: bool = False) -> bool:
        """Runs a Python file and takes its UPPERCASE names; `silent` ignores a missing file."""
        try:
            namespace = runpy.run_path(os.fspath(filename))
        except FileNotFoundError:
            if silent:
                return False
            raise
        self.from_mapping({k: v for k, v in namespace.items() if k.isupper()})
        return True

    def from_envvar(self, variable: str, *, silent: bool = False) -> bool:
        """`from_pyfile` on the file an environment variable names."""
        path = os.environ.get(variable)
        if not path:
            if silent:
                return False
            raise RuntimeError(f"The environment variable {variable} is not set: it should name a config file")
        return self.from_pyfile(path, silent=silent)

    def get_namespace(self, namespace: str, *, lowercase: bool = True, trim_namespace: bool = True) -> dict[str, Any]:
        """`get_namespace("MAIL_")` → `{"server": ..., "port": ...}` from `MAIL_SERVER`, `MAIL_PORT`."""
        out = {}
        for key, value in self.items():
            if key.startswith(namespace):
                name = key[len(namespace) :] if trim_namespace else key
                out[name.lower() if lowercase else name] = value
        return out
