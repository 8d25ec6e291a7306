"""otp.testing's supervised fixtures: ``start_supervised``, ``stop_supervised`` and ``wait_for_restart``.

What happens at the end of a test is checked in pytest runs of their own
(pytester): the inner tests write what their children saw to a file.
"""

import re

import pytest
import trio
from _workers import Worker

import otp
from otp import AlreadyStarted, DynamicSupervisor, GenServer, Restart, StartError, Strategy, Supervisor, telemetry
from otp.lowlevel import is_linked
from otp.supervisor import GAVE_UP
from otp.testing import (
    assert_down,
    capture_crash_reports,
    current_test_supervisor,
    flush_mailbox,
    kill_and_wait,
    open_test_supervisor,
    start_supervised,
    stop_supervised,
    wait_for_restart,
)

RESTARTED = ("otp", "supervisor", "restarted")


class Counter(GenServer):
    async def init(self, start):
        self.count = start

    async def handle_call(self, request, caller):
        if request == "incr":
            self.count += 1
        return self.count


# ---------------------------------------------------------------- start_supervised


async def test_start_supervised_starts_the_child_under_the_tests_own_supervisor():
    pid = await start_supervised(Counter.child_spec(5, name="counter"))
    assert otp.whereis("counter") == pid
    assert await GenServer.call(pid, "incr") == 6
    supervisor = current_test_supervisor()
    assert [(row.id, row.pid) for row in await Supervisor.which_children(supervisor)] == [(Counter, pid)]
    assert is_linked(supervisor)  # its exit would end the test


async def test_the_tests_supervisor_restarts_a_crashed_child_and_wait_for_restart_returns_it():
    old = await start_supervised((Counter, 0))
    await GenServer.call(old, "incr")
    with capture_crash_reports():
        otp.exit(old, "boom")
        new = await wait_for_restart(current_test_supervisor(), Counter, old)
    assert new != old and await GenServer.call(new, "incr") == 1  # started again from its spec


async def test_overrides_replace_fields_of_the_spec():
    a = await start_supervised(Counter, id="a")
    b = await start_supervised(Counter, id="b", restart=Restart.TEMPORARY)
    rows = await Supervisor.which_children(current_test_supervisor())
    assert [(row.id, row.pid) for row in rows] == [("b", b), ("a", a)]  # newest first
    await kill_and_wait(b)
    assert [row.id for row in await Supervisor.which_children(current_test_supervisor())] == ["a"]  # temporary: gone


async def test_the_same_id_twice_is_already_started():
    pid = await start_supervised(Counter)
    with pytest.raises(AlreadyStarted) as raised:
        await start_supervised(Counter)
    assert raised.value.pid == pid


async def test_a_child_that_fails_to_start_raises_start_error_and_the_test_goes_on():
    with capture_crash_reports() as reports:
        with pytest.raises(StartError) as raised:
            await start_supervised((Worker, {"init": "crash", "reason": ValueError("no")}))
    assert repr(raised.value.reason) == "ValueError('no')"
    assert [record.name for record in reports] == ["otp.genserver"]  # the child's crash report
    assert otp.is_alive(await start_supervised(Counter))  # the supervisor carries on


async def test_a_child_that_ignores_its_start_is_a_start_error():
    with pytest.raises(StartError, match="start_supervised needs a running process") as raised:
        await start_supervised((Worker, {"init": "ignore"}))
    assert raised.value.reason == "ignore"


async def test_stop_supervised_stops_the_child_and_forgets_it():
    pid = await start_supervised(Counter)
    ref = otp.monitor(pid)
    await stop_supervised(Counter)
    await assert_down(ref, otp.SHUTDOWN, timeout=0)
    assert await Supervisor.which_children(current_test_supervisor()) == []
    with pytest.raises(otp.SupervisorError, match="no child 'nobody'"):
        await stop_supervised("nobody")


async def test_only_the_test_process_may_start_supervised_children():
    me = otp.current_pid()

    async def helper():
        try:
            await start_supervised(Counter)
        except RuntimeError as error:
            otp.send(me, str(error))

    otp.spawn(helper)
    message = await otp.receive(str)
    assert message.startswith("start_supervised() must be called from the test's own process ")


async def test_current_test_supervisor_before_any_child_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"starts with the first start_supervised\(\); none was called yet"):
        current_test_supervisor()


async def test_a_nested_scope_stops_its_children_newest_first_when_it_ends():
    me = otp.current_pid()
    async with open_test_supervisor():
        first = await start_supervised((Worker, {"notify": me, "trap_exits": True}), id="first")
        second = await start_supervised((Worker, {"notify": me, "trap_exits": True}), id="second")
        flush_mailbox()
    # Both have stopped by the time the block is left: newest first, each running terminate.
    assert flush_mailbox() == [("terminating", second, otp.SHUTDOWN), ("terminating", first, otp.SHUTDOWN)]
    assert not otp.is_alive(first) and not otp.is_alive(second)


# ---------------------------------------------------------------- wait_for_restart


async def test_wait_for_restart_returns_at_once_when_the_restart_is_done_already():
    sup = await Supervisor.start_link([Worker.child_spec({}, id="w")])
    [old] = [row.pid for row in await Supervisor.which_children(sup)]
    await kill_and_wait(old)
    [new] = [row.pid for row in await Supervisor.which_children(sup)]  # after the restart
    assert await wait_for_restart(sup, "w", old, timeout=0) == new


