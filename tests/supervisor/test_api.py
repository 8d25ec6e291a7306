"""The Supervisor API: children lists and counts, adding, stopping, restarting and deleting children,
child spec normalisation, starting (and failing to start), module-based and nested supervisors, names."""

import functools
import math

import pytest

import otp
from otp import (
    NORMAL,
    SHUTDOWN,
    AlreadyStarted,
    ChildCounts,
    ChildInfo,
    ChildSpec,
    ChildType,
    ExitSignal,
    GenServer,
    Ignore,
    Restart,
    Shutdown,
    StartError,
    Strategy,
    Supervisor,
    SupervisorError,
    SupervisorSpec,
)
from otp.testing import assert_down, assert_receive, capture_crash_reports, flush_mailbox, refute_receive

from ._workers import Worker, events, spec, stop_with

WORKER, SUPERVISOR = ChildType.WORKER, ChildType.SUPERVISOR


async def pids_of(sup):
    return {row.id: row.pid for row in await Supervisor.which_children(sup)}


# ---------------------------------------------------------------- which_children, count_children


async def test_which_children_and_count_children():
    inner = Supervisor.child_spec([spec("x")], id="inner")
    sup = await Supervisor.start_link([spec("a"), inner, spec("b", init="ignore")])
    rows = await Supervisor.which_children(sup)
    assert [(r.id, r.type) for r in rows] == [("b", WORKER), ("inner", SUPERVISOR), ("a", WORKER)]  # newest first
    assert rows[0].pid is None and rows[1].pid.__class__ is otp.Pid and rows[2].pid.__class__ is otp.Pid
    assert await Supervisor.which_children(rows[1].pid) == [ChildInfo("x", (await pids_of(rows[1].pid))["x"], WORKER)]
    counts = await Supervisor.count_children(sup)
    assert counts == ChildCounts(specs=3, active=2, supervisors=1, workers=2)
    assert (counts.specs, counts.active, counts.supervisors, counts.workers) == (3, 2, 1, 2)


async def test_an_empty_supervisor():
    sup = await Supervisor.start_link([])
    assert await Supervisor.which_children(sup) == []
    assert await Supervisor.count_children(sup) == ChildCounts(0, 0, 0, 0)


# ---------------------------------------------------------------- terminate_child


@pytest.mark.parametrize("restart", [Restart.PERMANENT, Restart.TRANSIENT], ids=lambda r: r.name)
async def test_terminate_child_keeps_the_spec(restart):
    sup = await Supervisor.start_link([spec("a", restart=restart), spec("b")])
    before = await pids_of(sup)
    ref = otp.monitor(before["a"])
    with capture_crash_reports() as records:
        assert await Supervisor.terminate_child(sup, "a") is None
    await assert_down(ref, SHUTDOWN, timeout=0)
    assert await Supervisor.which_children(sup) == [ChildInfo("b", before["b"], WORKER), ChildInfo("a", None, WORKER)]
    assert await Supervisor.count_children(sup) == ChildCounts(specs=2, active=1, supervisors=0, workers=2)
    # Not restarted, not reported: the supervisor stopped it.
    assert await pids_of(sup) == {"a": None, "b": before["b"]}
    assert events(records) == []
    # Terminating a stopped child is fine (OTP returns ok).
    await Supervisor.terminate_child(sup, "a")


async def test_terminate_child_drops_a_temporary_spec():
    sup = await Supervisor.start_link([spec("a", restart=Restart.TEMPORARY), spec("b")])
    await Supervisor.terminate_child(sup, "a")
    assert [r.id for r in await Supervisor.which_children(sup)] == ["b"]
    with pytest.raises(SupervisorError) as raised:
        await Supervisor.restart_child(sup, "a")
    assert raised.value.reason == "not_found"


async def test_terminate_child_of_an_unknown_id():
    sup = await Supervisor.start_link([spec("a")])
    with pytest.raises(SupervisorError) as raised:
        await Supervisor.terminate_child(sup, "nope")
    assert (raised.value.reason, raised.value.child) == ("not_found", "nope")
    assert isinstance(raised.value, LookupError)
    assert "no child 'nope'" in str(raised.value)


# ---------------------------------------------------------------- restart_child, delete_child


