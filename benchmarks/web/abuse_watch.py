"""What the abuse benchmark watches while an attack runs: the server, fresh and existing clients, memory, the log.

Every attack of :mod:`benchmarks.web.abuse` runs against a fresh demo
server (:func:`demo_server`: ``python -m web.demo chat``, the tree users
run) and, beside the attack, three watchers in the load generator:

* :class:`FreshClients` keeps arriving as a new visitor would, one after
  the other: ``GET /`` (the chat page), then a WebSocket, a join and a
  heartbeat round trip. Each :class:`Probe` records how long that took;
  served means all of it within :data:`FRESH_BOUND`.
* :class:`ExistingClients` are sockets joined to ``room:lobby`` before the
  attack. In each :class:`Round` one of them shouts and every one must hear
  the shout and get its heartbeat answered, within :data:`ROUND_BOUND`.
* :class:`MemoryWatch` samples the server's resident set from
  ``/proc/<pid>/statm`` every :data:`SAMPLE_EVERY` seconds and keeps the peak.

:class:`Coverage` lets an attack hold its pressure until the watchers have
been served (or failed) a few times under it, rather than for a guessed
number of seconds. :func:`count_log` reads the server's stderr afterwards.

>>> count_log("WARNING web.socket: closing a slow peer\\n\\nERROR web.http: Process <0.7.0> crashed: ValueError('x')\\n"
...           "  function: web._http.serve_connection\\nTraceback (most recent call last):\\n  File ...\\nValueError: x\\n")
(6, 1)
>>> count_log("Traceback (most recent call last):\\n  File ...\\nKeyError: 1\\n")
(3, 1)
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from time import perf_counter
from typing import Iterator

import attrs
import trio

from .._harness.servers import HOST, ROOT, Server
from .._harness.web_client import PhxClient, decode, http_get

__all__ = [
    "DEMO",
    "FRESH_BOUND",
    "ROUND_BOUND",
    "SAMPLE_EVERY",
    "WATCH_GAP",
    "demo_server",
    "statm_rss",
    "cpu_seconds",
    "until_idle",
    "MemoryWatch",
    "Probe",
    "probe",
    "FreshClients",
    "Round",
    "ExistingClients",
    "Coverage",
    "count_log",
]

# The demo as `make demo` starts it, on a free port. `-u`: the "listening on"
# line must reach our pipe at once (the demo prints it without flushing).
DEMO = ["web.demo", "chat", "--host", HOST, "--port", "0"]

FRESH_BOUND = 1.0  # seconds: a fresh client is served within this, or it was not served
ROUND_BOUND = 1.0  # seconds: an existing client hears the round's shout and its heartbeat reply within this
PROBE_LIMIT = 2.0  # seconds a probe or a round waits before giving up (past the bound: to say how slow)
SAMPLE_EVERY = 0.02  # seconds between two reads of the server's RSS
WATCH_GAP = 0.05  # seconds between two probes, and between two rounds: watchers, not another load
LOBBY = "room:lobby"
FRESH_TOPIC = "room:fresh"

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The descriptor limit this process was started with (read when imported, before
# the load generator raises its own): the demo gets what a user's shell gives it.
_SHELL_FD_LIMIT = resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------- the server


@contextmanager
def demo_server(fd_limit: int | None = None) -> Iterator[Server]:
    """``python -u -m web.demo chat`` on a free port; yield it once listening; kill it after.

    The server's soft RLIMIT_NOFILE is the one this process was started
    with (not the one the load generator raised for itself). With
    ``fd_limit`` both the soft and the hard limit are lowered to it (an
    endpoint raises its soft limit to the hard one when it starts): running
    it out of descriptors then takes hundreds of connections, not tens of
    thousands.
    """
    log = tempfile.TemporaryFile("w+")  # not a pipe: one nobody reads could fill and block the server
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", *DEMO],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=ROOT,
        preexec_fn=_descriptor_limit(_SHELL_FD_LIMIT) if fd_limit is None else _descriptor_limit(fd_limit, hard=True),
    )
    try:
        line = process.stdout.readline()  # "" if it died first
        if "listening on " not in line:
            log.seek(0)
            raise RuntimeError(f"the demo did not start: {line!r}\n{log.read()}")
        yield Server(process, int(line.rsplit(":", 1)[1]), log)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        log.close()


def _descriptor_limit(limit: int, *, hard: bool = False):
    def lower() -> None:  # runs in the child, between fork and exec
        hard_limit = limit if hard else resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard_limit))

    return lower


def statm_rss(pid: int) -> int | None:
    """Resident bytes of process ``pid`` (``/proc/<pid>/statm``); None once it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) process ``pid`` has used (``/proc/<pid>/stat``); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()  # after the command name, which may hold spaces
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime (fields 14 and 15 of proc(5))


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


