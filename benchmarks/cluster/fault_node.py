"""One node of a cluster under faults, as its own OS process: what ``cluster-faults`` and ``tests/multinode`` run.

::

    python -m benchmarks.cluster.fault_node NAME --redis HOST:PORT --peers n1,n2,n3 [--presences 1000] \\
        [--heartbeat S --down-after S] [--broadcast-period S --max-silent-periods N --down-period S]

It runs what a node of an application over Redis runs, with the library's
defaults unless an option says otherwise: ``otp.dist`` (node NAME), the
PubSub ``app`` on the Redis adapter, a Tracker ``presence`` on it in which
ten holder processes track ``--presences`` presences of this node, a
registered GenServer ``server`` that the other nodes monitor, and a
PubSub ``numbers`` (on an adapter of its own, so that its counts are the
stream's alone) whose subscriber records every numbered broadcast it
receives. ``--peers`` names every node of the cluster (this one may be
among them).

What it says, on stdout, is one JSON object per line, each with ``event``
and ``t`` (``time.monotonic()``: one clock for all the OS processes of a
machine, so the driver can order what different nodes said):

============  =====================================================================
event         fields, and when
============  =====================================================================
``ready``     ``otp.dist`` judges silent nodes, every peer is up for it, this
              node's monitor of each peer's ``server`` is in place, and every
              node's presences are all listed here
``nodeup``    ``node``: ``otp.dist`` says it is up (``NodeUp``)
``nodedown``  ``node``: ``otp.dist`` declared it down (``NodeDown``)
``down``      ``node``, ``reason``: this node's monitor of that node's ``server`` fired
``presences`` ``joins``, ``leaves``: ``{node: count}`` of one tracker diff
``held``,     ``reason``, ...: ``otp.dist`` holds its verdicts (the bus is gone, or
``judging``   this node was not running), then judges again (telemetry, as emitted)
``stream_``   ``count``: a ``stream`` command's broadcasts begin
``started``
``streamed``  ``count``, ``refused``: the broadcasts a ``stream`` command asked for
              were made (``refused``: raised ``RedisUnavailable``)
``fenced``    ``tag``, ``origin``: the fence ``tag`` of ``origin`` arrived
``called``    ``node``, ``ok``: a remote call to that node's ``server`` came back
              (``ok``), or failed (``call_failed`` says how first)
``stats``     ``received`` (origin → distinct numbers), ``fences`` (origin →
              fences), ``duplicates``, and the
              ``numbers`` adapter's ``missed``, ``dropped``; ``connect_failed`` and
              ``reconnects`` by PubSub and role
============  =====================================================================

Commands, on stdin, one per line:

* ``stream COUNT EVERY``: broadcast ``("number", NAME, i)`` on ``numbers`` for
  i in 0..COUNT-1, one every EVERY seconds, then say ``streamed``;
* ``fence TAG``: broadcast the fence TAG on ``numbers`` (a later number: once
  it arrives, every gap before it is counted);
* ``call PEER TIMEOUT``: call that peer's ``server``, then say ``called``;
* ``stop_server``: stop this node's ``server`` with the reason ``"stopped by
  the test"`` (the others' monitors of it fire with that reason);
* ``stats``: say ``stats``.

Warnings and errors are logged to stderr: ``t logger LEVEL message``
(``t`` on the events' clock; a traceback follows on lines of its own).
Only the public API of ``otp`` is used.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import sys
import time

import trio

import otp
from otp import GenServer, dist, pubsub, telemetry
from otp.pubsub.redis import CONNECT_FAILED, RECONNECT, Redis, RedisUnavailable
from otp.tracker import Tracker

SECRET = b"cluster faults benchmark secret"
PUBSUB = "app"  # the Tracker's
NUMBERS = "numbers"  # a PubSub of its own, so that its adapter counts only what the stream broadcasts
LOBBY = "lobby"
TRACKER = "presence"
HOLDERS = 10  # processes that hold this node's presences: a join scans its process's entries, so not one for all
STOPPED = "stopped by the test"  # the reason the server stops with, at the command stop_server


def say(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, "t": time.monotonic(), **fields}), flush=True)


class Server(GenServer):
    """What the other nodes monitor and call: a live process that must never be reported down."""

    async def handle_call(self, request: object, caller: object) -> str:
        return dist.node_name() or ""


class Presence(Tracker):
    """Says each diff, counted by the node whose presences joined or left."""

    async def init(self, args: tuple[collections.Counter, otp.Pid]) -> None:
        self.present, self.root = args  # node -> presences listed now, shared with the node's root

    async def handle_diff(self, diff: dict) -> None:
        joins: collections.Counter[str] = collections.Counter()
        leaves: collections.Counter[str] = collections.Counter()
        for topic_joins, topic_leaves in diff.values():
            joins.update(meta["node"] for _, meta in topic_joins)
            leaves.update(meta["node"] for _, meta in topic_leaves)
        self.present.update(joins)
        self.present.subtract(leaves)
        if leaves or set(joins) - {dist.node_name()}:  # not each of this node's own joins at the start
            say("presences", joins=dict(joins), leaves=dict(leaves))
        otp.send(self.root, "presences changed")


class Numbers:
    """What the subscriber of ``numbers`` got: distinct numbers by origin, copies, fences."""

    def __init__(self) -> None:
        self.received: dict[str, set[int]] = collections.defaultdict(set)
        self.fences: collections.Counter[str] = collections.Counter()  # by origin: broadcasts too, numbered
        self.duplicates = 0

    async def subscribe(self, ready: otp.Pid) -> None:
        pubsub.subscribe(NUMBERS, NUMBERS)
        otp.send(ready, "subscribed")
        while True:
            kind, origin, value = await otp.receive()
            if kind == "fence":
                self.fences[origin] += 1
                say("fenced", tag=value, origin=origin)
            elif value in self.received[origin]:
                self.duplicates += 1
            else:
                self.received[origin].add(value)


class Counts:
    """Telemetry of the Redis adapters (``otp.dist``'s and the app's), counted by PubSub and role."""

    def __init__(self) -> None:
        self.connect_failed: collections.Counter = collections.Counter()
        self.reconnects: collections.Counter = collections.Counter()

    def attach(self, root: otp.Pid) -> None:
        telemetry.attach("fault_node.connect_failed", CONNECT_FAILED, self._count, self.connect_failed)
        telemetry.attach("fault_node.reconnect", RECONNECT, self._count, self.reconnects)
        telemetry.attach_many("fault_node.verdicts", (dist.HELD, dist.JUDGING), _say_verdicts, root)

    @staticmethod
    def _count(event: tuple, measurements: dict, metadata: dict, counter: collections.Counter) -> None:
        counter[f"{metadata['pubsub']}:{metadata['role']}"] += 1


def _say_verdicts(event: tuple, measurements: dict, metadata: dict, root: otp.Pid) -> None:
    say(event[-1], **measurements, **metadata)
    if event == dist.JUDGING:
        otp.send(root, "judging")  # the node is ready only once otp.dist judges (not at its start)


# ---------------------------------------------------------------- the node


async def main(options: argparse.Namespace) -> None:
    name, peers = options.name, [peer for peer in options.peers.split(",") if peer and peer != options.name]
    _log_to_stderr()
    me = otp.current_pid()
    counts = Counts()
    counts.attach(me)
    await Server.start_link(None, name="server")  # before the others hear of this node: they monitor it at once
    await dist.start(name, redis=options.redis, secret=SECRET, **_given(options, "heartbeat", "down_after"))
    up = set(await dist.monitor_nodes())  # from now on, NodeUp and NodeDown come as messages
    for name_ in (PUBSUB, NUMBERS):
        adapter = Redis(options.redis, secret=SECRET, node_name=name)
        await pubsub.start_link(name_, adapter=adapter)
        await adapter.wait_connected()  # the last is the numbers' adapter: its statistics are the stream's
    numbers = Numbers()
    otp.spawn_link(numbers.subscribe, me)
    await otp.receive(lambda m: m == "subscribed")
    present: collections.Counter = collections.Counter()
    tracker_options = _given(options, "broadcast_period", "max_silent_periods", "down_period")
    await Presence.start_link((present, me), pubsub=PUBSUB, name=TRACKER, **tracker_options)
    for index in range(HOLDERS):
        otp.spawn_link(_hold, name, range(index, options.presences, HOLDERS), me)
    for _ in range(HOLDERS):
        await otp.receive(lambda m: m == "tracked")
    await _until_ready(name, peers, up, present, options.presences)
    otp.spawn_link(_commands, name, peers, numbers, adapter, counts)
    while True:
        _report(await otp.receive())


def _log_to_stderr() -> None:
    """Warnings and errors to stderr, each line stamped with ``time.monotonic()`` (the events' clock)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(monotonic).3f %(name)s %(levelname)s %(message)s"))
    handler.addFilter(_stamp)
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def _stamp(record: logging.LogRecord) -> bool:
    record.monotonic = time.monotonic()
    return True


def _given(options: argparse.Namespace, *names: str) -> dict:
    return {key: getattr(options, key) for key in names if getattr(options, key) is not None}


async def _hold(node: str, keys: range, report_to: otp.Pid) -> None:
    me = otp.current_pid()
    for key in keys:
        await Tracker.track(TRACKER, me, LOBBY, f"{node}:{key}", {"node": node})
    otp.send(report_to, "tracked")
    await otp.receive(lambda m: False)


async def _until_ready(name: str, peers: list[str], up: set[str], present: collections.Counter, presences: int) -> None:
    """Every peer up for dist and monitored, and all its presences listed here."""
    monitored: set[str] = set()
    for peer in sorted(up):
        say("nodeup", node=peer)
    judging = False
    while True:
        for peer in up - monitored:
            otp.monitor(("server", peer))
            monitored.add(peer)
        if judging and monitored >= set(peers) and all(present[node] == presences for node in [name, *peers]):
            say("ready")
            return
        message = await otp.receive()  # a NodeUp, otp.dist judging, or the tracker saying the presences changed
        if isinstance(message, dist.NodeUp):
            up.add(message.name)
        judging = judging or message == "judging"
        _report(message)


def _report(message: object) -> None:
    if isinstance(message, dist.NodeUp):
        say("nodeup", node=message.name)
    elif isinstance(message, dist.NodeDown):
        say("nodedown", node=message.name)
    elif isinstance(message, otp.Down) and isinstance(message.pid, tuple):  # a monitor of ("server", node)
        say("down", node=message.pid[1], reason=str(message.reason))


# ---------------------------------------------------------------- commands


async def _commands(name: str, peers: list[str], numbers: Numbers, adapter: Redis, counts: Counts) -> None:
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    buffer = b""
    while True:
        chunk = await stdin.receive_some(4096)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command, *arguments = line.decode().split()
            await _run(command, arguments, name, peers, numbers, adapter, counts)


async def _run(command: str, arguments: list[str], name: str, peers: list[str], numbers: Numbers, adapter: Redis,
               counts: Counts) -> None:
    if command == "stream":
        otp.spawn(_stream, name, int(arguments[0]), float(arguments[1]))
    elif command == "fence":
        pubsub.broadcast(NUMBERS, NUMBERS, ("fence", name, arguments[0]))
    elif command == "call":
        peer, timeout = arguments[0], float(arguments[1])
        otp.spawn(_call, peer, timeout)
    elif command == "stop_server":
        await GenServer.stop("server", STOPPED)
    elif command == "stats":
        statistics = adapter.statistics()
        say(
            "stats",
            received={origin: len(got) for origin, got in numbers.received.items()},
            fences=dict(numbers.fences),
            duplicates=numbers.duplicates,
            missed=statistics.missed,
            dropped=statistics.dropped,
            connect_failed=dict(counts.connect_failed),
            reconnects=dict(counts.reconnects),
        )


async def _stream(name: str, count: int, every: float) -> None:
    say("stream_started", count=count)
    refused = 0
    for number in range(count):
        try:
            pubsub.broadcast(NUMBERS, NUMBERS, ("number", name, number))
        except RedisUnavailable:
            refused += 1
        await trio.sleep(every)
    say("streamed", count=count, refused=refused)


async def _call(peer: str, timeout: float) -> None:
    try:
        ok = await GenServer.call(("server", peer), "who", timeout=timeout) == peer
    except (otp.CallError, otp.ServerExited) as error:
        ok = False
        say("call_failed", node=peer, error=repr(error))
    say("called", node=peer, ok=ok)


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster.fault_node", description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--redis", required=True, help="the Redis server: HOST:PORT or a redis:// URL")
    parser.add_argument("--peers", required=True, help="every node of the cluster, comma-separated")
    parser.add_argument("--presences", type=int, default=1000, help="presences this node tracks (default 1000)")
    for option in ("heartbeat", "down-after", "broadcast-period", "down-period"):
        parser.add_argument(f"--{option}", type=float, default=None, help="otp.dist's / the Tracker's (default: theirs)")
    parser.add_argument("--max-silent-periods", type=int, default=None, help="the Tracker's (default: its own)")
    options = parser.parse_args(argv)
    if "://" not in options.redis:
        options.redis = f"redis://{options.redis}"
    return options


if __name__ == "__main__":
    otp.run(main, _arguments())
