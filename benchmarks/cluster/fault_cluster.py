"""Driving a cluster of ``fault_node`` OS processes and their Redis through faults (``cluster-faults``, the tests).

A :class:`Cluster` starts one ``python -m benchmarks.cluster.fault_node``
per name and reads what each says (its JSON lines on stdout, its log
lines on stderr) as they come; tests and the benchmark wait for those
events, never for a while. :class:`RedisProcess` is a ``redis-server`` that
can be killed (``SIGKILL``) and started again on the same port;
:func:`open_redis_admin` talks to it (``CONFIG SET maxclients``, ``CLIENT
KILL``). Faults on a node are signals: :meth:`NodeProcess.pause`
(``SIGSTOP``), :meth:`~NodeProcess.resume` (``SIGCONT``),
:meth:`~NodeProcess.kill` (``SIGKILL``).

Everything here is plain trio: it runs in a test's otp node as well as in
the benchmark's ``trio.run``.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Callable

import trio

from .raw_redis import Connection, pack

__all__ = ["Cluster", "NodeProcess", "RedisAdmin", "RedisProcess", "matching", "open_cluster", "open_redis_admin"]

ROOT = Path(__file__).resolve().parents[2]  # the repository: `python -m benchmarks...` runs from there
NODE_MODULE = "benchmarks.cluster.fault_node"
READY_TIMEOUT = 60.0  # seconds for a cluster to start: three interpreters on a loaded two-core machine


def matching(event: str, **fields: object) -> Callable[[dict], bool]:
    """A predicate: the events named ``event`` whose ``fields`` have these values."""
    return lambda said: said["event"] == event and all(said.get(key) == value for key, value in fields.items())


class NodeProcess:
    """One node's OS process: what it said so far, and the signals a fault sends it."""

    def __init__(self, name: str, process: trio.Process) -> None:
        self.name = name
        self.process = process
        self.events: list[dict] = []  # its stdout, parsed, in order
        self.log: list[str] = []  # its stderr lines
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<node {self.name} pid {self.process.pid}>"

    # ------------------------------------------------------------ what it says

    async def wait_for(self, wanted: Callable[[dict], bool], *, after: float = -math.inf, timeout: float = 30.0) -> dict:
        """The first event ``wanted`` accepts said at ``after`` or later (``time.monotonic()``); wait for it."""
        with trio.move_on_after(timeout):
            seen = 0
            while True:
                for said in self.events[seen:]:
                    if said["t"] >= after and wanted(said):
                        return said
                seen = len(self.events)
                await self._changed.wait()
        raise AssertionError(f"{self!r} did not say what was waited for within {timeout:g} s; it said:\n{self.transcript()}")

    def said(self, wanted: Callable[[dict], bool], *, after: float = -math.inf, before: float = math.inf) -> list[dict]:
        """Every event ``wanted`` accepts, said between ``after`` and ``before``."""
        return [said for said in self.events if after <= said["t"] < before and wanted(said)]

    def transcript(self, last: int = 40) -> str:
        lines = [json.dumps(said) for said in self.events[-last:]] + ["stderr:"] + self.log[-last:]
        return "\n".join(lines)

    async def command(self, line: str) -> None:
        """Send one command line to its stdin (``fault_node``'s docstring lists them)."""
        assert self.process.stdin is not None
        await self.process.stdin.send_all(line.encode() + b"\n")

    # ------------------------------------------------------------ faults

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    # ------------------------------------------------------------ reading

    async def _read_events(self) -> None:
        assert self.process.stdout is not None
        async for line in _lines(self.process.stdout):
            self.events.append(json.loads(line))
            self._wake()

    async def _read_log(self) -> None:
        assert self.process.stderr is not None
        async for line in _lines(self.process.stderr):
            self.log.append(line)
            self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()


async def _lines(stream: trio.abc.ReceiveStream) -> AsyncIterator[str]:
    buffer = b""
    async for chunk in stream:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line.decode()


