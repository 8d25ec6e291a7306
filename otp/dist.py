"""Many nodes: pids, messages, monitors, links and calls across OS processes, through Redis.

A node joins the others with :func:`start`; from then on a pid of another
node works like a local one::

    from otp import dist

    await dist.start("node1", host="127.0.0.1", port=6379, secret=b"cluster secret")
    otp.send(("counter", "node2"), "hi")                 # Erlang's {Name, Node} ! Msg
    await GenServer.call(("counter", "node2"), "get")    # a remote call
    ref = otp.monitor(remote_pid)                         # Down when it ends...
                                                          # ...or NODEDOWN if node2 vanishes

Pids carry their node: a pid sent to another node arrives there as a
remote pid (printed ``<3.42.0>``: node index 3 of that OS process's table).

Transport
---------
A PubSub named ``otp.dist`` on the Redis adapter (``otp.pubsub.redis``)
carries everything: each node subscribes to its own channel, and a frame to
node N is a ``direct_broadcast`` to N. Frames are HMAC-signed with the
shared secret (see the adapter's trust boundary). Frames from one node to
another travel in order, so messages between two processes keep their
order, as in Erlang.

Failure detection
-----------------
Every node broadcasts a heartbeat every ``heartbeat`` seconds (0.5 by
default). A node not heard from for ``down_after`` seconds (5 by default)
*while the bus works for this node* is declared down: every monitor of a
process there gets ``Down(..., NODEDOWN)``, every link to one gets an exit
signal with ``NODEDOWN`` (Erlang's ``noconnection``), and processes that
called :func:`monitor_nodes` get ``NodeDown(name)`` (a Tracker on this node
among them: it drops that node's presences at once). A node heard from
again comes back with ``NodeUp(name)``. A killed node is declared down
``down_after`` to ``down_after + heartbeat`` seconds after its last
heartbeat.

Silence is judged only when it says something about the silent node.
Verdicts are *held*, with nobody declared down, while:

* this node is the one cut off: one of its Redis connections is down, or
  its own frames have not come back through Redis for ``down_after / 2``
  (Redis restarted, stopped, refusing clients; see "When this node is cut
  off" in ``otp.pubsub.redis``). When they come back, silence counts afresh
  from then (plus the adapter's ``backoff[1]``, ``down_after / 2`` at most
  2 s, if a connection was down: the other nodes' may come back that much
  later than ours): a node really gone during the outage is declared down
  ``down_after`` after that;
* this node was not running: a beat that fires more than ``(down_after -
  heartbeat) / 2`` seconds late means the OS process was stopped
  (``SIGSTOP``), starved or blocked, and the heartbeats that arrived
  meanwhile are still unread. Silence counts afresh from the late beat.

So a Redis restart, however long, takes no node down; a node paused for
longer than ``down_after`` is declared down by the others (it was silent
while their bus worked), and itself declares nobody. ``HELD`` and
``JUDGING`` (telemetry, below) say when verdicts stop and start again.

For faster detection, lower ``down_after`` (and ``heartbeat``, at most a
third of it): a killed node is then seen down sooner, and a pause or a
stall longer than ``down_after`` makes the others declare that node down.

What a verdict ends
-------------------
A node declared down may be alive (it was paused, or cut off from Redis
alone). So that both sides agree on what ended:

* its links: the local processes get their exit signal, and the node is
  sent the other half (``LinkExitFrame``), which it gets if it is alive;
* this node's monitors of its processes: ``Down(..., NODEDOWN)``;
* *its* monitors of this node's processes are kept: if it comes back,
  they still work (a ``Down`` with the real reason when the process ends).
  Once it has been down ``10 × down_after`` seconds they are dropped, and
  it is sent ``Down(..., NODEDOWN)`` for each, should it ever read them.

Logging and telemetry
---------------------
The logger ``otp.dist`` says when a node is declared down (WARNING), when
this node finds it was not running (WARNING), and when verdicts are held
and judged again (INFO). The distribution's own Redis adapter logs as
``otp.dist.redis``. Telemetry (``otp.telemetry``): :data:`HELD`,
``("otp", "dist", "held")`` (metadata ``node_name``, ``reason``:
``"bus"`` or ``"paused"``; measurement ``late``, seconds, for a pause),
and :data:`JUDGING`, ``("otp", "dist", "judging")`` (measurement
``held``: seconds the verdicts were held; metadata ``node_name``).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Callable

import attrs
import trio

from . import lowlevel, pubsub, telemetry
from ._child_spec import ChildSpec
from ._kernel import (
    NODEDOWN,
    NOPROC,
    Destination,
    Down,
    Pid,
    Ref,
    current_pid,
    demonitor,
    monitor,
    send,
    send_after,
)
from .genserver import Continue, From, GenServer, NoReply, Stop
from .pubsub._resp import redis_settings
from .pubsub.redis import Redis, RedisSettings
from .supervisor import Strategy, Supervisor

if TYPE_CHECKING:
    from ._kernel._process import Process
    from .chaos._network import NetworkFaults

__all__ = ["start", "monitor_nodes", "nodes", "node_name", "NodeUp", "NodeDown", "Distribution", "HELD", "JUDGING"]

logger = logging.getLogger("otp.dist")

PUBSUB = "otp.dist"
_FRAMES = "dist"
_HEARTBEATS = "heartbeat"
_SERVER = "otp.dist.server"

HELD = ("otp", "dist", "held")  # telemetry: verdicts held (see "Failure detection")
JUDGING = ("otp", "dist", "judging")  # telemetry: verdicts judged again

# A node declared down keeps its monitors of ours this many down_after
# periods: long enough for a pause or a netsplit to heal, bounded for a node
# that never comes back.
_FORGET_AFTER_DOWNS = 10


@attrs.frozen
class NodeUp:
    """A node joined, or came back (sent to processes that called monitor_nodes)."""

    name: str


@attrs.frozen
class NodeDown:
    """A node stopped answering (sent to processes that called monitor_nodes)."""

    name: str



# ---------------------------------------------------------------- frames between nodes
# What one node's Distribution sends another's distribution server (over the
# PubSub adapter, pickled). Each names a process there by what that node
# calls it: a pid number or a registered name ("target").


@attrs.frozen(slots=True)
class SendFrame:
    target: int | str
    message: object


@attrs.frozen(slots=True)
class MonitorFrame:
    watcher: Pid
    target: int | str
    ref: Ref


@attrs.frozen(slots=True)
class DemonitorFrame:
    origin: str  # the watcher's node: refs are unique per OS process only
    ref: Ref


@attrs.frozen(slots=True)
class DownFrame:
    ref: Ref
    reason: object


@attrs.frozen(slots=True)
class LinkFrame:
    remote: Pid
    target: int | str


@attrs.frozen(slots=True)
class UnlinkFrame:
    remote: Pid
    target: int | str


@attrs.frozen(slots=True)
class LinkExitFrame:
    sender: Pid
    target: int | str
    reason: object


@attrs.frozen(slots=True)
class LinkNoprocFrame:
    local: Pid  # the linker, on the receiving node
    target: int | str


@attrs.frozen(slots=True)
class ExitFrame:
    sender: Pid
    target: int | str
    reason: object


@attrs.frozen(slots=True)
class ResponseFrame:
    ref: Ref
    value: object


@attrs.frozen(slots=True)
class Heartbeat:
    node: str


class _Beat:
    """The server's own timer: time to send a heartbeat and judge silent nodes."""

    __slots__ = ()


