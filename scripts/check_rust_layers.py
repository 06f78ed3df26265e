#!/usr/bin/env python3
"""Checks the layers of the binding crate (crates/covet-py/src) and that its modules import
no one in a circle. Run by `make lint`; exits 1 naming each violation.

The layers, lowest first (a module may use its own layer and the ones below, never above):

- `gil`: the GIL-bound cell every layer shares;
- `convert`: pure conversions between Python objects and engine types (request, specs,
  policy and guard building, JSON, forms, html), usable without a connection;
- `connection`: `protocol/` (one connection driven by the loop: admission, body stream, the
  server and its registry) and `ws/` (the same connection after a WebSocket upgrade);
- the crate root (`lib.rs`), which registers the module's classes.

Cycles are looked for between units: each module directly under `convert/` (a directory
module such as `convert/json/` counts as one unit with its children), `protocol`, `ws` and
`gil`. The files inside `protocol/` are one unit because they are one class's methods split by
concern; `protocol` and `ws` are one unit, the connection before and after an upgrade, which
hand each other over.

A reference is any `crate::a::b`, `super::x` or `self::x` path in the code (not in comments),
and `use child::...` of a module the file declares with `mod child;`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "crates" / "covet-py" / "src"

LAYERS = {"gil": 0, "convert": 1, "protocol": 2, "ws": 2, "": 3}
# Modules that are one unit for the cycle check (see the module docstring).
SAME_UNIT = {"ws": "protocol"}

_PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
_MOD = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", re.M)
_USE_CHILD = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?use\s+([a-z_][a-z0-9_]*)::", re.M)
_COMMENT = re.compile(r"//.*$", re.M)


def module_of(path: Path, src: Path) -> tuple[str, ...]:
    """The module path of a source file: src/convert/json/mod.rs is ("convert", "json")."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts.pop()
    return tuple(parts)


def references(text: str, module: tuple[str, ...], known: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """The modules a file's code refers to (each resolved to the longest known module)."""
    code = _COMMENT.sub("", text)
    here = module
    found: set[tuple[str, ...]] = set()
    for root, rest in _PATH.findall(code):
        names = rest.split("::")[1:]
        if root == "crate":
            base: tuple[str, ...] = ()
        elif root == "self":
            base = here
        else:
            base = here[:-1]
            while names and names[0] == "super":
                names, base = names[1:], base[:-1]
        found.add(_longest(base + tuple(names), known))
    children = set(_MOD.findall(code))
    for child in _USE_CHILD.findall(code):
        if child in children:
            found.add(_longest(here + (child,), known))
    found.discard(module)
    return found


def _longest(path: tuple[str, ...], known: set[tuple[str, ...]]) -> tuple[str, ...]:
    for n in range(len(path), -1, -1):
        if path[:n] in known:
            return path[:n]
    return ()


def layer(module: tuple[str, ...]) -> int:
    return LAYERS.get(module[0] if module else "", 3)


def unit(module: tuple[str, ...]) -> str:
    """The unit of a module for the cycle check."""
    if not module:
        return "crate"
    if module[0] == "convert" and len(module) > 1:
        return "::".join(module[:2])
    return SAME_UNIT.get(module[0], module[0])


def check(src: Path) -> list[str]:
    """Every violation in the crate rooted at `src`, as readable lines."""
    files = sorted(src.rglob("*.rs"))
    modules = {f: module_of(f, src) for f in files}
    known = set(modules.values())
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for f, module in modules.items():
        refs = references(f.read_text(), module, known)
        for ref in sorted(refs):
            if layer(ref) > layer(module):
                problems.append(
                    f"{f.relative_to(src)}: {'::'.join(module)} (layer {layer(module)}) uses "
                    f"{'::'.join(ref) or 'crate'} (layer {layer(ref)}), a layer above it"
                )
            a, b = unit(module), unit(ref)
            if a != b:
                graph.setdefault(a, set()).add(b)
    for f, module in modules.items():
        if module and module[0] not in LAYERS:
            problems.append(f"{f.relative_to(src)}: {module[0]} is in no layer: put it under convert/ or protocol/")
    problems.extend(
        f"import cycle among {', '.join(group)} (one: {' -> '.join(path)})" for group, path in cycles(graph)
    )
    return problems


def cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Each group of units that import each other in a circle (Tarjan's strongly connected
    components), with one cycle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [(sorted(g), _path_through(graph, sorted(g))) for g in groups]


def _path_through(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """A cycle inside a strongly connected group, from its first unit back to it."""
    members = set(group)
    start = group[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in graph.get(path[-1], ()) if w in members)
        back = [w for w in nxt if w == start]
        if back and len(path) > 1:
            return [*path, start]
        fresh = [w for w in nxt if w not in seen]
        if not fresh:
            return [*path, start]
        path.append(fresh[0])
        seen.add(fresh[0])


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else SRC
    problems = check(src)
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"check_layers: {src} keeps its layers, no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
