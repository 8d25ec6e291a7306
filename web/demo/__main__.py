"""Run the demo app: ``python -m web.demo chat [--port 4000] [--host 127.0.0.1] [--workers N]``.

One supervision tree (``web/demo/app.py``): a PubSub, a Presence tracker
and an endpoint serving the channels chat of docs/demo/chat.md (page ``/``, socket
``/socket/websocket``) and the LiveView pages of docs/demo/live.md (``/live/counter``,
``/live/chat``, ``/live/upload``, ``/live/async``; socket ``/live/websocket``).
``live`` is the same app. It prints ``listening on http://HOST:PORT`` once
it accepts connections; Ctrl-C (or SIGTERM) stops it in order.

It runs on every core: ``--workers N`` worker processes (default: one per
core) each run that tree, on the same port, joined in one cluster
(``web.workers``): a shout or a presence change on one worker reaches the
sockets of all. ``--workers 1`` runs the tree in this one process.

The dashboard (``/dashboard``) can kill processes and start chaos runs, so
by default it answers only browsers on this machine, even with ``--host
0.0.0.0``. ``--dashboard-token TOKEN`` (or the ``DASHBOARD_TOKEN``
environment variable, which unlike an argument other users of the machine
cannot read in ``ps``) opens it to any browser that brings the token:
``http://HOST:PORT/dashboard?token=TOKEN`` once, then a cookie.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import sys

import trio

import otp
from otp import Supervisor
from web import workers
from web.workers import default_workers

from .app import chat_children

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m web.demo", description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=["chat", "live"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument(
        "--workers", type=int, default=None,
        help=f"worker processes, each serving the app on the same port (default: one per core, {default_workers()} here)",
    )
    parser.add_argument(
        "--dashboard-token", default=os.environ.get("DASHBOARD_TOKEN") or None,
        help="let any browser that brings this token open /dashboard (default: $DASHBOARD_TOKEN; "
             "without one, only browsers on this machine may)",
    )
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    announce = functools.partial(print, flush=True)
    try:
        children = chat_children(args.host, args.port, on_listening=announce, dashboard_token=args.dashboard_token)
    except ValueError as error:  # a token too short, or with characters a cookie cannot carry
        parser.error(str(error))
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers is a number of processes, at least 1; got {args.workers}")

    async def main() -> None:
        with trio.open_signal_receiver(signal.SIGTERM) as signals:  # (ours before "listening on" is printed)
            await Supervisor.start_link(children)
            async for _ in signals:  # until SIGTERM (or Ctrl-C)
                return  # the root ends: the tree stops in order, as after Ctrl-C

    if (args.workers or default_workers()) == 1:
        try:
            otp.run(main)
        except KeyboardInterrupt:
            pass
    else:
        try:
            workers.run(
                "web.demo.app:worker_children", workers=args.workers, host=args.host, port=args.port,
                options={"dashboard_token": args.dashboard_token}, on_listening=announce,
            )
        except OSError as error:  # the port is taken
            parser.error(f"cannot listen on {args.host}:{args.port}: {error}")

