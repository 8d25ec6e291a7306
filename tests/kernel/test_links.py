"""link / unlink / spawn_link: what the exit-signal table (test_signals.py) does not cover."""

import pytest

import otp
from otp.lowlevel import queued_messages
from otp.testing import assert_receive, flush_mailbox


class Run:
    """Asks a puppet to call ``fn(*args)`` and reply ``("ran", result)``."""

    def __init__(self, fn, *args):
        self.fn = fn
        self.args = args


async def puppet(test):
    """Runs what it is asked to run, in its own process; forwards other messages to ``test``."""
    while True:
        message = await otp.receive()
        if isinstance(message, Run):
            otp.send(test, ("ran", message.fn(*message.args)))
        else:
            otp.send(test, ("got", message))


def start_puppet():
    return otp.spawn(puppet, otp.current_pid())


async def run_in(pid, fn, *args):
    """Have ``pid`` call ``fn(*args)`` and wait for it to have done so; return the result."""
    otp.send(pid, Run(fn, *args))
    reply = await assert_receive(lambda m: isinstance(m, tuple) and m[0] == "ran")
    return reply[1]


async def is_responsive(pid):
    otp.send(pid, "ping")
    return await assert_receive() == ("got", "ping")


def crash(error):
    raise error


def links_of(pid):
    return otp.process_info(pid).links


# ---------------------------------------------------------------- link


@pytest.mark.parametrize("linker_dies", [True, False], ids=["the linking side dies", "the linked side dies"])
async def test_a_link_carries_the_exit_signal_both_ways(linker_dies):
    linker, linked = start_puppet(), start_puppet()
    await run_in(linker, otp.link, linked)
    assert links_of(linker) == (linked,) and links_of(linked) == (linker,)
    dying, survivor = (linker, linked) if linker_dies else (linked, linker)
    dying_ref, survivor_ref = otp.monitor(dying), otp.monitor(survivor)
    error = ValueError("boom")
    otp.send(dying, Run(crash, error))
    first = await assert_receive()
    second = await assert_receive()
    assert first == otp.Down(dying_ref, dying, error) and first.reason is error
    assert second == otp.Down(survivor_ref, survivor, error) and second.reason is error


async def test_linking_twice_makes_one_link_and_one_signal():
    otp.trap_exits(True)
    other = start_puppet()
    otp.link(other)
    otp.link(other)
    assert links_of(otp.current_pid()) == (other,)
    assert links_of(other) == (otp.current_pid(),)
    ref = otp.monitor(other)
    otp.exit(other, "x")
    # Links are signalled before monitors: by the Down, every ExitSignal is queued.
    await assert_receive(otp.Down)
    assert flush_mailbox() == [otp.ExitSignal(pid=other, reason="x")]


async def test_one_unlink_removes_a_link_made_twice():
    other = start_puppet()
    otp.link(other)
    otp.link(other)
    otp.unlink(other)
    assert links_of(otp.current_pid()) == ()
    assert links_of(other) == ()


async def test_link_to_self_is_a_no_op():
    me = otp.current_pid()
    otp.link(me)
    assert links_of(me) == ()
    otp.unlink(me)
    assert links_of(me) == ()


async def test_link_accepts_a_pid_that_is_alive_but_has_not_run_yet():
    other = otp.spawn(otp.receive)
    otp.link(other)
    assert links_of(other) == (otp.current_pid(),)
    otp.unlink(other)


# ---------------------------------------------------------------- unlink


@pytest.mark.parametrize("unlinker", ["the side that linked", "the other side"])
async def test_unlink_from_either_side_removes_the_link_in_both_directions(unlinker):
    a, b = start_puppet(), start_puppet()
    await run_in(a, otp.link, b)
    if unlinker == "the side that linked":
        await run_in(a, otp.unlink, b)
    else:
        await run_in(b, otp.unlink, a)
    assert links_of(a) == () and links_of(b) == ()
    b_ref = otp.monitor(b)
    otp.exit(b, "crash")
    assert await assert_receive() == otp.Down(b_ref, b, "crash")
    assert await is_responsive(a)


async def test_unlink_is_idempotent_and_accepts_unlinked_and_dead_pids():
    me = otp.current_pid()
    stranger = start_puppet()
    otp.unlink(stranger)  # never linked
    dead, ref = otp.spawn_monitor(lambda: None)
    await assert_receive(otp.Down)
    otp.unlink(dead)
    other = start_puppet()
    otp.link(other)
    otp.unlink(other)
    otp.unlink(other)
    assert links_of(me) == () and links_of(other) == ()
    assert queued_messages() == []


