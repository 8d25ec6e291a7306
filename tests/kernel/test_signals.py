"""Exit signals: the table in ``otp._kernel._signals``, row by row, and its notes.

``TABLE`` below is that docstring table spelled out for every reason we care
about. Each row gives the signal's source, its reason, and what a receiver
that does not trap exits and one that does end up with. Every row runs twice
(not trapping / trapping), and each case checks the outcome exactly:

* ``ENDS``/``ENDS_WITH(r)``: the receiver's monitor sees ``Down(ref, receiver, r)``
  (the signal's own reason, or ``r``), and the receiver got no message first;
* ``IGNORED``: the receiver is still alive and the first thing it receives is
  the ping the test sends after the signal was certainly processed;
* ``MESSAGE``: the receiver's first message is exactly
  ``ExitSignal(pid=<the signal's sender>, reason=<the signal's reason>)``, then
  the ping, and it is still alive.
"""

import pytest

import otp
from otp.lowlevel import queued_messages
from otp.testing import assert_receive, flush_mailbox

# ---------------------------------------------------------------- the table

# Where the signal comes from.
LINK = "link"  # a process linked to the receiver ends with the reason
EXIT = "exit(pid, r)"  # another process calls otp.exit(receiver, reason)
EXIT_SELF = "exit(self, r)"  # the receiver calls otp.exit(its own pid, reason)

# The reasons, made fresh for each case (an exception is compared by identity).
REASONS = {
    "NORMAL": lambda: otp.NORMAL,
    "SHUTDOWN": lambda: otp.SHUTDOWN,
    "Shutdown('x')": lambda: otp.Shutdown("x"),
    "'custom'": lambda: "custom",
    "ValueError('boom')": lambda: ValueError("boom"),
    "KILL": lambda: otp.KILL,
    "KILLED": lambda: otp.KILLED,
}

SAME = object()  # "the signal's own reason"
IGNORED = ("ignored", None)
ENDS = ("ends", SAME)
MESSAGE = ("message", SAME)  # ExitSignal(sender, reason)


def ENDS_WITH(reason):
    return ("ends", reason)


# fmt: off
TABLE = [
    # signal      reason                 receiver not trapping     receiver trapping exits
    (LINK,        "NORMAL",              IGNORED,                  MESSAGE),
    (LINK,        "SHUTDOWN",            ENDS,                     MESSAGE),
    (LINK,        "Shutdown('x')",       ENDS,                     MESSAGE),
    (LINK,        "'custom'",            ENDS,                     MESSAGE),
    (LINK,        "ValueError('boom')",  ENDS,                     MESSAGE),
    (LINK,        "KILL",                ENDS,                     MESSAGE),  # ended with KILL: an ordinary signal
    (LINK,        "KILLED",              ENDS,                     MESSAGE),
    (EXIT,        "NORMAL",              IGNORED,                  MESSAGE),
    (EXIT,        "SHUTDOWN",            ENDS,                     MESSAGE),
    (EXIT,        "Shutdown('x')",       ENDS,                     MESSAGE),
    (EXIT,        "'custom'",            ENDS,                     MESSAGE),
    (EXIT,        "ValueError('boom')",  ENDS,                     MESSAGE),
    (EXIT,        "KILL",                ENDS_WITH(otp.KILLED),    ENDS_WITH(otp.KILLED)),  # untrappable
    (EXIT,        "KILLED",              ENDS,                     MESSAGE),  # only KILL is special
    (EXIT_SELF,   "NORMAL",              ENDS,                     MESSAGE),
    (EXIT_SELF,   "SHUTDOWN",            ENDS,                     MESSAGE),
    (EXIT_SELF,   "Shutdown('x')",       ENDS,                     MESSAGE),
    (EXIT_SELF,   "'custom'",            ENDS,                     MESSAGE),
    (EXIT_SELF,   "ValueError('boom')",  ENDS,                     MESSAGE),
    (EXIT_SELF,   "KILL",                ENDS_WITH(otp.KILLED),    ENDS_WITH(otp.KILLED)),
    (EXIT_SELF,   "KILLED",              ENDS,                     MESSAGE),
]
# fmt: on

CASES = [
    pytest.param(source, reason, trapping, outcome, id=f"{source}-{reason}-{'trapping' if trapping else 'not trapping'}")
    for source, reason, not_trapping, trapping_outcome in TABLE
    for trapping, outcome in ((False, not_trapping), (True, trapping_outcome))
]


