"""Readings from /proc, summed over a server's process tree: CPU time and memory.

A server's cost includes its workers and helper processes, so every reading walks the tree."""

from __future__ import annotations

import os
import re
from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat, after the comm (which may hold spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """`root` and all its live descendants: workers and threads' owners all cost CPU."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))  # field 4: ppid
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_ticks(root: int) -> int:
    """utime + stime (fields 14 and 15) summed over the tree, in clock ticks."""
    total = 0
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total


def status_kib(root: int, key: str) -> int:
    """One kB field of /proc/PID/status (VmRSS, VmHWM, RssAnon...) summed over the tree, in KiB."""
    total = 0
    pattern = re.compile(rf"^{re.escape(key)}:\s+(\d+)\s+kB", re.MULTILINE)
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = pattern.search(status)
        if match:
            total += int(match.group(1))
    return total


def peak_rss_kib(root: int) -> int:
    """VmHWM (peak resident set) summed over the tree, in KiB."""
    return status_kib(root, "VmHWM")
