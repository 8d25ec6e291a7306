"""The web benchmarks' server under test: the demo chat's supervision tree, as ``make demo`` runs it.

::

    python -m benchmarks.web.chat_server [--workers N] [--compress]   # prints "listening on http://127.0.0.1:PORT"

As the demo ships, on every core: ``web.workers`` runs one worker process
per core (``--workers N`` for another count; 1 is a single process), each
running the tree of ``web/demo/app.py`` (PubSub through the parent's
broker, Presence, the channels' DynamicSupervisor, the Endpoint with the
Phoenix socket on the shared port) built by :func:`children`, with the
demo's ``ChatSocket`` and ``RoomChannel`` and one change made for load, by
subclassing: topics ``quiet:<room>`` route to ``RoomChannel`` without
Presence. C2 joins N sockets to *one* topic, and with Presence every join
broadcasts a ``presence_diff`` to everyone already there and pushes the
whole ``presence_state`` to the joiner: N²/2 frames (50 million at
10,000), which would time the joins, not the fan-out. (Big rooms in
Phoenix also do without Presence or with a sampled one.) Sockets have no
message-rate limit by default, so the load generator needs no change there.
As the demo ships, its socket does not compress (permessage-deflate is
off by default, as in Phoenix); ``--compress`` mounts it with
``compress=True``, for ``web-deflate`` (C5) alone.

``BENCH_WORKERS=1 python -m benchmarks web-pingpong`` runs the same
workloads against one worker, for comparison (the shipped default is one
per core). ``load.server("ours")`` starts it in an OS process of its own (the parent;
its workers below it: the benchmarks read the whole tree's RSS and CPU).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .._harness.servers import HOST, announce, raise_fd_limit

__all__ = ["serve", "children"]


def children(worker) -> list:
    """One worker's tree (the ``web.workers`` app factory): the demo's, with the ``quiet:`` rooms.

    ``worker.options["compress"]`` (``--compress``): the socket's ``compress`` option (default False).
    """
    # Imported here, when serving: importing this module costs nothing.
    from otp import ChildSpec, ChildType, DynamicSupervisor, PubSub
    from web.channel import Ok
    from web.demo.app import CHANNELS, pages, presence_options
    from web.demo.chat import PRESENCE, PUBSUB, ChatSocket, RoomChannel
    from web.endpoint import Endpoint
    from web.presence import Presence
    from web.transports.phoenix import phoenix_socket

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
        compress = bool(worker.options.get("compress", False))
        socket = phoenix_socket(BenchSocket, pubsub=PUBSUB, channel_supervisor=CHANNELS, compress=compress)
        return await Endpoint.start_link(pages, websocket=socket, **worker.endpoint_options())

    return [
        PubSub.child_spec(PUBSUB, adapter=worker.pubsub_adapter()),
        Presence.child_spec(PUBSUB, pubsub=PUBSUB, name=PRESENCE, **presence_options(worker)),
        DynamicSupervisor.child_spec(name=CHANNELS),
        ChildSpec(id="endpoint", start=(start_endpoint,), type=ChildType.SUPERVISOR),
    ]


def serve(workers: int | None = None, compress: bool = False) -> None:
    """Run the demo chat tree on ``workers`` processes (default: one per core) on a free port of :data:`HOST`.

    ``compress``: its socket compresses with the clients that offer it (``compress=True``).
    """
    from web import workers as web_workers

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    web_workers.run(
        "benchmarks.web.chat_server:children", workers=workers, host=HOST, port=0, options={"compress": compress},
        on_listening=lambda line: announce(HOST, int(line.rsplit(":", 1)[1])),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web.chat_server", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 0)) or None,
        help="worker processes (default: $BENCH_WORKERS, else one per core, as the demo ships)",
    )
    parser.add_argument(
        "--compress", action="store_true",
        help="permessage-deflate with the clients that offer it (off by default, as the demo ships; for web-deflate)",
    )
    raise_fd_limit()  # (the workers inherit it)
    arguments = parser.parse_args()
    serve(arguments.workers, arguments.compress)
