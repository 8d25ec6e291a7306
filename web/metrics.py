"""Prometheus metrics from telemetry events, served at ``/metrics`` (the ``metrics`` extra).

``prometheus_client`` does the counting and the text format; this module
only maps our telemetry events (see ``otp.telemetry``) onto its metrics::

    exporter = PrometheusExporter()           # its own CollectorRegistry
    exporter.attach()                         # telemetry handlers from now on
    handler = exporter.http(pages)            # GET /metrics, else pages(request)
    ...
    exporter.detach()

or, in a supervision tree, ``exporter.child_spec()``: a process that
attaches when it starts and detaches when it stops.

=====================================================  ===========================================
metric                                                 from
=====================================================  ===========================================
``otp_process_spawns_total``                           ``("otp", "process", "spawn")``
``otp_process_exits_total{reason}``                    ``("otp", "process", "exit")``: ``normal``,
                                                       ``shutdown``, ``killed`` or ``error``
``otp_supervisor_restarts_total{supervisor}``          ``("otp", "supervisor", "restart")``
``otp_supervisor_give_ups_total{supervisor}``          ``("otp", "supervisor", "give_up")``
``otp_genserver_call_duration_seconds``                ``("otp", "genserver", "call", "stop")``
``otp_pubsub_broadcasts_total{pubsub}``                ``("otp", "pubsub", "broadcast")``
``web_connections_active``                             ``("web", "connection", "open" | "close")``
``web_channel_joins_total{result}``                    ``("web", "channel", "join")``
``web_channel_crashes_total``                          ``("web", "channel", "crash")``
``web_live_view_event_duration_seconds{view}``         ``("web", "live_view", "handle_event", "stop")``
``web_live_view_diff_bytes``                           ``("web", "live_view", "render", "stop")``
``otp_gc_pause_seconds{generation}``                   ``("otp", "vm", "gc")``: each garbage-collector
                                                       pass (its ``_count`` is the passes)
``otp_gc_max_pause_seconds``                           ``otp.collector.statistics()`` when scraped
``otp_gc_frozen_objects``                              ``otp.collector.statistics()`` when scraped
=====================================================  ===========================================

The collector's passes are emitted by whoever calls ``otp.collector.emit()``
(the endpoint's statistics tick, the dashboard's sampler); a scrape calls it
too, so ``/metrics`` has every pass up to that moment even on a node that
does neither. Pauses over 20 ms are what a server must not have (a fresh
client's round trip waits for them): ``otp_gc_pause_seconds_bucket`` has a
bound there.

Handlers run in the process that emits: each is one increment or one
observation, and ``prometheus_client`` metrics are safe to update there.

A cluster in one scrape
-----------------------
Each node counts its own. With several nodes behind one address (the
workers of :mod:`web.workers` share a port, and the kernel picks which one
answers), ``PrometheusExporter(cluster=True)`` makes ``/metrics`` on any
node answer for every node: the node scraped asks the others
(``otp.dist``, each node's exporter process is registered as
:data:`CLUSTER_NAME`), and every sample carries a ``node`` label::

    otp_gc_max_pause_seconds{node="worker-1@host"} 0.012
    otp_gc_max_pause_seconds{node="worker-2@host"} 0.009

A node that does not answer within :data:`CLUSTER_TIMEOUT` seconds is left
out of that scrape (``web_metrics_nodes_missing`` counts them), so a
stalled worker cannot stall the scrape. On a node that is not distributed,
``cluster=True`` changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

from otp.lowlevel import import_extra as _import_extra

try:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
    from prometheus_client.metrics_core import Metric
    from prometheus_client.samples import Sample
except ImportError:
    _import_extra("prometheus_client", extra="metrics", needed_by="web.metrics")  # raises, naming the extra
    raise  # the package is there, but something in it failed: show that

import otp
from otp import ChildSpec, GenServer, collector, dist, telemetry

from ._http import Handler, Request, Response

__all__ = ["PrometheusExporter", "CLUSTER_NAME", "CLUSTER_TIMEOUT"]

#: The name each node's exporter process holds when ``cluster=True`` (one such exporter per node).
CLUSTER_NAME = "web.metrics"
#: Seconds a scrape waits for each other node's metrics.
CLUSTER_TIMEOUT = 2.0

_SECONDS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)
_BYTES = (16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)
_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


class PrometheusExporter:
    """Telemetry handlers feeding ``prometheus_client`` metrics, and the ``/metrics`` page.

    ``cluster=True``: ``/metrics`` answers for every node of the cluster
    (see "A cluster in one scrape" above); its :meth:`child_spec` process
    then holds the name :data:`CLUSTER_NAME`.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, path: str = "/metrics", cluster: bool = False) -> None:
        self.registry = registry or CollectorRegistry()
        self.path = path
        self.cluster = cluster
        self.nodes_missing = 0  # other nodes left out of a scrape, since this exporter was made
        self.handler_id = ("web.metrics", id(self))
        r = self.registry
        self.spawns = Counter("otp_process_spawns", "Processes spawned.", registry=r)
        self.exits = Counter("otp_process_exits", "Processes ended, by kind of reason.", ["reason"], registry=r)
        self.restarts = Counter("otp_supervisor_restarts", "Children restarted.", ["supervisor"], registry=r)
        self.give_ups = Counter("otp_supervisor_give_ups", "Supervisors past max restart intensity.", ["supervisor"], registry=r)
        self.calls = Histogram("otp_genserver_call_duration_seconds", "GenServer.call round trips.", buckets=_SECONDS, registry=r)
        self.broadcasts = Counter("otp_pubsub_broadcasts", "PubSub broadcasts made on this node.", ["pubsub"], registry=r)
        self.connections = Gauge("web_connections_active", "Open HTTP/WebSocket connections.", registry=r)
        self.joins = Counter("web_channel_joins", "Channel joins, by result.", ["result"], registry=r)
        self.crashes = Counter("web_channel_crashes", "Channel processes that crashed.", registry=r)
        self.events = Histogram("web_live_view_event_duration_seconds", "LiveView handle_event.", ["view"], buckets=_SECONDS, registry=r)
        self.diff_bytes = Histogram("web_live_view_diff_bytes", "LiveView diffs sent, in bytes of JSON.", buckets=_BYTES, registry=r)
        self.gc_pauses = Histogram(
            "otp_gc_pause_seconds", "Garbage-collector passes, by generation.", ["generation"], buckets=_PAUSES, registry=r
        )
        max_pause = Gauge("otp_gc_max_pause_seconds", "The longest garbage-collector pass measured.", registry=r)
        max_pause.set_function(lambda: collector.statistics().max_pause)
        frozen = Gauge("otp_gc_frozen_objects", "Objects out of the garbage collector's reach (gc.freeze).", registry=r)
        frozen.set_function(lambda: collector.statistics().frozen)
        self._routes = {
            ("otp", "process", "spawn"): lambda m, md: self.spawns.inc(),
            ("otp", "process", "exit"): lambda m, md: self.exits.labels(_reason_kind(md.get("reason"))).inc(),
            ("otp", "supervisor", "restart"): lambda m, md: self.restarts.labels(_name(md)).inc(),
            ("otp", "supervisor", "give_up"): lambda m, md: self.give_ups.labels(_name(md)).inc(),
            ("otp", "genserver", "call", "stop"): lambda m, md: self.calls.observe(m["duration"]),
            ("otp", "pubsub", "broadcast"): lambda m, md: self.broadcasts.labels(str(md.get("pubsub"))).inc(),
            ("web", "connection", "open"): lambda m, md: self.connections.set(m["active"]),
            ("web", "connection", "close"): lambda m, md: self.connections.set(m["active"]),
            ("web", "channel", "join"): lambda m, md: self.joins.labels(str(md.get("result"))).inc(),
            ("web", "channel", "crash"): lambda m, md: self.crashes.inc(),
            ("web", "live_view", "handle_event", "stop"): lambda m, md: self.events.labels(_view(md)).observe(m["duration"]),
            ("web", "live_view", "render", "stop"): lambda m, md: self.diff_bytes.observe(m["diff_bytes"]),
            collector.GC_EVENT: lambda m, md: self.gc_pauses.labels(str(md["generation"])).observe(m["duration"]),
        }

    def attach(self) -> None:
        collector.watch()  # every pass measured from now on (idempotent)
        telemetry.attach_many(self.handler_id, list(self._routes), self._handle)

    def detach(self) -> None:
        telemetry.detach(self.handler_id)

    def child_spec(self) -> ChildSpec:
        """A child that keeps the handlers attached while it runs (named :data:`CLUSTER_NAME` with ``cluster=True``)."""
        if self.cluster:
            return _Attached.child_spec(self, id=self.handler_id, name=CLUSTER_NAME)
        return _Attached.child_spec(self, id=self.handler_id)

    def _handle(self, event: tuple, measurements: dict, metadata: dict, config: object) -> None:
        self._routes[event](measurements, metadata)

    def text(self) -> bytes:
        """This node's metrics in Prometheus's text format (the collector's passes so far included)."""
        collector.emit()
        return generate_latest(self.registry)

    def families(self) -> list[Metric]:
        """This node's metric families (what another node's scrape asks for)."""
        collector.emit()
        return list(self.registry.collect())

    async def cluster_text(self) -> bytes:
        """Every node's metrics, each sample labelled with its ``node`` (this node's alone if not distributed)."""
        here = dist.node_name()
        if here is None:
            return self.text()
        by_node = {here: self.families()}
        for node in sorted(await dist.nodes()):
            try:
                by_node[node] = await GenServer.call((CLUSTER_NAME, node), "families", timeout=CLUSTER_TIMEOUT)
            except otp.CallError:  # gone, stalled, or serving no cluster exporter
                self.nodes_missing += 1
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Labelled(by_node, self.nodes_missing))
        return generate_latest(registry)

    def http(
        self,
        fallback: Callable[[Request], Awaitable[Response]] | None = None,
        *,
        allow: Callable[[Request], bool] | None = None,
    ) -> Handler:
        """An endpoint handler: ``GET <path>`` is the metrics, anything else goes to ``fallback`` (or 404).

        ``allow(request)`` decides who may read the metrics (they tell the
        world how busy the node is and what it runs): the demo allows only
        clients on this machine, or a Prometheus server's address. Refused:
        403. Without ``allow``, everyone who reaches the endpoint may.
        """

        async def handler(request: Request) -> Response:
            if request.path == self.path and request.method == "GET":
                if allow is not None and not allow(request):
                    return Response(403, {"content-type": "text/plain"}, b"the metrics are not served to this client")
                body = await self.cluster_text() if self.cluster else self.text()
                return Response(200, {"content-type": CONTENT_TYPE_LATEST}, body)
            if fallback is not None:
                return await fallback(request)
            return Response(404, {"content-type": "text/plain"}, b"not found")

        return handler


