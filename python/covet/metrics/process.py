"""CPU, memory and open files of every worker process, summed (Linux `/proc`): the
`process_*` names prometheus-client uses for one process, here for the whole server."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGESIZE") if hasattr(os, "sysconf") else 4096


def _read(pid: int) -> tuple[float, int, int] | None:
    """(CPU seconds, resident bytes, open descriptors) of one process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/statm", "rb") as f:
            resident = int(f.read().split()[1]) * _PAGE
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, IndexError, ValueError):
        return None
    # Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    return cpu, resident, fds


def families(pids: Iterable[int]) -> Iterator[Metric]:
    cpu, rss, fds = 0.0, 0, 0
    for pid in pids:
        figures = _read(pid)
        if figures is not None:
            cpu += figures[0]
            rss += figures[1]
            fds += figures[2]
    yield CounterMetricFamily("process_cpu_seconds", "CPU time of the worker processes, in seconds", value=cpu)
    yield GaugeMetricFamily("process_resident_memory_bytes", "Resident memory of the worker processes", value=rss)
    yield GaugeMetricFamily("process_open_fds", "Open file descriptors of the worker processes", value=fds)
