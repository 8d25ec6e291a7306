"""The Local adapter: one node, nothing to carry. The default."""

from __future__ import annotations

from ._dispatch import Dispatcher, local_broadcast

__all__ = ["Local"]


class Local:
    """A PubSub adapter for a single node: broadcasts stay local."""

    def __init__(self, node_name: str = "local") -> None:
        self.node_name = node_name

    def __repr__(self) -> str:
        return f"Local({self.node_name!r})"

    def child_spec(self, pubsub: str) -> None:
        return None

    def broadcast(self, pubsub: str, topic: str, message: object, dispatcher: Dispatcher) -> None:
        return None  # there are no other nodes

    def direct_broadcast(self, pubsub: str, node_name: str, topic: str, message: object, dispatcher: Dispatcher) -> None:
        if node_name == self.node_name:
            local_broadcast(pubsub, topic, message, dispatcher=dispatcher)
