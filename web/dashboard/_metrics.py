"""The dashboard's sampler: one process that measures the node every second and keeps the last minutes.

::

    await Metrics.start_link(pubsub="app", name="dashboard.metrics")
    Metrics.history("dashboard.metrics")     # [Sample, ...], oldest first, at most HISTORY
    # and every second, on the PubSub topic TOPIC: the new Sample

A :class:`Sample` holds the process count, resident memory, CPU use of the
OS process, event-loop lag (how late the sampler's own one-second timer
fired), messages handled per second across all processes, supervisor
restarts in the last second (counted by a telemetry handler), and the
garbage collector's passes with the longest pause among them
(:mod:`otp.collector`). Pages
subscribe to ``TOPIC`` and re-render at most once a second, whatever the
load.

``Metrics.overview(server)`` is all the home page shows of a node (its
name, OS pid, uptime, process count, collector and the samples), read in
the sampler's own node: a page on another node of the cluster asks it with
``Metrics.overview((name, node))`` (see ``_cluster.py``).
"""

from __future__ import annotations

import collections
import os
import time

import attrs

import otp
from otp import Destination, From, GenServer, collector, pubsub, telemetry
from otp.lowlevel import current_node, take_queued

__all__ = ["Metrics", "Sample", "NodeOverview", "TOPIC", "HISTORY", "resident_memory"]

TOPIC = "dashboard:tick"
HISTORY = 300  # samples kept: five minutes at one a second
PERIOD = 1.0  # seconds between samples
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@attrs.frozen
class Sample:
    at: float  # time.time()
    processes: int
    memory_mib: float
    cpu_percent: float
    lag_ms: float
    messages_per_second: float
    restarts: int  # in the last period
    gc_passes: int = 0  # garbage-collector passes in the last period (otp.collector)
    gc_pause_ms: float = 0.0  # the longest of them


@attrs.frozen
class NodeOverview:
    """One node as its sampler sees it: what the dashboard's home page shows (picklable: it crosses nodes)."""

    node: str
    os_pid: int
    uptime: float  # seconds
    processes: int
    history: list[Sample]  # oldest first
    gc_passes: int  # since the node started (otp.collector)
    gc_max_pause: float  # seconds
    gc_max_pause_generation: int | None
    gc_frozen: int


@attrs.frozen
class _GcPass:
    """One garbage-collector pass, from the telemetry handler to the sampler."""

    duration: float


def resident_memory() -> int:
    """Bytes of resident memory of this OS process (Linux /proc; 0 where unknown)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


class Metrics(GenServer):
    """Samples every second; ``history(name)`` is a call, ``TOPIC`` gets each new sample."""

    async def init(self, pubsub_name: str) -> None:
        otp.trap_exits(True)  # so that terminate detaches the telemetry handler
        self.pubsub = pubsub_name
        self.samples: collections.deque[Sample] = collections.deque(maxlen=HISTORY)
        self.restarts = 0
        self.handler_id = ("web.dashboard", otp.current_pid())
        me = otp.current_pid()
        telemetry.attach(self.handler_id, ("otp", "supervisor", "restart"), lambda *_: otp.send(me, "restarted"))
        # Collector passes are emitted by whoever calls collector.emit() (this sampler every
        # second, an endpoint on its statistics tick); the handler passes each on as a message.
        self.gc_passes, self.gc_pause = 0, 0.0
        collector.watch()
        telemetry.attach(
            (*self.handler_id, "gc"), collector.GC_EVENT, lambda _, measured, *__: otp.send(me, _GcPass(measured["duration"]))
        )
        self.last_wall, self.last_cpu = time.monotonic(), time.process_time()
        self.last_messages = _messages_handled()
        self.expected = time.monotonic() + PERIOD
        otp.send_after(me, "sample", PERIOD)

    async def handle_info(self, message: object) -> None:
        if message == "restarted":
            self.restarts += 1
        elif isinstance(message, _GcPass):
            self._note_gc_pass(message)
        elif message == "sample":
            now = time.monotonic()
            lag = max(0.0, now - self.expected)
            self.expected = now + PERIOD
            otp.send_after(otp.current_pid(), "sample", PERIOD)
            sample = self._sample(now, lag)
            self.samples.append(sample)
            pubsub.local_broadcast(self.pubsub, TOPIC, sample)

    def _note_gc_pass(self, gc_pass: _GcPass) -> None:
        self.gc_passes += 1
        self.gc_pause = max(self.gc_pause, gc_pass.duration)

    def _sample(self, now: float, lag: float) -> Sample:
        collector.emit()  # the passes not emitted yet come to this process's mailbox at once: count them now
        while (gc_pass := take_queued(_GcPass)) is not None:
            self._note_gc_pass(gc_pass)
        cpu = time.process_time()
        messages = _messages_handled()
        elapsed = max(now - self.last_wall, 1e-9)
        sample = Sample(
            at=time.time(),
            processes=current_node().statistics().processes,  # (no list of every pid)
            memory_mib=resident_memory() / (1 << 20),
            cpu_percent=100 * (cpu - self.last_cpu) / elapsed,
            lag_ms=lag * 1000,
            messages_per_second=max(0, messages - self.last_messages) / elapsed,
            restarts=self.restarts,
            gc_passes=self.gc_passes,
            gc_pause_ms=self.gc_pause * 1000,
        )
        self.last_wall, self.last_cpu, self.last_messages, self.restarts = now, cpu, messages, 0
        self.gc_passes, self.gc_pause = 0, 0.0
        return sample

    async def handle_call(self, request: object, caller: From) -> object:
        if request == "history":
            return list(self.samples)
        if request == "overview":
            return self._overview()
        raise ValueError(f"Metrics: unknown call {request!r}")

    def _overview(self) -> NodeOverview:
        node = current_node()
        gc_stats = collector.statistics()
        return NodeOverview(
            node=node.name or "nonode@nohost",
            os_pid=os.getpid(),
            uptime=node.statistics().uptime,
            processes=node.statistics().processes,
            history=list(self.samples),
            gc_passes=gc_stats.pauses,
            gc_max_pause=gc_stats.max_pause,
            gc_max_pause_generation=gc_stats.max_pause_generation,
            gc_frozen=gc_stats.frozen,
        )

    async def terminate(self, reason: object) -> None:
        telemetry.detach(self.handler_id)
        telemetry.detach((*self.handler_id, "gc"))

    @staticmethod
    async def history(server: Destination) -> list[Sample]:
        return await GenServer.call(server, "history")

    @staticmethod
    async def overview(server: Destination, timeout: float = 5.0) -> NodeOverview:
        """The node of ``server`` (a sampler, maybe ``(name, node)`` on another node), as its home page shows it."""
        return await GenServer.call(server, "overview", timeout=timeout)


def _messages_handled() -> int:
    # Not introspection.snapshot(): every second it would make two objects per process.
    return current_node().messages_received()