async def test_wait_for_restart_sees_a_sibling_restarted_by_one_for_all():
    sup = await Supervisor.start_link([Worker.child_spec({}, id="a"), Worker.child_spec({}, id="b")], strategy=Strategy.ONE_FOR_ALL)
    old = {row.id: row.pid for row in await Supervisor.which_children(sup)}
    otp.exit(old["a"], "boom")
    new_b = await wait_for_restart(sup, "b", old["b"])
    assert {row.id: row.pid for row in await Supervisor.which_children(sup)}["b"] == new_b != old["b"]


async def test_wait_for_restart_of_a_dynamic_supervisors_child_by_its_pid():
    sup = await DynamicSupervisor.start_link()
    other = await DynamicSupervisor.start_child(sup, Worker.child_spec({}))
    old = await DynamicSupervisor.start_child(sup, Worker.child_spec({}))
    otp.exit(old, "boom")
    new = await wait_for_restart(sup, None, old)
    assert [row.pid for row in await DynamicSupervisor.which_children(sup)] == [new, other]


class Flaky(GenServer):
    """Starts, then fails to start as many times as ``failures`` says, then starts again."""

    async def init(self, failures):
        if failures and failures.pop():
            raise ValueError("not yet")


async def test_wait_for_restart_waits_through_failed_restarts():
    failures = []  # its first start works
    sup = await Supervisor.start_link([Flaky.child_spec(failures, id="flaky")], max_restarts=10)
    [old] = [row.pid for row in await Supervisor.which_children(sup)]
    failures[:] = [False, True, True]  # popped from the end: two failed restarts, then one that works
    with capture_crash_reports():
        otp.exit(old, "boom")
        new = await wait_for_restart(sup, "flaky", old)
    assert [row.pid for row in await Supervisor.which_children(sup)] == [new] and failures == []


async def test_wait_for_restart_fails_after_its_timeout_and_cleans_up(autojump_clock):
    sup = await Supervisor.start_link([Worker.child_spec({}, id="w")])
    [pid] = [row.pid for row in await Supervisor.which_children(sup)]
    start = trio.current_time()
    with pytest.raises(AssertionError, match=rf"^child 'w' \({pid!r}\) of {sup!r} was not restarted within 2.5 s$"):
        await wait_for_restart(sup, "w", pid, timeout=2.5)
    assert trio.current_time() - start == 2.5
    assert telemetry.list_handlers(RESTARTED) == []
    assert flush_mailbox() == []


async def test_wait_for_restart_fails_when_the_supervisor_ends_first():
    otp.trap_exits(True)
    sup = await Supervisor.start_link([Worker.child_spec({}, id="w")], max_restarts=0)
    [pid] = [row.pid for row in await Supervisor.which_children(sup)]
    with capture_crash_reports():
        otp.exit(pid, "boom")
        with pytest.raises(AssertionError, match=re.escape(f"ended with {GAVE_UP!r} before restarting the child")):
            await wait_for_restart(sup, "w", pid)


async def test_wait_for_restart_names_what_it_cannot_wait_for():
    sup = await Supervisor.start_link([Worker.child_spec({}, id="w")])
    with pytest.raises(AssertionError, match=r"has no child 'x'$"):
        await wait_for_restart(sup, "x", otp.current_pid())
    with pytest.raises(AssertionError, match=r"supervisor 'nobody' is not running$"):
        await wait_for_restart("nobody", "w", otp.current_pid())


# ---------------------------------------------------------------- the end of a test (pytester)

ENDINGS = '''
import json
import os
import trio
import otp
from otp import GenServer
from otp.testing import start_supervised

LOG = os.environ["ENDINGS_LOG"]


class Slow(GenServer):
    """Takes a (virtual) second to stop: longer than the node's 0.1 s shutdown timeout."""

    async def init(self, tag):
        otp.trap_exits(True)
        self.tag = tag

    async def terminate(self, reason):
        await trio.sleep(1.0)
        with open(LOG, "a") as log:
            log.write(json.dumps([self.tag, str(reason)]) + "\\n")


async def test_starts_two(autojump_clock):
    await start_supervised(Slow.child_spec("first", id="first", shutdown=5.0))
    await start_supervised(Slow.child_spec("second", id="second", shutdown=5.0))


async def test_fails_after_starting_one(autojump_clock):
    await start_supervised(Slow.child_spec("third", id="third", shutdown=5.0))
    raise AssertionError("the test failed")
'''


def test_children_stop_newest_first_when_the_test_ends_even_when_it_fails(pytester, tmp_path, monkeypatch):
    log = tmp_path / "endings.log"
    monkeypatch.setenv("ENDINGS_LOG", str(log))
    pytester.makeini("[pytest]\ntrio_mode = true\notp_mode = true\n")
    pytester.makepyfile(test_endings=ENDINGS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    # Each terminate ran to its end (a second, beyond the node's 0.1 s), newest first.
    assert log.read_text().splitlines() == [
        '["second", "shutdown"]',
        '["first", "shutdown"]',
        '["third", "shutdown"]',
    ]


def test_start_supervised_outside_a_test_supervisor_says_how_to_get_one(pytester):
    pytester.makeini("[pytest]\ntrio_mode = true\n")  # no otp_mode: the test opens a node itself
    pytester.makepyfile(
        test_outside='''
import pytest
import otp
from otp.testing import start_supervised

async def test_it():
    async with otp.open_node():
        with pytest.raises(RuntimeError, match="needs the test's supervisor: run the test with the otp pytest plugin"):
            await start_supervised(otp.Supervisor)
'''
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
