"""The demo's supervision tree: PubSub, Presence, the channels' supervisor, and the endpoint.

::

    Supervisor (one_for_one)
    ├── PubSub "chat"            (Registry + Local adapter)
    ├── Metrics                  the dashboard's sampler (web.dashboard), one sample a second
    ├── Presence "chat_presence" (a Tracker broadcasting presence_diff)
    ├── Clock "demo.clock"       a harmless worker to kill from the dashboard and see restarted
    ├── DynamicSupervisor "chat.channels"   one temporary child per joined channel or LiveView
    └── Endpoint                 acceptor + one process per connection (a WebSocket's runs its socket)

One endpoint serves both demos: the channels chat of docs/demo/chat.md (``/``
and ``/socket/websocket``) and the LiveView pages of docs/demo/live.md
(``/live/...`` and ``/live/websocket``, see ``live.py``), each socket over
long-poll too (``/socket/longpoll``, ``/live/longpoll``), and the dashboard
(``/dashboard``): to this machine only, unless started with a dashboard
token (``--dashboard-token`` or ``DASHBOARD_TOKEN``; see web.dashboard).

With workers (``python -m web.demo chat`` runs one per core; ``web.workers``)
each worker runs this tree, built by :func:`worker_children`: the PubSub
reaches the other workers through the parent's broker, so a shout, a
presence diff or a LiveView chat message reaches every worker's sockets,
and the LiveView sessions are signed with a key every worker shares.
"""

from __future__ import annotations

import functools
from importlib import resources

import otp
from otp import ChildSpec, ChildType, DynamicSupervisor, GenServer, PubSub
from web.endpoint import Endpoint
from web.presence import Presence
from web.transports.longpoll import LongPoll
from web.transports.phoenix import phoenix_socket
from web.workers import Worker

from .._http import Request, Response
from .._static import client_script
from .chat import PRESENCE, PUBSUB, ChatSocket

__all__ = ["chat_children", "worker_children", "pages", "endpoint_child"]

_STATIC = resources.files(__package__) / "static"
CHANNELS = "chat.channels"  # the DynamicSupervisor of channel processes


async def pages(request: Request) -> Response:
    """``/``: the channels chat page; the two client scripts."""
    if request.method != "GET":
        return Response(405, {"allow": "GET"}, b"")
    if request.path == "/":
        return Response(200, {"content-type": "text/html; charset=utf-8"}, (_STATIC / "index.html").read_bytes())
    script = client_script(request.path)
    if script is not None:
        return script
    return Response(404, {"content-type": "text/plain"}, b"not found")


def endpoint_child(handler, websocket, host: str, port: int, on_listening=None, reuse_port: bool = False) -> ChildSpec:
    """The endpoint's child spec; ``on_listening(line)`` gets the "listening on http://..." line."""

    async def start_endpoint():
        pid = await Endpoint.start_link(handler, host=host, port=port, websocket=websocket, reuse_port=reuse_port)
        bound_host, bound_port = Endpoint.address(pid)
        if on_listening is not None:
            on_listening(f"listening on http://{bound_host}:{bound_port}")
        return pid

    return ChildSpec(id="endpoint", start=(start_endpoint,), type=ChildType.SUPERVISOR)


class Clock(GenServer):
    """A harmless worker to kill from the dashboard: it counts seconds since it (re)started."""

    async def init(self, arg: object) -> None:
        self.seconds = 0
        otp.send_after(otp.current_pid(), "tick", 1.0)

    async def handle_info(self, message: object) -> None:
        if message == "tick":
            self.seconds += 1
            otp.send_after(otp.current_pid(), "tick", 1.0)

    async def handle_call(self, request: object, caller) -> object:
        return self.seconds


def _on_this_machine(request: Request) -> bool:
    from web.dashboard._access import is_loopback

    return is_loopback(request.peer[0] if request.peer else None)


