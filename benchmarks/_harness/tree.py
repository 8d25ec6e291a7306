"""A server's whole process tree, read from ``/proc``: its processes, their resident memory and CPU time.

The demo runs as a parent and its workers (``web.workers``), so what a
server costs is the sum over the parent and every process below it: that
is what the web benchmarks report (``Server.rss()``, and the
``server_rss`` and ``server_cpu_percent`` of every run).
"""

from __future__ import annotations

import os

__all__ = ["tree_pids", "tree_rss", "tree_cpu_seconds"]

_TICKS = os.sysconf("SC_CLK_TCK")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and every process below it (children, their children...), ``pid`` first."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop(0)
        found.append(current)
        pending += _children(current)
    return found


def tree_rss(pid: int) -> int:
    """VmRSS of every process of the tree, summed, in bytes (each process's own pages, as ``ps`` counts them)."""
    return sum(_rss(current) for current in tree_pids(pid))


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the processes of the tree alive now have used, in seconds."""
    return sum(_cpu_seconds(current) for current in tree_pids(pid))


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                children += [int(child) for child in listed.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass  # ended meanwhile
    return children


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0  # ended meanwhile, or a zombie


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
