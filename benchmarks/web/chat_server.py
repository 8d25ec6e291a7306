"""The web benchmarks' server under test: the demo chat's supervision tree, as ``make demo`` runs it.

::

    python -m benchmarks.web.chat_server     # prints "listening on http://127.0.0.1:PORT"

The tree of ``web/demo/app.py`` (PubSub, Presence, the channels'
DynamicSupervisor, the Endpoint with the Phoenix socket) under ``otp.run``,
with the demo's ``ChatSocket`` and ``RoomChannel`` and one change made for
load, by subclassing: topics ``quiet:<room>`` route to ``RoomChannel``
without Presence. C2 joins N sockets to *one* topic, and with Presence
every join broadcasts a ``presence_diff`` to everyone already there and
pushes the whole ``presence_state`` to the joiner: N²/2 frames (50 million
at 10,000), which would time the joins, not the fan-out. (Big rooms in
Phoenix also do without Presence or with a sampled one.) Sockets have no
message-rate limit by default, so the load generator needs no change there.

``load.server("ours")`` starts it in an OS process of its own.
"""

from __future__ import annotations

import logging
import sys

from .._harness.servers import HOST, announce, raise_fd_limit

__all__ = ["serve"]


def serve() -> None:
    """Run the demo chat tree on a free port of :data:`HOST` until killed."""
    # Imported here, when serving: importing this module costs nothing.
    import otp
    from otp import ChildSpec, ChildType, DynamicSupervisor, PubSub, Supervisor
    from web.channel import Ok
    from web.demo.app import CHANNELS, pages
    from web.demo.chat import PRESENCE, PUBSUB, ChatSocket, RoomChannel
    from web.endpoint import Endpoint
    from web.presence import Presence
    from web.transports.phoenix import phoenix_socket

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    class QuietRoomChannel(RoomChannel):
        """The demo's room without Presence (no ``after_join`` track): for the one-topic fan-out."""

        async def join(self, topic, payload, socket):
            return Ok({"room": topic.partition(":")[2], "user": socket.assigns["user"]})

    class BenchSocket(ChatSocket):
        def route(self, topic):
            if topic.startswith("quiet:"):
                return QuietRoomChannel
            return super().route(topic)

    # chat_children (web/demo/app.py) with BenchSocket for ChatSocket.
    async def start_endpoint():
        socket = phoenix_socket(BenchSocket, pubsub=PUBSUB, channel_supervisor=CHANNELS)
        pid = await Endpoint.start_link(pages, host=HOST, port=0, websocket=socket)
        announce(*Endpoint.address(pid))
        return pid

    children = [
        PubSub.child_spec(PUBSUB),
        Presence.child_spec(PUBSUB, pubsub=PUBSUB, name=PRESENCE),
        DynamicSupervisor.child_spec(name=CHANNELS),
        ChildSpec(id="endpoint", start=(start_endpoint,), type=ChildType.SUPERVISOR),
    ]

    async def main() -> None:
        await Supervisor.start_link(children)
        await otp.receive(lambda m: False)  # until killed

    otp.run(main)


if __name__ == "__main__":
    raise_fd_limit()
    try:
        serve()
    except KeyboardInterrupt:
        pass
