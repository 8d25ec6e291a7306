"""Logging that tooling can use (issue #14): a logger per part, tracebacks as ``exc_info``, ``otp_*`` fields.

The first half reads the library's records the way a log shipper does,
through a JSON formatter, and checks that each kind of report arrives as one
document: its logger, the readable message, the record fields and the
traceback as ``exc_info`` (not pasted into the message). The second half is
OTP's rule for exits: the process whose own code failed gets a crash report;
one ended by an exit signal (killed, or linked to the one that crashed)
does not, and a supervisor still reports what happened to its child.
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager

import trio

import otp
from otp import GenServer, PubSub, Restart, Supervisor
from otp.testing import assert_down, capture_crash_reports, wait_all_tasks_blocked
from web import Endpoint
from web.channel import Channel, Ok
from web.live import LiveRouter, LiveView, Rendered
from web.socket import Socket
from web.testing import connect
from web.token import sign

# ---------------------------------------------------------------- a JSON log


class JsonFormatter(logging.Formatter):
    """One JSON document per record, as a log shipper would send it."""

    FIELDS = ("otp_pid", "otp_name", "otp_view", "otp_topic", "otp_url")

    def format(self, record: logging.LogRecord) -> str:
        document = {"logger": record.name, "level": record.levelname, "message": record.getMessage()}
        document.update({field: getattr(record, field) for field in self.FIELDS if hasattr(record, field)})
        if record.exc_info:
            document["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(document)


@contextmanager
def json_log():
    """The library's ERROR records (loggers ``otp`` and ``web``) logged inside the block, as JSON documents."""
    documents: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            documents.append(json.loads(self.format(record)))

    handler = Collect(level=logging.ERROR)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("otp"), logging.getLogger("web")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield documents
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def assert_traceback(exc_info: str, last_line: str, frame: str) -> None:
    """``exc_info`` is a whole traceback: its header, ``frame`` among its frames, ``last_line`` last."""
    lines = exc_info.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == last_line
    assert any(line.strip().startswith("File ") and line.endswith(f", in {frame}") for line in lines)


# ---------------------------------------------------------------- GenServer and Supervisor


class Fragile(GenServer):
    """Counts casts; the cast ``"bad"`` crashes it."""

    async def init(self, arg):
        self.casts = 0

    async def handle_cast(self, request):
        self.casts += 1
        if request == "bad":
            raise ValueError(f"cannot take {request!r}")

    def format_status(self):
        return {"casts": self.casts}


CRASH = "ValueError(\"cannot take 'bad'\")"


async def test_a_genserver_crash_is_one_json_record_with_its_traceback_as_exc_info_and_its_pid_and_name():
    with json_log() as documents:
        pid = await Fragile.start(name="fragile")
        ref = otp.monitor(pid)
        GenServer.cast(pid, "bad")
        await assert_down(ref, ValueError)
    [document] = documents
    exc_info = document.pop("exc_info")
    assert document == {
        "logger": "otp.genserver",
        "level": "ERROR",
        "message": (
            f"Process {pid!r} (registered as 'fragile') crashed: {CRASH}\n"
            "  function: otp.genserver._loop.serve\n"
            f"  behaviour: GenServer {__name__}.Fragile\n"
            "  last message: Cast('bad')\n"
            "  state: {'casts': 1}"
        ),
        "otp_pid": str(pid),
        "otp_name": "fragile",
    }
    assert_traceback(exc_info, "ValueError: cannot take 'bad'", "handle_cast")
    assert "_spawn.py" not in exc_info  # the kernel's own frames are left out


async def test_a_supervisor_child_terminated_report_names_the_supervisor_and_carries_the_childs_exception():
    with json_log() as documents:
        sup = await Supervisor.start_link([Fragile.child_spec(None, id="fragile")], name="json_sup")
        [child] = await Supervisor.which_children(sup)
        ref = otp.monitor(child.pid)
        GenServer.cast(child.pid, "bad")
        await assert_down(ref, ValueError)
        await Supervisor.which_children(sup)  # answered once the supervisor has dealt with the exit
    crash_report, supervisor_report = documents
    assert (crash_report["logger"], crash_report["otp_pid"], crash_report["otp_name"]) == (
        "otp.genserver", str(child.pid), None
    )
    assert_traceback(crash_report["exc_info"], "ValueError: cannot take 'bad'", "handle_cast")
    assert supervisor_report == {
        "logger": "otp.supervisor",
        "level": "ERROR",
        "message": f"Supervisor {sup!r} (registered as 'json_sup'): child 'fragile' {child.pid!r} exited with {CRASH}; restarting",
        "otp_pid": str(sup),
        "otp_name": "json_sup",
        # The child's traceback is in its own crash report just above: the
        # kernel frees a dead process's frames once that report is written.
        "exc_info": "ValueError: cannot take 'bad'",
    }


