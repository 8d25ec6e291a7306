"""PubSub's functions: starting one, subscribing, broadcasting, the adapter lookup.

A PubSub is a duplicate-key Registry (topic -> subscribers) plus its
adapter's process under a ``rest_for_one`` supervisor; the functions here
are what ``otp.pubsub`` exports (its docstring is the manual). Delivery to
this node's subscribers is ``_dispatch.py``'s.
"""

from __future__ import annotations

from .. import telemetry
from .._child_spec import ChildSpec, ChildType
from .._kernel import Pid
from ..registry import Registry
from ..supervisor import Strategy, Supervisor
from ._dispatch import BroadcastFrom, Dispatcher, dispatch, local_broadcast, local_broadcast_from
from ._local import Local
from .adapter import Adapter

_ADAPTER = "pubsub_adapter"  # the registry meta key holding the adapter
BROADCAST = ("otp", "pubsub", "broadcast")  # telemetry, see otp.telemetry


# ---------------------------------------------------------------- starting


async def start_link(name: str, *, adapter: Adapter | None = None) -> Pid:
    """Start the PubSub ``name`` (its supervisor, linked to the caller); return the supervisor pid."""
    if not isinstance(name, str):
        raise TypeError(f"a PubSub name must be a str; got {name!r}")
    adapter = Local() if adapter is None else adapter
    if not isinstance(adapter, Adapter):
        raise TypeError(f"{adapter!r} does not implement the PubSub Adapter protocol (otp.pubsub.adapter)")
    children = [ChildSpec(id="registry", start=(_start_registry, name, adapter))]
    adapter_spec = adapter.child_spec(name)
    if adapter_spec is not None:
        children.append(adapter_spec)
    return await Supervisor.start_link(children, strategy=Strategy.REST_FOR_ONE, name=f"{name}.supervisor")


def child_spec(name: str, *, adapter: Adapter | None = None) -> ChildSpec:
    """A child spec for a PubSub, to put it in an application's tree."""
    async def start() -> Pid:
        return await start_link(name, adapter=adapter)

    return ChildSpec(id=("pubsub", name), start=(start,), type=ChildType.SUPERVISOR)


async def _start_registry(name: str, adapter: Adapter) -> Pid:
    pid = await Registry.start_link(keys=Registry.DUPLICATE, name=name)
    Registry.put_meta(name, _ADAPTER, adapter)
    return pid


# ---------------------------------------------------------------- subscribing


def subscribe(pubsub: str, topic: str, metadata: object = None) -> None:
    """Subscribe the caller to ``topic``; ``metadata`` is passed to dispatchers.

    Subscribing twice means receiving each message twice, as in Phoenix.
    """
    _check_topic(topic)
    Registry.register(pubsub, topic, metadata)


def unsubscribe(pubsub: str, topic: str) -> None:
    """Stop the caller's subscriptions to ``topic``."""
    Registry.unregister(pubsub, topic)


def topics(pubsub: str) -> dict[str, int]:
    """``{topic: local subscriptions}`` for every topic someone on this node subscribes to."""
    return Registry.count_by_key(pubsub)


# ---------------------------------------------------------------- broadcasting


def broadcast(pubsub: str, topic: str, message: object, *, dispatcher: Dispatcher = dispatch) -> None:
    """Deliver ``message`` to every subscriber of ``topic`` on every node.

    Raises:
        Exception: whatever the adapter raises when it cannot reach the
            other nodes (the Redis adapter's ``RedisUnavailable``); the local
            subscribers have still been served.
    """
    _check_topic(topic)
    local_broadcast(pubsub, topic, message, dispatcher=dispatcher)
    if telemetry.attached(BROADCAST):
        _emit_broadcast(pubsub, topic, None)
    _adapter(pubsub).broadcast(pubsub, topic, message, dispatcher)


def broadcast_from(
    pubsub: str, from_pid: Pid, topic: str, message: object, *, dispatcher: Dispatcher = dispatch
) -> None:
    """Like :func:`broadcast`, skipping ``from_pid`` (usually the caller)."""
    _check_topic(topic)
    local_broadcast_from(pubsub, from_pid, topic, message, dispatcher=dispatcher)
    if telemetry.attached(BROADCAST):
        _emit_broadcast(pubsub, topic, from_pid)
    _adapter(pubsub).broadcast(pubsub, topic, BroadcastFrom(from_pid, message), dispatcher)


def direct_broadcast(node: str, pubsub: str, topic: str, message: object, *, dispatcher: Dispatcher = dispatch) -> None:
    """Deliver ``message`` to the subscribers of ``topic`` on the node named ``node``."""
    _check_topic(topic)
    _adapter(pubsub).direct_broadcast(pubsub, node, topic, message, dispatcher)


def node_name(pubsub: str) -> str:
    """This node's name, as the PubSub's adapter knows it."""
    return _adapter(pubsub).node_name


class PubSub:
    """The same functions as a namespace, as Phoenix spells them: ``PubSub.broadcast(...)``."""

    start_link = staticmethod(start_link)
    child_spec = staticmethod(child_spec)
    subscribe = staticmethod(subscribe)
    unsubscribe = staticmethod(unsubscribe)
    broadcast = staticmethod(broadcast)
    broadcast_from = staticmethod(broadcast_from)
    local_broadcast = staticmethod(local_broadcast)
    local_broadcast_from = staticmethod(local_broadcast_from)
    direct_broadcast = staticmethod(direct_broadcast)
    node_name = staticmethod(node_name)
    dispatch = staticmethod(dispatch)


# ---------------------------------------------------------------- helpers


def _adapter(pubsub: str) -> Adapter:
    adapter = Registry.meta(pubsub, _ADAPTER)
    if adapter is None:
        raise LookupError(f"{pubsub!r} is a Registry, not a PubSub")
    return adapter


def _emit_broadcast(pubsub: str, topic: str, from_pid: Pid | None) -> None:
    # Emitted once per broadcast made on this node, after local delivery (a
    # Redis refusal that follows is its own event: ("otp", "pubsub", "redis", "drop")).
    subscribers = len(Registry.lookup(pubsub, topic))
    telemetry.execute(BROADCAST, {"local_subscribers": subscribers}, {"pubsub": pubsub, "topic": topic, "from": from_pid})


def _check_topic(topic: object) -> None:
    if not isinstance(topic, str):
        raise TypeError(f"a PubSub topic must be a str; got {topic!r}")