async def test_restart_child():
    me = otp.current_pid()
    sup = await Supervisor.start_link([spec("a", notify=me), spec("b")])
    before = await pids_of(sup)
    await Supervisor.terminate_child(sup, "a")
    flush_mailbox()
    pid = await Supervisor.restart_child(sup, "a")
    assert pid.__class__ is otp.Pid and pid != before["a"]
    assert await assert_receive(lambda m: m[0] == "started", timeout=0) == ("started", "a", pid)
    assert await pids_of(sup) == {"a": pid, "b": before["b"]}
    # It is supervised again: a crash restarts it.
    ref = otp.monitor(pid)
    with capture_crash_reports():
        stop_with(pid, ValueError("x"))
        await assert_down(ref, ValueError)
        assert (await pids_of(sup))["a"] not in (None, pid)


@pytest.mark.parametrize("operation", [Supervisor.restart_child, Supervisor.delete_child], ids=lambda f: f.__name__)
async def test_restart_and_delete_errors(operation):
    sup = await Supervisor.start_link([spec("a")])
    with pytest.raises(SupervisorError) as raised:
        await operation(sup, "a")
    assert (raised.value.reason, raised.value.child) == ("running", "a")
    with pytest.raises(SupervisorError) as raised:
        await operation(sup, "nope")
    assert (raised.value.reason, raised.value.child) == ("not_found", "nope")
    assert otp.is_alive(sup)


async def test_restart_child_that_fails_to_start():
    modes = ["ok", "crash"]
    error = ValueError("init")
    sup = await Supervisor.start_link([spec("a", init=modes, error=error)])
    await Supervisor.terminate_child(sup, "a")
    with capture_crash_reports():
        with pytest.raises(StartError) as raised:
            await Supervisor.restart_child(sup, "a")
    assert raised.value.reason is error
    assert await Supervisor.which_children(sup) == [ChildInfo("a", None, WORKER)]


async def test_restart_child_that_ignores():
    modes = ["ok", "ignore"]
    sup = await Supervisor.start_link([spec("a", init=modes)])
    await Supervisor.terminate_child(sup, "a")
    assert await Supervisor.restart_child(sup, "a") is None
    assert await Supervisor.which_children(sup) == [ChildInfo("a", None, WORKER)]


async def test_delete_child():
    sup = await Supervisor.start_link([spec("a"), spec("b")])
    await Supervisor.terminate_child(sup, "a")
    assert await Supervisor.delete_child(sup, "a") is None
    assert [r.id for r in await Supervisor.which_children(sup)] == ["b"]
    with pytest.raises(SupervisorError) as raised:
        await Supervisor.delete_child(sup, "a")
    assert raised.value.reason == "not_found"
    # The id is free again.
    pid = await Supervisor.start_child(sup, spec("a"))
    assert await pids_of(sup) == {"b": (await pids_of(sup))["b"], "a": pid}


# ---------------------------------------------------------------- start_child


async def test_start_child_appends_a_supervised_child():
    me = otp.current_pid()
    sup = await Supervisor.start_link([spec("a")], strategy=Strategy.REST_FOR_ONE)
    pid = await Supervisor.start_child(sup, spec("new", notify=me))
    assert await assert_receive(lambda m: m[0] == "started", timeout=0) == ("started", "new", pid)
    rows = await Supervisor.which_children(sup)
    assert [r.id for r in rows] == ["new", "a"] and rows[0].pid == pid  # newest first
    # It is last in the order: a crash of "a" restarts it too (REST_FOR_ONE).
    ref = otp.monitor(rows[1].pid)
    with capture_crash_reports():
        stop_with(rows[1].pid, ValueError("a"))
        await assert_down(ref, ValueError)
        assert (await pids_of(sup))["new"] != pid


async def test_start_child_with_a_running_id():
    sup = await Supervisor.start_link([spec("a")])
    running = (await pids_of(sup))["a"]
    with pytest.raises(AlreadyStarted) as raised:
        await Supervisor.start_child(sup, spec("a"))
    assert raised.value.pid == running
    assert await pids_of(sup) == {"a": running}


async def test_start_child_with_a_stopped_id():
    sup = await Supervisor.start_link([spec("a")])
    await Supervisor.terminate_child(sup, "a")
    with pytest.raises(SupervisorError) as raised:
        await Supervisor.start_child(sup, spec("a"))
    assert (raised.value.reason, raised.value.child) == ("already_present", "a")


