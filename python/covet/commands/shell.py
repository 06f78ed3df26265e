"""`covet shell module:app`: an interactive Python session with the app started (Flask's
`flask shell`).

The app's startup hooks and lifespan run first, so `app.state` holds what they create (a
database pool, a client...) and `run(coro)` awaits coroutines on the loop that created them;
the shutdown hooks run when the session ends. IPython is used when it is installed (it is not
a dependency), the standard library's `code.interact` otherwise."""

from __future__ import annotations

import argparse
import asyncio
import code
import sys
from collections.abc import Coroutine
from typing import Any

__all__ = ["namespace", "add_parser", "main"]

BANNER = """covet shell: app {spec} started (Python {python})
  app       the application          state     app.state (what startup/lifespan set)
  settings  app.settings             run(coro) await a coroutine on the app's loop"""


def namespace(app: Any, loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        """Awaits `coro` on the loop the app started on (its pools and clients live there)."""
        return loop.run_until_complete(coro)

    return {
        "app": app,
        "state": getattr(app, "state", None),
        "settings": getattr(app, "settings", None),
        "run": run,
    }


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("shell", help="a Python shell with the application started")
    parser.add_argument("app", help='the application, as "module:attribute" (e.g. app:app)')
    parser.add_argument("--app-dir", default=".", help="directory put first on sys.path (default: current)")
    parser.add_argument("-c", "--command", dest="code", help="run this code in the shell's namespace, then exit")
    parser.add_argument("--plain", action="store_true", help="the standard Python shell even if IPython is installed")


def _interact(names: dict[str, Any], banner: str, plain: bool) -> None:
    if not plain:
        try:
            from IPython import start_ipython
        except ImportError:
            pass
        else:
            print(banner)
            start_ipython(argv=["--no-banner"], user_ns=names)
            return
    code.interact(banner=banner, local=names, exitmsg="")


def main(args: argparse.Namespace, app: Any) -> int:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # IPython's top-level `await` then runs on the app's loop too
    startup = getattr(app, "startup", None)
    if startup is not None:
        loop.run_until_complete(startup())
    try:
        names = namespace(app, loop)
        if args.code is not None:
            exec(compile(args.code, "<covet shell -c>", "exec"), names)  # noqa: S102 - the user's own code
        else:
            banner = BANNER.format(spec=args.app, python=sys.version.split()[0])
            _interact(names, banner, args.plain)
    finally:
        shutdown = getattr(app, "shutdown", None)
        if shutdown is not None:
            loop.run_until_complete(shutdown())
        loop.close()
    return 0
