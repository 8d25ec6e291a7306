"""otp.telemetry: the handler API, then every event the kernel, the behaviours, PubSub and the web layer emit.

Events are waited for as messages (``otp.testing.forward_telemetry``),
never by sleeping. The WebSocket events, which need a real client on the
wire, are in tests/web/test_web_telemetry.py.
"""

import logging
import math

import pytest
import trio

import otp
from otp import GenServer, PubSub, Shutdown, Strategy, Supervisor, telemetry
from otp.testing import TelemetryEvent, assert_receive, capture_crash_reports, forward_telemetry, refute_receive
from web import Endpoint, Response
from web.channel import Channel, Error, Ok
from web.socket import Socket
from web.testing import connect

from _workers import Worker  # tests/ is on sys.path

SPAWN = ("otp", "process", "spawn")
EXIT = ("otp", "process", "exit")
HIGH_WATER = ("otp", "process", "mailbox_high_water")
CALL = ("otp", "genserver", "call")
RESTART = ("otp", "supervisor", "restart")
GIVE_UP = ("otp", "supervisor", "give_up")
BROADCAST = ("otp", "pubsub", "broadcast")
REDIS_RECONNECT = ("otp", "pubsub", "redis", "reconnect")
REDIS_DROP = ("otp", "pubsub", "redis", "drop")


class _Any:
    def __eq__(self, other):
        return True

    def __repr__(self):
        return "ANY"


ANY = _Any()


@pytest.fixture(autouse=True)
def no_handler_left_attached():
    yield
    left = telemetry.list_handlers()
    for handler in left:
        telemetry.detach(handler.id)
    assert left == [], "a test left telemetry handlers attached"


def event_named(name):
    return lambda m: isinstance(m, TelemetryEvent) and m.name == name


# ---------------------------------------------------------------- the API


def test_execute_calls_the_attached_handler_with_its_config_until_detached():
    calls = []
    telemetry.attach("recorder", ("app", "thing", "done"), lambda *args: calls.append(args), {"cfg": 1})
    telemetry.execute(("app", "thing", "done"), {"size": 3}, {"who": "me"})
    telemetry.execute(("app", "other"), {"size": 4}, {})
    assert calls == [(("app", "thing", "done"), {"size": 3}, {"who": "me"}, {"cfg": 1})]
    assert telemetry.detach("recorder") is True
    assert telemetry.detach("recorder") is False
    telemetry.execute(("app", "thing", "done"), {"size": 5}, {})
    assert len(calls) == 1


def test_handlers_run_in_attach_order_and_attach_many_shares_one_id():
    calls = []
    telemetry.attach("first", ("app", "a"), lambda e, m, md, c: calls.append(("first", e)))
    telemetry.attach_many("second", [("app", "a"), ("app", "b")], lambda e, m, md, c: calls.append(("second", e)))
    telemetry.execute(("app", "a"), {}, {})
    telemetry.execute(("app", "b"), {}, {})
    assert calls == [("first", ("app", "a")), ("second", ("app", "a")), ("second", ("app", "b"))]
    telemetry.detach("second")
    assert [h.id for h in telemetry.list_handlers()] == ["first"]
    telemetry.detach("first")


def test_attaching_an_id_twice_raises_and_keeps_the_first_handler():
    def first(*args):
        pass

    telemetry.attach("taken", ("app", "a"), first)
    with pytest.raises(telemetry.AlreadyAttached, match=r"id 'taken' is already attached .*detach\('taken'\) first") as raised:
        telemetry.attach("taken", ("app", "b"), lambda *args: None)
    assert raised.value.handler_id == "taken"
    assert isinstance(raised.value, ValueError)
    assert telemetry.list_handlers() == [telemetry.Handler("taken", ("app", "a"), first, None)]
    telemetry.detach("taken")


@pytest.mark.parametrize("bad", ["otp.process.exit", (), ("otp", 1), ["otp", "process"]])
def test_an_event_name_must_be_a_non_empty_tuple_of_str(bad):
    with pytest.raises(TypeError, match="a non-empty tuple of str"):
        telemetry.attach("bad", bad, lambda *args: None)
    assert telemetry.list_handlers() == []


