"""Node faults: delay, drop and partitions on the links between this node and others (``otp.dist``).

The seam is the node's :class:`otp.dist.Distribution`, through which
every frame to another node passes (``_frame``), heartbeats included while
faults are installed, and every frame from one arrives (its dispatcher
names the origin). With ``distribution.faults`` set to a
:class:`NetworkFaults`:

================  ==========================================  =====================================
fault             frames this node sends there                 frames from there
================  ==========================================  =====================================
``delay``         held back ``delay`` seconds, order kept      untouched
``drop``          messages (``send``, a call's reply) lost     untouched
                  with that probability; signals never
``partition``     all cut, heartbeats included                 all cut, heartbeats included
================  ==========================================  =====================================

So a partition made on one side of a link is a partition both ways: this
node stops hearing the other and stops being heard, and after
``down_after`` each declares the other down, as in a netsplit. Held frames
are sent in order when the run ends (a slow link delivers late, it does
not lose); drops are drawn from the seed (one stream per node), so a seed
drops the same messages of the same traffic.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import TYPE_CHECKING

import trio

from .._kernel import Pid, Ref, current_node, demonitor, spawn_opt, unlink
from ._config import NodeFault
from ._plan import rng_for
from ._report import NodeFaultCounts

if TYPE_CHECKING:
    from ..dist import Distribution

__all__ = ["NetworkFaults"]


class _Link:
    """The faults on one link, and what they did."""

    __slots__ = ("fault", "rng", "last_due", "delayed", "dropped", "cut")

    def __init__(self, fault: NodeFault, seed: int) -> None:
        self.fault = fault
        self.rng = rng_for(seed, f"drops:{fault.node}")
        self.last_due = -math.inf  # a frame is never released before the one sent before it
        self.delayed = self.dropped = self.cut = 0


class NetworkFaults:
    """What ``otp.dist`` asks about each frame while a chaos run with node faults lasts."""

    def __init__(self, distribution: Distribution, faults: tuple[NodeFault, ...], seed: int, messages: tuple[type, ...]) -> None:
        self.distribution = distribution
        self.links = {fault.node: _Link(fault, seed) for fault in faults}
        self.messages = messages  # the frame classes that carry messages: the ones drop may lose
        self.held: list[tuple[float, int, str, object]] = []  # (due, order, node, frame): a heap
        self.order = itertools.count()
        self.wake_send, self.wake_receive = trio.open_memory_channel[None](math.inf)
        self.releaser: tuple[Pid, Ref | None] | None = None
        self.releaser_scope = trio.CancelScope()  # remove() ends the releaser by cancelling it

    @classmethod
    def install(cls, faults: tuple[NodeFault, ...], seed: int) -> NetworkFaults | None:
        """Put ``faults`` on the caller's node's links (None if there are none).

        Raises:
            ValueError: the node is not distributed, or another run's node faults are on it.
        """
        if not faults:
            return None
        distribution = current_node().remote
        if distribution is None:
            raise ValueError("otp.chaos: node faults need a distributed node: call otp.dist.start(...) first")
        from .. import dist  # only here: otp.dist needs the redis extra, chaos without node faults does not

        assert isinstance(distribution, dist.Distribution)
        if distribution.faults is not None:
            raise ValueError("otp.chaos: another chaos run's node faults are on this node; one run at a time")
        self = cls(distribution, faults, seed, (dist.SendFrame, dist.ResponseFrame))
        distribution.faults = self
        self.releaser = spawn_opt(_release_held, self, link=True, monitor=True)
        return self

    def remove(self) -> None:
        """Take the faults off: links work again, held frames go out now, in order. Sync; once is enough."""
        if self.distribution.faults is not self:
            return
        self.distribution.faults = None
        while self.held:
            _, _, node, frame = heapq.heappop(self.held)
            self.distribution.transmit(node, frame)
        if self.releaser is not None:
            pid, ref = self.releaser
            unlink(pid)
            if ref is not None:
                demonitor(ref, flush=True)
            self.releaser_scope.cancel()  # it ends at once, normally
            self.releaser = None

    # ------------------------------------------------------------ asked by otp.dist

    def outgoing(self, node: str, frame: object) -> bool:
        """A frame for ``node``: True if the faults took it (cut, dropped, or held to be sent later)."""
        link = self.links.get(node)
        if link is None:
            return False
        fault = link.fault
        if fault.partition:
            link.cut += 1
            return True
        if fault.drop and frame.__class__ in self.messages and link.rng.random() < fault.drop:
            link.dropped += 1
            return True
        if fault.delay:
            self._hold(link, node, frame)
            return True
        return False

    def cuts(self, origin: str) -> bool:
        """A frame from ``origin`` arrived: True if a partition keeps this node from taking it."""
        link = self.links.get(origin)
        if link is None or not link.fault.partition:
            return False
        link.cut += 1
        return True

    def counts(self) -> tuple[NodeFaultCounts, ...]:
        return tuple(NodeFaultCounts(node, link.delayed, link.dropped, link.cut) for node, link in self.links.items())

    # ------------------------------------------------------------ held frames

    def _hold(self, link: _Link, node: str, frame: object) -> None:
        due = max(trio.current_time() + link.fault.delay, link.last_due)
        link.last_due = due
        link.delayed += 1
        heapq.heappush(self.held, (due, next(self.order), node, frame))
        self.wake_send.send_nowait(None)

    def release_due(self) -> None:
        now = trio.current_time()
        held = self.held
        while held and held[0][0] <= now:
            _, _, node, frame = heapq.heappop(held)
            self.distribution.transmit(node, frame)


async def _release_held(faults: NetworkFaults) -> None:
    """The releaser process: sends each held frame when its delay is over."""
    with faults.releaser_scope:
        while True:
            deadline = faults.held[0][0] if faults.held else math.inf
            with trio.move_on_at(deadline):
                await faults.wake_receive.receive()
            faults.release_due()
