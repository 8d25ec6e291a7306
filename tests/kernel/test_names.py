"""Registered names: register / unregister / whereis, sending to a name, via-names."""

import pytest

import otp
from _via import DictVia
from otp.lowlevel import current_node, queued_messages, register_name
from otp.testing import assert_receive


async def ended(pid):
    ref = otp.monitor(pid)
    return (await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == ref)).reason


async def test_register_whereis_unregister():
    pid = otp.spawn(otp.receive)
    assert otp.whereis("worker") is None
    assert otp.register("worker", pid) is None
    assert otp.whereis("worker") == pid
    assert otp.process_info(pid).registered_name == "worker"
    assert current_node().statistics().registered_names == 1
    assert otp.unregister("worker") is None
    assert otp.whereis("worker") is None
    assert otp.process_info(pid).registered_name is None
    assert current_node().statistics().registered_names == 0


async def test_send_to_a_name_reaches_the_holder():
    me = otp.current_pid()
    otp.register("me", me)
    otp.send("me", "by name")
    assert await assert_receive() == "by name"


async def test_a_name_is_resolved_at_each_send():
    me = otp.current_pid()

    async def forwarder(tag):
        otp.send(me, (tag, await otp.receive()))

    first, second = otp.spawn(forwarder, "first"), otp.spawn(forwarder, "second")
    otp.register("svc", first)
    otp.send("svc", 1)
    otp.unregister("svc")
    otp.register("svc", second)
    otp.send("svc", 2)
    assert {await assert_receive(), await assert_receive()} == {("first", 1), ("second", 2)}


async def test_registering_a_taken_name_raises_already_registered_with_the_holder():
    holder, other = otp.spawn(otp.receive), otp.spawn(otp.receive)
    otp.register("taken", holder)
    with pytest.raises(otp.AlreadyRegistered) as raised:
        otp.register("taken", other)
    assert (raised.value.key, raised.value.pid) == ("taken", holder)
    assert str(raised.value) == f"'taken' is already registered to {holder!r}"
    assert otp.whereis("taken") == holder
    assert otp.process_info(other).registered_name is None


async def test_registering_the_same_name_for_the_same_process_again_raises_already_registered():
    # Erlang: register/2 with a name already in use is badarg, even by the same process.
    pid = otp.spawn(otp.receive)
    otp.register("once", pid)
    with pytest.raises(otp.AlreadyRegistered) as raised:
        otp.register("once", pid)
    assert raised.value.pid == pid


async def test_a_process_cannot_hold_two_names():
    # Erlang: register/2 of an already registered process is badarg; here a ValueError.
    pid = otp.spawn(otp.receive)
    otp.register("first_name", pid)
    with pytest.raises(ValueError, match=r"already registered as 'first_name'"):
        otp.register("second_name", pid)
    assert otp.whereis("second_name") is None
    assert otp.whereis("first_name") == pid
    otp.unregister("first_name")
    otp.register("second_name", pid)  # after unregistering, another name is fine
    assert otp.process_info(pid).registered_name == "second_name"


async def test_registering_a_dead_pid_is_a_value_error():
    pid, ref = otp.spawn_monitor(lambda: None)
    await assert_receive(otp.Down)
    with pytest.raises(ValueError, match="is not alive"):
        otp.register("ghost", pid)
    assert otp.whereis("ghost") is None


@pytest.mark.parametrize("name", [42, None, b"bytes", ("tuple",)])
async def test_a_name_must_be_a_str(name):
    with pytest.raises(TypeError, match="a registered name must be a str"):
        otp.register(name, otp.current_pid())
    assert otp.process_info(otp.current_pid()).registered_name is None


async def test_register_needs_a_pid():
    with pytest.raises(TypeError, match="expected a Pid"):
        otp.register("name", "not a pid")


@pytest.mark.parametrize("how", ["returns", "crashes", "is killed"])
async def test_the_name_is_freed_when_the_process_ends_and_can_be_taken_again(how):
    async def holder():
        await otp.receive()
        if how == "crashes":
            raise ValueError("boom")

    pid = otp.spawn(holder)
    otp.register("reusable", pid)
    if how == "is killed":
        otp.exit(pid, otp.KILL)
    else:
        otp.send(pid, "go")
    await ended(pid)
    assert otp.whereis("reusable") is None
    assert current_node().statistics().registered_names == 0
    successor = otp.spawn(otp.receive)
    otp.register("reusable", successor)
    assert otp.whereis("reusable") == successor