# ---------------------------------------------------------------- channels and LiveViews

PUBSUB = "logging_test_pubsub"


class RoomChannel(Channel):
    async def join(self, topic, payload, socket):
        return Ok({})

    async def handle_in(self, event, payload, socket):
        raise RuntimeError(f"cannot handle {event!r}")


class RoomSocket(Socket):
    channels = {"room:*": RoomChannel}

    async def connect(self, params, connect_info):
        return {}

    def id(self, assigns):
        return None


async def test_a_channel_crash_is_a_json_record_on_web_channel_with_its_topic():
    await PubSub.start_link(PUBSUB)
    client = await connect(RoomSocket, pubsub=PUBSUB)
    assert await client.join("room:lobby") == ("ok", {})
    with json_log() as documents:
        client.push("room:lobby", "shout", {})
        await client.assert_push("room:lobby", "phx_error", {"reason": "channel_crash"})
    [document] = documents
    exc_info = document.pop("exc_info")
    message = document.pop("message")
    pid = document["otp_pid"]
    assert document == {"logger": "web.channel", "level": "ERROR", "otp_pid": pid, "otp_name": None, "otp_topic": "room:lobby"}
    assert message.startswith(f"Process {pid} crashed: RuntimeError(\"cannot handle 'shout'\")\n")
    assert "  channel: RoomChannel\n  topic: room:lobby\n" in message
    assert_traceback(exc_info, "RuntimeError: cannot handle 'shout'", "handle_in")


SECRET = "logging test secret"


