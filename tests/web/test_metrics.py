"""web.metrics: telemetry events counted by prometheus_client, served at /metrics."""

from prometheus_client import CollectorRegistry, Counter, generate_latest

import otp
from otp import GenServer, PubSub, Supervisor
from otp.testing import capture_crash_reports, kill_and_wait
from web._http import Request
from web.metrics import CLUSTER_NAME, PrometheusExporter, _Labelled


class Echo(GenServer):
    async def init(self, arg):
        return None

    async def handle_call(self, request, caller):
        return request


def lines(text: bytes) -> set:
    return {line for line in text.decode().splitlines() if not line.startswith("#")}


async def test_events_become_metrics_at_the_metrics_path():
    exporter = PrometheusExporter()
    exporter.attach()
    try:
        await PubSub.start_link("metrics_ps")
        await Supervisor.start_link([Echo.child_spec(None, id="echo", name="echo")], name="metrics_sup")
        assert await GenServer.call("echo", "hi") == "hi"
        otp.pubsub.broadcast("metrics_ps", "t", "hello")
        with capture_crash_reports():
            await kill_and_wait(otp.whereis("echo"))
            await Supervisor.which_children("metrics_sup")  # answered after it took the exit and restarted
            await GenServer.call("echo", "again")  # answered by the restarted server
        response = await exporter.http()(Request("GET", "/metrics", {}, {}, ("127.0.0.1", 1)))
    finally:
        exporter.detach()
    assert response.status == 200 and response.headers["content-type"].startswith("text/plain")
    found = lines(response.body)
    assert 'otp_supervisor_restarts_total{supervisor="metrics_sup"} 1.0' in found
    assert 'otp_process_exits_total{reason="killed"} 1.0' in found
    assert 'otp_pubsub_broadcasts_total{pubsub="metrics_ps"} 1.0' in found
    assert "otp_genserver_call_duration_seconds_count 3.0" in found  # which_children is a call too
    spawns = next(line for line in found if line.startswith("otp_process_spawns_total "))
    assert float(spawns.split()[1]) >= 4  # the PubSub's, the supervisor, the server and its restart


async def test_a_killed_exporter_child_is_restarted_and_counts_each_event_once():
    exporter = PrometheusExporter()
    supervisor = await Supervisor.start_link([exporter.child_spec()], name="exporter_sup")
    [first] = await Supervisor.which_children(supervisor)
    await PubSub.start_link("metrics_kill_ps")
    with capture_crash_reports():
        await kill_and_wait(first.pid)  # terminate does not run: the handlers stay attached
        [restarted] = await Supervisor.which_children(supervisor)
    assert restarted.pid not in (None, first.pid)
    otp.pubsub.broadcast("metrics_kill_ps", "t", "hello")
    response = await exporter.http()(Request("GET", "/metrics", {}, {}, ("127.0.0.1", 1)))
    assert 'otp_pubsub_broadcasts_total{pubsub="metrics_kill_ps"} 1.0' in lines(response.body)
    await otp.GenServer.stop(supervisor)
    assert [h for h in otp.telemetry.list_handlers() if h.id == exporter.handler_id] == []  # stopped: detached


async def test_other_paths_go_to_the_fallback_and_detach_stops_counting():
    exporter = PrometheusExporter()

    async def fallback(request):
        from web._http import Response

        return Response(200, {}, b"page")

    handler = exporter.http(fallback)
    assert (await handler(Request("GET", "/", {}, {}, ("127.0.0.1", 1)))).body == b"page"
    exporter.attach()
    exporter.detach()
    otp.spawn(lambda: None)
    assert "otp_process_spawns_total 0.0" in lines(exporter.text())


