"""One worker: what the app's factory is told (:class:`Worker`), and the worker process's own life.

A worker OS process is started by the parent (``_parent.py``) as
``python -m web.workers --worker``, with its configuration as one JSON line
on stdin (never in ``ps``: it carries the cluster's secret). It joins the
cluster (``otp.dist``, through the parent's broker), starts the app's
children, prints ``worker <node> ready`` (the parent's ready line), and
runs until it is asked to stop: end of file on stdin, or ``SIGTERM``
(``SIGINT`` too, as any ``otp.run``). Then its tree stops in order (the
endpoint first: its listening socket closes, its WebSockets are told
1012) and the process exits.

End of file on stdin also comes when the parent dies, even by ``SIGKILL``:
the kernel closes the pipe. A thread of its own watches stdin, so a worker
whose event loop is busy still hears it; if its parent is gone, the worker
exits within :data:`ORPHAN_EXIT` seconds whatever its tree is doing, so no
orphan keeps the port.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib
import json
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any, AsyncIterator, Callable

import attrs
import trio

import otp
from otp import ChildSpec, ChildType, Supervisor, dist
from otp.pubsub import Local
from otp.pubsub.adapter import Adapter

__all__ = ["Worker", "AppFactory", "load_app", "serve_worker", "READY", "ORPHAN_EXIT"]

READY = "worker {node} ready"  # what a worker prints once its tree is up (the parent waits for it)
ORPHAN_EXIT = 0.5  # seconds an orphaned worker gives its tree before it exits anyway


@attrs.frozen
class Worker:
    """What one worker is, as the app's factory sees it: ``factory(worker) -> [children]``.

    Attributes:
        index: this worker's number, 1..``count``.
        count: how many workers serve the app.
        node_name: this worker's node in the cluster (``otp.dist``), None
            when the app runs in one process (``workers=1``).
        host, port: where the endpoint must listen (the real port, even
            when the server was started with port 0).
        reuse_port: whether it must listen with ``SO_REUSEPORT`` (its
            siblings listen on the same port).
        bus: the cluster's broker (a ``unix://`` URL); None in one process.
        secret: the cluster's secret (random for each run of the server):
            it signs the frames between nodes, and an app can derive its
            own shared secrets from it (:meth:`derive_secret`). None in one
            process.
        options: the app's own options, as given to ``start_link``
            (JSON values: they travel to the workers on their stdin).
    """

    index: int
    count: int
    host: str
    port: int
    reuse_port: bool = False
    node_name: str | None = None
    bus: str | None = None
    secret: bytes | None = attrs.field(default=None, repr=False)
    options: dict[str, Any] = attrs.field(factory=dict)

    @property
    def clustered(self) -> bool:
        """True when other workers serve the same app (a PubSub must then reach them)."""
        return self.bus is not None

    def pubsub_adapter(self) -> Adapter:
        """The adapter for a PubSub of the app: through the broker to every worker, or Local in one process.

        A new one for each PubSub (an adapter serves one).
        """
        if self.bus is None or self.secret is None or self.node_name is None:
            return Local()
        from otp.pubsub.redis import Redis

        return Redis(self.bus, secret=self.secret, node_name=self.node_name)

    def endpoint_options(self) -> dict[str, Any]:
        """``host``, ``port`` and ``reuse_port`` for ``Endpoint.start_link`` (or ``child_spec``)."""
        return {"host": self.host, "port": self.port, "reuse_port": self.reuse_port}

    def derive_secret(self, purpose: str) -> str | None:
        """A secret for ``purpose`` that every worker of this run shares (None in one process).

        For what must be the same on every worker, such as the key that
        signs LiveView sessions: a page rendered by one worker is joined on
        whichever worker its WebSocket reaches.
        """
        if self.secret is None:
            return None
        return hmac.new(self.secret, purpose.encode(), hashlib.sha256).hexdigest()

    def to_json(self) -> str:
        fields = attrs.asdict(self)
        fields["secret"] = self.secret.hex() if self.secret is not None else None
        return json.dumps(fields)

    @classmethod
    def from_json(cls, line: str) -> Worker:
        fields = json.loads(line)
        if fields.get("secret") is not None:
            fields["secret"] = bytes.fromhex(fields["secret"])
        return cls(**fields)


AppFactory = Callable[[Worker], list]


def load_app(app: str | AppFactory) -> AppFactory:
    """The factory ``app`` names (``"package.module:function"``), or ``app`` itself if it is one.

    Raises:
        ValueError: ``app`` is not ``module:function``.
        ImportError, AttributeError: the module or the function is not there.
    """
    if callable(app):
        return app
    module_name, colon, function = app.partition(":")
    if not colon or not module_name or not function:
        raise ValueError(f"web.workers: app is 'package.module:function' (a factory of the children); got {app!r}")
    factory = importlib.import_module(module_name)
    for part in function.split("."):
        factory = getattr(factory, part)
    if not callable(factory):
        raise TypeError(f"web.workers: {app!r} is not a function: {factory!r}")
    return factory


def node_name(index: int) -> str:
    """A worker's node name: ``worker-<index>@<host name>``."""
    return f"worker-{index}@{socket.gethostname()}"