def chat_children(
    host: str, port: int, *, on_listening=None, dashboard_token: str | None = None, worker: Worker | None = None
) -> list:
    """The tree's children, in start order; ``on_listening(line)`` gets the "listening on" line.

    ``dashboard_token``: without it the dashboard answers only clients on
    this machine (whatever ``host`` is); with it, any client that brings it
    (``/dashboard?token=...`` once). See the threat model in web.dashboard.
    ``worker``: the tree of one worker of several (:func:`worker_children`).
    """
    from web.dashboard import Dashboard

    from .live import live_router

    # With workers, a long-poll session opened on one is polled through whichever its requests reach.
    longpoll_secret = worker.derive_secret("web.demo.longpoll") if worker is not None else None
    longpoll = LongPoll(secret=longpoll_secret) if longpoll_secret is not None else True
    chat_socket = phoenix_socket(ChatSocket, pubsub=PUBSUB, channel_supervisor=CHANNELS, longpoll=longpoll)
    dashboard = Dashboard(path="/dashboard", pubsub=PUBSUB, presence=[PRESENCE], token=dashboard_token)
    secret = worker.derive_secret("web.demo.live") if worker is not None else None
    router = live_router(pubsub=PUBSUB, channel_supervisor=CHANNELS, dashboard=dashboard, secret=secret)
    # The dashboard's check comes first: its pages are served only to whom it admits.
    handler, exporters = dashboard.http(router.http(pages)), []
    try:  # Prometheus metrics at /metrics when the `metrics` extra is installed
        from web.metrics import PrometheusExporter
    except ImportError:
        pass
    else:
        exporter = PrometheusExporter(cluster=worker is not None and worker.clustered)  # with workers: all of them
        # For this machine only, as the dashboard without a token: a scraper elsewhere gets 403.
        handler, exporters = exporter.http(handler, allow=_on_this_machine), [exporter.child_spec()]
    adapter = worker.pubsub_adapter() if worker is not None else None  # None: the Local adapter
    mounts = [chat_socket, router.websocket()]
    return [
        PubSub.child_spec(PUBSUB, adapter=adapter),
        *exporters,
        dashboard.child_spec(),
        Presence.child_spec(PUBSUB, pubsub=PUBSUB, name=PRESENCE, **presence_options(worker)),
        Clock.child_spec(None, name="demo.clock", id="demo.clock"),
        DynamicSupervisor.child_spec(name=CHANNELS),
        endpoint_child(handler, mounts, host, port, on_listening, reuse_port=worker is not None and worker.reuse_port),
        *_direct_endpoint(worker, handler, mounts),
    ]


# With workers, presence changes cross to the other workers at this pace (Phoenix's default is 1.5 s,
# for clusters of machines): a user who joins or leaves on one worker is seen so on all within it.
CLUSTER_PRESENCE_PERIOD = 0.2


def presence_options(worker: Worker | None) -> dict:
    """The Presence tracker's options for ``worker`` (its pace across workers)."""
    return {"broadcast_period": CLUSTER_PRESENCE_PERIOD} if worker is not None and worker.clustered else {}


def _direct_endpoint(worker: Worker | None, handler, mounts: list) -> list:
    """For tests only (``options={"direct_ports": True}``): a second endpoint of this worker alone, on a port
    of its own, announced on stdout as ``direct listening on http://HOST:PORT``.

    On the shared port the kernel picks the worker; a test that must put one
    client on each worker connects to their direct ports instead.
    """
    if worker is None or not worker.options.get("direct_ports"):
        return []
    announce = functools.partial(print, "direct", flush=True)
    spec = endpoint_child(handler, mounts, worker.host, 0, announce)
    return [ChildSpec(id="endpoint.direct", start=spec.start, type=spec.type)]


def worker_children(worker: Worker) -> list:
    """One worker's tree (``web.workers``' app factory): :func:`chat_children` for that worker.

    ``worker.options`` carries the parent's ``dashboard_token``.
    """
    return chat_children(worker.host, worker.port, dashboard_token=worker.options.get("dashboard_token"), worker=worker)
