"""The PubSub adapter protocol: how a broadcast reaches the other nodes.

A PubSub delivers to local subscribers itself (through its Registry); the
adapter only carries broadcasts to other nodes, and brings theirs back.
Four members, as in Phoenix.PubSub.Adapter:

* ``node_name``: the name of this node as the adapter knows it;
* ``child_spec(pubsub)``: the processes the adapter needs (connections,
  listeners), started under the PubSub's supervisor after its registry;
  None if it needs none;
* ``broadcast(pubsub, topic, message, dispatcher)``: send to every *other*
  node; raise if that is impossible now (never lose it silently);
* ``direct_broadcast(pubsub, node_name, topic, message, dispatcher)``: send
  to one node (possibly this one).

An adapter that receives a broadcast from another node hands it to
``otp.pubsub.local_broadcast`` with the dispatcher it came with. Adapters
are tested by one shared suite (``tests/pubsub/adapter_suite.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .._child_spec import ChildSpec
    from ._dispatch import Dispatcher

__all__ = ["Adapter"]


@runtime_checkable
class Adapter(Protocol):
    node_name: str

    def child_spec(self, pubsub: str) -> ChildSpec | None: ...

    def broadcast(self, pubsub: str, topic: str, message: object, dispatcher: Dispatcher) -> None: ...

    def direct_broadcast(
        self, pubsub: str, node_name: str, topic: str, message: object, dispatcher: Dispatcher
    ) -> None: ...