class Counter(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(count=0)

    async def handle_event(self, event, value, socket):
        raise KeyError(event)

    def render(self, assigns, changed):
        return Rendered(("<p>", "</p>"), (str(assigns["count"]),), fingerprint=1, root=True)


async def test_a_liveview_crash_is_a_json_record_on_web_live_with_its_view_topic_and_url():
    await PubSub.start_link(PUBSUB)
    router = LiveRouter(secret=SECRET, routes={"/counter": Counter}, pubsub=PUBSUB)
    client = await connect(router.socket_cls, {"_csrf_token": sign(SECRET, "csrf", "a visitor")}, pubsub=PUBSUB)
    session = sign(SECRET, "liveview session", {"id": "phx-1", "route": "/counter", "live_session": "default", "session": {}})
    status, _ = await client.join("lv:phx-1", {"session": session, "url": "http://x/counter?from=test", "params": {}})
    assert status == "ok"
    with json_log() as documents:
        client.push("lv:phx-1", "event", {"type": "click", "event": "inc", "value": {}})
        await client.assert_push("lv:phx-1", "phx_error", {"reason": "channel_crash"})
    [document] = documents
    exc_info = document.pop("exc_info")
    message = document.pop("message")
    pid = document["otp_pid"]
    assert document == {
        "logger": "web.live",
        "level": "ERROR",
        "otp_pid": pid,
        "otp_name": None,
        "otp_view": f"{__name__}.Counter",
        "otp_topic": "lv:phx-1",
        "otp_url": "http://x/counter?from=test",
    }
    assert message.startswith(f"Process {pid} crashed: KeyError('inc')\n")
    assert "  view: Counter\n  url: http://x/counter?from=test\n  event: " in message
    assert_traceback(exc_info, "KeyError: 'inc'", "handle_event")


# ---------------------------------------------------------------- HTTP


async def failing_handler(request):
    raise RuntimeError("the handler failed")


async def test_an_http_handler_crash_is_a_json_record_on_web_http_with_the_request_path():
    endpoint = await Endpoint.start_link(failing_handler, port=0, telemetry_period=None)
    with json_log() as documents:
        stream = await trio.open_tcp_stream("127.0.0.1", Endpoint.address(endpoint)[1])
        async with stream:
            await stream.send_all(b"GET /boom?x=1 HTTP/1.1\r\nhost: a\r\n\r\n")
            answer = b""
            while chunk := await stream.receive_some():
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 500 ")
        # The connection's process closes the stream, then ends: wait for it to be gone.
        await wait_all_tasks_blocked()
    # The connection's crash report, then its supervisor's (a temporary child, not restarted).
    assert [d["logger"] for d in documents] == ["web.http", "otp.supervisor"]
    crash_report = documents[0]
    exc_info = crash_report.pop("exc_info")
    message = crash_report.pop("message")
    pid = crash_report["otp_pid"]
    assert crash_report == {"logger": "web.http", "level": "ERROR", "otp_pid": pid, "otp_name": None, "otp_url": "/boom"}
    assert message.startswith(f"Process {pid} crashed: RuntimeError('the handler failed')\n")
    assert message.endswith("\n  request: GET /boom")  # the path: a query string may carry tokens
    assert_traceback(exc_info, "RuntimeError: the handler failed", "failing_handler")


# ---------------------------------------------------------------- exit signals are not crashes (OTP's rule)


async def crash_when_told():
    await otp.receive(lambda m: m == "crash")
    raise ValueError("told to crash")


async def test_of_two_linked_processes_only_the_one_that_crashed_has_a_crash_report():
    async def linked_to(pid):
        otp.link(pid)
        await otp.receive()

    with capture_crash_reports() as reports:
        crasher = otp.spawn(crash_when_told)
        victim, ref = otp.spawn_monitor(linked_to, crasher)
        await wait_all_tasks_blocked()  # the link is made
        otp.send(crasher, "crash")
        await assert_down(ref, ValueError)
    assert [(r.name, r.otp_pid) for r in reports] == [("otp.process", str(crasher))]


async def test_a_process_ended_by_an_exit_signal_has_no_crash_report():
    with capture_crash_reports() as reports:
        killed, killed_ref = otp.spawn_monitor(otp.receive)
        otp.exit(killed, otp.KILL)
        await assert_down(killed_ref, otp.KILLED)
        signalled, signalled_ref = otp.spawn_monitor(otp.receive)
        otp.exit(signalled, "go away")
        await assert_down(signalled_ref, "go away")
        server = await Fragile.start()
        server_ref = otp.monitor(server)
        otp.exit(server, otp.KILL)
        await assert_down(server_ref, otp.KILLED)
    assert reports == []


class Stubborn(GenServer):
    """Traps exits and never finishes terminating: its supervisor has to kill it."""

    async def init(self, arg):
        otp.trap_exits(True)

    async def terminate(self, reason):
        await trio.sleep_forever()


async def test_a_supervisor_shutting_its_children_down_logs_no_crash_report(autojump_clock):
    children = [
        Fragile.child_spec(None, id="plain"),
        Stubborn.child_spec(None, id="stubborn", shutdown=1.0),
        Supervisor.child_spec([Fragile.child_spec(None, id="nested")], id="inner"),
    ]
    with capture_crash_reports() as reports:
        sup = await Supervisor.start_link(children)
        stubborn = {c.id: c.pid for c in await Supervisor.which_children(sup)}["stubborn"]
        stubborn_ref = otp.monitor(stubborn)
        await Supervisor.stop(sup)
        # Killed once its shutdown timeout passed (virtual time): stopped, not failed.
        await assert_down(stubborn_ref, otp.KILLED)
    assert reports == []


async def test_a_supervised_child_killed_by_a_signal_gets_the_supervisors_report_and_no_crash_report():
    with capture_crash_reports() as reports:
        sup = await Supervisor.start_link([Fragile.child_spec(None, id="victim", restart=Restart.PERMANENT)])
        [child] = await Supervisor.which_children(sup)
        ref = otp.monitor(child.pid)
        otp.exit(child.pid, otp.KILL)
        await assert_down(ref, otp.KILLED)
        await Supervisor.which_children(sup)
    assert [(r.name, r.otp_event, r.otp_pid, r.otp_reason) for r in reports] == [
        ("otp.supervisor", "child_terminated", str(sup), otp.KILLED)
    ]


def test_a_quick_chaos_run_logs_one_supervisor_report_per_kill_and_nothing_else(monkeypatch):
    from benchmarks._harness import capture_reports
    from benchmarks.kernel import w7_chaos

    logs = []

    @contextmanager
    def capture_and_keep():
        with capture_reports() as log:  # the benchmark's own: every record under "otp" counted, none printed
            logs.append(log)
            yield log

    monkeypatch.setattr(w7_chaos, "capture_reports", capture_and_keep)
    run = w7_chaos.run_chaos(w7_chaos.ChaosConfig(**w7_chaos.WORKLOAD.quick_options))
    [log] = logs
    assert run.kills == 100
    # A killed worker has no crash report: the only records are its supervisor's child_terminated.
    assert (log.records, log.events) == (100, ["child_terminated"] * 100)
