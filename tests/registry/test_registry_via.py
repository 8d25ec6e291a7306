"""Via-names: ``Registry.via(registry, key)`` as a GenServer's name, and registries under supervisors.

``ENDS`` is the matrix of how a named server ends × whether the registry
has processed its exit signal yet: in every case the name is free at once
(``whereis`` gives None, ``call`` raises ``NoProc``, ``send`` raises
``NotRegistered``, ``cast`` drops) and a new server can take it
immediately, keeping it after the registry has caught up.
"""

import pytest
from _workers import Worker

import otp
from otp.registry import UnknownRegistry
from otp import AlreadyStarted, ChildInfo, ChildType, GenServer, NoProc, NotRegistered, Registry, StartError, Supervisor
from otp.testing import assert_down, assert_receive, capture_crash_reports, flush_mailbox, wait_all_tasks_blocked

from ._helpers import busy, pending_exit

UNIQUE, DUPLICATE = Registry.UNIQUE, Registry.DUPLICATE
REG = "reg"
KEY = ("worker", 1)


async def test_a_server_named_by_via_is_called_cast_to_and_sent_to_through_it():
    me = otp.current_pid()
    registry = await Registry.start_link(keys=UNIQUE, name=REG)
    via = Registry.via(REG, KEY)
    pid = await Worker.start_link({"notify": me}, name=via)
    assert await assert_receive() == ("started", pid)
    assert Registry.lookup(REG, KEY) == [(pid, None)]
    assert Registry.keys(REG, pid) == [KEY]
    assert otp.whereis(via) == pid
    assert repr(via) == "Registry.via('reg', ('worker', 1))"
    # The server registered itself: it is linked to the registry (and to us, its starter).
    assert otp.process_info(pid).links == tuple(sorted([me, registry]))

    assert await GenServer.call(via, "ping") == "pong"
    otp.send(via, "hello")
    assert await assert_receive() == ("info", pid, "hello")
    ref = otp.monitor(pid)
    GenServer.cast(via, ("stop", otp.NORMAL))
    assert await assert_receive() == ("terminating", pid, otp.NORMAL)
    await assert_down(ref, otp.NORMAL)
    assert otp.whereis(via) is None
    assert flush_mailbox() == []


async def test_a_via_name_with_a_value_registers_that_value():
    await Registry.start_link(keys=UNIQUE, name=REG)
    pid = await Worker.start({}, name=Registry.via(REG, KEY, {"shard": 3}))
    assert Registry.lookup(REG, KEY) == [(pid, {"shard": 3})]
    assert otp.whereis(Registry.via(REG, KEY)) == pid  # the value is not part of the name
    assert Registry.via(REG, KEY, {"shard": 3}) == Registry.via(REG, KEY, {"shard": 3})


async def test_a_second_server_with_the_same_via_name_is_already_started():
    me = otp.current_pid()
    registry = await Registry.start_link(keys=UNIQUE, name=REG)
    via = Registry.via(REG, KEY)
    first = await Worker.start_link({}, name=via)
    before = otp.processes()
    with pytest.raises(AlreadyStarted) as raised:
        await Worker.start_link({"notify": me}, name=via)
    assert (raised.value.name, raised.value.pid) == (via, first)
    await wait_all_tasks_blocked()
    assert otp.processes() == before  # the second one is gone
    assert otp.process_info(me).links == tuple(sorted([registry, first]))
    assert Registry.lookup(REG, KEY) == [(first, None)]
    assert flush_mailbox() == []  # not started: no ("started", ...) and no exit signal


async def _stop_normally(pid):
    await GenServer.stop(pid)
    return otp.NORMAL


async def _stop_with_reason(pid):
    await GenServer.stop(pid, "bye")
    return "bye"


async def _crash(pid):
    error = RuntimeError("crash")
    GenServer.cast(pid, ("crash", error))
    return error


async def _kill(pid):
    otp.exit(pid, otp.KILL)
    return otp.KILLED


# fmt: off
ENDS = [
    # how the server ends           crash reports
    ("GenServer.stop",              _stop_normally,     0),
    ("GenServer.stop('bye')",       _stop_with_reason,  1),
    ("crash",                       _crash,             1),
    ("kill",                        _kill,              0),  # an exit signal is not a crash
]
# fmt: on


