"""`covet routes module:app`: every route of an app in one table (Flask's `flask routes`).

Mounted sub-applications are listed with their routes under the mount's prefix, so the table
answers "what serves this URL?" for the whole app, not only its top level."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["RouteRow", "route_rows", "format_table", "add_parser", "main"]


@dataclass(frozen=True)
class RouteRow:
    methods: str
    path: str
    name: str
    endpoint: str
    dependencies: str


def _qualname(obj: Any) -> str:
    if obj is None:
        return ""
    target = getattr(obj, "__wrapped__", obj)
    module = getattr(target, "__module__", None) or type(target).__module__
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{name}"


def _dependency_names(route: Any) -> list[str]:
    """The callables the route depends on, outermost first, each once (route-level ones
    included: they are in the analysed tree too)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return []
    names: list[str] = []
    stack = list(reversed(dependant.dependencies))
    while stack:
        dep = stack.pop()
        call = dep.call
        label = getattr(call, "__name__", None) or type(call).__name__
        if label not in names:
            names.append(label)
        stack.extend(reversed(dep.dependencies))
    return names


def _methods(route: Any) -> str:
    if "WebSocket" in type(route).__name__:
        return "WS"
    methods = getattr(route, "methods", None)
    if methods is None:
        return "*"
    shown = set(methods)
    if getattr(route, "implicit_head", False):
        shown.discard("HEAD")  # added for every GET; noise in the table
    return ",".join(sorted(shown))


def route_rows(app: Any, prefix: str = "") -> Iterator[RouteRow]:
    """The app's routes in matching order; a mount's routes follow under its path."""
    # A Covet app's served routes: included routers' routes in place, the docs routes added.
    routes = app.served_routes if hasattr(app, "served_routes") else getattr(app, "routes", [])
    for route in routes:
        path = prefix + getattr(route, "path", "")
        inner = getattr(route, "app", None) if not hasattr(route, "endpoint") else None
        if inner is not None and getattr(inner, "routes", None) is not None:
            yield from route_rows(inner, path.rstrip("/"))
            continue
        yield RouteRow(
            methods=_methods(route) if inner is None else "MOUNT",
            path=path or "/",
            name=getattr(route, "name", None) or "",
            endpoint=_qualname(_declared(getattr(route, "endpoint", None)) or inner),
            dependencies=", ".join(_dependency_names(route)),
        )


def format_table(rows: list[RouteRow]) -> str:
    header = RouteRow("METHOD", "PATH", "NAME", "ENDPOINT", "DEPENDENCIES")
    table = [header, *rows]
    columns = list(asdict(header))
    widths = {c: max(len(getattr(r, c)) for r in table) for c in columns}
    lines = []
    for i, row in enumerate(table):
        lines.append("  ".join(getattr(row, c).ljust(widths[c]) for c in columns).rstrip())
        if i == 0:
            lines.append("  ".join("-" * widths[c] for c in columns))
    return "\n".join(lines)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("routes", help="list an application's routes (method, path, name, endpoint)")
    parser.add_argument("app", help='the application, as "module:attribute" (e.g. app:app)')
    parser.add_argument("--app-dir", default=".", help="directory put first on sys.path (default: current)")
    parser.add_argument("--json", action="store_true", help="one JSON object per route instead of a table")


def main(args: argparse.Namespace, app: Any) -> int:
    rows = list(route_rows(app))
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(format_table(rows))
    return 0


def _declared(endpoint: Any) -> Any:
    """The function the user wrote: a Starlette-style `Route` wraps its endpoint."""
    return getattr(endpoint, "starlette_endpoint", endpoint)