_BEAT = _Beat()


@attrs.frozen(slots=True)
class _MonitorNodes:
    pid: Pid


@attrs.frozen(slots=True)
class _Nodes:
    pass


class _ToServer:
    """The PubSub dispatcher of frames: to the receiving node's distribution server.

    It travels with each frame and names the node that sent it, so that
    the receiver can drop what comes from a node that ``otp.chaos``
    partitioned it from (``Distribution.faults``).
    """

    __slots__ = ("origin",)

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def __reduce__(self) -> tuple:
        return (_ToServer, (self.origin,))

    def __call__(self, entries: list, from_pid: object, frame: object) -> None:
        handler = lowlevel.current_node().remote
        if isinstance(handler, Distribution) and handler.faults is not None and handler.faults.cuts(self.origin):
            return
        for pid, _ in entries:
            send(pid, frame)


class Distribution:
    """The kernel's handler for remote destinations (``otp.lowlevel.set_distribution``).

    Its methods run in whichever local process acts on a remote pid: they
    record what must be undone if a node goes down, and send a frame.
    """

    def __init__(self, name: str, adapter: Redis) -> None:
        self.name = name
        self.adapter = adapter
        self.monitors: dict = {}  # ref -> (watcher pid, what was monitored, node name)
        self.by_watcher: dict[Pid, set] = {}  # watcher pid -> refs of its remote monitors
        self.links: dict[str, set] = {}  # node name -> {(local pid, remote pid)}
        # node name -> when last heard from. A node we start talking to counts
        # as just heard from: if it never answers, it is declared down too.
        self.seen: dict[str, float] = {}
        # otp.chaos's seam (otp/chaos/_network.py): while set, every frame to
        # another node (heartbeats too) and from one is first shown to it.
        self.faults: NetworkFaults | None = None
        self._dispatcher = _ToServer(name)
        # Processes that called monitor_nodes(): kept here, where a restart of
        # the distribution server does not lose them.
        self.node_watchers: set[Pid] = set()

    # ------------------------------------------------------------ called by the kernel

    def send(self, dest: Destination, message: object) -> None:
        node, target = _address(dest)
        self._frame(node, SendFrame(target, message))

    def monitor(self, watcher: Process, dest: Destination, ref: Ref) -> None:
        node, target = _address(dest)
        self.seen.setdefault(node, trio.current_time())
        self.monitors[ref] = (watcher.pid, dest, node, ref)
        self.by_watcher.setdefault(watcher.pid, set()).add(ref)
        self._frame(node, MonitorFrame(watcher.pid, target, ref))

    def demonitor(self, watcher: Process, ref: Ref) -> bool:
        record = self.monitors.pop(ref, None)
        if record is None:
            return False
        self._forget_watch(record[0], ref)
        self._frame(record[2], DemonitorFrame(self.name, ref))
        return True

    def link(self, process: Process, pid: Pid) -> None:
        node, target = _address(pid)
        self.seen.setdefault(node, trio.current_time())
        self.links.setdefault(node, set()).add((process.pid, pid))
        self._frame(node, LinkFrame(process.pid, target))

    def unlink(self, process: Process, pid: Pid) -> None:
        node, target = _address(pid)
        self.links.get(node, set()).discard((process.pid, pid))
        self._frame(node, UnlinkFrame(process.pid, target))

    def exit(self, sender: Pid, dest: Destination, reason: object) -> None:
        node, target = _address(dest)
        self._frame(node, ExitFrame(sender, target, reason))

    def respond(self, pid: Pid, ref: Ref, value: object) -> None:
        self._frame(_node_of(pid), ResponseFrame(ref, value))

    def process_ended(self, process: Process, reason: object) -> None:
        pid = process.pid
        for remote in process.remote_links or ():
            node, target = _address(remote)
            self.links.get(node, set()).discard((pid, remote))
            self._frame(node, LinkExitFrame(pid, target, reason))
        for ref in self.by_watcher.pop(pid, ()):
            record = self.monitors.pop(ref, None)
            if record is not None:
                self._frame(record[2], DemonitorFrame(self.name, ref))

    # ------------------------------------------------------------ helpers

    def _frame(self, node: str, frame: object) -> None:
        if self.faults is not None and self.faults.outgoing(node, frame):
            return  # otp.chaos cut or dropped it, or holds it back to transmit() later
        self.transmit(node, frame)

    def transmit(self, node: str, frame: object) -> None:
        # Straight to the adapter: this also runs where no PubSub lookup can
        # (the node's root process ending, outside any process).
        self.adapter.direct_broadcast(PUBSUB, node, _FRAMES, frame, self._dispatcher)

    def _forget_watch(self, watcher: Pid, ref: Ref) -> None:
        refs = self.by_watcher.get(watcher)
        if refs is not None:
            refs.discard(ref)
            if not refs:
                del self.by_watcher[watcher]