@pytest.mark.parametrize(
    "config, reason",
    [({"init": "crash"}, "error"), ({"init": "stop", "stop_reason": "no"}, "no")],
    ids=["init raises", "init returns Stop"],
)
async def test_start_child_that_fails(config, reason):
    error = ValueError("init")
    sup = await Supervisor.start_link([spec("a")])
    with capture_crash_reports() as records:
        with pytest.raises(StartError) as raised:
            await Supervisor.start_child(sup, spec("bad", error=error, **config))
    assert raised.value.reason == (error if reason == "error" else reason)
    assert "child 'bad'" in str(raised.value)
    assert [r.id for r in await Supervisor.which_children(sup)] == ["a"]  # not added
    assert events(records) == []  # the caller got the error; OTP logs no report either
    await refute_receive(ExitSignal, timeout=0)


async def test_start_child_that_ignores():
    sup = await Supervisor.start_link([])
    assert await Supervisor.start_child(sup, spec("a", init="ignore")) is None
    assert await Supervisor.which_children(sup) == [ChildInfo("a", None, WORKER)]


async def test_start_child_with_a_taken_name():
    holder = await Worker.start_link({}, name="taken")
    sup = await Supervisor.start_link([])
    with pytest.raises(AlreadyStarted) as raised:
        await Supervisor.start_child(sup, Worker.child_spec({}, id="w", name="taken"))
    assert raised.value.pid == holder
    assert await Supervisor.which_children(sup) == []


# ---------------------------------------------------------------- child specs


async def test_the_three_ways_to_write_a_child():
    me = otp.current_pid()
    sup = await Supervisor.start_link(
        [
            ChildSpec(id="spec", start=(Worker.start_link, {"notify": me, "tag": "spec"})),
            Worker,
            (Counter, 7),
        ]
    )
    rows = await Supervisor.which_children(sup)
    assert [r.id for r in rows] == [Counter, Worker, "spec"]  # newest first
    assert await GenServer.call(rows[0].pid, "get") == 7
    assert await assert_receive(lambda m: m[0] == "started", timeout=0) == ("started", "spec", rows[2].pid)


class Counter(GenServer, restart=Restart.TRANSIENT, shutdown=1.0):
    async def init(self, start):
        self.count = start

    async def handle_call(self, request, caller):
        return self.count


def test_child_spec_defaults():
    worker = ChildSpec(id="w", start=Worker.start_link)
    assert worker.start == (Worker.start_link,)
    assert (worker.restart, worker.shutdown, worker.type) == (Restart.PERMANENT, 5.0, WORKER)
    supervisor = ChildSpec(id="s", start=(Supervisor.start_link, []), type=SUPERVISOR)
    assert supervisor.shutdown == math.inf
    assert (Counter.child_spec(3).restart, Counter.child_spec(3).shutdown, Counter.child_spec(3).id) == (
        Restart.TRANSIENT,
        1.0,
        Counter,
    )
    nested = Supervisor.child_spec([], id="n", strategy=Strategy.ONE_FOR_ALL)
    assert (nested.id, nested.type, nested.shutdown, nested.restart) == ("n", SUPERVISOR, math.inf, Restart.PERMANENT)


# fmt: off
@pytest.mark.parametrize("children, error, message", [
    ([spec("a"), spec("a")],                                       ValueError, "two children have the id 'a'"),
    ([Worker, Worker],                                             ValueError, "two children have the id"),
    ([42],                                                         TypeError,  "a child must be a ChildSpec"),
    (["a"],                                                        TypeError,  "a child must be a ChildSpec"),
    ([(Worker, 1, 2)],                                             TypeError,  "a child must be a ChildSpec"),
    (spec("a"),                                                    TypeError,  "children must be a list"),
])
# fmt: on
async def test_bad_children_list(children, error, message):
    with pytest.raises(error, match=message):
        await Supervisor.start_link(children)
    assert otp.processes() == [otp.current_pid()]  # nothing was started