async def test_a_process_may_register_itself_and_anyone_may_unregister_it():
    me = otp.current_pid()

    async def self_registering():
        otp.register("self_made", otp.current_pid())
        otp.send(me, "registered")
        await otp.receive()

    pid = otp.spawn(self_registering)
    assert await assert_receive() == "registered"
    assert otp.whereis("self_made") == pid
    otp.unregister("self_made")
    assert otp.whereis("self_made") is None


async def test_unregistering_an_unknown_name_raises_not_registered():
    with pytest.raises(otp.NotRegistered) as raised:
        otp.unregister("never_registered")
    assert raised.value.name == "never_registered"
    assert isinstance(raised.value, LookupError)


async def test_unregister_after_the_holder_ended_raises_not_registered():
    pid = otp.spawn(otp.receive)
    otp.register("short_lived", pid)
    otp.exit(pid, "stop")
    assert await ended(pid) == "stop"
    with pytest.raises(otp.NotRegistered):
        otp.unregister("short_lived")


async def test_sending_to_an_unregistered_name_raises_not_registered():
    # Erlang: Name ! Msg with an unregistered Name raises badarg.
    with pytest.raises(otp.NotRegistered) as raised:
        otp.send("nobody_here", "lost")
    assert raised.value.name == "nobody_here"
    assert str(raised.value) == "no process is registered as 'nobody_here'"


async def test_sending_to_the_name_of_a_process_that_ended_raises_not_registered():
    pid = otp.spawn(otp.receive)
    otp.register("gone_soon", pid)
    otp.exit(pid, "stop")
    assert await ended(pid) == "stop"
    with pytest.raises(otp.NotRegistered):
        otp.send("gone_soon", "lost")


async def test_whereis_of_a_non_name_is_a_type_error():
    with pytest.raises(TypeError, match="expected a Pid, a registered name"):
        otp.whereis(42)
    with pytest.raises(TypeError):
        otp.send(42, "msg")


# ---------------------------------------------------------------- via-names




async def test_a_via_name_works_wherever_a_name_does():
    me = otp.current_pid()
    table = {}
    name = DictVia(table, ("worker", 1))
    assert isinstance(name, otp.Via)
    assert otp.whereis(name) is None
    register_name(name, me)
    assert table == {("worker", 1): me}
    assert otp.whereis(name) == me
    otp.send(name, "via")
    assert await assert_receive() == "via"
    with pytest.raises(otp.AlreadyRegistered) as raised:
        register_name(DictVia(table, ("worker", 1)), otp.spawn(otp.receive))
    assert raised.value.pid == me
    # The kernel does not keep via-names in its own table.
    assert current_node().statistics().registered_names == 0
    assert otp.process_info(me).registered_name is None


async def test_sending_to_a_via_name_nobody_holds_raises_not_registered():
    name = DictVia({}, "missing")
    with pytest.raises(otp.NotRegistered) as raised:
        otp.send(name, "lost")
    assert raised.value.name is name


async def test_a_via_name_pointing_at_a_dead_pid_counts_as_unregistered():
    # The kernel does not tell the via table that its holder ended (a
    # Registry monitors for that); a stale entry must not look alive.
    pid = otp.spawn(otp.receive)
    name = DictVia({"k": pid}, "k")
    otp.exit(pid, "stop")
    assert await ended(pid) == "stop"
    assert otp.whereis(name) is None
    with pytest.raises(otp.NotRegistered):
        otp.send(name, "lost")


async def test_monitor_and_link_accept_a_via_name():
    pid = otp.spawn(otp.receive)
    name = DictVia({"k": pid}, "k")
    ref = otp.monitor(name)
    otp.link(name)
    assert otp.process_info(pid).links == (otp.current_pid(),)
    otp.unlink(name)
    otp.exit(name, "via exit")
    down = await assert_receive()
    assert (down.ref, down.reason) == (ref, "via exit")
    assert queued_messages() == []
