"""otp.lowlevel: the hooks behaviours are built from."""

import pytest

import otp
from _via import DictVia
from otp.lowlevel import current_node, queued_messages, register_name, resolve_pid, spawn_opt
from otp.testing import assert_down, assert_receive


async def test_spawn_opt_traps_exits_before_the_child_runs():
    # A signal sent before the child's first instruction is still trapped.
    me = otp.current_pid()

    async def child():
        signal = await otp.receive(otp.ExitSignal)
        otp.send(me, ("trapped", signal.reason))

    pid, ref = spawn_opt(child, trap_exits=True, monitor=True)
    otp.exit(pid, "early")
    assert await assert_receive(tuple) == ("trapped", "early")
    await assert_down(ref, otp.NORMAL)


async def test_spawn_opt_links_and_monitors_on_request():
    pid, ref = spawn_opt(otp.receive, link=True, monitor=True)
    info = otp.process_info(pid)
    assert info.links == (otp.current_pid(),)
    assert info.monitored_by == (otp.current_pid(),)
    otp.unlink(pid)
    otp.exit(pid, "done")
    await assert_down(ref, "done")
    pid, ref = spawn_opt(otp.receive)
    assert ref is None and otp.process_info(pid).links == ()



TABLE: dict = {}


async def test_register_name_accepts_plain_names_and_via_names():
    me = otp.current_pid()
    register_name("plain", me)
    register_name(DictVia(TABLE, "k"), me)
    assert resolve_pid("plain") == me
    assert resolve_pid(DictVia(TABLE, "k")) == me
    assert otp.whereis(DictVia(TABLE, "k")) == me
    with pytest.raises(otp.AlreadyRegistered) as raised:
        register_name(DictVia(TABLE, "k"), me)
    assert (raised.value.key, raised.value.pid) == ("k", me)
    with pytest.raises(TypeError, match="must be a str"):
        register_name(42, me)
    TABLE.clear()


async def test_queued_messages_copies_without_consuming():
    otp.send(otp.current_pid(), "a")
    assert queued_messages() == ["a"]
    assert queued_messages(otp.current_pid()) == ["a"]
    assert await otp.receive() == "a"


async def test_current_node_is_the_node_of_the_caller():
    pid = otp.spawn(otp.receive)
    assert current_node().processes[pid.number].pid == pid