class Cluster:
    """The node processes of one run, by name."""

    def __init__(self, nodes: dict[str, NodeProcess]) -> None:
        self.nodes = nodes

    def __getitem__(self, name: str) -> NodeProcess:
        return self.nodes[name]

    async def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        for node in self.nodes.values():
            await node.wait_for(matching("ready"), timeout=timeout)

    async def call_round(self, names: list[str] | None = None, *, timeout: float = 30.0, each: float = 1.0) -> None:
        """Each node named calls every live peer's server over ``otp.dist``; return once all came back.

        A call that gets no answer within ``each`` seconds is made again: a
        frame published while the receiver's subscription was down (Redis
        restarting or refusing it) is lost, as a message to a disconnected
        Erlang node is, and the call times out.
        """
        with trio.fail_after(timeout):
            for name in names or self.live():
                node = self.nodes[name]
                for peer in self.live_peers(name):
                    while True:
                        started = time.monotonic()
                        await node.command(f"call {peer} {each}")
                        answer = await node.wait_for(matching("called", node=peer), after=started)
                        if answer["ok"]:
                            break

    async def fence(self, *, timeout: float = 30.0, attempt_timeout: float = 3.0) -> int:
        """Fences until one round reaches every live node from every other: every gap before them is then counted.

        A fence missed by a node that was still reconnecting is followed by
        another, later numbered: the first round that arrives everywhere ends
        it. Returns how many rounds were sent (a fence is a broadcast too:
        one missed is counted as missed).
        """
        live = [name for name, node in self.nodes.items() if node.process.returncode is None]
        with trio.fail_after(timeout):
            for round_number in range(1_000_000):
                tag, started = f"fence-{round_number}", time.monotonic()
                for name in live:
                    await self.nodes[name].command(f"fence {tag}")
                with trio.move_on_after(attempt_timeout):
                    for name in live:
                        for origin in live:
                            if origin != name:
                                await self.nodes[name].wait_for(matching("fenced", tag=tag, origin=origin), after=started)
                    return round_number + 1
        raise AssertionError("unreachable: fail_after ends the rounds")

    async def stats(self) -> dict[str, dict]:
        """Each live node's ``stats`` event, asked now."""
        found = {}
        for name in self.live():
            started = time.monotonic()
            await self.nodes[name].command("stats")
            found[name] = await self.nodes[name].wait_for(matching("stats"), after=started)
        return found

    def live(self) -> list[str]:
        return [name for name, node in self.nodes.items() if node.process.returncode is None]

    def live_peers(self, name: str) -> list[str]:
        return [peer for peer in self.live() if peer != name]

    def said(self, wanted: Callable[[dict], bool], **window: float) -> dict[str, list[dict]]:
        """By node, the events ``wanted`` accepts (``after``/``before``: a window of ``time.monotonic()``)."""
        return {name: node.said(wanted, **window) for name, node in self.nodes.items()}


@asynccontextmanager
async def open_cluster(redis: str, names: list[str], **options: object) -> AsyncIterator[Cluster]:
    """Start a node process per name (``options``: ``fault_node``'s, ``down_after=2.0`` for ``--down-after 2.0``).

    Yields once every node is ready; kills them all on the way out.
    """
    arguments = [f"--peers={','.join(names)}", f"--redis={redis}"]
    arguments += [f"--{key.replace('_', '-')}={value}" for key, value in options.items() if value is not None]
    try:
        async with trio.open_nursery() as nursery:
            nodes: dict[str, NodeProcess] = {}
            try:
                for name in names:
                    nodes[name] = node = NodeProcess(name, await _start(name, arguments))
                    nursery.start_soon(node._read_events)
                    nursery.start_soon(node._read_log)
                cluster = Cluster(nodes)
                await cluster.wait_ready()
                yield cluster
            finally:
                with trio.CancelScope(shield=True):
                    for node in nodes.values():
                        if node.process.returncode is None:
                            node.kill()  # a stopped one too: SIGKILL needs no SIGCONT
                        await node.process.wait()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:  # the body's own error, not wrapped by the readers' nursery
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


async def _start(name: str, arguments: list[str]) -> trio.Process:
    return await trio.lowlevel.open_process(
        [sys.executable, "-m", NODE_MODULE, name, *arguments],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


# ---------------------------------------------------------------- Redis


class RedisAdmin:
    """One connection to Redis for the faults' commands (``CONFIG SET maxclients``, ``CLIENT KILL``).

    Opened before a fault: once Redis refuses new clients, only a connection
    it already has can tell it to stop refusing.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def command(self, *command: bytes | str | int) -> object:
        await self.connection.send(pack(*command))
        return await self.connection.read()


@asynccontextmanager
async def open_redis_admin(host: str, port: int) -> AsyncIterator[RedisAdmin]:
    connection = await Connection.open(host, port)
    try:
        yield RedisAdmin(connection)
    finally:
        await connection.aclose()


class RedisProcess:
    """A ``redis-server`` on a free loopback port that a fault may kill and start again on the same port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("the cluster-faults benchmark needs redis-server (apt-get install redis-server)")
        self.binary = binary
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.directory = tempfile.mkdtemp(prefix="otp-faults-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"

    def start(self) -> None:
        """Start it (again), and return once it says it accepts connections."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", self.host, "--save", "", "--appendonly", "no",
             "--dir", self.directory, "--loglevel", "notice"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:  # the event, not a while: Redis says when it is ready
            if "Ready to accept connections" in line:
                return  # past this line it writes little (loglevel notice), and nothing after a kill
        raise RuntimeError(f"redis-server on port {self.port} exited before it was ready (code {self.process.wait()})")

    def kill(self) -> None:
        """``kill -9``: every connection is cut at once, nothing is saved."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self._close_output()

    def restart(self) -> None:
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        self._close_output()
        shutil.rmtree(self.directory, ignore_errors=True)


    def _close_output(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