def test_the_table_covers_every_source_and_reason_once():
    assert sorted((s, r) for s, r, *_ in TABLE) == sorted((s, r) for s in (LINK, EXIT, EXIT_SELF) for r in REASONS)


# ---------------------------------------------------------------- the processes


class ExitSelf:
    """Asks a receiver to call ``otp.exit(its own pid, reason)``, then send itself ``"ping"``."""

    def __init__(self, reason):
        self.reason = reason


class Run:
    """Asks a receiver to call ``fn(*args)`` and reply ``("ran", result)``."""

    def __init__(self, fn, *args):
        self.fn = fn
        self.args = args


async def receiver(test, trapping):
    """Sets its trap flag, then forwards every message it receives to ``test``."""
    otp.trap_exits(trapping)
    otp.send(test, ("ready", otp.current_pid()))
    while True:
        message = await otp.receive()
        if isinstance(message, ExitSelf):
            otp.exit(otp.current_pid(), message.reason)
            otp.send(otp.current_pid(), "ping")  # from the signal's sender, after it
        elif isinstance(message, Run):
            otp.send(test, ("ran", message.fn(*message.args)))
        else:
            otp.send(test, ("got", message))


async def start_receiver(trapping):
    pid = otp.spawn(receiver, otp.current_pid(), trapping)
    assert await assert_receive() == ("ready", pid)
    return pid


async def run_in(pid, fn, *args):
    """Have the receiver ``pid`` call ``fn(*args)`` in its own process; return the result."""
    otp.send(pid, Run(fn, *args))
    reply = await assert_receive(lambda m: isinstance(m, tuple) and m[0] == "ran")
    return reply[1]


async def is_responsive(pid):
    """Round trip: True once ``pid`` has answered a ping (the first message it forwards)."""
    otp.send(pid, "ping")
    return await assert_receive() == ("got", "ping")


async def link_then_end_with(peer, reason):
    otp.link(peer)
    if isinstance(reason, BaseException):
        raise reason
    raise otp.Exit(reason)


async def send_exit(target, reason):
    otp.exit(target, reason)


async def ended(pid):
    """Wait until ``pid`` has ended; return its reason."""
    ref = otp.monitor(pid)
    down = await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == ref)
    return down.reason


def same_reason(actual, expected):
    # Singletons, strings and Shutdown compare with ==; an exception only
    # equals itself, so == is identity for it.
    if isinstance(expected, BaseException):
        return actual is expected
    return actual.__class__ is expected.__class__ and actual == expected


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize(("source", "reason_name", "trapping", "outcome"), CASES)
async def test_exit_signal_table(source, reason_name, trapping, outcome):
    reason = REASONS[reason_name]()
    pid = await start_receiver(trapping)
    ref = otp.monitor(pid)

    # Send the signal, and make sure it has been processed before the ping.
    if source is LINK:
        sender = otp.spawn(link_then_end_with, pid, reason)
        assert same_reason(await ended(sender), reason)  # its links were signalled as it ended
    elif source is EXIT:
        sender = otp.spawn(send_exit, pid, reason)
        assert await ended(sender) is otp.NORMAL
    else:
        sender = pid
        otp.send(pid, ExitSelf(reason))  # it pings itself after the signal
    if source is not EXIT_SELF:
        otp.send(pid, "ping")

    kind, expected = outcome
    expected = reason if expected is SAME else expected
    if kind == "ends":
        down = await assert_receive()  # the very first message: it forwarded nothing
        assert isinstance(down, otp.Down) and (down.ref, down.pid) == (ref, pid), down
        assert same_reason(down.reason, expected), f"ended with {down.reason!r}, expected {expected!r}"
        assert flush_mailbox() == []
        return
    if kind == "message":
        got = await assert_receive()
        assert got == ("got", otp.ExitSignal(pid=sender, reason=reason))
        assert same_reason(got[1].reason, reason)
    assert await assert_receive() == ("got", "ping")
    assert otp.demonitor(ref) is True  # still monitored: it has not ended
    assert otp.is_alive(pid)
    assert flush_mailbox() == []


# ---------------------------------------------------------------- the notes


async def test_a_process_that_ends_with_kill_sends_its_links_an_ordinary_kill_signal():
    # A ends with KILL (nobody killed it). B, linked to A and not trapping, is
    # not killed: it ends with an ordinary KILL reason, so C, linked to B and
    # trapping, receives ExitSignal(B, KILL) as a message and lives on.
    c = await start_receiver(trapping=True)
    b = await start_receiver(trapping=False)
    await run_in(b, otp.link, c)
    b_ref = otp.monitor(b)
    a = otp.spawn(link_then_end_with, b, otp.KILL)
    assert await ended(a) is otp.KILL
    assert await assert_receive() == otp.Down(b_ref, b, otp.KILL)
    assert await assert_receive() == ("got", otp.ExitSignal(pid=b, reason=otp.KILL))
    assert await is_responsive(c)