def test_list_handlers_filters_by_prefix():
    def handler(*args):
        pass

    telemetry.attach_many("h1", [("otp", "process", "exit"), ("web", "channel", "join")], handler)
    telemetry.attach("h2", ("otp", "supervisor", "restart"), handler)
    assert [(h.id, h.event_name) for h in telemetry.list_handlers(("otp",))] == [
        ("h1", ("otp", "process", "exit")),
        ("h2", ("otp", "supervisor", "restart")),
    ]
    assert [h.id for h in telemetry.list_handlers(("otp", "process", "exit"))] == ["h1"]
    assert telemetry.list_handlers(("nothing",)) == []
    assert len(telemetry.list_handlers()) == 3
    telemetry.detach("h1")
    telemetry.detach("h2")


def test_attached_says_whether_anyone_listens():
    assert not telemetry.attached(("app", "a"), ("app", "b"))
    telemetry.attach("h", ("app", "b"), lambda *args: None)
    assert telemetry.attached(("app", "a"), ("app", "b"))
    assert not telemetry.attached(("app", "a"))
    telemetry.detach("h")


def test_a_raising_handler_is_detached_with_one_log_line_and_the_others_still_run(caplog):
    caplog.set_level(logging.ERROR, logger="otp.telemetry")
    calls = []

    def broken(event, measurements, metadata, config):
        raise ZeroDivisionError("broken handler")

    telemetry.attach("broken", ("app", "a"), broken)
    telemetry.attach("good", ("app", "a"), lambda *args: calls.append(args[0]))
    telemetry.execute(("app", "a"), {}, {})
    telemetry.execute(("app", "a"), {}, {})
    assert calls == [("app", "a"), ("app", "a")]
    assert [h.id for h in telemetry.list_handlers()] == ["good"]
    [record] = caplog.records
    assert record.getMessage() == (
        "telemetry handler 'broken' raised ZeroDivisionError('broken handler') on event ('app', 'a') and has been detached"
    )
    assert (record.otp_handler_id, record.otp_event) == ("broken", ("app", "a"))
    telemetry.detach("good")


def test_span_emits_start_then_stop_with_a_duration_and_what_the_block_added():
    events = []
    telemetry.attach_many("span", [("app", "job", kind) for kind in ("start", "stop", "exception")], lambda *a: events.append(a[:3]))
    with telemetry.span(("app", "job"), {"job": 7}) as metadata:
        metadata["rows"] = 3
    telemetry.detach("span")
    (start, start_m, start_md), (stop, stop_m, stop_md) = events
    assert (start, stop) == (("app", "job", "start"), ("app", "job", "stop"))
    assert set(start_m) == {"monotonic_time", "system_time"}
    assert set(stop_m) == {"duration", "monotonic_time"} and stop_m["duration"] >= 0
    context = start_md["telemetry_span_context"]
    assert stop_md == {"job": 7, "rows": 3, "telemetry_span_context": context}


@pytest.mark.parametrize(
    "error, kind, reason",
    [(KeyError("k"), "error", KeyError), (otp.Exit("bye"), "exit", "bye")],
)
def test_span_emits_exception_with_kind_and_reason_and_reraises(error, kind, reason):
    events = []
    telemetry.attach_many("span", [("app", "job", "stop"), ("app", "job", "exception")], lambda *a: events.append(a[:3]))
    with pytest.raises(type(error)):
        with telemetry.span(("app", "job"), {"job": 7}):
            raise error
    telemetry.detach("span")
    [(name, measurements, metadata)] = events
    assert name == ("app", "job", "exception")
    assert set(measurements) == {"duration", "monotonic_time"}
    assert set(metadata) == {"job", "telemetry_span_context", "kind", "reason", "stacktrace"}
    assert metadata["kind"] == kind
    assert isinstance(metadata["reason"], reason) if isinstance(reason, type) else metadata["reason"] == reason
    assert metadata["stacktrace"] is not None