def _address(dest: Destination) -> tuple[str, int | str]:
    """(node name, what that node calls the process: a pid number or a registered name)."""
    if isinstance(dest, Pid):
        return _node_of(dest), dest.number
    if isinstance(dest, tuple):
        name, node = dest
        return node, name
    raise TypeError(f"{dest!r} is no process of another node: give a pid or (name, node_name)")


def _node_of(pid: Pid) -> str:
    """The node of a pid that travelled between nodes: it always has one."""
    node = lowlevel.node_name_of(pid)
    assert node is not None, f"{pid!r} came from no distributed node"
    return node


class _Server(GenServer):
    """The distribution server of one node: applies frames from other nodes, watches heartbeats."""

    async def init(self, config: dict) -> None:
        self.handler: Distribution = config["handler"]
        self.heartbeat = config["heartbeat"]
        self.down_after = config["down_after"]
        self.seen = self.handler.seen
        self.announced: set[str] = set()  # nodes NodeUp was sent for
        self.proxies: dict = {}  # local monitor ref -> (origin node, origin ref)
        self.proxied: dict = {}  # (origin node, origin ref) -> local monitor ref
        self.watchers = self.handler.node_watchers  # processes that called monitor_nodes
        self.watcher_refs: dict[Ref, Pid] = {}  # our monitor of each: a watcher that ends is forgotten
        for watcher in self.watchers:
            self._watch(watcher)
        self.down_since: dict[str, float] = {}  # nodes declared down and not heard from since
        # Holding verdicts (see "Failure detection"): why, and since when. At
        # the start, until our own frames come back through Redis.
        self.holding: str | None = "starting"
        self.held_since = trio.current_time()
        self.resumed_at = -math.inf  # the last late beat: silence counts from there at least
        self.pause_threshold = (self.down_after - self.heartbeat) / 2
        self.beat_due = trio.current_time()
        pubsub.subscribe(PUBSUB, _FRAMES)
        pubsub.subscribe(PUBSUB, _HEARTBEATS)
        self._beat()

    async def handle_call(self, request: object, caller: From) -> list[str]:
        match request:
            case _MonitorNodes(pid):
                if pid not in self.watchers:
                    self.watchers.add(pid)
                    self._watch(pid)
                return sorted(self.announced)
            case _Nodes():
                return sorted(self.announced)
        raise TypeError(f"the distribution server answers monitor_nodes() and nodes(); got {request!r}")

    async def handle_info(self, message: object) -> NoReply | Continue | Stop | None:
        if message.__class__ is Down:
            watcher = self.watcher_refs.pop(message.ref, None)
            if watcher is None:
                self._proxy_down(message)
            else:
                self.watchers.discard(watcher)
        elif message is _BEAT:
            self._beat()
        elif message.__class__ is Heartbeat:
            faults = self.handler.faults
            if faults is None or not faults.cuts(message.node):  # otp.chaos: deaf to a partitioned node
                self._heard_from(message.node)
        elif message.__class__ in _APPLY:
            _APPLY[message.__class__](self, message)
        else:
            return await super().handle_info(message)
        return None

    # ------------------------------------------------------------ frames from other nodes

    def _on_send(self, frame: SendFrame) -> None:
        target, message = frame.target, frame.message
        lowlevel.deliver_local(target, message)

    def _on_monitor(self, frame: MonitorFrame) -> None:
        watcher, target, ref = frame.watcher, frame.target, frame.ref
        origin = _node_of(watcher)
        self._heard_from(origin)
        local = lowlevel.local_process(target)
        if local is None:
            self.handler._frame(origin, DownFrame(ref, NOPROC))
            return
        local_ref = monitor(local.pid)
        self.proxies[local_ref] = (origin, ref)
        self.proxied[(origin, ref)] = local_ref

    def _on_demonitor(self, frame: DemonitorFrame) -> None:
        origin, ref = frame.origin, frame.ref
        # Refs are unique per OS process only: the origin node is part of the key.
        local_ref = self.proxied.pop((origin, ref), None)
        if local_ref is not None:
            self.proxies.pop(local_ref, None)
            demonitor(local_ref, flush=True)

    def _proxy_down(self, down: Down) -> None:
        origin = self.proxies.pop(down.ref, None)
        if origin is not None:
            self.proxied.pop(origin, None)
            self.handler._frame(origin[0], DownFrame(origin[1], down.reason))

    def _on_down(self, frame: DownFrame) -> None:
        ref, reason = frame.ref, frame.reason
        record = self.handler.monitors.pop(ref, None)
        if record is not None:
            watcher, dest, _, own_ref = record  # the watcher's own ref object, not the copy
            self.handler._forget_watch(watcher, ref)
            lowlevel.deliver_down(watcher, own_ref, dest, reason)

    def _on_link(self, frame: LinkFrame) -> None:
        remote, target = frame.remote, frame.target
        origin = _node_of(remote)
        local = lowlevel.local_process(target)
        if local is None or not lowlevel.add_remote_link(target, remote):
            # Linking to a process that is not there: the linker gets NOPROC.
            self.handler._frame(origin, LinkNoprocFrame(remote, target))
            return
        self.handler.links.setdefault(origin, set()).add((local.pid, remote))

    def _on_unlink(self, frame: UnlinkFrame) -> None:
        remote, target = frame.remote, frame.target
        local = lowlevel.local_process(target)
        if local is not None:
            lowlevel.remove_remote_link(target, remote)
            self.handler.links.get(_node_of(remote), set()).discard((local.pid, remote))

    def _on_link_exit(self, frame: LinkExitFrame) -> None:
        sender, target, reason = frame.sender, frame.target, frame.reason
        local = lowlevel.local_process(target)
        if local is not None:
            self.handler.links.get(_node_of(sender), set()).discard((local.pid, sender))
        lowlevel.signal_link_exit(target, sender, reason)

    def _on_link_noproc(self, frame: LinkNoprocFrame) -> None:
        local, target = frame.local, frame.target
        for node, pairs in self.handler.links.items():
            for pid, remote in list(pairs):
                if pid == local and _address(remote) == (node, target):
                    pairs.discard((pid, remote))
                    lowlevel.signal_link_exit(pid, remote, NOPROC)

    def _on_exit(self, frame: ExitFrame) -> None:
        sender, target, reason = frame.sender, frame.target, frame.reason
        lowlevel.signal_exit(target, sender, reason)

    def _on_response(self, frame: ResponseFrame) -> None:
        ref, value = frame.ref, frame.value
        lowlevel.respond(ref, value)

    # ------------------------------------------------------------ heartbeats and node-down

    def _beat(self) -> None:
        """The server's timer: send a heartbeat, then judge the silent nodes, or hold the verdicts."""
        now = trio.current_time()
        late, self.beat_due = now - self.beat_due, now + self.heartbeat
        send_after(current_pid(), _BEAT, self.heartbeat)
        self._send_heartbeat()
        if late > self.pause_threshold:
            self._resumed(now, late)
        since = self._silence_counts_from()
        if since is None or since > now:
            self._hold("bus", now)
        else:
            self._judge(now, since)

    def _send_heartbeat(self) -> None:
        if self.handler.faults is None:
            pubsub.broadcast_from(PUBSUB, current_pid(), _HEARTBEATS, Heartbeat(self.handler.name))
        else:  # otp.chaos: one heartbeat per known node, each through the faults of its link
            for node in list(self.seen):
                self.handler._frame(node, Heartbeat(self.handler.name))

    def _silence_counts_from(self) -> float | None:
        """From when a node's silence says something about it (None: nothing now); see "Failure detection"."""
        counts_from = self.handler.adapter.silence_counts_from()
        return None if counts_from is None else max(counts_from, self.resumed_at)

    def _resumed(self, now: float, late: float) -> None:
        # The beat fired `late` seconds after its time: this OS process did not
        # run (stopped, starved, blocked), and what arrived meanwhile is unread.
        self.resumed_at = now
        logger.warning(
            "node %r did not run for %.1f s: judging no other node silent until it has read what waited", self.handler.name, late
        )
        self._hold("paused", now, late=late)

    def _hold(self, reason: str, now: float, **measurements: float) -> None:
        if self.holding is not None:
            return  # held already: the first reason stands
        self.holding, self.held_since = reason, now
        logger.info("node %r holds its verdicts on silent nodes (%s)", self.handler.name, reason)
        if telemetry.attached(HELD):
            telemetry.execute(HELD, measurements, {"node_name": self.handler.name, "reason": reason})

    def _judge(self, now: float, since: float) -> None:
        """Declare down every node silent for ``down_after``, counted from ``since`` at the earliest."""
        if self.holding is not None:
            held, self.holding = now - self.held_since, None
            logger.info("node %r judges silent nodes again, after %.1f s", self.handler.name, held)
            if telemetry.attached(JUDGING):
                telemetry.execute(JUDGING, {"held": held}, {"node_name": self.handler.name})
        for node, last in list(self.seen.items()):
            silent = now - max(last, since)
            if silent > self.down_after:
                self._node_down(node, now - last)
        self._forget_long_down(now)

    def _heard_from(self, node: str) -> None:
        if node == self.handler.name:
            return
        if node not in self.announced:
            self.announced.add(node)
            for watcher in self.watchers:
                send(watcher, NodeUp(node))
        self.down_since.pop(node, None)
        self.seen[node] = trio.current_time()

    def _node_down(self, node: str, silent: float) -> None:
        del self.seen[node]
        self.announced.discard(node)
        self.down_since[node] = trio.current_time()
        logger.warning("node %r declared node %r down: not heard from for %.1f s", self.handler.name, node, silent)
        handler = self.handler
        for ref, (watcher, dest, where, _) in list(handler.monitors.items()):
            if where == node:
                del handler.monitors[ref]
                handler._forget_watch(watcher, ref)
                lowlevel.deliver_down(watcher, ref, dest, NODEDOWN)
        for local, remote in handler.links.pop(node, set()):
            lowlevel.signal_link_exit(local, remote, NODEDOWN)
            # The other half, should that node be alive (paused, or cut off alone): its process is unlinked too.
            handler._frame(node, LinkExitFrame(local, remote.number, NODEDOWN))
        for watcher in self.watchers:
            send(watcher, NodeDown(node))

    def _forget_long_down(self, now: float) -> None:
        """Drop the monitors of nodes down for long (see "What a verdict ends"), telling them."""
        for node, since in list(self.down_since.items()):
            if now - since > _FORGET_AFTER_DOWNS * self.down_after:
                del self.down_since[node]
                for key in [key for key in self.proxied if key[0] == node]:
                    local_ref = self.proxied.pop(key)
                    self.proxies.pop(local_ref, None)
                    demonitor(local_ref, flush=True)
                    self.handler._frame(node, DownFrame(key[1], NODEDOWN))

    def _watch(self, watcher: Pid) -> None:
        self.watcher_refs[monitor(watcher)] = watcher


