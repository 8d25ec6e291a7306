"""Task and TaskSupervisor (otp/task.py): results, crashes, timeouts, shutdown, supervision."""

import math

import pytest
import trio
import trio.testing

import otp
from otp import KILLED, SHUTDOWN, CallTimeout, ExitSignal, Task, TaskExited, TaskSupervisor
from otp.lowlevel import queued_messages
from otp.testing import assert_down, assert_receive, capture_crash_reports


async def double(x):
    return 2 * x


def triple(x):  # a sync function works too
    return 3 * x


async def fail():
    raise ValueError("task failed")


async def wait_for_go(parent):
    otp.send(parent, ("waiting", otp.current_pid()))
    return await otp.receive(lambda m: m == "go")


# ---------------------------------------------------------------- Task.spawn


async def test_result_is_what_the_function_returned_and_nothing_is_left_behind():
    task = Task.spawn(double, 21)
    assert await task.result() == 42
    assert queued_messages() == []
    assert otp.process_info(otp.current_pid()).monitors == ()
    assert otp.process_info(otp.current_pid()).links == ()  # the task ended normally


async def test_a_sync_function_runs_as_a_task():
    assert await Task.spawn(triple, 5).result() == 15


async def test_a_task_is_linked_and_monitored_by_its_owner():
    task = Task.spawn(wait_for_go, otp.current_pid())
    await assert_receive(lambda m: m == ("waiting", task.pid))
    info = otp.process_info(otp.current_pid())
    assert info.links == (task.pid,)
    assert info.monitors == (task.pid,)
    otp.send(task.pid, "go")
    assert await task.result() == "go"


async def test_a_crashing_task_ends_a_non_trapping_owner_with_the_same_reason():
    async def owner():
        await Task.spawn(fail).result()

    with capture_crash_reports():
        pid, ref = otp.spawn_monitor(owner)
        down = await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == ref)
    assert isinstance(down.reason, ValueError) and down.reason.args == ("task failed",)
    assert not otp.is_alive(pid)


async def test_a_trapping_owner_gets_task_exited_and_no_stray_exit_signal():
    otp.trap_exits(True)
    with capture_crash_reports():
        task = Task.spawn(fail)
        with pytest.raises(TaskExited) as info:
            await task.result()
    assert isinstance(info.value.reason, ValueError)
    assert info.value.task is task
    assert queued_messages() == []


async def test_a_timeout_raises_call_timeout_and_the_late_result_is_dropped(autojump_clock):
    otp.trap_exits(True)
    task = Task.spawn(wait_for_go, otp.current_pid())
    await assert_receive(lambda m: m == ("waiting", task.pid))
    with pytest.raises(CallTimeout) as info:
        await task.result(timeout=1.0)
    assert (info.value.timeout, info.value.reason) == (1.0, "timeout")
    assert otp.is_alive(task.pid)  # a timeout does not stop the task
    ref = otp.monitor(task.pid)
    otp.send(task.pid, "go")  # it answers now, too late
    await assert_down(ref, otp.NORMAL)
    otp.demonitor(task.monitor_ref, flush=True)
    assert [m for m in queued_messages() if not isinstance(m, ExitSignal)] == []


async def test_only_the_owner_may_wait_for_a_task():
    task = Task.spawn(wait_for_go, otp.current_pid())
    await assert_receive(tuple)

    async def stranger():
        await task.result()

    with capture_crash_reports() as reports:
        pid, ref = otp.spawn_monitor(stranger)
        down = await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == ref)
    assert isinstance(down.reason, RuntimeError)
    assert "only its owner may wait for it" in str(down.reason)
    assert len(reports) == 1
    otp.send(task.pid, "go")
    assert await task.result() == "go"


# ---------------------------------------------------------------- shutdown


async def test_shutdown_stops_a_running_task_and_returns_none():
    task = Task.spawn(trio.sleep_forever)
    ref = otp.monitor(task.pid)
    assert await task.shutdown() is None
    await assert_down(ref, SHUTDOWN)
    otp.demonitor(task.monitor_ref, flush=True)


async def test_shutdown_of_a_finished_task_returns_its_result():
    task = Task.spawn(double, 4)
    await trio.testing.wait_all_tasks_blocked()
    assert not otp.is_alive(task.pid)
    assert await task.shutdown() == 8
    assert queued_messages() == []