async def test_unlink_while_trapping_leaves_no_exit_signal_behind():
    otp.trap_exits(True)
    other = start_puppet()
    otp.link(other)
    otp.unlink(other)
    ref = otp.monitor(other)
    otp.exit(other, "crash")
    assert await assert_receive() == otp.Down(ref, other, "crash")
    assert queued_messages() == []


# ---------------------------------------------------------------- chains


async def test_a_crash_travels_along_a_chain_with_the_same_reason():
    # A - B - C; C crashes: B ends because of C, A because of B, all with C's exception.
    a, b, c = start_puppet(), start_puppet(), start_puppet()
    await run_in(b, otp.link, a)
    await run_in(c, otp.link, b)
    refs = {otp.monitor(pid): pid for pid in (a, b, c)}
    error = ValueError("boom")
    otp.send(c, Run(crash, error))
    downs = [await assert_receive(otp.Down) for _ in range(3)]
    assert [down.pid for down in downs] == [c, b, a]
    for down in downs:
        assert refs[down.ref] == down.pid
        assert down.reason is error
    assert flush_mailbox() == []


async def test_a_trapping_process_in_the_middle_stops_the_chain():
    a, b, c = start_puppet(), start_puppet(), start_puppet()
    await run_in(b, otp.link, a)
    await run_in(c, otp.link, b)
    await run_in(b, otp.trap_exits, True)
    c_ref = otp.monitor(c)
    otp.send(c, Run(crash, KeyError("k")))
    down = await assert_receive(otp.Down)
    assert (down.ref, down.pid, type(down.reason), down.reason.args) == (c_ref, c, KeyError, ("k",))
    assert await assert_receive() == ("got", otp.ExitSignal(pid=c, reason=down.reason))
    assert await is_responsive(b)
    assert await is_responsive(a)
    assert links_of(b) == (a,)
    assert links_of(a) == (b,)


# ---------------------------------------------------------------- spawn_link


async def crash_at_once(error):
    raise error


@pytest.mark.parametrize("child_kind", ["async", "sync"])
async def test_spawn_link_a_child_that_crashes_at_once_still_takes_down_its_parent(child_kind):
    error = ValueError("first instruction")
    child_fn = crash_at_once if child_kind == "async" else crash

    async def parent():
        otp.spawn_link(child_fn, error)
        await otp.receive()

    pid, ref = otp.spawn_monitor(parent)
    down = await assert_receive()
    assert down == otp.Down(ref, pid, error)
    assert down.reason is error


async def test_spawn_link_a_trapping_parent_gets_the_childs_real_reason_never_noproc():
    otp.trap_exits(True)
    error = ValueError("first instruction")
    child = otp.spawn_link(crash_at_once, error)
    signal = await assert_receive()
    assert signal == otp.ExitSignal(pid=child, reason=error)
    assert signal.reason is error
    assert links_of(otp.current_pid()) == ()


async def test_spawn_link_child_ending_normally_leaves_a_non_trapping_parent_alone():
    me = otp.current_pid()
    child = otp.spawn_link(lambda: None)
    ref = otp.monitor(child)
    assert await assert_receive() == otp.Down(ref, child, otp.NORMAL)
    assert links_of(me) == ()
    assert otp.is_alive(me)


async def test_spawn_link_a_trapping_parent_gets_exit_signal_normal_when_the_child_returns():
    otp.trap_exits(True)
    child = otp.spawn_link(lambda: None)
    assert await assert_receive() == otp.ExitSignal(pid=child, reason=otp.NORMAL)
    assert links_of(otp.current_pid()) == ()


async def test_messages_sent_before_a_linked_process_ends_arrive_before_its_exit_signal():
    me = otp.current_pid()
    otp.trap_exits(True)

    async def last_words():
        for n in range(3):
            otp.send(me, n)
        raise otp.Exit("done")

    child = otp.spawn_link(last_words)
    assert [await assert_receive() for _ in range(4)] == [0, 1, 2, otp.ExitSignal(pid=child, reason="done")]


async def test_trap_exits_returns_the_previous_value():
    assert otp.trap_exits(True) is False
    assert otp.trap_exits(True) is True
    assert otp.process_info(otp.current_pid()).trap_exit is True
    assert otp.trap_exits(False) is True
    assert otp.process_info(otp.current_pid()).trap_exit is False
