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
Every node broadcasts a heartbeat every ``heartbeat`` seconds. A node not
heard from for ``down_after`` seconds is declared down: every monitor of a
process there gets ``Down(..., NODEDOWN)``, every link to one gets an exit
signal with ``NODEDOWN`` (Erlang's ``noconnection``), and processes that
called :func:`monitor_nodes` get ``NodeDown(name)``. A node heard from again
comes back with ``NodeUp(name)``. The Tracker uses these to drop the
presences of a node that vanished.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import attrs
import trio

from . import lowlevel, pubsub
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

__all__ = ["start", "monitor_nodes", "nodes", "node_name", "NodeUp", "NodeDown", "Distribution"]

PUBSUB = "otp.dist"
_FRAMES = "dist"
_HEARTBEATS = "heartbeat"
_SERVER = "otp.dist.server"


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


def _to_server(entries: list, from_pid: object, frame: object) -> None:
    """The PubSub dispatcher: frames go to the node's distribution server."""
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
        # Straight to the adapter: this also runs where no PubSub lookup can
        # (the node's root process ending, outside any process).
        self.adapter.direct_broadcast(PUBSUB, node, _FRAMES, frame, _to_server)

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
        self.watchers: set[Pid] = set()  # processes that called monitor_nodes
        pubsub.subscribe(PUBSUB, _FRAMES)
        pubsub.subscribe(PUBSUB, _HEARTBEATS)
        self._beat()

    async def handle_call(self, request: object, caller: From) -> list[str]:
        match request:
            case _MonitorNodes(pid):
                self.watchers.add(pid)
                return sorted(self.announced)
            case _Nodes():
                return sorted(self.announced)
        raise TypeError(f"the distribution server answers monitor_nodes() and nodes(); got {request!r}")

    async def handle_info(self, message: object) -> NoReply | Continue | Stop | None:
        if message.__class__ is Down:
            self._proxy_down(message)
        elif message is _BEAT:
            self._beat()
        elif message.__class__ is Heartbeat:
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
        pubsub.broadcast_from(PUBSUB, current_pid(), _HEARTBEATS, Heartbeat(self.handler.name))
        now = trio.current_time()
        for node, last in list(self.seen.items()):
            if now - last > self.down_after:
                self._node_down(node)
        send_after(current_pid(), _BEAT, self.heartbeat)

    def _heard_from(self, node: str) -> None:
        if node == self.handler.name:
            return
        if node not in self.announced:
            self.announced.add(node)
            for watcher in self.watchers:
                send(watcher, NodeUp(node))
        self.seen[node] = trio.current_time()

    def _node_down(self, node: str) -> None:
        del self.seen[node]
        self.announced.discard(node)
        handler = self.handler
        for ref, (watcher, dest, where, _) in list(handler.monitors.items()):
            if where == node:
                del handler.monitors[ref]
                handler._forget_watch(watcher, ref)
                lowlevel.deliver_down(watcher, ref, dest, NODEDOWN)
        for local, remote in handler.links.pop(node, set()):
            lowlevel.signal_link_exit(local, remote, NODEDOWN)
        for key in [key for key in self.proxied if key[0] == node]:
            local_ref = self.proxied.pop(key)
            self.proxies.pop(local_ref, None)
            demonitor(local_ref, flush=True)
        for watcher in self.watchers:
            send(watcher, NodeDown(node))


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
    down_after: float = 3.0,
) -> Pid:
    """Make the caller's node the distributed node ``name``; return the supervisor's pid.

    The transport (a PubSub on Redis) and the distribution server run under
    a supervisor linked to the caller.

    The Redis server is ``host`` and ``port`` (127.0.0.1 and 6379 by
    default), or ``redis``: a ``redis://``/``rediss://`` URL or
    :class:`otp.pubsub.redis.RedisSettings`, for a password, an ACL user,
    a database or TLS (see "Connecting" in ``otp.pubsub.redis``)::

        await dist.start("node1", redis=os.environ["REDIS_URL"], secret=os.environb[b"CLUSTER_SECRET"])
    """
    adapter = Redis(_redis_server(host, port, redis), secret=secret, node_name=name)
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