async def test_a_killed_process_ends_with_killed_and_its_links_and_monitors_see_killed():
    trapping = await start_receiver(trapping=True)
    plain = await start_receiver(trapping=False)
    victim = await start_receiver(trapping=True)  # trapping does not save it from KILL
    await run_in(victim, otp.link, trapping)
    await run_in(victim, otp.link, plain)
    victim_ref = otp.monitor(victim)
    plain_ref = otp.monitor(plain)
    otp.exit(victim, otp.KILL)
    assert await assert_receive(otp.Down) == otp.Down(victim_ref, victim, otp.KILLED)
    assert await assert_receive(otp.Down) == otp.Down(plain_ref, plain, otp.KILLED)
    assert await assert_receive() == ("got", otp.ExitSignal(pid=victim, reason=otp.KILLED))
    assert flush_mailbox() == []


async def test_link_to_a_dead_pid_raises_exit_noproc_when_not_trapping():
    dead = otp.spawn(lambda: None)
    assert await ended(dead) is otp.NORMAL
    with pytest.raises(otp.Exit) as raised:
        otp.link(dead)
    assert raised.value.reason is otp.NOPROC
    assert otp.process_info(otp.current_pid()).links == ()
    assert queued_messages() == []


async def test_link_to_a_dead_pid_ends_a_process_that_does_not_catch_it_with_noproc():
    dead = otp.spawn(lambda: None)
    assert await ended(dead) is otp.NORMAL
    assert await ended(otp.spawn(otp.link, dead)) is otp.NOPROC


async def test_link_to_a_dead_pid_delivers_exit_signal_noproc_when_trapping():
    dead = otp.spawn(lambda: None)
    assert await ended(dead) is otp.NORMAL
    otp.trap_exits(True)
    otp.link(dead)  # no error
    assert otp.receive_nowait() == otp.ExitSignal(pid=dead, reason=otp.NOPROC)  # delivered at once
    assert queued_messages() == []
    assert otp.process_info(otp.current_pid()).links == ()


async def test_the_first_reason_wins():
    pid = otp.spawn(otp.receive)
    otp.exit(pid, "first")
    otp.exit(pid, "second")
    otp.exit(pid, otp.KILL)
    assert await ended(pid) == "first"


async def test_a_link_signal_after_an_exit_signal_does_not_change_the_reason():
    pid = await start_receiver(trapping=False)
    ref = otp.monitor(pid)
    otp.spawn(link_then_end_with, pid, "from the link")
    otp.exit(pid, "from exit")  # before the linked process even ran
    assert await assert_receive(otp.Down) == otp.Down(ref, pid, "from exit")


async def test_catching_the_exit_of_exit_self_does_not_save_the_process():
    async def stubborn():
        try:
            otp.exit(otp.current_pid(), "bye")
        except otp.Exit:
            pass
        await otp.receive()

    pid, ref = otp.spawn_monitor(stubborn)
    assert await assert_receive() == otp.Down(ref, pid, "bye")


async def test_exit_to_a_dead_pid_is_a_no_op():
    dead = otp.spawn(lambda: None)
    assert await ended(dead) is otp.NORMAL
    otp.exit(dead, "late")
    otp.exit(dead, otp.KILL)
    assert queued_messages() == []


async def test_links_are_bidirectional_and_removed_when_either_side_ends():
    me = otp.current_pid()
    a = await start_receiver(trapping=True)
    b = await start_receiver(trapping=False)
    await run_in(a, otp.link, b)
    assert otp.process_info(a).links == (b,)
    assert otp.process_info(b).links == (a,)
    otp.exit(b, "gone")
    assert await assert_receive() == ("got", otp.ExitSignal(pid=b, reason="gone"))
    assert otp.process_info(a).links == ()
    assert otp.process_info(b) is None
    assert me not in otp.process_info(a).links


async def test_unlink_stops_exit_signals():
    a = await start_receiver(trapping=False)
    b = await start_receiver(trapping=False)
    await run_in(a, otp.link, b)
    await run_in(a, otp.unlink, b)
    assert otp.process_info(a).links == ()
    assert otp.process_info(b).links == ()
    otp.spawn(send_exit, b, "crash")
    assert await ended(b) == "crash"
    assert await is_responsive(a)