async def until_idle(pid: int, *, quiet: float = 0.5, limit: float = 30.0) -> float:
    """Wait until process ``pid`` has used no CPU for ``quiet`` seconds (at most ``limit``); the seconds waited.

    After an attack the server may still be working through what was sent
    (a backlog of frames in its socket buffers): its memory is read once it
    is done, not while it is still busy.
    """
    started = trio.current_time()
    used = cpu_seconds(pid)
    while trio.current_time() - started < limit:
        await trio.sleep(quiet)
        now = cpu_seconds(pid)
        if now is None or used is None or now - used < 0.02 * quiet:  # a ticker's worth, not work
            break
        used = now
    return trio.current_time() - started


class MemoryWatch:
    """The server's RSS, sampled until cancelled: the latest reading and the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.last: int | None = None

    def sample(self) -> int | None:
        self.last = statm_rss(self.pid)
        if self.last is not None:
            self.peak = max(self.peak, self.last)
        return self.last

    async def run(self) -> None:
        while True:
            self.sample()
            await trio.sleep(SAMPLE_EVERY)


# ---------------------------------------------------------------- coverage


class Coverage:
    """How many probes and rounds have finished; lets an attack wait for more of them."""

    def __init__(self) -> None:
        self.probes = 0
        self.rounds = 0
        self._changed = trio.Event()

    def probe_done(self) -> None:
        self.probes += 1
        self._wake()

    def round_done(self) -> None:
        self.rounds += 1
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(self, more: int, limit: float) -> None:
        """Until ``more`` probes and ``more`` rounds have finished from now (at most ``limit`` s)."""
        probes, rounds = self.probes + more, self.rounds + more
        with trio.move_on_after(limit):
            while self.probes < probes or self.rounds < rounds:
                await self._changed.wait()


# ---------------------------------------------------------------- fresh clients


@attrs.frozen
class Probe:
    """One fresh visitor: served within the bound or not, how long it took, what went wrong."""

    ok: bool
    ms: float
    failure: str | None = None


async def probe(port: int, number: int) -> Probe:
    """``GET /``, then a WebSocket, a join and a heartbeat; :class:`Probe` says how it went."""
    start = perf_counter()
    failure = "no answer"
    with trio.move_on_after(PROBE_LIMIT):
        try:
            failure = await _visit(port, f"fresh{number}")
        except Exception as error:  # refused, reset, closed, garbled: the probe says which
            failure = f"{type(error).__name__}: {error}"[:160]
    ms = (perf_counter() - start) * 1e3
    return Probe(ok=failure is None and ms <= FRESH_BOUND * 1e3, ms=ms, failure=failure)


async def _visit(port: int, user: str) -> str | None:
    """A new visitor's steps; None if each was answered as it should be, else what was not."""
    status, _ = await http_get(HOST, port, "/")
    if status != 200:
        return f"GET / answered {status}"
    client = await PhxClient.connect(HOST, port, user)
    try:
        _, answer = await client.join(FRESH_TOPIC)
        if answer.get("status") != "ok":
            return f"join answered {answer}"
        answer = await client.call(None, "phoenix", "heartbeat", {})
        if answer != {"status": "ok", "response": {}}:
            return f"heartbeat answered {answer}"
        return None
    finally:
        await client.aclose()


class FreshClients:
    """Fresh visitors one after the other until cancelled; their probes, in order."""

    def __init__(self, port: int, coverage: Coverage) -> None:
        self.port = port
        self.coverage = coverage
        self.probes: list[Probe] = []
        self._count = 0

    async def next(self) -> Probe:
        self._count += 1
        return await probe(self.port, self._count)

    async def run(self) -> None:
        while True:
            self.probes.append(await self.next())
            self.coverage.probe_done()
            await trio.sleep(WATCH_GAP)


# ---------------------------------------------------------------- existing clients


@attrs.frozen
class Round:
    """One round of the existing clients: every one heard the shout and got its heartbeat reply, or not."""

    ok: bool
    ms: float
    failure: str | None = None