async def test_the_demo_serves_metrics_when_the_extra_is_installed():
    from _clients import raw_exchange

    from web.demo.app import chat_children

    lines_seen = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines_seen.append))
    port = int(lines_seen[0].rsplit(":", 1)[1])
    response = await raw_exchange(port, b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\notp_process_spawns_total " in body and b"\nweb_connections_active 1.0" in body


async def test_allow_decides_who_may_read_the_metrics():
    exporter = PrometheusExporter()
    handler = exporter.http(allow=lambda request: request.peer[0] == "127.0.0.1")
    refused = await handler(Request("GET", "/metrics", {}, {}, ("10.0.0.7", 1)))
    assert (refused.status, refused.body) == (403, b"the metrics are not served to this client")
    assert (await handler(Request("GET", "/metrics", {}, {}, ("127.0.0.1", 1)))).status == 200


async def test_the_demo_serves_its_metrics_to_this_machine_only():
    from web.demo.app import _on_this_machine

    assert _on_this_machine(Request("GET", "/metrics", {}, {}, ("127.0.0.1", 5)))
    assert _on_this_machine(Request("GET", "/metrics", {}, {}, ("::1", 5)))
    assert not _on_this_machine(Request("GET", "/metrics", {}, {}, ("192.0.2.9", 5)))


def gc_passes(text: bytes, generation: int) -> float:
    prefix = f'otp_gc_pause_seconds_count{{generation="{generation}"}} '
    return next((float(line[len(prefix):]) for line in lines(text) if line.startswith(prefix)), 0.0)


async def test_every_collector_pass_is_in_the_metrics_when_scraped():
    import gc

    from otp import collector

    exporter = PrometheusExporter()
    exporter.attach()
    gc.disable()  # only the passes this test makes
    try:
        before = exporter.text()  # emits the passes measured so far: counted from here
        gc.collect()
        gc.collect()
        after = exporter.text()
        stats = collector.statistics()
    finally:
        gc.enable()
        exporter.detach()
    assert gc_passes(after, 2) == gc_passes(before, 2) + 2
    assert gc_passes(after, 0) == gc_passes(before, 0)
    found = lines(after)
    assert f"otp_gc_max_pause_seconds {stats.max_pause!r}" in found
    assert f"otp_gc_frozen_objects {float(stats.frozen)!r}" in found
    bounds = [line.split('le="')[1].split('"')[0] for line in found if line.startswith('otp_gc_pause_seconds_bucket{generation="2"')]
    assert "0.02" in bounds  # the bound a server's pauses must stay under


# ---------------------------------------------------------------- cluster=True (tests/web/test_demo_workers.py: two real workers)


async def test_a_cluster_exporter_on_a_node_not_distributed_answers_for_this_node_alone_and_holds_its_name():
    exporter = PrometheusExporter(cluster=True)
    supervisor = await Supervisor.start_link([exporter.child_spec()])
    [child] = await Supervisor.which_children(supervisor)
    assert otp.whereis(CLUSTER_NAME) == child.pid
    await PubSub.start_link("metrics_cluster_ps")
    otp.pubsub.broadcast("metrics_cluster_ps", "t", "hello")
    response = await exporter.http()(Request("GET", "/metrics", {}, {}, ("127.0.0.1", 1)))
    found = lines(response.body)
    assert 'otp_pubsub_broadcasts_total{pubsub="metrics_cluster_ps"} 1.0' in found  # no node label
    assert not any("node=" in line or line.startswith("web_metrics_nodes_missing") for line in found), found
    await otp.GenServer.stop(supervisor)


def test_several_nodes_families_merge_into_one_family_each_with_every_sample_labelled_by_its_node():
    def families(broadcasts: float) -> list:
        registry = CollectorRegistry()
        Counter("otp_pubsub_broadcasts", "PubSub broadcasts.", ["pubsub"], registry=registry).labels("chat").inc(broadcasts)
        return list(registry.collect())

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Labelled({"worker-1@h": families(2), "worker-2@h": families(5)}, nodes_missing=1))
    found = lines(generate_latest(registry))
    assert 'otp_pubsub_broadcasts_total{node="worker-1@h",pubsub="chat"} 2.0' in found
    assert 'otp_pubsub_broadcasts_total{node="worker-2@h",pubsub="chat"} 5.0' in found
    assert "web_metrics_nodes_missing_total 1.0" in found
    helps = [line for line in generate_latest(registry).decode().splitlines() if line.startswith("# HELP otp_pubsub")]
    # One family, not one per node (the text format writes a counter's _created as a family of its own).
    assert helps == ["# HELP otp_pubsub_broadcasts_total PubSub broadcasts.", "# HELP otp_pubsub_broadcasts_created PubSub broadcasts."]
