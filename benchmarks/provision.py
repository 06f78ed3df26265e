"""Getting things ready before a server runs: the peers' venv (benchmarks/.venv), covet's
extra packages (benchmarks/.covet-deps), the database tables, and the hyper binary.

Each step is skipped when what it made is still current (a hash marker, or mtimes)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import (
    COVET_DEPS_DIR,
    COVET_DEPS_MARKER,
    COVET_REQUIREMENTS,
    DB_SETUP,
    HYPER_BIN,
    HYPER_DIR,
    PEERS_REQUIREMENTS,
    REPO_ROOT,
    VENV_DIR,
    VENV_MARKER,
    BenchError,
    log,
)


def venv_bin(tool: str) -> str:
    """Path of an executable inside the peers' venv."""
    return str(VENV_DIR / "bin" / tool)


def run_logged(cmd: list[str], what: str, timeout: float, env: dict[str, str] | None = None) -> None:
    """Run a setup command; its output is shown only when it fails, as the error."""
    log(f"{what}: {' '.join(cmd)}")
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"{what} failed: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip()[-3000:]
        raise BenchError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def _requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blanks dropped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _distribution(requirement: str) -> str:
    """'uvicorn[standard]==0.54.0' -> 'uvicorn' (lower case, as Server setups name them)."""
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    return (match.group(0) if match else requirement).lower()


def _file_hash(path: Path) -> str:
    """SHA-256 of a requirements file: the marker that says what a directory holds."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_marker(marker: Path) -> dict[str, object]:
    """The JSON marker a previous install left, or {} if none (or unreadable)."""
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pip_install(pip: list[str], requirements: Path) -> dict[str, str]:
    """Install a requirements file; if that fails, each line on its own.

    Returns the distributions that did not install, each with the last line pip said, so
    one peer that has no wheel for this machine does not take the others down with it.
    """
    try:
        run_logged([*pip, "-r", str(requirements)], "pip install", 900)
        return {}
    except BenchError as exc:
        log(f"installing {requirements.name} at once failed ({str(exc).splitlines()[-1]}); one at a time")
    failed: dict[str, str] = {}
    for requirement in _requirement_lines(requirements):
        try:
            run_logged([*pip, requirement], "pip install", 900)
        except BenchError as exc:
            failed[_distribution(requirement)] = str(exc).strip().splitlines()[-1][:300]
    return failed


@functools.cache
def ensure_venv() -> dict[str, str]:
    """Make benchmarks/.venv hold requirements-peers.txt; return what failed to install.

    The venv keeps a marker with the file's hash: pip runs only when the file has
    changed since the last install (or the venv is new). Once per run.
    """
    want = _file_hash(PEERS_REQUIREMENTS)
    marker = _read_marker(VENV_MARKER)
    python = Path(venv_bin("python"))
    if python.exists() and marker.get("sha256") == want:
        return dict(marker.get("failed") or {})  # type: ignore[call-overload]
    if not python.exists():
        try:
            run_logged([sys.executable, "-m", "venv", str(VENV_DIR)], "create venv", 300)
        except BenchError as exc:
            why = str(exc).splitlines()[-1][:300]
            return {_distribution(r): why for r in _requirement_lines(PEERS_REQUIREMENTS)}
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    failed = _pip_install(pip, PEERS_REQUIREMENTS)
    VENV_MARKER.write_text(json.dumps({"sha256": want, "failed": failed}, indent=2) + "\n")
    return failed


@functools.cache
def ensure_covet_deps() -> None:
    """Install requirements-covet.txt into benchmarks/.covet-deps with covet's interpreter.

    It goes on the covet server's PYTHONPATH (and nowhere else), so the project's venv
    gets nothing new. Reinstalled only when the file changes. Without it covet still runs,
    but its database endpoints cannot: the database scenarios then fail for covet.
    """
    want = _file_hash(COVET_REQUIREMENTS)
    if _read_marker(COVET_DEPS_MARKER).get("sha256") == want:
        return
    shutil.rmtree(COVET_DEPS_DIR, ignore_errors=True)
    pip = [
        sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q",
        "--target", str(COVET_DEPS_DIR),
    ]  # fmt: skip
    failed = _pip_install(pip, COVET_REQUIREMENTS)
    if failed:
        log(f"warning: covet's app lacks {', '.join(failed)}: its database scenarios will fail")
    COVET_DEPS_DIR.mkdir(exist_ok=True)
    COVET_DEPS_MARKER.write_text(json.dumps({"sha256": want, "failed": failed}, indent=2) + "\n")


def prepare_database() -> str | None:
    """Create or refresh the tables (db_setup.py, in the peers' venv); None if ready,
    otherwise why the database scenarios are skipped."""
    failed = ensure_venv()
    if "asyncpg" in failed:
        return f"asyncpg did not install into benchmarks/.venv ({failed['asyncpg']})"
    try:
        proc = subprocess.run(
            [venv_bin("python"), str(DB_SETUP)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=REPO_ROOT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"db_setup.py did not run: {exc}"
    said = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        return said.splitlines()[-1] if said else f"db_setup.py exited {proc.returncode}"
    log(said)
    return None


def build_hyper() -> None:
    """Build the hyper limit if its binary is missing or older than its sources."""
    sources = [HYPER_DIR / "Cargo.toml", *sorted((HYPER_DIR / "src").rglob("*.rs"))]
    if HYPER_BIN.exists():
        built = HYPER_BIN.stat().st_mtime
        if all(src.stat().st_mtime <= built for src in sources):
            return
    if shutil.which("cargo") is None:
        raise BenchError("cargo not found: needed to build benchmarks/hyper-limit")
    env = {**os.environ, "CARGO_TARGET_DIR": str(HYPER_DIR / "target")}
    run_logged(
        [
            "cargo",
            "build",
            "--release",
            "--manifest-path",
            str(HYPER_DIR / "Cargo.toml"),
        ],
        "cargo build hyper-limit",
        900,
        env=env,
    )
