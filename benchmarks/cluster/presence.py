"""``presence``: how soon every node sees every presence (Tracker replication through Redis).

Three otp nodes, each with the PubSub ``bench`` on its own Redis adapter
and a Tracker ``presence`` (``broadcast_period=0.05``, the other periods at
their defaults). Once the three trackers see each other, node A tracks N
entries: 100 processes, each tracking *itself* under 100 keys of one topic,
as Phoenix channel processes do (quick: 5 processes). Not one process under
all N keys: a join scans the entries its process already has, so that would
mostly time a quadratic scan. Figure: ms from the first track call until
*both* other nodes list all N, taken in their trackers' ``handle_diff``
(which count joins and tell the benchmark at once: no polling). Fields:
``entries``, ``nodes``, and ``tracked_ms``: when the last of A's track
calls returned. No baseline: what is measured is the Tracker's
replication; the state it replicates is measured alone in
``benchmarks/micro/presence_state.py``. Sizes: N = 10,000 / ``--quick`` 500.
"""

from __future__ import annotations

import math
from time import perf_counter

import trio

import otp
from otp.tracker import ReplicaEvent, ReplicaStatus, Tracker

from .._harness import Sample, Workload
from .nodes import NODES, PUBSUB, connect_a, in_fresh_redis, start_node, tagged, two_or_more_nodes

TRACKER = "presence"
PRESENCE_TOPIC = "room:lobby"
BROADCAST_PERIOD = 0.05


class _Presence(Tracker):
    """Counts the presences of the topic; tells the benchmark once there are ``target``."""

    async def init(self, args: tuple) -> None:
        self.report_to, self.node, self.target = args
        self.present = 0
        self.told = False

    async def handle_diff(self, diff: dict) -> None:
        joins, leaves = diff.get(PRESENCE_TOPIC, ((), ()))
        self.present += len(joins) - len(leaves)
        if not self.told and self.present >= self.target:
            at = perf_counter()
            self.told = True
            otp.send(self.report_to, ("all present", self.node, at, len(Tracker.list(TRACKER, PRESENCE_TOPIC))))


async def _start_tracker(node: str, report_to: otp.Pid, target: int) -> None:
    await _Presence.start_link(
        (report_to, node, target),
        pubsub=PUBSUB,
        name=TRACKER,
        broadcast_period=BROADCAST_PERIOD,
        report_events_to=report_to,
    )


async def _tracker_node(node: str, report_to: otp.Pid, target: int) -> None:
    await _start_tracker(node, report_to, target)
    await trio.sleep_forever()  # the run's end cancels it


async def _holder(first: int, keys: int, report_to: otp.Pid) -> None:
    """A process that tracks itself under ``keys`` keys, then stays (present) until the node closes."""
    me = otp.current_pid()
    track = Tracker.track
    for key in range(first, first + keys):
        await track(TRACKER, me, PRESENCE_TOPIC, key, {})
    otp.send(report_to, ("tracked", perf_counter()))
    await otp.receive()


async def _presence_a(nursery: trio.Nursery, host: str, port: int, entries: int, keys_per_process: int) -> Sample:
    me = otp.current_pid()
    others = NODES[1:]
    for node in others:
        await start_node(nursery, host, port, node, _tracker_node, node, me, entries)
    await connect_a(host, port)
    await _start_tracker(NODES[0], me, entries)
    # Every tracker sees the two others before the clock starts.
    pairs = len(NODES) * (len(NODES) - 1)
    for _ in range(pairs):
        event = await otp.receive(ReplicaEvent)
        assert event.status is ReplicaStatus.UP, event

    processes = math.ceil(entries / keys_per_process)
    start = perf_counter()
    for index in range(processes):
        first = index * keys_per_process
        otp.spawn(_holder, first, min(keys_per_process, entries - first), me)
    tracked = [(await otp.receive(tagged("tracked")))[1] for _ in range(processes)]
    seen = {}
    while set(seen) != set(others):
        _, node, at, listed = await otp.receive(tagged("all present"))
        if node in others:
            assert listed == entries, (node, listed, entries)
            seen[node] = at
    return Sample(
        figure=(max(seen.values()) - start) * 1e3,
        extra={"entries": entries, "nodes": len(NODES), "tracked_ms": (max(tracked) - start) * 1e3},
    )


def ours_presence(entries: int, keys_per_process: int) -> Sample:
    return in_fresh_redis(two_or_more_nodes, _presence_a, entries, keys_per_process)


WORKLOAD = Workload(
    id="presence",
    name="Presence convergence",
    aliases=("tracker", "presence-convergence"),
    unit="ms",
    rate=False,
    ours=ours_presence,
    raw=None,
    full_size=10_000,
    quick_size=500,
    full_options={"keys_per_process": 100},
    quick_options={"keys_per_process": 100},
    size_label="{size:,} keys",
)