class ExistingClients:
    """Sockets joined to ``room:lobby`` before the attack; :meth:`round` checks they are still served."""

    def __init__(self, clients: list[tuple[PhxClient, str]], coverage: Coverage) -> None:
        self.clients = clients  # (client, join_ref)
        self.coverage = coverage
        self.rounds: list[Round] = []
        self.closed: str | None = None  # why the first of them stopped being usable
        self._count = 0

    @classmethod
    async def open(cls, port: int, count: int, coverage: Coverage) -> ExistingClients:
        clients = []
        for index in range(count):
            client = await PhxClient.connect(HOST, port, f"existing{index}")
            join_ref, answer = await client.join(LOBBY)
            if answer.get("status") != "ok":
                raise RuntimeError(f"an existing client could not join {LOBBY}: {answer}")
            clients.append((client, join_ref))
        return cls(clients, coverage)

    async def round(self) -> Round:
        """The first client shouts ``tick-N``; each one must hear it and get a heartbeat reply."""
        self._count += 1
        tick = f"tick-{self._count}"
        start = perf_counter()
        failures: list[str] = []
        if self.closed is None:
            with trio.move_on_after(PROBE_LIMIT) as limit:
                await self._shout_and_hear(tick, failures)
            if limit.cancelled_caught:
                failures.append("no answer")
        ms = (perf_counter() - start) * 1e3
        if self.closed is not None:
            failures.append(self.closed)
        failure = "; ".join(dict.fromkeys(failures))[:160] or None
        return Round(ok=failure is None and ms <= ROUND_BOUND * 1e3, ms=ms, failure=failure)

    async def _shout_and_hear(self, tick: str, failures: list[str]) -> None:
        shouter, join_ref = self.clients[0]
        try:
            await shouter.send_frame(join_ref, shouter.next_ref(), LOBBY, "shout", {"body": tick})
        except (trio.BrokenResourceError, trio.ClosedResourceError) as error:
            self.closed = f"an existing client was closed: {type(error).__name__}"
            return
        async with trio.open_nursery() as nursery:
            for client, _ in self.clients:
                nursery.start_soon(self._hear, client, tick, failures)

    async def _hear(self, client: PhxClient, tick: str, failures: list[str]) -> None:
        ref = client.next_ref()
        try:
            await client.send_frame(None, ref, "phoenix", "heartbeat", {})
            heard = replied = False
            while not (heard and replied):
                text = await client.receive()
                heard = heard or (tick in text and _is_tick(text, tick))
                replied = replied or (f'"{ref}"' in text and decode(text)[1] == ref)
        except Exception as error:  # closed, reset or garbled: this client is done, and the round says why
            self.closed = self.closed or f"an existing client was closed: {type(error).__name__}: {error}"

    async def run(self) -> None:
        while True:
            self.rounds.append(await self.round())
            self.coverage.round_done()
            await trio.sleep(WATCH_GAP)

    async def aclose(self) -> None:
        for client, _ in self.clients:
            await client.aclose()


def _is_tick(text: str, tick: str) -> bool:
    frame = decode(text)
    return frame[3] == "shout" and isinstance(frame[4], dict) and frame[4].get("body") == tick


# ---------------------------------------------------------------- the log


def count_log(text: str) -> tuple[int, int]:
    """``(lines, crash reports)`` of a server's stderr.

    Lines are the non-blank ones. A crash report is a process crash logged
    by otp or web (a record ``Process <...> crashed: ...``, on whichever of
    their loggers: see ``otp.log``), or a traceback that is not part of
    such a record: one that escaped every process and reached the top.
    """
    lines = crashes = 0
    in_report = False  # since the last record began: its detail lines and traceback are a crash report's
    for line in text.splitlines():
        if not line.strip():
            continue
        lines += 1
        if _RECORD.match(line):
            in_report = _is_crash_report(line)
            crashes += in_report
        elif line.startswith("Traceback (most recent call last)") and not in_report:
            crashes += 1
    return lines, crashes


# A record's first line in the demo's format, "%(levelname)s %(name)s: %(message)s".
_RECORD = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


def _is_crash_report(line: str) -> bool:
    name, _, message = line.partition(" ")[2].partition(": ")
    return name.split(".")[0] in ("otp", "web") and message.startswith("Process <") and " crashed: " in message
