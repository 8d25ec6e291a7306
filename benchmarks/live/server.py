"""L1's server: the benchmark app (``app.py``) on a real Endpoint, in an OS process of its own.

::

    python -m benchmarks.live.server         # prints "listening on http://127.0.0.1:PORT"

PubSub and a channels DynamicSupervisor as the demo has, the
:func:`~benchmarks.live.app.router` mounted for HTTP (dead renders) and for
``/live/websocket``, as shipped (sockets have no message-rate limit by
default, so the load generator's clicks are never slowed).
"""

from __future__ import annotations

import logging
import sys

from .._harness.servers import HOST, announce
from .app import CHANNELS, PUBSUB, router

__all__ = ["serve"]


def serve() -> None:
    """Run the app on a free port of :data:`HOST` until killed."""
    import otp
    from otp import DynamicSupervisor, PubSub
    from web.endpoint import Endpoint

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        await PubSub.start_link(PUBSUB)
        await DynamicSupervisor.start_link(name=CHANNELS)
        live = router(PUBSUB, CHANNELS)
        endpoint = await Endpoint.start_link(live.http(), host=HOST, port=0, websocket=live.websocket())
        announce(*Endpoint.address(endpoint))
        await otp.receive(lambda m: False)  # until killed

    otp.run(main)


if __name__ == "__main__":
    try:
        serve()
    except KeyboardInterrupt:
        pass
