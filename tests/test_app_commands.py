"""`@app.cli.command()`: the app's own commands, run by `covet <command>` in a process of its
own with the app loaded from `--app` or `$COVET_APP` (covet.commands.app_commands)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = '''
from pathlib import Path

from covet import Covet

app = Covet()
app.config["GREETING"] = "Hello"


@app.cli.command()
def greet(name: str, times: int = 1, shout: bool = False) -> None:
    """Greets someone."""
    text = f"{app.config['GREETING']}, {name}"
    for _ in range(times):
        print(text.upper() if shout else text)


@app.cli.command("write-file")
async def write(path: Path, content: str = "x") -> int:
    """Writes a file, asynchronously."""
    path.write_text(content)
    return 3
'''


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "cmdapp.py").write_text(APP)
    return tmp_path


def covet(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    full_env.pop("COVET_APP", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "covet", *args], cwd=folder, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_command_with_arguments_and_options(folder: Path) -> None:
    done = covet(folder, "--app", "cmdapp:app", "greet", "Ada", "--times", "2", "--shout")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["HELLO, ADA", "HELLO, ADA"]


def test_app_from_environment_and_async_command(folder: Path) -> None:
    target = folder / "out.txt"
    done = covet(folder, "write-file", str(target), "--content", "made", env={"COVET_APP": "cmdapp:app"})
    assert done.returncode == 3, done.stderr  # the command's int is the exit status
    assert target.read_text() == "made"


def test_help_lists_the_commands(folder: Path) -> None:
    done = covet(folder, "--app=cmdapp:app", "--help")
    assert done.returncode == 0 and "greet" in done.stdout and "Greets someone." in done.stdout


def test_bad_arguments_and_unknown_commands(folder: Path) -> None:
    bad = covet(folder, "--app", "cmdapp:app", "greet", "Ada", "--times", "many")
    assert bad.returncode == 2 and "invalid int value" in bad.stderr
    unknown = covet(folder, "--app", "cmdapp:app", "nope")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    no_app = covet(folder, "greet", "Ada")
    assert no_app.returncode == 2 and "COVET_APP" in no_app.stderr
    missing = covet(folder, "--app", "nomodule:app", "greet", "Ada")
    assert missing.returncode == 1 and 'Could not import module "nomodule"' in missing.stderr


def test_builtin_commands_still_parse(folder: Path) -> None:
    done = covet(folder, "run", "--help")
    assert done.returncode == 0 and "--workers" in done.stdout