# fmt: off
@pytest.mark.parametrize("fields, message", [
    ({"start": Worker},                          None),                                   # a class is callable: accepted
    ({"start": ()},                              "ChildSpec start must be \\(function, \\*args\\)"),
    ({"start": ("not callable", 1)},             "ChildSpec start must be \\(function, \\*args\\)"),
    ({"start": [Worker.start_link, 1]},          "ChildSpec start must be \\(function, \\*args\\)"),
    ({"start": 42},                              "ChildSpec start must be \\(function, \\*args\\)"),
    ({"restart": "permanent"},                   "restart"),
    ({"type": "worker"},                         "type"),
    ({"shutdown": -1},                           "ChildSpec shutdown must be seconds >= 0"),
    ({"shutdown": "5"},                          "ChildSpec shutdown must be seconds >= 0"),
    ({"shutdown": True},                         "ChildSpec shutdown must be seconds >= 0"),
    ({"id": ["unhashable"]},                     "ChildSpec id must be hashable"),
])
# fmt: on
def test_bad_child_spec(fields, message):
    full = {"id": "w", "start": (Worker.start_link, None), **fields}
    if message is None:
        ChildSpec(**full)
        return
    with pytest.raises(TypeError, match=message):
        ChildSpec(**full)


async def test_a_bad_child_given_to_start_child_fails_the_caller_not_the_supervisor():
    sup = await Supervisor.start_link([])
    with pytest.raises(TypeError, match="a child must be a ChildSpec"):
        await Supervisor.start_child(sup, 42)
    assert otp.is_alive(sup)


async def test_a_start_function_returning_a_non_pid():
    async def not_a_pid(arg):
        return "hello"

    sup = await Supervisor.start_link([])
    with pytest.raises(StartError) as raised:
        await Supervisor.start_child(sup, ChildSpec(id="x", start=(not_a_pid, 1)))
    assert isinstance(raised.value.reason, TypeError)
    assert "returned 'hello'; expected a Pid or None" in str(raised.value.reason)


async def test_a_plain_function_child_not_linked_is_linked_by_the_supervisor():
    """A start function that spawns without linking: the supervisor links, so the end still reaches it."""

    async def start_unlinked(notify):
        return otp.spawn(idle, notify)

    async def idle(notify):
        otp.send(notify, ("started", "idle", otp.current_pid()))
        await otp.receive()

    me = otp.current_pid()
    sup = await Supervisor.start_link([ChildSpec(id="idle", start=(start_unlinked, me))])
    first = (await assert_receive(lambda m: m[0] == "started"))[2]
    ref = otp.monitor(first)
    with capture_crash_reports() as records:
        otp.exit(first, "bang")
        await assert_down(ref, "bang")
        second = (await pids_of(sup))["idle"]
    assert second not in (None, first)
    assert events(records) == [("child_terminated", "idle", "bang")]


# ---------------------------------------------------------------- starting the supervisor


@pytest.mark.parametrize("failing", ["a", "b", "c"])
async def test_a_child_failing_to_start_fails_the_supervisor_start(failing):
    me = otp.current_pid()
    otp.trap_exits(True)
    error = ValueError("init")
    children = [
        spec(i, notify=me, trap_exits=True, **({"init": "crash", "error": error} if i == failing else {}))
        for i in "abc"
    ]
    with capture_crash_reports() as records:
        with pytest.raises(StartError) as raised:
            await Supervisor.start_link(children, strategy=Strategy.ONE_FOR_ALL)
    assert raised.value.reason == Shutdown(("failed_to_start_child", failing, error))
    # The ones started before it were stopped, newest first; none after it was started.
    before = "abc"[: "abc".index(failing)]
    messages = flush_mailbox()
    started = {m[1]: m[2] for m in messages if m[0] == "started"}
    assert list(started) == list(before)
    assert [m for m in messages if m[0] == "terminating"] == [
        ("terminating", i, started[i], SHUTDOWN) for i in reversed(before)
    ]
    assert not any(otp.is_alive(pid) for pid in started.values())
    assert otp.processes() == [me]
    assert events(records) == [("start_error", failing, error)]
    # Unlinked before it exited: the caller got an exception, no exit signal.
    assert not any(isinstance(m, ExitSignal) for m in messages)


async def test_a_child_ignoring_its_start_keeps_its_spec():
    sup = await Supervisor.start_link([spec("a", init="ignore"), spec("b")])
    rows = await Supervisor.which_children(sup)
    assert rows[1] == ChildInfo("a", None, WORKER) and rows[0].pid.__class__ is otp.Pid
    assert await Supervisor.count_children(sup) == ChildCounts(specs=2, active=1, supervisors=0, workers=2)


# ---------------------------------------------------------------- module-based supervisors