# ---------------------------------------------------------------- kernel events


async def test_spawn_and_exit_events_carry_the_pid_function_and_reason():
    me = otp.current_pid()
    before = len(otp.processes())

    async def worker():
        otp.register("telemetry_worker", otp.current_pid())
        await otp.receive()
        raise otp.Exit(Shutdown("done"))

    with forward_telemetry(SPAWN, EXIT):
        pid = otp.spawn(worker)
        spawned = await assert_receive(event_named(SPAWN))
        otp.send(pid, "go")
        exited = await assert_receive(event_named(EXIT))
    assert spawned.measurements == {"processes": before + 1}
    assert spawned.metadata == {"pid": pid, "parent": me, "function": worker}
    assert exited.measurements == {"processes": before, "messages_received": 1}
    assert exited.metadata == {"pid": pid, "name": "telemetry_worker", "reason": Shutdown("done"), "function": worker}


async def test_a_flooded_mailbox_emits_each_high_water_mark_once():
    async def stuck():
        await otp.receive(lambda m: m == "stop")

    pid = otp.spawn(stuck)
    with forward_telemetry(HIGH_WATER):
        for n in range(2500):
            otp.send(pid, n)
        first = await assert_receive(event_named(HIGH_WATER))
        second = await assert_receive(event_named(HIGH_WATER))
        await refute_receive(event_named(HIGH_WATER), timeout=0.01)
    otp.send(pid, "stop")
    assert (first.measurements, first.metadata) == ({"length": 1000, "threshold": 1000}, {"pid": pid, "name": None})
    assert (second.measurements, second.metadata) == ({"length": 2000, "threshold": 2000}, {"pid": pid, "name": None})


async def test_nothing_is_emitted_below_the_first_mark():
    async def stuck():
        await otp.receive(lambda m: m == "stop")

    pid = otp.spawn(stuck)
    with forward_telemetry(HIGH_WATER):
        for n in range(999):
            otp.send(pid, n)
        await refute_receive(event_named(HIGH_WATER), timeout=0.01)
    otp.send(pid, "stop")


# ---------------------------------------------------------------- GenServer calls


async def test_a_call_emits_start_and_stop_with_a_positive_duration():
    server = await Worker.start_link({})
    with forward_telemetry(CALL + ("start",), CALL + ("stop",), CALL + ("exception",)):
        assert await GenServer.call(server, "ping") == "pong"
        start = await assert_receive(event_named(CALL + ("start",)))
        stop = await assert_receive(event_named(CALL + ("stop",)))
        await refute_receive(event_named(CALL + ("exception",)), timeout=0.01)
    assert set(start.measurements) == {"monotonic_time", "system_time"}
    assert set(stop.measurements) == {"duration", "monotonic_time"} and stop.measurements["duration"] > 0
    context = start.metadata["telemetry_span_context"]
    assert stop.metadata == {"server": server, "request_kind": "ping", "telemetry_span_context": context}


async def test_a_failing_call_emits_exception_with_the_call_error():
    dead, ref = otp.spawn_monitor(lambda: None)
    await assert_receive(otp.Down)
    with forward_telemetry(CALL + ("stop",), CALL + ("exception",)):
        with pytest.raises(otp.NoProc):
            await GenServer.call(dead, ("add", 1))
        event = await assert_receive(event_named(CALL + ("exception",)))
        await refute_receive(event_named(CALL + ("stop",)), timeout=0.01)
    assert event.metadata["kind"] == "error"
    assert isinstance(event.metadata["reason"], otp.NoProc)
    assert (event.metadata["server"], event.metadata["request_kind"]) == (dead, "add")


# ---------------------------------------------------------------- supervisors


