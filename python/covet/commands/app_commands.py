"""Commands of the app's own, Flask's `@app.cli.command()`: registered on the app, run by
`covet <command>` with the app loaded (`--app module:app` or `$COVET_APP`).

    @app.cli.command("init-db")
    def init_db(force: bool = False) -> None:
        "Clear the existing data and create new tables."

    $ covet --app examples.flaskr.app:app init-db --force

A command's arguments come from its signature, as Typer does it, parsed by the standard
library's argparse (the parser `covet` itself uses, so no dependency is added): a parameter
without a default is a positional argument, one with a default is an `--option` (a `bool`
defaulting to False is a flag), converted to its annotated type (`int`, `float`, `str`,
`pathlib.Path`...). An `async def` command is run with `asyncio.run`. The return value, if an
int, is the exit status. See docs/server.md.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["AppCommands", "main"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Command:
    name: str
    func: Callable[..., Any]
    help: str


class AppCommands:
    """`app.cli`: the commands an app adds to `covet`."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}

    def command(self, name: str | None = None, *, help: str | None = None) -> Callable[[F], F]:
        """Registers the function as `covet <name>` (default: its name, `_` as `-`)."""

        def decorator(func: F) -> F:
            self.add_command(func, name, help=help)
            return func

        return decorator

    def add_command(self, func: Callable[..., Any], name: str | None = None, *, help: str | None = None) -> None:
        chosen = name or func.__name__.replace("_", "-")
        doc = (inspect.getdoc(func) or "").strip().splitlines()
        self.commands[chosen] = Command(chosen, func, help if help is not None else (doc[0] if doc else ""))

    def run(self, argv: list[str], prog: str = "covet") -> int:
        """Parses `argv` (`[name, args...]`) and runs that command."""
        parser = argparse.ArgumentParser(prog=prog, description="The application's commands")
        sub = parser.add_subparsers(dest="_command", required=True, metavar="COMMAND")
        for command in self.commands.values():
            _add_arguments(sub.add_parser(command.name, help=command.help, description=command.help), command.func)
        args = vars(parser.parse_args(argv))
        command = self.commands[args.pop("_command")]
        result = command.func(**args)
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
        return result if isinstance(result, int) and not isinstance(result, bool) else 0


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _add_arguments(parser: argparse.ArgumentParser, func: Callable[..., Any]) -> None:
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # an annotation that does not resolve: take the arguments as strings
        hints = {}
    for param in inspect.signature(func).parameters.values():
        kind = hints.get(param.name, str)
        convert = kind if kind in (int, float, str) or isinstance(kind, type) and kind is not bool else str
        if param.default is inspect.Parameter.empty:
            parser.add_argument(param.name, type=convert)
        elif kind is bool or isinstance(param.default, bool):
            flag = "--" + param.name.replace("_", "-")
            parser.add_argument(flag, dest=param.name, action=argparse.BooleanOptionalAction, default=param.default)
        else:
            flag = "--" + param.name.replace("_", "-")
            parser.add_argument(flag, dest=param.name, type=convert, default=param.default)


def _take_app_option(argv: list[str]) -> tuple[str | None, list[str]]:
    """`--app SPEC` / `--app=SPEC` anywhere in `argv`, and the rest."""
    spec, rest, i = None, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--app" and i + 1 < len(argv):
            spec, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--app="):
            spec = arg.partition("=")[2]
        else:
            rest.append(arg)
        i += 1
    return spec, rest


def main(argv: list[str]) -> int:
    """`covet [--app module:app] <command> [args]` for a command `covet` itself does not have."""
    from covet.loader import AppLoadError, load_app

    spec, rest = _take_app_option(argv)
    spec = spec or os.environ.get("COVET_APP")
    if not spec:
        name = rest[0] if rest else ""
        hint = "for the app's commands give --app module:app or set COVET_APP"
        print(f'Error: no command "{name}"; {hint}', file=sys.stderr)
        return 2
    sys.path.insert(0, os.getcwd())
    try:
        app = load_app(spec)
    except AppLoadError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    commands: AppCommands | None = getattr(app, "cli", None)
    if commands is None or not commands.commands:
        print(f"Error: {spec} has no commands (@app.cli.command())", file=sys.stderr)
        return 2
    return commands.run(rest)


def is_app_command(parser: argparse.ArgumentParser, first: str) -> bool:
    """Whether `covet <first> ...` is for the app's commands: `--app` first, or a name none of
    `parser`'s subcommands has."""
    if first == "--app" or first.startswith("--app="):
        return True
    if first.startswith("-"):
        return False
    for action in parser._actions:  # argparse keeps its subcommands there, in every version
        if isinstance(action, argparse._SubParsersAction):
            return first not in action.choices
    return False