class App(Supervisor):
    async def init(self, arg):
        notify, strategy = arg
        otp.send(notify, ("init ran in", otp.current_pid()))
        return SupervisorSpec([spec("db", notify=notify), spec("web", notify=notify)], strategy=strategy, max_restarts=0)


async def test_a_module_based_supervisor():
    me = otp.current_pid()
    otp.trap_exits(True)
    sup = await App.start_link((me, Strategy.REST_FOR_ONE), name="app")
    assert otp.whereis("app") == sup
    assert await assert_receive(lambda m: m[0] == "init ran in", timeout=0) == ("init ran in", sup)
    rows = await pids_of(sup)
    assert list(rows) == ["web", "db"]  # newest first
    # Its spec is honoured: max_restarts=0, so one crash ends it.
    with capture_crash_reports():
        stop_with(rows["web"], ValueError("web"))
        assert await assert_receive(ExitSignal) == ExitSignal(sup, otp.supervisor.GAVE_UP)


async def test_a_module_based_supervisor_as_a_child():
    me = otp.current_pid()
    top = await Supervisor.start_link([App.child_spec((me, Strategy.ONE_FOR_ONE))])
    (row,) = await Supervisor.which_children(top)
    assert (row.id, row.type) == (App, SUPERVISOR)
    assert list(await pids_of(row.pid)) == ["web", "db"]  # newest first


class Ignoring(Supervisor):
    async def init(self, arg):
        return Ignore()


class Broken(Supervisor):
    async def init(self, arg):
        return [spec("a")]


class NoInit(Supervisor):
    pass


async def test_module_based_supervisor_init_results():
    assert await Ignoring.start_link() is None
    with capture_crash_reports():
        with pytest.raises(StartError) as raised:
            await Broken.start_link()
    assert isinstance(raised.value.reason, TypeError)
    assert "Broken.init returned" in str(raised.value.reason) and "SupervisorSpec" in str(raised.value.reason)
    with capture_crash_reports():
        with pytest.raises(StartError) as raised:
            await NoInit.start_link()
    assert isinstance(raised.value.reason, NotImplementedError)
    with pytest.raises(TypeError, match="give \\['strategy'\\] in the SupervisorSpec"):
        await App.start_link(None, strategy=Strategy.ONE_FOR_ALL)


# ---------------------------------------------------------------- nested supervisors


async def test_nested_supervisors_with_their_own_strategy():
    me = otp.current_pid()
    inner = Supervisor.child_spec(
        [spec("x", notify=me), spec("y", notify=me)], id="inner", strategy=Strategy.ONE_FOR_ALL, max_restarts=5
    )
    top = await Supervisor.start_link([spec("a", notify=me), inner], strategy=Strategy.ONE_FOR_ONE)
    outer_rows = await pids_of(top)
    inner_rows = await pids_of(outer_rows["inner"])
    flush_mailbox()
    ref = otp.monitor(inner_rows["x"])
    with capture_crash_reports() as records:
        stop_with(inner_rows["x"], ValueError("x"))
        await assert_down(ref, ValueError)
        after = await pids_of(outer_rows["inner"])
    # The inner supervisor restarted both of its children; the outer one saw nothing.
    assert after["x"] != inner_rows["x"] and after["y"] != inner_rows["y"]
    assert await pids_of(top) == outer_rows
    assert [m[1] for m in flush_mailbox() if m[0] == "started"] == ["x", "y"]
    assert [e[:2] for e in events(records)] == [("child_terminated", "x")]


async def test_two_nested_supervisors_need_ids():
    with pytest.raises(ValueError, match="two children have the id"):
        await Supervisor.start_link([Supervisor.child_spec([]), Supervisor.child_spec([])])
    sup = await Supervisor.start_link([Supervisor.child_spec([], id=1), Supervisor.child_spec([], id=2)])
    assert [r.id for r in await Supervisor.which_children(sup)] == [2, 1]


# ---------------------------------------------------------------- regressions and names


