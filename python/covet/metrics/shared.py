"""The directory through which `covet run --workers N` worker processes pool their figures,
so that one scrape, answered by whichever worker the kernel picks, sees the whole server.

Why a directory of files rather than asking the supervisor: prometheus-client's multiprocess
mode already keeps the app's own metrics this way (one memory-mapped file per process, summed
at scrape time), and the engine's counters join it as one small snapshot file per worker,
rewritten every `PUBLISH_INTERVAL`. Nothing is sent per request and no process waits on
another. A worker that has died keeps its file: its counters stay in the sums (a counter
must never go backwards), its gauges are left out."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DIR_ENV = "COVET_METRICS_DIR"
PROMETHEUS_ENV = "PROMETHEUS_MULTIPROC_DIR"
PUBLISH_INTERVAL = 1.0
_PREFIX = "covet-engine-"


def shared_dir() -> Path | None:
    """The workers' shared directory, or None in a single-process server."""
    value = os.environ.get(DIR_ENV)
    return Path(value) if value else None


@contextlib.contextmanager
def workers_share_metrics() -> Iterator[Path]:
    """For the supervisor: a fresh directory for the workers it starts (their environment is
    inherited), removed when the server stops. An existing `PROMETHEUS_MULTIPROC_DIR` is used
    as it is (and left in place): the operator chose it."""
    chosen = os.environ.get(PROMETHEUS_ENV)
    path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="covet-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    saved = {key: os.environ.get(key) for key in (DIR_ENV, PROMETHEUS_ENV)}
    os.environ[DIR_ENV] = str(path)
    os.environ[PROMETHEUS_ENV] = str(path)
    try:
        yield path
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if not chosen:
            shutil.rmtree(path, ignore_errors=True)


def publish(directory: Path, snapshot: dict[str, Any], gauges: tuple[int, int, int]) -> None:
    """Writes this worker's figures (atomically: a reader never sees half a file)."""
    pid = os.getpid()
    data = json.dumps({"pid": pid, "snapshot": snapshot, "gauges": gauges}).encode()
    tmp = directory / f".{_PREFIX}{pid}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, directory / f"{_PREFIX}{pid}.json")


def read_others(directory: Path) -> list[dict[str, Any]]:
    """Every other worker's last figures, each with `alive` set."""
    own = os.getpid()
    found = []
    for path in directory.glob(f"{_PREFIX}*.json"):
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue  # removed or replaced under our feet: the next scrape sees it
        if data.get("pid") == own:
            continue
        data["alive"] = pid_alive(int(data["pid"]))
        found.append(data)
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
