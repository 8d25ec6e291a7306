"""L1's server: the benchmark app (``app.py``) on a real Endpoint, in an OS process of its own.

::

    python -m benchmarks.live.server [--compress]   # prints "listening on http://127.0.0.1:PORT"

PubSub and a channels DynamicSupervisor as the demo has, the
:func:`~benchmarks.live.app.router` mounted for HTTP (dead renders) and for
``/live/websocket``, as shipped (sockets have no message-rate limit by
default, so the load generator's clicks are never slowed). ``--compress``
mounts ``/live/websocket`` with ``compress=True`` (permessage-deflate is
off by default, as in Phoenix), for ``web-deflate`` (C5) alone.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .._harness.servers import HOST, announce
from .app import CHANNELS, PUBSUB, router

__all__ = ["serve"]


def serve(compress: bool = False) -> None:
    """Run the app on a free port of :data:`HOST` until killed; ``compress``: the WebSocket's option."""
    import otp
    from otp import DynamicSupervisor, PubSub
    from web.endpoint import Endpoint

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        await PubSub.start_link(PUBSUB)
        await DynamicSupervisor.start_link(name=CHANNELS)
        live = router(PUBSUB, CHANNELS)
        endpoint = await Endpoint.start_link(live.http(), host=HOST, port=0, websocket=live.websocket(compress=compress))
        announce(*Endpoint.address(endpoint))
        await otp.receive(lambda m: False)  # until killed

    otp.run(main)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.live.server", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--compress", action="store_true",
        help="permessage-deflate with the clients that offer it (off by default; for web-deflate)",
    )
    arguments = parser.parse_args()
    try:
        serve(arguments.compress)
    except KeyboardInterrupt:
        pass