@pytest.mark.parametrize("strategy", list(Strategy), ids=lambda s: s.name)
@pytest.mark.parametrize("reason", [NORMAL, ValueError("boom"), otp.KILL], ids=repr)
async def test_a_temporary_childs_end_never_takes_down_its_supervisor(strategy, reason):
    me = otp.current_pid()
    sup = await Supervisor.start_link(
        [spec("a", notify=me), spec("t", restart=Restart.TEMPORARY), spec("c", notify=me)],
        strategy=strategy,
        max_restarts=0,
    )
    rows = await pids_of(sup)
    flush_mailbox()
    ref = otp.monitor(rows["t"])
    with capture_crash_reports():
        for _ in range(3):
            stop_with(rows["t"], reason)
            await assert_down(ref, otp.KILLED if reason is otp.KILL else reason)
            assert await pids_of(sup) == {"a": rows["a"], "c": rows["c"]}
            rows["t"] = await Supervisor.start_child(sup, spec("t", restart=Restart.TEMPORARY))
            ref = otp.monitor(rows["t"])
    assert otp.is_alive(sup)
    assert flush_mailbox() == []  # a and c were never stopped nor restarted


async def test_a_supervisor_registered_by_name():
    me = otp.current_pid()
    sup = await Supervisor.start_link([spec("a", notify=me)], name="my_sup")
    assert otp.whereis("my_sup") == sup
    assert [r.id for r in await Supervisor.which_children("my_sup")] == ["a"]
    assert await Supervisor.count_children("my_sup") == ChildCounts(1, 1, 0, 1)
    with pytest.raises(AlreadyStarted) as raised:
        await Supervisor.start_link([], name="my_sup")
    assert raised.value.pid == sup
    pid = (await pids_of("my_sup"))["a"]
    ref = otp.monitor(pid)
    with capture_crash_reports() as records:
        stop_with(pid, ValueError("x"))
        await assert_down(ref, ValueError)
        await Supervisor.which_children("my_sup")
    (record,) = [r for r in records if hasattr(r, "otp_event")]
    assert record.getMessage().startswith(f"Supervisor {sup!r} (registered as 'my_sup'): child 'a' {pid!r} exited with ")
    await Supervisor.stop("my_sup")
    assert otp.whereis("my_sup") is None


async def test_calls_to_a_supervisor_that_is_not_running():
    with pytest.raises(otp.NoProc):
        await Supervisor.which_children("nobody")


async def test_a_child_registered_by_name_is_restarted_under_the_same_name():
    sup = await Supervisor.start_link([Worker.child_spec({}, id="w", name="worker")])
    first = otp.whereis("worker")
    assert first == (await pids_of(sup))["w"]
    ref = otp.monitor(first)
    with capture_crash_reports():
        otp.exit(first, otp.KILL)
        await assert_down(ref, otp.KILLED)
        second = (await pids_of(sup))["w"]
    assert otp.whereis("worker") == second != first
    assert await GenServer.call("worker", "ping") == "pong"


async def test_a_start_function_with_keywords_via_partial():
    me = otp.current_pid()
    start = functools.partial(Worker.start_link, name="kw")
    sup = await Supervisor.start_link([ChildSpec(id="kw", start=(start, {"notify": me, "tag": "kw"}))])
    assert otp.whereis("kw") == (await pids_of(sup))["kw"]


# ---------------------------------------------------------------- differences from OTP found while testing


@pytest.mark.parametrize("how", ["supervisor start", "start_child"])
async def test_a_temporary_child_that_ignores_its_start_is_not_kept(how):
    child = spec("t", restart=Restart.TEMPORARY, init="ignore")
    if how == "supervisor start":
        sup = await Supervisor.start_link([child, spec("a")])
    else:
        sup = await Supervisor.start_link([spec("a")])
        assert await Supervisor.start_child(sup, child) is None
    assert [r.id for r in await Supervisor.which_children(sup)] == ["a"]


async def raise_exit(reason):
    raise otp.Exit(reason)


async def test_a_start_function_raising_exit_fails_the_start_not_the_supervisor():
    otp.trap_exits(True)
    sup = await Supervisor.start_link([spec("a")])
    with capture_crash_reports():
        with pytest.raises(StartError):
            await Supervisor.start_child(sup, ChildSpec(id="x", start=(raise_exit, "bye")))
    assert otp.is_alive(sup)


async def test_a_failed_start_frees_the_supervisors_name():
    with capture_crash_reports():
        with pytest.raises(StartError):
            await Supervisor.start_link([spec("a", init="crash")], name="sup")
    assert otp.whereis("sup") is None
    sup = await Supervisor.start_link([spec("a")], name="sup")
    assert otp.whereis("sup") == sup
