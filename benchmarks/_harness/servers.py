"""A benchmark's server in an OS process of its own, and what both sides of a load run share.

The web and LiveView benchmarks measure a server under load from a load
generator. Each server runs in a **separate OS process**, started fresh for
every run and killed after it, so that its figures (RSS above all) are its
own: :func:`server_process` starts ``python -m <module>``, waits for the
line ``listening on http://HOST:PORT`` (printed by :func:`announce`) and
yields a :class:`Server`.

The garbage collector
---------------------
Every server calls :func:`quiet_gc` once listening (through
:func:`announce`), and the load generator runs inside
:func:`quiet_gc_while`: everything made at start-up leaves the collector's
generations (``gc.freeze``) and the thresholds go up to
``(50_000, 20, 100)``. A full collection walks every tracked object, and
with 10,000 sockets (tasks, wsproto and h11 state, processes, mailboxes)
one paused a server for up to 0.78 s. Whatever the raised thresholds still
trigger is part of the figures, on both sides alike.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import trio

from otp import collector

__all__ = [
    "HOST",
    "RUN_TIMEOUT",
    "Server",
    "server_process",
    "announce",
    "process_rss",
    "raise_fd_limit",
    "fitting",
    "quiet_gc",
    "quiet_gc_while",
    "with_timeout",
    "Errors",
]

HOST = "127.0.0.1"
GC_THRESHOLDS = collector.SERVER_THRESHOLDS
RUN_TIMEOUT = 600.0  # seconds: a run that takes longer has lost a frame; fail, do not hang
FD_MARGIN = 100  # descriptors kept free beside the sockets (listeners, pipes, files)
ROOT = Path(__file__).resolve().parents[2]  # the repository: where `python -m benchmarks...` runs


# ------------------------------------------------------------ the server process


class Server:
    """A server process started by :func:`server_process`: its pid, port and stderr."""

    def __init__(self, process: subprocess.Popen, port: int, log) -> None:
        self.process, self.port, self.log = process, port, log

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss(self) -> int:
        """VmRSS of the server's whole process tree (a parent and its workers: ``tree.tree_rss``), in bytes."""
        from .tree import tree_rss

        return tree_rss(self.pid)

    def log_text(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def log_lines(self) -> int:
        self.log.flush()
        self.log.seek(0)
        return sum(1 for line in self.log if line.strip())


@contextmanager
def server_process(module_and_args: list[str], label: str, *, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Run ``python -m <module_and_args>``; yield once it prints "listening on ...:PORT"; kill it after.

    ``env``: variables set for the server, beside ours.
    """
    # stderr goes to a file: a pipe nobody reads could fill and block the server.
    log = tempfile.TemporaryFile("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", *module_and_args],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=ROOT,
        env=None if env is None else {**os.environ, **env},
    )
    try:
        line = process.stdout.readline()  # "" if it died first
        if not line.startswith("listening on "):
            log.seek(0)
            raise RuntimeError(f"{label} did not start: {line!r}\n{log.read()}")
        port = int(line.rsplit(":", 1)[1])
        yield Server(process, port, log)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        log.close()


def announce(host: str, port: int) -> None:
    """What a server prints once it listens (after quieting its collector): :func:`server_process` waits for it."""
    quiet_gc()
    print(f"listening on http://{host}:{port}", flush=True)


def process_rss(pid: int) -> int:
    """VmRSS of process ``pid``, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; return the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def fitting(n: int) -> int:
    """The largest number of sockets up to ``n`` this process's descriptors allow (the server's are as many)."""
    limit = raise_fd_limit()
    return max(1, min(n, limit - FD_MARGIN))


# ------------------------------------------------------------ the collector


def quiet_gc() -> None:
    """What both servers (and the load generator) do once started: freeze the start-up heap, collect rarely.

    The same settings as an endpoint makes for itself (``otp.collector.tune_for_server``), applied here
    to the bare baseline server and to the load generator too, so that all sides run alike.
    """
    collector.tune_for_server()


@contextmanager
def quiet_gc_while() -> Iterator[None]:
    """The collector as the servers have it (:func:`quiet_gc`) for the block; Python's defaults after."""
    quiet_gc()
    try:
        yield
    finally:
        collector.restore_defaults()


# ------------------------------------------------------------ the load generator


async def with_timeout(main, *args):
    """``await main(*args)``, failing after :data:`RUN_TIMEOUT` (a lost frame must fail a run, not hang it)."""
    with trio.fail_after(RUN_TIMEOUT):
        return await main(*args)


class Errors:
    """What went wrong during a run: how many times, and the first (for the report)."""

    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None

    def add(self, what: object) -> None:
        self.count += 1
        if self.first is None:
            self.first = repr(what)[:200]
