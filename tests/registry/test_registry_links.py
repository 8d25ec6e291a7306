"""Registry links: who is linked to the registry process, and what its end does to them.

* ``SEQUENCES``: a process registers and unregisters; after each sequence,
  its keys and whether it is linked to the registry (both ends of the link,
  read with ``process_info``). Registering links; unregistering a key
  removes every entry of the caller under it, and the link once it has no
  entry left.
* ``ENDINGS``: the registry process ends in some way; what happens to a
  registered process that does not trap exits, one that does, and one that
  registered and then unregistered. As in Elixir, a registry that goes down
  abnormally takes its registered processes with it (they would be
  unreachable by name otherwise).
"""

import pytest

import otp
from otp import AlreadyRegistered, GenServer, Registry
from otp.testing import assert_down, assert_receive, capture_crash_reports, flush_mailbox, wait_all_tasks_blocked

from ._helpers import Agent

UNIQUE, DUPLICATE = Registry.UNIQUE, Registry.DUPLICATE
REG = "reg"

OK = "ok"
TAKEN = "AlreadyRegistered"

# fmt: off
SEQUENCES = [
    # keys       steps by the agent: (action, key, expected outcome)                          its keys after   linked?
    (UNIQUE,     [("register", "k", OK)],                                                      ["k"],           True),
    (UNIQUE,     [("register", "k", OK), ("unregister", "k", OK)],                             [],              False),
    (UNIQUE,     [("register", "k", OK), ("register", "j", OK), ("unregister", "k", OK)],      ["j"],           True),
    (UNIQUE,     [("register", "k", OK), ("unregister", "j", OK)],                             ["k"],           True),
    (UNIQUE,     [("unregister", "k", OK)],                                                    [],              False),
    (UNIQUE,     [("register", "taken", TAKEN)],                                               [],              False),
    (UNIQUE,     [("register", "k", OK), ("register", "k", TAKEN)],                            ["k"],           True),
    (UNIQUE,     [("register", "k", OK), ("register", "taken", TAKEN)],                        ["k"],           True),
    (UNIQUE,     [("register", "k", OK), ("unregister", "k", OK), ("register", "k", OK)],      ["k"],           True),
    (DUPLICATE,  [("register", "k", OK)],                                                      ["k"],           True),
    (DUPLICATE,  [("register", "k", OK), ("register", "k", OK)],                               ["k", "k"],      True),
    (DUPLICATE,  [("register", "k", OK), ("register", "k", OK), ("unregister", "k", OK)],      [],              False),
    (DUPLICATE,  [("register", "k", OK), ("register", "j", OK), ("unregister", "j", OK)],      ["k"],           True),
    (DUPLICATE,  [("register", "taken", OK), ("unregister", "taken", OK)],                     [],              False),
    (DUPLICATE,  [("unregister", "k", OK)],                                                    [],              False),
]
# fmt: on


def _steps_id(keys, steps):
    return keys.value + ":" + ",".join(f"{action[0]}{key}" for action, key, _ in steps)


@pytest.mark.parametrize(
    ("keys", "steps", "keys_after", "linked"),
    [pytest.param(k, s, a, linked, id=_steps_id(k, s)) for k, s, a, linked in SEQUENCES],
)
async def test_register_links_and_unregister_unlinks_when_nothing_is_left(keys, steps, keys_after, linked):
    registry = await Registry.start_link(keys=keys, name=REG)
    other = Agent.spawn()
    await other.run(Registry.register, REG, "taken", "other's")
    agent = Agent.spawn()
    for action, key, expected in steps:
        status, value = await agent.outcome(getattr(Registry, action), REG, key, *(["v"] if action == "register" else []))
        if expected == OK:
            assert (status, value) == ("ok", None)
        else:
            assert status == "raised" and type(value) is AlreadyRegistered
            assert (value.key, value.pid) == (key, other.pid if key == "taken" else agent.pid)
    assert Registry.keys(REG, agent.pid) == keys_after
    assert otp.process_info(agent.pid).links == ((registry,) if linked else ())
    registry_links = {otp.current_pid(), other.pid} | ({agent.pid} if linked else set())
    assert otp.process_info(registry).links == tuple(sorted(registry_links))
    assert Registry.lookup(REG, "taken")[0] == (other.pid, "other's")


async def test_a_process_registered_in_two_registries_is_linked_to_both_until_it_leaves_each():
    one = await Registry.start_link(keys=UNIQUE)
    two = await Registry.start_link(keys=DUPLICATE)
    agent = Agent.spawn()
    await agent.run(Registry.register, one, "k")
    await agent.run(Registry.register, two, "k")
    assert otp.process_info(agent.pid).links == tuple(sorted([one, two]))
    await agent.run(Registry.unregister, one, "k")
    assert otp.process_info(agent.pid).links == (two,)
    await agent.run(Registry.unregister, two, "k")
    assert otp.process_info(agent.pid).links == ()


async def test_a_registered_process_that_ends_is_unlinked_and_forgotten():
    registry = await Registry.start_link(keys=DUPLICATE, name=REG)
    agent = Agent.spawn()
    await agent.run(Registry.register, REG, "k")
    await agent.run(Registry.register, REG, "j")
    ref = otp.monitor(agent.pid)
    otp.send(agent.pid, ("stop",))
    await assert_down(ref, otp.NORMAL)
    await wait_all_tasks_blocked()
    assert otp.process_info(registry).links == (otp.current_pid(),)
    assert otp.process_info(registry).messages_received == 1  # its exit signal
    assert Registry.count(REG) == 0
    assert otp.is_alive(registry)  # a trapped exit signal of a registered process


