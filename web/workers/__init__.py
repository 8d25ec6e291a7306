"""Every core: one app served by N worker OS processes on one port, as one cluster.

A node runs its processes in one OS thread, so one endpoint uses one core.
``web.workers`` runs the app in N worker processes (one per core by
default), each a node with its own endpoint listening on the same port
(``SO_REUSEPORT``: the kernel spreads connections among them), all joined
in one cluster through a broker the parent runs, so that a broadcast on
any worker reaches the subscribers of every worker, Presence lists are
the same everywhere, and ``otp.dist`` calls, sends and monitors work
between workers. Nothing besides Python runs: the broker
(:mod:`otp.pubsub.broker`) is a node of ours on a Unix socket::

    # myapp.py: the children of each worker's tree, built for that worker
    from otp import PubSub
    from web import Endpoint, Presence

    def children(worker):
        return [
            PubSub.child_spec("chat", adapter=worker.pubsub_adapter()),
            Presence.child_spec("chat", pubsub="chat", name="presence"),
            Endpoint.child_spec(handler, websocket=..., **worker.endpoint_options()),
        ]

and serve it::

    python -m web.workers myapp:children --port 4000               # one worker per core
    python -m web.workers myapp:children --port 4000 --workers 1   # one process, as without workers

or from Python: ``web.workers.run("myapp:children", port=4000)`` (until
Ctrl-C or SIGTERM), or ``await web.workers.start_link("myapp:children",
port=4000)`` inside a node (``web.workers.child_spec(...)`` under a
supervisor).

The factory
-----------
``app`` names a function (``"package.module:function"``; each worker
imports it) that takes a :class:`Worker` and returns the children of that
worker's tree. What it must do for the workers to be one server:

* start each PubSub with ``adapter=worker.pubsub_adapter()`` (the broker
  between workers; the ``Local`` adapter in one process);
* start its endpoint with ``**worker.endpoint_options()`` (the port, and
  ``reuse_port``);
* derive what must be equal on every worker from the run's shared secret,
  ``worker.derive_secret("purpose")`` (a LiveView router's signing key: a
  page rendered by one worker is joined through whichever worker its
  WebSocket reaches; a long-poll mount's ``LongPoll(secret=...)``: a
  client's polls reach any worker, and each is relayed to the worker
  that holds its session); anything a worker keeps to itself in memory (a
  counter, a cache) is per worker.

``options=`` (JSON values) reach every worker as ``worker.options``.

The tree
--------
::

    web.workers (Supervisor, one_for_one)
    ├── keeper        holds the port (a bound SO_REUSEPORT socket) and the broker's
    │                 private directory, and gives both back when the tree stops
    ├── broker        otp.pubsub.broker on <private directory>/bus.sock
    ├── worker-1      a Program: python -m web.workers --worker
    ├── ...           (its configuration and the cluster's secret on its stdin)
    └── worker-N

``start_link`` returns once every worker printed its ready line (its tree
is up, its endpoint listening), one after the other; ``address(tree)`` is
the ``(host, port)`` they serve (``port=0`` picks a free port, shared by
all). A worker that dies is restarted (within the tree's restart
intensity, ``2 × N`` restarts in 5 s); its clients' connections end with
it, and the official clients reconnect by themselves, to whichever worker
the kernel picks. A worker's output (its log) comes out on the parent's
stderr, each line as ``[worker-2] ...`` (``on_output=`` takes it instead,
as :class:`otp.program.Program` does).

Stopping
--------
Ctrl-C or ``SIGTERM`` (or the tree's supervisor shutting it down) stops
the workers newest first, each in order: its stdin is closed, and the
worker stops its own tree in order (the endpoint first: its listening
socket closes and its WebSockets are told 1012), given ``shutdown``
seconds (10) to do so; then ``SIGTERM``, then ``SIGKILL`` 5 s later; then
the broker, then the port. A worker whose parent dies, even by
``SIGKILL``, sees its stdin end and exits within half a second (a thread
watches it, so a busy event loop does not delay it): no orphan keeps the
port.

With ``workers=1`` the app's children run in this process, as they would
without ``web.workers`` (``worker.node_name`` and ``worker.bus`` are None,
``pubsub_adapter()`` is ``Local``).

Across machines
---------------
The broker joins the workers of one machine. To join the nodes of several
machines, use Redis (:mod:`otp.pubsub.redis`, ``otp.dist.start(redis=...)``)
in the factory instead of ``worker.pubsub_adapter()``: the workers then
talk through Redis, as separate nodes.
"""

from otp._util import fixup_module_metadata as _fixup_module_metadata

from ._parent import address, child_spec, default_workers, relay_to_stderr, run, start_link
from ._worker import Worker

__all__ = ["Worker", "start_link", "child_spec", "address", "run", "default_workers", "relay_to_stderr"]

_fixup_module_metadata(__name__, globals())