async def test_a_crashed_child_gives_one_restart_event_with_its_id_and_reason():
    sup = await Supervisor.start_link([Worker.child_spec({}, id="worker")], name="telemetry_sup")
    [child] = await Supervisor.which_children(sup)
    with capture_crash_reports(), forward_telemetry(RESTART):
        otp.exit(child.pid, "boom")
        event = await assert_receive(event_named(RESTART))
        await refute_receive(event_named(RESTART), timeout=0.01)
    assert event.measurements == {"restarts": 1, "recent_restarts": 1}
    assert event.metadata == {
        "supervisor": sup,
        "name": "telemetry_sup",
        "strategy": Strategy.ONE_FOR_ONE,
        "child_id": "worker",
        "child_pid": child.pid,
        "reason": "boom",
    }


async def test_passing_the_restart_intensity_gives_the_give_up_event():
    otp.trap_exits(True)
    sup = await Supervisor.start_link([Worker.child_spec({}, id="worker")], max_restarts=1, max_seconds=60.0)
    with capture_crash_reports(), forward_telemetry(RESTART, GIVE_UP):
        [first] = await Supervisor.which_children(sup)
        otp.exit(first.pid, "boom")
        await assert_receive(event_named(RESTART))
        [second] = await Supervisor.which_children(sup)
        otp.exit(second.pid, "boom again")
        event = await assert_receive(event_named(GIVE_UP))
        signal = await assert_receive(otp.ExitSignal)
    assert signal.reason == Shutdown("reached_max_restart_intensity")
    assert event.measurements == {"restarts": 1}
    assert event.metadata == {
        "supervisor": sup,
        "name": None,
        "strategy": Strategy.ONE_FOR_ONE,
        "child_id": "worker",
        "child_pid": second.pid,
        "reason": "boom again",
        "max_restarts": 1,
        "max_seconds": 60.0,
    }


async def test_a_dynamic_supervisor_emits_restarts_too():
    sup = await otp.DynamicSupervisor.start_link()
    child = await otp.DynamicSupervisor.start_child(sup, Worker.child_spec({}, id="dyn"))
    with capture_crash_reports(), forward_telemetry(RESTART):
        otp.exit(child, "boom")
        event = await assert_receive(event_named(RESTART))
    assert event.measurements == {"restarts": 1, "recent_restarts": 1}
    assert (event.metadata["child_id"], event.metadata["child_pid"], event.metadata["reason"]) == ("dyn", child, "boom")


# ---------------------------------------------------------------- PubSub


async def test_each_broadcast_is_an_event_with_its_pubsub_topic_and_local_subscribers():
    me = otp.current_pid()
    await PubSub.start_link("telemetry_pubsub")
    PubSub.subscribe("telemetry_pubsub", "room:1")
    with forward_telemetry(BROADCAST):
        PubSub.broadcast("telemetry_pubsub", "room:1", "hello")
        PubSub.broadcast_from("telemetry_pubsub", me, "room:1", "from me")
        PubSub.broadcast("telemetry_pubsub", "room:empty", "nobody")
        events = [await assert_receive(event_named(BROADCAST)) for _ in range(3)]
    assert [(e.measurements, e.metadata) for e in events] == [
        ({"local_subscribers": 1}, {"pubsub": "telemetry_pubsub", "topic": "room:1", "from": None}),
        ({"local_subscribers": 1}, {"pubsub": "telemetry_pubsub", "topic": "room:1", "from": me}),
        ({"local_subscribers": 0}, {"pubsub": "telemetry_pubsub", "topic": "room:empty", "from": None}),
    ]
    assert await assert_receive(str) == "hello"


async def test_redis_emits_a_refused_broadcast_and_both_reconnects(redis_server):
    from otp.pubsub.redis import Redis, RedisUnavailable

    adapter = Redis(redis_server.host, redis_server.port, secret=b"telemetry test secret", node_name="tel", max_pending=1)
    await PubSub.start_link("telemetry_redis", adapter=adapter)
    await adapter.wait_connected()
    with forward_telemetry(REDIS_DROP, REDIS_RECONNECT):
        redis_server.kill()
        await adapter.wait_connected(False)
        PubSub.broadcast("telemetry_redis", "room", "queued")
        with pytest.raises(RedisUnavailable):
            PubSub.broadcast("telemetry_redis", "room", "refused")
        drop = await assert_receive(event_named(REDIS_DROP))
        redis_server.restart()
        reconnects = [await assert_receive(event_named(REDIS_RECONNECT), timeout=5.0) for _ in range(2)]
    assert (drop.measurements, drop.metadata) == (
        {"dropped": 1},
        {"pubsub": "telemetry_redis", "node_name": "tel", "reason": "queue_full"},
    )
    assert sorted(e.metadata["role"] for e in reconnects) == ["publisher", "subscriber"]
    assert [e.measurements for e in reconnects] == [{"reconnects": 1}, {"reconnects": 2}]
    assert all(e.metadata.keys() == {"pubsub", "node_name", "role"} for e in reconnects)


