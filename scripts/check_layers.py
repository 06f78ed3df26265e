"""Checks the layering rules of python/covet (docs/architecture.md, "The Python layers").

1. No import cycle between covet's modules. Every import counts, at module level or inside a
   function (a deferred import is still a dependency, only a later one), except those under
   `if TYPE_CHECKING:`, which never run. `from covet.x import y` depends on `covet.x.y` when
   that is a module, else on `covet.x`; the implicit import of a parent package is not
   counted (as import-linter and pylint count them).
2. No module but applications.py touches a private attribute of the app: `app._x`,
   `self.app._x`, `request.app._x`, `getattr(app, "_x")`... (any expression named `app`,
   `_app` or ending in `.app`). Lower layers get what they need through the public interface
   of covet.pipeline, or as arguments.

Why a script of our own: no maintained tool checks rule 2, and rule 1 is forty lines of `ast`
here against a new dependency (pylint's cyclic-import, import-linter) for the lint step.

Usage: python scripts/check_layers.py [package_dir]; prints each violation, exits 1 if any.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "python" / "covet"
APP_MODULE = "covet.applications"
APP_NAMES = {"app", "_app"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` except those under `if TYPE_CHECKING:`."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


def imports_of(name: str, is_package: bool, nodes: list[ast.AST], modules: set[str]) -> set[str]:
    """The covet modules that module `name` imports at run time."""
    found: set[str] = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import covet.x.y` of a non-module name
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _names_app(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id in APP_NAMES) or (
        isinstance(node, ast.Attribute) and node.attr in APP_NAMES
    )


def _private(attr: str) -> bool:
    return attr.startswith("_") and not attr.startswith("__")


def private_app_uses(nodes: list[ast.AST]) -> list[tuple[int, str]]:
    """(line, text) for each private attribute of the app this module reads or writes."""
    found: list[tuple[int, str]] = []
    for node in nodes:
        if isinstance(node, ast.Attribute) and _private(node.attr) and _names_app(node.value):
            found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and _names_app(node.args[0])
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def check(root: Path) -> list[str]:
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    modules = set(files)
    # Compiled submodules (covet._engine) are modules too: importable names, never importers.
    modules |= {module_name(path.with_name(path.name.split(".")[0] + ".py"), root) for path in root.rglob("*.so")}
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        nodes = _runtime_nodes(ast.parse(path.read_text(), str(path)))
        graph[name] = imports_of(name, path.name == "__init__.py", nodes, modules)
        if name != APP_MODULE:
            for line, text in private_app_uses(nodes):
                problems.append(f"{path.relative_to(root.parent.parent)}:{line}: private attribute of the app: {text}")
    for component in find_cycles(graph):
        members = set(component)
        edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
        problems.append("import cycle between " + ", ".join(component) + ":\n    " + "\n    ".join(edges))
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else ROOT
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} layering problem(s) in {root}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