class _Attached(GenServer):
    async def init(self, exporter: PrometheusExporter) -> None:
        otp.trap_exits(True)  # so that terminate runs when the tree stops
        self.exporter = exporter
        # A predecessor that was killed never ran terminate: its handlers are
        # still attached under the same id, and attaching again would fail.
        exporter.detach()
        exporter.attach()

    async def handle_call(self, request: object, caller: object) -> object:
        if request == "families":  # another node's scrape (cluster=True)
            return self.exporter.families()
        raise ValueError(f"web.metrics exporter: unknown request {request!r}")

    async def terminate(self, reason: object) -> None:
        self.exporter.detach()


class _Labelled:
    """A collector over several nodes' families: each family once, each sample with its node's label."""

    def __init__(self, by_node: dict[str, list[Metric]], nodes_missing: int) -> None:
        self.by_node, self.nodes_missing = by_node, nodes_missing

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for node, families in self.by_node.items():
            for family in families:
                into = merged.get(family.name)
                if into is None:
                    into = merged[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
                into.samples.extend(
                    Sample(sample.name, {**sample.labels, "node": node}, sample.value, sample.timestamp, sample.exemplar)
                    for sample in family.samples
                )
        yield from merged.values()
        missing = Metric("web_metrics_nodes_missing", "Other nodes left out of a scrape (no answer in time).", "counter")
        missing.add_sample("web_metrics_nodes_missing_total", {}, float(self.nodes_missing))
        yield missing


def _reason_kind(reason: object) -> str:
    if reason is otp.NORMAL:
        return "normal"
    if reason is otp.KILLED:
        return "killed"
    if reason is otp.SHUTDOWN or isinstance(reason, otp.Shutdown):
        return "shutdown"
    return "error"


def _name(metadata: dict) -> str:
    return str(metadata.get("name") or metadata.get("supervisor"))


def _view(metadata: dict) -> str:
    view = metadata.get("view")
    return getattr(view, "__qualname__", str(view))