# Which server method applies each frame from another node.
_APPLY: dict[type, Callable[[_Server, Any], None]] = {
    SendFrame: _Server._on_send,
    MonitorFrame: _Server._on_monitor,
    DemonitorFrame: _Server._on_demonitor,
    DownFrame: _Server._on_down,
    LinkFrame: _Server._on_link,
    UnlinkFrame: _Server._on_unlink,
    LinkExitFrame: _Server._on_link_exit,
    LinkNoprocFrame: _Server._on_link_noproc,
    ExitFrame: _Server._on_exit,
    ResponseFrame: _Server._on_response,
}


async def start(
    name: str,
    *,
    host: str | None = None,
    port: int | None = None,
    redis: RedisSettings | str | None = None,
    secret: bytes,
    heartbeat: float = 0.5,
    down_after: float = 5.0,
) -> Pid:
    """Make the caller's node the distributed node ``name``; return the supervisor's pid.

    The transport (a PubSub on Redis) and the distribution server run under
    a supervisor linked to the caller. A node silent for ``down_after``
    seconds while the bus works is declared down; this node heartbeats
    every ``heartbeat`` seconds (at most a third of ``down_after``). See
    "Failure detection": the defaults ride out a Redis restart and a pause
    of a few seconds; lower both for faster detection.

    The Redis server is ``host`` and ``port`` (127.0.0.1 and 6379 by
    default), or ``redis``: a ``redis://``/``rediss://`` URL or
    :class:`otp.pubsub.redis.RedisSettings`, for a password, an ACL user,
    a database or TLS (see "Connecting" in ``otp.pubsub.redis``)::

        await dist.start("node1", redis=os.environ["REDIS_URL"], secret=os.environb[b"CLUSTER_SECRET"])
    """
    if not 0 < 3 * heartbeat <= down_after:
        raise ValueError(
            f"dist.start: need 0 < heartbeat <= down_after / 3, or a heartbeat late by a little would take a node "
            f"down; got heartbeat={heartbeat!r}, down_after={down_after!r}"
        )
    adapter = Redis(
        _redis_server(host, port, redis),
        secret=secret,
        node_name=name,
        # Our own frames come back at least this often; none for twice as long
        # (down_after / 2) and we hold our verdicts: that is well before anyone is
        # silent for down_after, and slack enough for a loaded event loop.
        heartbeat=down_after / 4,
        node_timeout=max(5.0, down_after),
        # Reconnect at least every down_after / 2: a peer's connection comes back that late at worst after an outage.
        backoff=(min(0.05, down_after / 8), min(2.0, down_after / 2)),
        logger="otp.dist.redis",
    )
    handler = Distribution(name, adapter)
    lowlevel.set_distribution(name, handler)

    async def start_pubsub() -> Pid:
        return await pubsub.start_link(PUBSUB, adapter=adapter)

    config = {"handler": handler, "heartbeat": heartbeat, "down_after": down_after}
    children = [
        ChildSpec(id="transport", start=(start_pubsub,)),
        _Server.child_spec(config, id="server", name=_SERVER),
    ]
    sup = await Supervisor.start_link(children, strategy=Strategy.REST_FOR_ONE, name="otp.dist.tree")
    await adapter.wait_connected()
    return sup


def _redis_server(host: str | None, port: int | None, redis: RedisSettings | str | None) -> RedisSettings:
    if redis is None:
        return redis_settings(host or "127.0.0.1", port)
    if host is not None or port is not None:
        raise ValueError("dist.start: give the Redis server as redis= or as host and port, not both")
    return redis_settings(redis)


async def monitor_nodes() -> list[str]:
    """Get ``NodeUp`` / ``NodeDown`` messages from now on; return the nodes known now."""
    return await GenServer.call(_SERVER, _MonitorNodes(current_pid()))


async def nodes() -> list[str]:
    """The other nodes heard from recently (Erlang's ``nodes()``)."""
    return await GenServer.call(_SERVER, _Nodes())


def node_name() -> str | None:
    """This node's name, or None if it is not distributed."""
    return lowlevel.current_node().name
