"""Run the demo app: ``python -m web.demo chat [--port 4000] [--host 127.0.0.1]``.

One supervision tree (``web/demo/app.py``): a PubSub, a Presence tracker
and an endpoint serving the channels chat of docs/demo/chat.md (page ``/``, socket
``/socket/websocket``) and the LiveView pages of docs/demo/live.md (``/live/counter``,
``/live/chat``, ``/live/upload``, ``/live/async``; socket ``/live/websocket``).
``live`` is the same app. It prints ``listening on http://HOST:PORT`` once
it accepts connections; Ctrl-C stops it in order.

The dashboard (``/dashboard``) can kill processes and start chaos runs, so
by default it answers only browsers on this machine, even with ``--host
0.0.0.0``. ``--dashboard-token TOKEN`` (or the ``DASHBOARD_TOKEN``
environment variable, which unlike an argument other users of the machine
cannot read in ``ps``) opens it to any browser that brings the token:
``http://HOST:PORT/dashboard?token=TOKEN`` once, then a cookie.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import otp
from otp import Supervisor

from .app import chat_children

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m web.demo", description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=["chat", "live"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument(
        "--dashboard-token", default=os.environ.get("DASHBOARD_TOKEN") or None,
        help="let any browser that brings this token open /dashboard (default: $DASHBOARD_TOKEN; "
             "without one, only browsers on this machine may)",
    )
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    try:
        children = chat_children(args.host, args.port, on_listening=print, dashboard_token=args.dashboard_token)
    except ValueError as error:  # a token too short, or with characters a cookie cannot carry
        parser.error(str(error))

    async def main() -> None:
        await Supervisor.start_link(children)
        await otp.receive(lambda m: False)  # until Ctrl-C

    try:
        otp.run(main)
    except KeyboardInterrupt:
        pass

