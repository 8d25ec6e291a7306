"""Run a demo app: ``python -m web.demo chat|live [--port 4000] [--host 127.0.0.1]``.

``live`` serves the LiveView counter at ``/counter`` (``web/demo/live.py``).

``chat`` is the DEMO_CHAT.md app: a PubSub, a Presence tracker and an
endpoint serving the chat page at ``/`` and the Phoenix socket at
``/socket/websocket``, all under one supervisor. It prints ``listening on
http://HOST:PORT`` once it accepts connections; Ctrl-C stops it in order.
"""

from __future__ import annotations

import argparse
import logging
import sys

import otp
from otp import Supervisor

from .app import chat_children
from .live import live_children

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m web.demo", description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=["chat", "live"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        children = chat_children if args.app == "chat" else live_children
        await Supervisor.start_link(children(args.host, args.port, on_listening=print))
        await otp.receive(lambda m: False)  # until Ctrl-C

    try:
        otp.run(main)
    except KeyboardInterrupt:
        pass

