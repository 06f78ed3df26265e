"""What every part of the benchmark suite shares: where things are, which CPU runs what, who
the headline is about, the error types, and progress logging.

Standard library only, like the rest of the suite: it runs before anything is installed."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
VENV_DIR = BENCH_DIR / ".venv"
VENV_MARKER = VENV_DIR / ".covet-bench-requirements.json"
PEERS_REQUIREMENTS = BENCH_DIR / "requirements-peers.txt"
COVET_DEPS_DIR = BENCH_DIR / ".covet-deps"
COVET_DEPS_MARKER = COVET_DEPS_DIR / ".covet-bench-requirements.json"
COVET_REQUIREMENTS = BENCH_DIR / "requirements-covet.txt"
DB_SETUP = BENCH_DIR / "db_setup.py"
PLOT = BENCH_DIR / "plot.py"
HYPER_DIR = BENCH_DIR / "hyper-limit"
HYPER_BIN = HYPER_DIR / "target" / "release" / "hyper-limit"

HOST = "127.0.0.1"  # loopback only, by rule
SERVER_CPU = "0"
LOADGEN_CPU = "1"
# The first start may compile bytecode; a server slower than this to answer is broken.
STARTUP_TIMEOUT_S = 30.0
STOP_GRACE_S = 3.0
SUBJECT = "covet"  # the server whose ratios are the headline
REFERENCES = ("fastapi", "hyper")  # ratio columns: SUBJECT / each of these
LIMIT = "hyper"  # not a peer: the "lower than every peer?" column leaves it out
VARIANTS = ("covet+mw", "covet+metrics", "covet+logs")  # covet itself with options on: not a peer either


class BenchError(Exception):
    """A failure of one server or scenario: reported in the table, never fatal."""


class Unavailable(BenchError):
    """A server that cannot be run on this machine (its packages did not install)."""


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the result tables."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def exit_on_signal(signum: int, _frame: object) -> None:
    """Exit through the normal unwinding path, so no server is left running."""
    raise SystemExit(128 + signum)
