"""PubSub: publish messages on topics to every subscribed process, on every node.

Phoenix.PubSub's model and API. A PubSub is a small supervision tree: a
duplicate-key :class:`Registry` (topic → subscribers) named after the
PubSub, plus whatever processes its adapter needs, under ``REST_FOR_ONE``
(if the registry restarts, the adapter restarts after it)::

    import otp
    from otp import pubsub

    async def main():
        await pubsub.start_link("chat")                   # Local adapter by default
        pubsub.subscribe("chat", "room:1")
        pubsub.broadcast("chat", "room:1", ("new_msg", "hi"))
        return await otp.receive()

    otp.run(main)                                        # -> ('new_msg', 'hi')

Functions
---------
All sync (they never wait): ``subscribe(pubsub, topic, metadata=None)``,
``unsubscribe(pubsub, topic)``, ``broadcast(pubsub, topic, message)``,
``broadcast_from(pubsub, from_pid, topic, message)`` (everyone but
``from_pid``), ``local_broadcast`` / ``local_broadcast_from`` (this node
only), ``direct_broadcast(node_name, pubsub, topic, message)`` (one node),
``node_name(pubsub)``.

Dispatchers
-----------
By default a broadcast is ``send(pid, message)`` to each subscriber. Pass
``dispatcher=`` to do something else with the subscriber list at once — it
gets ``(entries, from_pid, message)``, where ``entries`` are ``(pid,
metadata)`` pairs. The web layer uses this to encode a broadcast once and
write it to every socket (Phoenix's fastlane). A dispatcher must be a
module-level function (it travels to other nodes by reference).

Telemetry
---------
Each ``broadcast`` and ``broadcast_from`` emits ``("otp", "pubsub",
"broadcast")`` with the number of local subscribers (see ``otp.telemetry``;
the Redis adapter adds its reconnects and drops).

Adapters
--------
``start_link(name, adapter=Local())``. The adapter protocol is in
:mod:`otp.pubsub.adapter`; ``otp.pubsub.redis`` (extra ``redis``) carries
broadcasts between nodes through a Redis server.
"""

from .._util import fixup_module_metadata as _fixup_module_metadata
from ._dispatch import dispatch, local_broadcast, local_broadcast_from
from ._local import Local
from ._pubsub import (
    PubSub,
    broadcast,
    broadcast_from,
    child_spec,
    direct_broadcast,
    node_name,
    start_link,
    subscribe,
    topics,
    unsubscribe,
)
from .adapter import Adapter

__all__ = [
    "PubSub",
    "start_link",
    "child_spec",
    "subscribe",
    "unsubscribe",
    "topics",
    "broadcast",
    "broadcast_from",
    "local_broadcast",
    "local_broadcast_from",
    "direct_broadcast",
    "node_name",
    "dispatch",
    "Adapter",
    "Local",
]

_fixup_module_metadata(__name__, globals())
