"""The type stub `covet/_engine.pyi` against the built extension, so the two cannot drift: every
class, function and constant is on both sides, every class has the same members, and each
callable's parameters (names, kinds, defaults) match the signature the extension reports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

from covet import _engine

STUB = Path(_engine.__file__).with_name("_engine.pyi")
# Dunder methods a class may implement that the stub must show (the rest come from `object`).
_DUNDERS = {"__call__", "__len__", "__contains__", "__iter__", "__next__", "__getitem__", "__bool__"}


def _stub() -> ast.Module:
    return ast.parse(STUB.read_text())


def _stub_names(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    """Names a stub body declares: functions, classes and annotated names (type aliases, plain
    assignments, are the stub's own and not looked for in the extension)."""
    names: dict[str, ast.stmt] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def _runtime_members(cls: type) -> set[str]:
    own = set(vars(cls))
    public = {n for n in own if not n.startswith("_")}
    return public | (own & _DUNDERS) | ({"__init__"} if cls.__text_signature__ else set())


STUB_TOP = _stub_names(_stub().body)
STUB_CLASSES = {name: node for name, node in STUB_TOP.items() if isinstance(node, ast.ClassDef)}


def test_every_name_is_on_both_sides() -> None:
    runtime = {n for n in vars(_engine) if not n.startswith("_")}
    assert sorted(runtime - set(STUB_TOP)) == [], "in the extension, missing from the stub"
    assert sorted(set(STUB_TOP) - runtime) == [], "in the stub, missing from the extension"


@pytest.mark.parametrize("name", sorted(STUB_CLASSES))
def test_class_members_match(name: str) -> None:
    cls = getattr(_engine, name)
    if issubclass(cls, BaseException):
        return  # an exception's members are its base's
    stub = set(_stub_names(STUB_CLASSES[name].body))
    runtime = _runtime_members(cls)
    assert sorted(runtime - stub) == [], f"{name}: in the extension, missing from the stub"
    assert sorted(stub - runtime) == [], f"{name}: in the stub, missing from the extension"


def _callables() -> list[tuple[str, ast.FunctionDef, Any]]:
    found = []
    for name, node in STUB_TOP.items():
        if isinstance(node, ast.FunctionDef):
            found.append((name, node, getattr(_engine, name)))
    for cname, cnode in STUB_CLASSES.items():
        cls = getattr(_engine, cname)
        for name, node in _stub_names(cnode.body).items():
            if not isinstance(node, ast.FunctionDef) or _is_property(node):
                continue
            # Slot methods (`__len__`, `__call__`...) report CPython's generic signature.
            if name in _DUNDERS:
                continue
            target = cls if name == "__init__" else vars(cls).get(name)
            if target is not None and not issubclass(cls, BaseException):
                found.append((f"{cname}.{name}", node, target))
    return found


def _is_property(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)


def _is_static(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


_KINDS = {
    "posonly": inspect.Parameter.POSITIONAL_ONLY,
    "args": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "kwonly": inspect.Parameter.KEYWORD_ONLY,
}


def _stub_params(node: ast.FunctionDef, drop_self: bool) -> list[tuple[str, Any, object]]:
    """(name, kind, default) per parameter; default `...` when the stub leaves it unsaid,
    `inspect.Parameter.empty` when there is none."""
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    params: list[tuple[str, Any, object]] = []
    for i, arg in enumerate(positional):
        kind = _KINDS["posonly"] if i < len(a.posonlyargs) else _KINDS["args"]
        params.append((arg.arg, kind, _default(defaults[i])))
    if a.vararg:
        params.append((a.vararg.arg, inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.empty))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append((arg.arg, _KINDS["kwonly"], _default(d)))
    if a.kwarg:
        params.append((a.kwarg.arg, inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty))
    return params[1:] if drop_self else params


def _default(node: ast.expr | None) -> object:
    if node is None:
        return inspect.Parameter.empty
    if isinstance(node, ast.Constant) and node.value is Ellipsis:
        return ...
    return ast.literal_eval(node)


@pytest.mark.parametrize("qualname, node, target", _callables(), ids=lambda v: v if isinstance(v, str) else "")
def test_signatures_match(qualname: str, node: ast.FunctionDef, target: Any) -> None:
    try:
        sig = inspect.signature(target)
    except ValueError:
        pytest.fail(f"{qualname}: the extension gives no signature (add #[pyo3(signature = ...)])")
    method = "." in qualname and not _is_static(node)
    runtime = list(sig.parameters.values())
    if method and qualname.split(".")[1] != "__init__" and runtime and runtime[0].name in ("self", "$self"):
        runtime = runtime[1:]
    stub = _stub_params(node, drop_self=method)
    # A stub may write a method's leading parameters positional-or-keyword where the extension
    # makes them positional-only (pyo3 does for `self`-less dunders); names and order must match.
    assert [p[0] for p in stub] == [p.name for p in runtime], f"{qualname}: parameter names"
    for (name, kind, default), param in zip(stub, runtime, strict=True):
        if param.kind is not inspect.Parameter.POSITIONAL_ONLY:
            assert kind == param.kind, f"{qualname}({name}): {kind} in the stub, {param.kind} in the extension"
        has_default = param.default is not inspect.Parameter.empty
        assert (default is not inspect.Parameter.empty) == has_default, f"{qualname}({name}): default"
        # `...` on either side: a default the signature does not spell out (pyo3 writes `...`
        # for an expression such as `String::new()`).
        if has_default and default is not ... and param.default is not ...:
            assert default == param.default, f"{qualname}({name}): default {default!r} vs {param.default!r}"
