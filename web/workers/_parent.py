"""The parent: the broker, the port, and one supervised Program per worker (see ``web.workers``)."""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import weakref
from typing import Any, Callable

import trio

import otp
from otp import ChildSpec, ChildType, Destination, GenServer, Pid, Supervisor
from otp.lowlevel import resolve_pid
from otp.program import Program

from .._listen import reserve_port
from ._worker import READY, AppFactory, Worker, load_app, node_name

__all__ = ["start_link", "child_spec", "address", "default_workers", "run"]

OutputHandler = Callable[[str, str, str], None]


def default_workers() -> int:
    """The number of cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class _Served:
    """What the parent's tree serves: the address (and the port reservation), the broker's directory."""

    def __init__(self, host: str, port: int, reservation: trio.socket.SocketType | None, directory: str | None) -> None:
        self.host, self.port = host, port
        self.reservation, self.directory = reservation, directory

    def close(self) -> None:
        if self.reservation is not None:
            self.reservation.close()
            self.reservation = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)  # the broker removed its socket already
            self.directory = None


# The tree's top supervisor -> what it serves; weak: it lives as long as its keeper process.
_SERVED: weakref.WeakValueDictionary[Pid, _Served] = weakref.WeakValueDictionary()


class _Keeper(GenServer):
    """The tree's first child: keeps the port reserved and the broker's directory, and gives both back last."""

    async def init(self, served: _Served) -> None:
        otp.trap_exits(True)  # so that terminate runs on shutdown
        self.served = served

    async def terminate(self, reason: object) -> None:
        self.served.close()


async def start_link(
    app: str | AppFactory,
    *,
    workers: int | None = None,
    host: str = "127.0.0.1",
    port: int = 4000,
    options: dict[str, Any] | None = None,
    on_output: OutputHandler | None = None,
    ready_timeout: float = 60.0,
    shutdown: float = 10.0,
    name: str | None = None,
) -> Pid:
    """Serve ``app`` with ``workers`` OS processes on ``host``:``port``; return the tree's pid once all are ready.

    See the module docstring (``web.workers``) for the options and the tree.

    Raises:
        ValueError: ``workers`` is not a positive number, or ``app`` is not
            ``module:function`` (or is defined in ``__main__``, which a
            worker cannot import).
        OSError: the port is taken (by a server that does not share it).
        StartError: a worker did not start (its output, on stderr, says why).
    """
    count = default_workers() if workers is None else workers
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"web.workers: workers must be a positive number of processes (or None: one per core); got {workers!r}")
    served = await _serve_on(host, port, count)
    try:
        if count == 1:
            worker = Worker(1, 1, host, served.port, reuse_port=served.reservation is not None, options=dict(options or {}))
            children = load_app(app)(worker)
        else:
            children = _cluster_children(_app_name(app), count, served, options, on_output, ready_timeout, shutdown)
        pid = await Supervisor.start_link(
            [_keeper(served), *children], max_restarts=max(3, 2 * count), max_seconds=5.0, name=name
        )
    except BaseException:
        served.close()  # the port and the directory go back, whatever failed
        raise
    _SERVED[pid] = served
    return pid


async def _serve_on(host: str, port: int, count: int) -> _Served:
    """The port (reserved when workers share it, or to learn the one port 0 picks) and, for a cluster, a directory."""
    reservation = await reserve_port(host, port) if (count > 1 or port == 0) else None
    bound = reservation.getsockname()[1] if reservation is not None else port
    directory = tempfile.mkdtemp(prefix="web-workers-") if count > 1 else None  # mode 0700: only this user enters
    return _Served(host, bound, reservation, directory)


def child_spec(app: str | AppFactory, *, id: object = "web.workers", **options: Any) -> ChildSpec:
    """A child spec for a supervisor; ``options`` are those of :func:`start_link`."""
    return ChildSpec(id=id, start=(functools.partial(start_link, app, **options),), type=ChildType.SUPERVISOR)


def address(served: Destination) -> tuple[str, int]:
    """``(host, port)`` the workers of the tree ``served`` listen on (the real port when started with 0)."""
    pid = resolve_pid(served)
    state = _SERVED.get(pid) if pid is not None else None
    if state is None:
        raise LookupError(f"{served!r} is not a running web.workers tree; start one with web.workers.start_link(app)")
    return state.host, state.port


def _keeper(served: _Served) -> ChildSpec:
    return _Keeper.child_spec(served, id="web.workers.keeper")


def _app_name(app: str | AppFactory) -> str:
    """``app`` as a worker can import it: ``module:function``."""
    if isinstance(app, str):
        load_app(app)  # a typo fails here, in the parent, once, not in every worker at every restart
        return app
    module, qualname = getattr(app, "__module__", None), getattr(app, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        raise ValueError(
            f"web.workers: a worker imports the app by name, and cannot import {app!r}: give 'module:function' "
            f"of a module it can import (not __main__)"
        )
    return f"{module}:{qualname}"


def _cluster_children(
    app: str, count: int, served: _Served, options: dict[str, Any] | None, on_output: OutputHandler | None,
    ready_timeout: float, shutdown: float,
) -> list[ChildSpec]:
    from otp.pubsub.broker import Broker

    assert served.directory is not None  # (made for a cluster)
    bus = os.path.join(served.directory, "bus.sock")
    secret = secrets.token_bytes(32)
    children = [Broker.child_spec(path=bus)]
    for index in range(1, count + 1):
        worker = Worker(
            index, count, served.host, served.port, reuse_port=True, node_name=node_name(index),
            bus=f"unix://{bus}", secret=secret, options=dict(options or {}),
        )
        config = {**json.loads(worker.to_json()), "app": app, "shutdown": shutdown, "sys_path": sys.path}
        children.append(Program.child_spec(
            [sys.executable, "-m", "web.workers", "--worker"], id=f"worker-{index}", label=f"worker-{index}",
            input=json.dumps(config) + "\n", ready=f"^{READY.format(node=worker.node_name)}$",
            ready_timeout=ready_timeout, eof_timeout=shutdown + 1.0, shutdown=5.0,
            on_output=_all_but_ready(on_output or relay_to_stderr, READY.format(node=worker.node_name)),
        ))
    return children


def _all_but_ready(on_output: OutputHandler, ready: str) -> OutputHandler:
    """``on_output`` for every line but the ready line (the parent says "listening on" for all)."""

    def handle(label: str, line: str, stream: str) -> None:
        if line != ready:
            on_output(label, line, stream)

    return handle


def relay_to_stderr(label: str, line: str, stream: str) -> None:
    """A worker's output line, on this process's stderr as ``[worker-1] line``."""
    print(f"[{label}] {line}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- running it until stopped


def run(app: str | AppFactory, *, on_listening: Callable[[str], None] | None = print, **options: Any) -> None:
    """Serve ``app`` (:func:`start_link`'s options) until Ctrl-C or SIGTERM; then stop everything in order.

    ``on_listening`` gets ``"listening on http://HOST:PORT"`` once every
    worker is ready.
    """
    shutdown = options.get("shutdown", 10.0)
    count = options.get("workers") or default_workers()
    try:
        # The workers stop one after the other, each within its own stop sequence.
        otp.run(_serve_until_stopped, app, options, on_listening, shutdown_timeout=count * (shutdown + 7.0))
    except KeyboardInterrupt:
        pass


async def _serve_until_stopped(app: str | AppFactory, options: dict[str, Any], on_listening) -> None:
    # SIGTERM is ours before anyone hears we listen: one sent at once must stop the tree in order too.
    with trio.open_signal_receiver(signal.SIGTERM) as signals:
        tree = await start_link(app, **options)
        if on_listening is not None:
            host, port = address(tree)
            on_listening(f"listening on http://{host}:{port}")
        async for _ in signals:
            return  # the root ends: its tree stops in order, as after Ctrl-C