# ---------------------------------------------------------------- the worker process


def main() -> None:
    """``python -m web.workers --worker``: read the configuration from stdin, serve until told to stop."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    line = sys.stdin.readline()
    if not line:
        sys.exit("web.workers --worker: no configuration on stdin (a worker is started by web.workers.start_link)")
    config = json.loads(line)
    sys.path[:0] = [entry for entry in config.pop("sys_path") if entry not in sys.path]
    app, shutdown = config.pop("app"), config.pop("shutdown")
    worker = Worker.from_json(json.dumps(config))
    factory = load_app(app)
    watch = _StopWatch(os.getppid())
    try:
        otp.run(serve_worker, worker, factory, watch, shutdown_timeout=shutdown)
    except KeyboardInterrupt:
        pass


async def serve_worker(worker: Worker, factory: AppFactory, watch: _StopWatch) -> None:
    """The worker node's root: the cluster and the app's tree, until stdin ends or SIGTERM comes."""
    watch.start()
    children = [*_cluster_children(worker), *factory(worker)]
    with trio.open_signal_receiver(signal.SIGTERM) as signals:  # ours from the start, not only once ready
        await Supervisor.start_link(children)
        print(READY.format(node=worker.node_name), flush=True)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_stop_on_signal, signals, watch)
            await watch.stop.wait()
            nursery.cancel_scope.cancel()
    # Returning ends the root: the app's tree stops in order (otp.run's shutdown).


def _cluster_children(worker: Worker) -> list[ChildSpec]:
    """This node in the cluster (``otp.dist`` through the broker), before the app's children."""
    if worker.bus is None or worker.secret is None or worker.node_name is None:
        return []
    start = functools.partial(dist.start, worker.node_name, redis=worker.bus, secret=worker.secret)
    return [ChildSpec(id="otp.dist", start=(start,), type=ChildType.SUPERVISOR)]


async def _stop_on_signal(signals: AsyncIterator[int], watch: _StopWatch) -> None:
    async for _ in signals:
        watch.stop.set()


class _StopWatch:
    """How a worker learns it must stop: end of file on stdin (the parent closed it, or died), or SIGTERM.

    A thread reads stdin, so the end of file is seen even while the event
    loop is busy; it tells the loop through its trio token.
    """

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.stop = trio.Event()
        self.orphaned = False

    def start(self) -> None:
        token = trio.lowlevel.current_trio_token()
        threading.Thread(target=self._watch_stdin, args=(token,), name="web.workers: stdin", daemon=True).start()

    def _watch_stdin(self, token: trio.lowlevel.TrioToken) -> None:
        try:
            while os.read(sys.stdin.fileno(), 65536):
                pass  # (nothing more is sent after the configuration)
        except OSError:
            pass
        if os.getppid() != self.parent:  # adopted by another process: the parent died
            self.orphaned = True
            exit_timer = threading.Timer(ORPHAN_EXIT, os._exit, (1,))
            exit_timer.daemon = True
            exit_timer.start()
        try:
            token.run_sync_soon(self.stop.set)
        except trio.RunFinishedError:
            pass