@pytest.mark.parametrize("phase", ["pending", "cleaned"])
@pytest.mark.parametrize(("how", "ending", "reports_expected"), [pytest.param(*e, id=e[0]) for e in ENDS])
async def test_the_via_name_is_free_as_soon_as_the_server_has_ended(how, ending, reports_expected, phase):
    registry = await Registry.start_link(keys=UNIQUE, name=REG)
    via = Registry.via(REG, KEY)
    old = await Worker.start({}, name=via)  # not linked to us: it may crash
    ref = otp.monitor(old)
    with capture_crash_reports() as reports:
        if phase == "pending":
            busy(registry)
        reason = await ending(old)
        await assert_down(ref, reason)
        if phase == "cleaned":
            await wait_all_tasks_blocked()
        assert pending_exit(registry, old) is (phase == "pending")

        assert otp.whereis(via) is None
        assert Registry.lookup(REG, KEY) == []
        with pytest.raises(NoProc):
            await GenServer.call(via, "ping")
        with pytest.raises(NotRegistered) as raised:
            otp.send(via, "hello")
        assert raised.value.name == via
        assert GenServer.cast(via, "hello") is None  # dropped

        new = await Worker.start({}, name=via)
        assert otp.whereis(via) == new
    assert [r.otp_pid for r in reports] == [str(old)] * reports_expected

    await wait_all_tasks_blocked()  # the registry has processed the old server's exit
    assert not pending_exit(registry, old)
    assert Registry.lookup(REG, KEY) == [(new, None)]
    assert await GenServer.call(via, "ping") == "pong"
    assert Registry.count(REG) == 1


async def test_the_trapping_caller_of_a_start_with_a_via_name_in_an_unknown_registry_gets_start_error():
    otp.trap_exits(True)
    with capture_crash_reports() as reports:
        with pytest.raises(StartError) as raised:
            await Worker.start_link({}, name=Registry.via("nope", KEY))
    reason = raised.value.reason
    assert type(reason) is UnknownRegistry and reason.name == "nope"
    assert [r.otp_reason for r in reports] == [reason]
    assert otp.processes() == [otp.current_pid()]
    assert flush_mailbox() == []


async def test_a_start_with_a_via_name_in_an_unknown_registry_raises_start_error_in_the_caller():
    async def starter(test):
        try:
            await Worker.start_link({}, name=Registry.via("nope", KEY))
        except StartError as error:
            otp.send(test, ("raised", error.reason))
        await otp.receive()

    with capture_crash_reports():
        pid, ref = otp.spawn_monitor(starter, otp.current_pid())
        message = await assert_receive()
    assert message[0] == "raised", message
    assert type(message[1]) is UnknownRegistry and message[1].name == "nope"
    assert otp.is_alive(pid)


async def test_a_via_name_in_a_registry_that_ended_behaves_as_a_name_nobody_holds():
    otp.trap_exits(True)
    registry = await Registry.start_link(keys=UNIQUE)
    await GenServer.stop(registry)
    via = Registry.via(registry, KEY)
    assert GenServer.cast(via, "hello") is None
    with pytest.raises(NoProc):
        await GenServer.call(via, "ping")
    with pytest.raises(NotRegistered):
        otp.send(via, "hello")


async def test_a_via_name_in_a_registry_that_ended_by_name_behaves_as_a_name_nobody_holds():
    otp.trap_exits(True)
    await Registry.start_link(keys=UNIQUE, name=REG)
    await GenServer.stop(REG)
    via = Registry.via(REG, KEY)
    assert GenServer.cast(via, "hello") is None
    with pytest.raises(NoProc):
        await GenServer.call(via, "ping")
    with pytest.raises(NotRegistered):
        otp.send(via, "hello")


async def test_a_via_name_in_a_duplicate_registry_is_refused():
    await Registry.start_link(keys=DUPLICATE, name=REG)
    with capture_crash_reports():
        with pytest.raises((TypeError, StartError)) as raised:
            await Worker.start({}, name=Registry.via(REG, KEY))
    error = raised.value
    assert isinstance(error if isinstance(error, TypeError) else error.reason, TypeError)
    assert Registry.lookup(REG, KEY) == []


async def test_a_via_name_registers_only_the_calling_process():
    await Registry.start_link(keys=UNIQUE, name=REG)
    other = otp.spawn(otp.receive)
    with pytest.raises(ValueError) as raised:
        Registry.via(REG, KEY).register(other)
    assert str(raised.value) == "Registry.via('reg', ('worker', 1)): a process can only register itself in a Registry"
    assert Registry.lookup(REG, KEY) == []


# ---------------------------------------------------------------- under a supervisor


