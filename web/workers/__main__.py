"""``python -m web.workers package.module:factory [--workers N] [--host H] [--port P]``: serve an app on every core.

(``--worker`` is how the parent starts each worker; not for use by hand.)
"""

from __future__ import annotations

import argparse
import logging
import sys

from . import default_workers, run
from ._worker import main as worker_main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m web.workers", description=__doc__.splitlines()[0])
    parser.add_argument("app", nargs="?", help="package.module:factory, the function that returns the children")
    parser.add_argument("--workers", type=int, default=None, help=f"worker processes (default: one per core, {default_workers()} here)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main()
    if args.app is None:
        parser.error("name the app: package.module:factory")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        run(args.app, workers=args.workers, host=args.host, port=args.port)
    except (ValueError, OSError) as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
