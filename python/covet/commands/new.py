"""`covet new NAME`: a project skeleton that passes its own tests as soon as it is made.

The files are in `project_template/` next to this module, with a `.tmpl` suffix (so that
neither ruff nor pytest takes them for covet's own code) and `{{name}}`-style placeholders
filled by plain replacement: the skeleton needs no template engine."""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["TEMPLATE_DIR", "create_project", "add_parser", "main"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "project_template"
# Files whose real name starts with a dot are stored without it (hidden files are easy to lose).
_DOTFILES = {"gitignore", "dockerignore", "env.example"}


class ProjectError(Exception):
    """The project cannot be created: a bad name, or the directory exists and is not empty."""


def _names(name: str) -> dict[str, str]:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
        raise ProjectError(f'"{name}" is not a project name: use letters, digits, "-" and "_", starting with a letter')
    package = name.replace("-", "_").lower()
    if keyword.iskeyword(package) or package in {"covet", "tests", "test"} or package in sys.stdlib_module_names:
        raise ProjectError(f'"{name}" would shadow the Python module "{package}": choose another name')
    from covet import __version__

    return {"name": name, "package": package, "prefix": package.upper(), "covet_version": __version__}


def create_project(name: str, parent: Path) -> Path:
    """Writes the skeleton for `name` into `parent/name` and returns that directory."""
    values = _names(name)
    target = parent / name
    if target.exists() and any(target.iterdir()):
        raise ProjectError(f"{target} exists and is not empty")
    for source in sorted(TEMPLATE_DIR.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE_DIR).with_suffix("")
        parts = [values["package"] if p == "__package__" else p for p in relative.parts]
        if parts[-1] in _DOTFILES:
            parts[-1] = "." + parts[-1]
        text = source.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        destination = target.joinpath(*parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
    return target


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("new", help="create a project skeleton (app, tests, settings, Dockerfile)")
    parser.add_argument("name", help="the project's name; its Python package is the name in lower case, - as _")
    parser.add_argument("--directory", default=".", help="where the project's directory is created (default: .)")


def main(args: argparse.Namespace) -> int:
    try:
        target = create_project(args.name, Path(args.directory))
    except ProjectError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"Created {target}. Next:\n  cd {target}\n  make install\n  make test\n  make dev")
    return 0