async def test_registry_child_spec():
    spec = Registry.child_spec(keys=UNIQUE, name=REG)
    assert spec.id == REG
    assert Registry.child_spec(keys=UNIQUE, name=REG, id="custom").id == "custom"
    assert Registry.child_spec(keys=DUPLICATE).id is Registry


async def test_a_registry_and_a_via_named_worker_under_a_supervisor():
    me = otp.current_pid()
    via = Registry.via(REG, KEY)
    supervisor = await Supervisor.start_link(
        [
            Registry.child_spec(keys=UNIQUE, name=REG),
            Worker.child_spec({"notify": me}, name=via),
        ]
    )
    registry = otp.whereis(REG)
    first = otp.whereis(via)
    assert await assert_receive() == ("started", first)
    assert await Supervisor.which_children(supervisor) == [  # newest first
        ChildInfo(Worker, first, ChildType.WORKER),
        ChildInfo(REG, registry, ChildType.WORKER),
    ]
    assert await GenServer.call(via, "ping") == "pong"

    # The worker dies twice; each restart registers the new process under the name.
    crash = RuntimeError("x")
    endings = [
        (lambda pid: otp.exit(pid, otp.KILL), False),  # killed: no terminate
        (lambda pid: GenServer.cast(pid, ("crash", crash)), True),
    ]
    previous = first
    with capture_crash_reports() as reports:
        for end, terminates in endings:
            end(previous)
            if terminates:
                assert await assert_receive() == ("terminating", previous, crash)
            started = await assert_receive()
            assert started[0] == "started" and started[1] != previous
            current = started[1]
            assert otp.whereis(via) == current
            assert await GenServer.call(via, "ping") == "pong"
            previous = current
        await wait_all_tasks_blocked()
    assert Registry.lookup(REG, KEY) == [(previous, None)]
    assert Registry.count(REG) == 1
    assert [child.pid for child in await Supervisor.which_children(supervisor)] == [previous, registry]
    assert otp.whereis(REG) == registry  # the registry itself was never restarted
    assert len([r for r in reports if getattr(r, "otp_event", None) == "child_terminated"]) == 2


async def test_a_restarted_registry_takes_its_registered_worker_down_and_both_come_back():
    me = otp.current_pid()
    via = Registry.via(REG, KEY)
    supervisor = await Supervisor.start_link(
        [Registry.child_spec(keys=UNIQUE, name=REG), Worker.child_spec({"notify": me}, name=via)]
    )
    old_registry, old_worker = otp.whereis(REG), otp.whereis(via)
    assert await assert_receive() == ("started", old_worker)
    worker_ref = otp.monitor(old_worker)
    with capture_crash_reports():
        otp.exit(old_registry, otp.KILL)
        await assert_down(worker_ref, otp.KILLED)  # the link took it down with the registry
        started = await assert_receive(lambda m: isinstance(m, tuple) and m[0] == "started")
        await wait_all_tasks_blocked()
    new_registry, new_worker = otp.whereis(REG), started[1]
    assert new_registry not in (None, old_registry)
    assert new_worker != old_worker
    assert otp.whereis(via) == new_worker
    assert Registry.lookup(REG, KEY) == [(new_worker, None)]
    assert [child.pid for child in await Supervisor.which_children(supervisor)] == [new_worker, new_registry]
    assert await GenServer.call(via, "ping") == "pong"
    assert flush_mailbox() == []


async def test_a_supervisor_shutting_down_stops_the_registry_and_its_registered_worker():
    otp.trap_exits(True)
    via = Registry.via(REG, KEY)
    supervisor = await Supervisor.start_link([Registry.child_spec(keys=UNIQUE, name=REG), Worker.child_spec({}, name=via)])
    registry, worker = otp.whereis(REG), otp.whereis(via)
    refs = {otp.monitor(registry): registry, otp.monitor(worker): worker}
    with capture_crash_reports() as reports:
        await Supervisor.stop(supervisor, otp.SHUTDOWN)
    downs = [await assert_receive(otp.Down), await assert_receive(otp.Down)]
    assert sorted((refs[d.ref], d.reason) for d in downs) == sorted([(registry, otp.SHUTDOWN), (worker, otp.SHUTDOWN)])
    assert [d.pid for d in downs] == [worker, registry]  # children stop newest first
    assert reports == []
    assert await assert_receive(otp.ExitSignal) == otp.ExitSignal(pid=supervisor, reason=otp.SHUTDOWN)
    assert otp.whereis(REG) is None
