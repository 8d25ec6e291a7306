"""spawn*, pids, and the exit reason a process ends with."""

import contextvars
import pickle

import pytest
import trio

import otp
from otp.testing import assert_down, assert_receive


async def returns_value():
    return 42


async def raises_value_error():
    raise ValueError("boom")


async def exits_with(reason):
    raise otp.Exit(reason)


@pytest.mark.parametrize(
    ("function", "args", "expected"),
    [
        (returns_value, (), otp.NORMAL),
        (exits_with, ("custom",), "custom"),
        (exits_with, (otp.SHUTDOWN,), otp.SHUTDOWN),
        (exits_with, (otp.Shutdown("left"),), otp.Shutdown("left")),
        (lambda: 1 + 1, (), otp.NORMAL),  # a sync function runs in the process too
    ],
    ids=["returns", "exit-custom", "exit-shutdown", "exit-shutdown-detail", "sync-function"],
)
async def test_exit_reason_follows_how_the_function_ended(function, args, expected):
    pid, ref = otp.spawn_monitor(function, *args)
    await assert_down(ref, expected)


async def test_a_raised_exception_is_itself_the_exit_reason():
    pid, ref = otp.spawn_monitor(raises_value_error)
    down = await assert_down(ref, ValueError)
    assert down.reason.args == ("boom",)
    assert down.pid == pid


async def test_a_crashing_process_does_not_disturb_other_processes_or_the_node():
    me = otp.current_pid()

    async def bystander():
        msg = await otp.receive()
        otp.send(me, ("still here", msg))

    other = otp.spawn(bystander)
    for _ in range(10):
        otp.spawn(raises_value_error)
    otp.send(other, "ping")
    assert await assert_receive(tuple) == ("still here", "ping")


async def test_spawn_returns_at_once_and_the_child_runs_at_the_next_checkpoint():
    me = otp.current_pid()
    started = []

    async def child():
        started.append(True)
        otp.send(me, "ran")

    pid = otp.spawn(child)
    assert started == []
    assert otp.is_alive(pid)
    assert await assert_receive() == "ran"


async def test_spawn_of_something_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="spawn\\(\\) needs a function to run; got 42"):
        otp.spawn(42)


async def test_pids_are_unique_ordered_hashable_and_print_like_erlang():
    a = otp.spawn(returns_value)
    b = otp.spawn(returns_value)
    assert a != b and a < b and sorted([b, a]) == [a, b]
    assert len({a, b, a}) == 2
    assert repr(a) == f"<0.{a.number}.0>"


async def test_a_pickled_pid_equals_the_original_and_still_reaches_the_process():
    me = otp.current_pid()
    copy = pickle.loads(pickle.dumps(me))
    assert copy == me and hash(copy) == hash(me)
    otp.send(copy, "via a copy")
    assert await assert_receive() == "via a copy"


async def test_current_pid_outside_a_node_raises_not_a_process():
    with pytest.raises(otp.NotAProcess, match="otp.run"):
        contextvars.Context().run(otp.current_pid)


async def test_spawn_link_links_both_ways_from_the_start():
    pid = otp.spawn_link(otp.receive)
    assert otp.process_info(pid).links == (otp.current_pid(),)
    assert pid in otp.process_info(otp.current_pid()).links


async def test_child_trio_tasks_of_a_process_see_it_as_current_pid():
    me = otp.current_pid()
    seen = []

    async def helper():
        seen.append(otp.current_pid())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(helper)
    assert seen == [me]