async def test_the_process_that_started_the_registry_stays_linked_after_unregistering():
    me = otp.current_pid()
    registry = await Registry.start_link(keys=UNIQUE, name=REG)
    Registry.register(REG, "k")
    Registry.unregister(REG, "k")
    assert otp.process_info(me).links == (registry,)
    assert otp.process_info(registry).links == (me,)


# ---------------------------------------------------------------- the registry's end

PLAIN = "registered, not trapping"
TRAPPING = "registered, trapping exits"
LEFT = "registered then unregistered"

SURVIVES = "survives"  # alive, no message


def ENDS_WITH(reason):
    return ("ends", reason)


def MESSAGE(reason):
    return ("message", reason)


SAME = object()  # the registry's own exit reason


def _exit_from_parent(reason):
    async def end(registry):
        otp.exit(registry, reason)  # we started it: a trapped signal from its parent ends it

    return end


def _exit_from_another_process(reason):
    async def end(registry):
        sender = Agent.spawn()
        await sender.run(otp.exit, registry, reason)  # trapped, not from its parent: handled and ignored

    return end


async def _kill(registry):
    otp.exit(registry, otp.KILL)


async def _crash(registry):
    GenServer.cast(registry, "a cast it has no handle_cast for")  # raises NotImplementedError in it


async def _stop_normally(registry):
    await GenServer.stop(registry)


# fmt: off
ENDINGS = [
    # (how the registry ends,                        what ends it,                       its exit reason,
    #                                                                         then the outcome for PLAIN,  TRAPPING,  LEFT)
    ("exit(registry, 'boom') from its parent",     _exit_from_parent("boom"),          "boom",
                                                                              ENDS_WITH(SAME),    MESSAGE(SAME),     SURVIVES),
    ("exit(registry, SHUTDOWN) from its parent",   _exit_from_parent(otp.SHUTDOWN),    otp.SHUTDOWN,
                                                                              ENDS_WITH(SAME),    MESSAGE(SAME),     SURVIVES),
    ("exit(registry, KILL)",                       _kill,                              otp.KILLED,
                                                                              ENDS_WITH(SAME),    MESSAGE(SAME),     SURVIVES),
    ("it crashes",                                 _crash,                             NotImplementedError,
                                                                              ENDS_WITH(SAME),    MESSAGE(SAME),     SURVIVES),
    ("GenServer.stop(registry)",                   _stop_normally,                     otp.NORMAL,
                                                                              SURVIVES,           MESSAGE(SAME),     SURVIVES),
    ("exit(registry, 'boom') from another process", _exit_from_another_process("boom"), None,  # it lives on
                                                                              SURVIVES,           SURVIVES,          SURVIVES),
]
# fmt: on


def _same_reason(actual, expected):
    if isinstance(expected, type):
        return isinstance(actual, expected)
    return actual.__class__ is expected.__class__ and actual == expected


@pytest.mark.parametrize(
    ("how", "registry_reason", "process", "outcome"),
    [
        pytest.param(end, reason, process, outcome, id=f"{name}-{process}")
        for name, end, reason, plain, trapping, left in ENDINGS
        for process, outcome in ((PLAIN, plain), (TRAPPING, trapping), (LEFT, left))
    ],
)
async def test_what_the_end_of_the_registry_does_to_its_registered_processes(how, registry_reason, process, outcome):
    otp.trap_exits(True)  # the registry is linked to us too
    registry = await Registry.start_link(keys=UNIQUE, name=REG)
    agent = Agent.spawn(trapping=process == TRAPPING)
    await agent.run(Registry.register, REG, "k", "v")
    if process == LEFT:
        await agent.run(Registry.unregister, REG, "k")
    registry_ref = otp.monitor(registry)
    agent_ref = otp.monitor(agent.pid)

    with capture_crash_reports() as reports:
        await how(registry)
        await wait_all_tasks_blocked()

    if registry_reason is None:
        assert otp.is_alive(registry)
        assert Registry.lookup(REG, "k") == ([] if process == LEFT else [(agent.pid, "v")])
        assert flush_mailbox() == []
        assert reports == []
        return

    down = await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == registry_ref)
    assert _same_reason(down.reason, registry_reason), down
    reason = down.reason
    assert await assert_receive(otp.ExitSignal) == otp.ExitSignal(pid=registry, reason=reason)  # to us, its parent
    with pytest.raises(otp.NotRegistered):
        Registry.lookup(REG, "k")

    kind, expected = outcome if outcome != SURVIVES else ("survives", None)
    expected = reason if expected is SAME else expected
    if kind == "ends":
        agent_down = await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == agent_ref)
        assert agent_down.reason is expected or agent_down.reason == expected
        assert flush_mailbox() == []
    else:
        if kind == "message":
            assert await assert_receive() == ("got", agent.pid, otp.ExitSignal(pid=registry, reason=expected))
        assert otp.is_alive(agent.pid)
        assert otp.process_info(agent.pid).links == ()
        assert flush_mailbox() == []

    # Crash reports (OTP's rule): the registry's when it ended abnormally by
    # itself (it crashed, or stopped with the exit signal it trapped from its
    # parent); none when an exit signal ended it (KILL), nor for the agent
    # taken down with it.
    ended_by_itself = not otp.is_normal(reason) and reason is not otp.KILLED
    assert [r.otp_pid for r in reports] == ([str(registry)] if ended_by_itself else [])