# ---------------------------------------------------------------- the web layer


class RoomChannel(Channel):
    async def join(self, topic, payload, socket):
        if payload.get("refuse"):
            return Error({"reason": "refused"})
        return Ok({})

    async def handle_in(self, event, payload, socket):
        if event == "crash":
            raise RuntimeError("asked to crash")
        return Ok({})


class UserSocket(Socket):
    channels = {"room:*": RoomChannel}

    def id(self, assigns):
        return "user:ann"


JOIN = ("web", "channel", "join")
CRASH = ("web", "channel", "crash")


async def test_a_channel_join_and_its_crash_are_events():
    await PubSub.start_link("telemetry_web")
    client = await connect(UserSocket, pubsub="telemetry_web")
    with forward_telemetry(JOIN, CRASH):
        await client.join("room:1")
        joined = await assert_receive(event_named(JOIN))
        with capture_crash_reports():
            client.push("room:1", "crash", {})
            crashed = await assert_receive(event_named(CRASH))
        await client.assert_push("room:1", "phx_error")
    assert joined.measurements.keys() == {"duration"} and joined.measurements["duration"] >= 0
    channel_pid = joined.metadata["pid"]
    assert joined.metadata == {"channel": RoomChannel, "topic": "room:1", "pid": channel_pid, "socket_id": "user:ann", "result": "ok"}
    assert crashed.measurements == {}
    assert set(crashed.metadata) == {"topic", "pid", "socket_id", "reason", "joined"}
    assert (crashed.metadata["topic"], crashed.metadata["pid"], crashed.metadata["joined"]) == ("room:1", channel_pid, True)
    assert repr(crashed.metadata["reason"]) == "RuntimeError('asked to crash')"


async def test_a_refused_join_is_a_join_event_with_result_error():
    await PubSub.start_link("telemetry_web")
    client = await connect(UserSocket, pubsub="telemetry_web")
    with forward_telemetry(JOIN, CRASH):
        assert await client.join("room:2", {"refuse": True}) == ("error", {"reason": "refused"})
        joined = await assert_receive(event_named(JOIN))
        await refute_receive(event_named(CRASH), timeout=0.01)
    assert (joined.metadata["topic"], joined.metadata["result"]) == ("room:2", "error")


async def test_an_http_connection_is_an_open_then_a_close_event():
    async def app(request):
        return Response(200, body="hi")

    endpoint = await Endpoint.start_link(app, port=0, idle_timeout=2.0)
    host, port = Endpoint.address(endpoint)
    with forward_telemetry(("web", "connection", "open"), ("web", "connection", "close")):
        stream = await trio.open_tcp_stream(host, port)
        async with stream:
            await stream.send_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            while await stream.receive_some(65536):
                pass
        opened = await assert_receive(event_named(("web", "connection", "open")), timeout=2.0)
        closed = await assert_receive(event_named(("web", "connection", "close")), timeout=2.0)
    peer = opened.metadata["peer"]
    assert peer[0] == "127.0.0.1"
    assert (opened.measurements, opened.metadata) == ({"active": 1}, {"endpoint": endpoint, "peer": peer})
    assert closed.metadata == {"endpoint": endpoint, "peer": peer}
    assert closed.measurements["active"] == 0 and closed.measurements["duration"] > 0
    assert math.isfinite(closed.measurements["duration"])
