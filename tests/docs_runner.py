"""Runs one page's code blocks in order, in the working directory it is started in (see
tests/test_docs_code.py): `python tests/docs_runner.py PORT < blocks.json`.

Python blocks share one namespace (a later block continues an earlier one, as a reader would
type them) and may use top-level `await`. Shell blocks run when every command in them is one
of RUN; a block with a command of NOT_RUN is illustrative (it installs, builds, needs Docker or
another machine) and is left out; any other command is an error, so a new kind of command
must be classified here. `covet run` is started in the background on PORT (servers are stopped
at the end), and `curl` is pointed at it; output shown after `$ curl ...` must match."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any

RUN = (
    "covet --version",
    "covet --help",
    "covet routes ",
    "covet new ",
    "covet shell ",
    "covet assets ",
    "covet --app ",
    "covet init-db",
    "covet run ",
    "python -m covet run ",
    "curl ",
)
NOT_RUN = (
    "pip ",
    "git ",
    "cd ",
    "docker ",
    "make ",
    "uvicorn ",
    "hypercorn ",
    "granian ",
    "export ",
    "covet db ",
    "covet worker ",
    "covet dev ",
    ".venv/bin/python ",
)
# What a reader is told to set before running a page's code: secrets and the local services
# (the real Redis and a SQLite file; tests/docs_blocks.py explains the convention).
ENVIRONMENT = {
    "DATABASE_URL": "sqlite+aiosqlite:///docs.db",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SESSION_SECRET": "docs-test-session-secret-0123456789abcdef",
    "SECRET_KEY": "docs-test-secret-key-0123456789abcdef",
    "OAUTH_SECRET_KEY": "docs-test-oauth-secret-0123456789",
    "SHOP_DATABASE_URL": "sqlite+aiosqlite:///shop.db",
    "GOOGLE_CLIENT_ID": "docs-test-client",
    "GOOGLE_CLIENT_SECRET": "docs-test-client-secret",
}
# Directories a page's app reads from, made empty in the working directory.
DIRECTORIES = ("static", "templates", "site")
ENV_PREFIX = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+")


def classify(command: str) -> str:
    """ "run", "not run", or "unknown" for a shell command (leading VAR=value assignments aside)."""
    bare = ENV_PREFIX.sub("", command).strip() + " "
    if bare.startswith(NOT_RUN):
        return "not run"
    if bare.startswith(RUN) or bare.strip() in {r.strip() for r in RUN}:
        return "run"
    return "unknown"


class Page:
    def __init__(self, port: int) -> None:
        self.port = port
        # A real module, so that code resolving names through sys.modules (dataclasses, SQLAlchemy's
        # Mapped[...], pydantic's forward references) finds the page's definitions.
        module = types.ModuleType("__docs__")
        sys.modules["__docs__"] = module
        self.namespace: dict[str, Any] = module.__dict__
        self.loop = asyncio.new_event_loop()
        self.server: subprocess.Popen[bytes] | None = None

    def python(self, block: dict[str, Any]) -> None:
        if block["file"]:
            Path(block["file"]).write_text(block["code"], encoding="utf-8")
        source = "\n" * (block["line"] - 1) + block["code"]
        code = compile(source, block["where"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, self.namespace)  # noqa: S307 - the documentation's own code
        if inspect.iscoroutine(result):
            self.loop.run_until_complete(result)

    def shell(self, block: dict[str, Any]) -> None:
        for command, expected in block["commands"]:
            if re.match(r"^(python -m )?covet run ", ENV_PREFIX.sub("", command)):
                self.start(command)
            else:
                self.run(command, expected)

    def start(self, command: str) -> None:
        self.stop()
        command = re.sub(r"--(port|host) \S+", "", command.split("#")[0]).replace("python -m", sys.executable + " -m")
        self.server = subprocess.Popen(
            f"{command} --host 127.0.0.1 --port {self.port}", shell=True, start_new_session=True, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise AssertionError(f"`{command}` exited: {self.server.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"`{command}` did not listen on {self.port} within 30 s")

    def run(self, command: str, expected: list[str]) -> None:
        command = command.replace("127.0.0.1:8000", f"127.0.0.1:{self.port}")
        if command.startswith("curl "):
            command = "curl -sS " + command[5:]
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"`{command}` failed ({done.returncode}): {done.stderr}"
        if expected:
            shown = "\n".join(expected)
            assert _same(done.stdout, shown), f"`{command}` printed {done.stdout!r}, the page shows {shown!r}"

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.server = None


def _same(actual: str, shown: str) -> bool:
    try:
        return json.loads(actual) == json.loads(shown)
    except ValueError:
        return actual.strip() == shown.strip()


def main() -> int:
    port = int(sys.argv[1])
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for directory in DIRECTORIES:
        os.makedirs(directory, exist_ok=True)
    page = Page(port)
    sys.path[:0] = [os.getcwd()]
    try:
        for block in json.load(sys.stdin):
            try:
                page.python(block) if block["language"] == "python" else page.shell(block)
            except BaseException:
                print(f"FAILED {block['where']}", file=sys.stderr)
                traceback.print_exc()
                return 1
            print(f"RAN {block['where']}", flush=True)
    finally:
        page.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