async def test_shutdown_kills_a_task_that_ignores_shutdown_after_the_timeout(autojump_clock):
    async def stubborn():
        otp.trap_exits(True)
        await trio.sleep_forever()

    task = Task.spawn(stubborn)
    await trio.testing.wait_all_tasks_blocked()
    ref = otp.monitor(task.pid)
    start = trio.current_time()
    assert await task.shutdown(timeout=2.0) is None
    assert trio.current_time() - start == pytest.approx(2.0)
    await assert_down(ref, KILLED)


async def test_shutdown_with_zero_timeout_kills_at_once():
    task = Task.spawn(trio.sleep_forever)
    ref = otp.monitor(task.pid)
    assert await task.shutdown(timeout=0) is None
    await assert_down(ref, KILLED)


# ---------------------------------------------------------------- TaskSupervisor


async def test_supervised_task_returns_its_result_and_is_a_temporary_child():
    sup = await TaskSupervisor.start_link()
    task = await TaskSupervisor.spawn(sup, wait_for_go, otp.current_pid())
    await assert_receive(lambda m: m == ("waiting", task.pid))
    assert await TaskSupervisor.children(sup) == [task.pid]
    assert otp.current_pid() in otp.process_info(task.pid).links  # linked to the owner too
    otp.send(task.pid, "go")
    assert await task.result() == "go"
    await trio.testing.wait_all_tasks_blocked()
    assert await TaskSupervisor.children(sup) == []  # temporary: never restarted


async def test_spawn_nolink_crash_only_fails_result_and_the_supervisor_lives_on():
    sup = await TaskSupervisor.start_link()
    with capture_crash_reports() as reports:
        task = await TaskSupervisor.spawn_nolink(sup, fail)
        with pytest.raises(TaskExited) as info:
            await task.result()
        # Answered after the supervisor has handled the task's exit signal.
        assert await TaskSupervisor.children(sup) == []
    assert repr(info.value.reason) == "ValueError('task failed')"
    assert otp.is_alive(sup)
    events = [getattr(r, "otp_event", "crash") for r in reports]
    assert events == ["crash", "child_terminated"]


async def test_a_task_that_ends_before_its_owner_monitors_it_still_reports_the_real_reason():
    # The supervisor starts the task; it waits for its owner's go before running.
    sup = await TaskSupervisor.start_link()
    with capture_crash_reports():
        task = await TaskSupervisor.spawn_nolink(sup, fail)
        with pytest.raises(TaskExited) as info:
            await task.result()
    assert isinstance(info.value.reason, ValueError)  # not NOPROC


async def test_a_supervised_task_whose_owner_dies_before_the_go_ends_quietly():
    sup = await TaskSupervisor.start_link()
    started = trio.Event()

    async def owner():
        await TaskSupervisor.spawn_nolink(sup, double, 1)
        started.set()
        raise otp.Exit("owner gone")

    with capture_crash_reports():
        otp.spawn(owner)
        await started.wait()
        await trio.testing.wait_all_tasks_blocked()
    assert await TaskSupervisor.children(sup) == []


async def test_start_child_runs_a_fire_and_forget_task():
    sup = await TaskSupervisor.start_link()
    pid = await TaskSupervisor.start_child(sup, otp.send, otp.current_pid(), "done")
    assert await assert_receive() == "done"
    ref = otp.monitor(pid)
    await assert_down(ref, otp.NOPROC)  # it has already ended
    assert await TaskSupervisor.children(sup) == []


async def test_max_children_limits_tasks():
    sup = await TaskSupervisor.start_link(max_children=1)
    first = await TaskSupervisor.spawn(sup, trio.sleep_forever)
    with pytest.raises(otp.SupervisorError) as info:
        await TaskSupervisor.spawn(sup, trio.sleep_forever)
    assert info.value.reason == "max_children"
    assert queued_messages() == []
    await first.shutdown()


async def test_result_waits_for_ever_with_an_infinite_timeout(autojump_clock):
    task = Task.spawn(wait_for_go, otp.current_pid())
    await assert_receive(tuple)
    otp.send_after(task.pid, "go", 3600.0)
    assert await task.result(timeout=math.inf) == "go"
