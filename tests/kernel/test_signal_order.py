"""Signals the caller sent are handled before it looks: ``is_alive`` and ``process_info`` right after ``exit``.

Erlang guarantees that a process's signals to another arrive in order, and
``is_process_alive/1`` waits for the caller's earlier signals to be handled:
``exit(P, kill), false = is_process_alive(P)``. Here an exit signal that
will end its target marks it as exiting at once, so both answer as if it
had ended, with no checkpoint in between. A signal that does not end the
target (NORMAL to a process that does not trap, anything but KILL to one
that traps) leaves it alive, as the table in ``otp._kernel._signals`` says.
"""

import pytest

import otp
from otp.testing import assert_down, wait_all_tasks_blocked

# (reason, receiver traps exits, the signal ends it)
CASES = [
    (otp.KILL, False, True),
    (otp.KILL, True, True),  # untrappable
    (otp.SHUTDOWN, False, True),
    (otp.SHUTDOWN, True, False),  # a message
    ("custom", False, True),
    ("custom", True, False),
    (otp.NORMAL, False, False),  # ignored
    (otp.NORMAL, True, False),
]


async def _idle(trapping):
    otp.trap_exits(trapping)
    await otp.receive(lambda message: message == "never")


@pytest.mark.parametrize(("reason", "trapping", "ends"), CASES, ids=[f"{r!r}-{'trap' if t else 'no trap'}" for r, t, _ in CASES])
async def test_is_alive_and_process_info_right_after_exit_see_the_signal_handled(reason, trapping, ends):
    pid = otp.spawn(_idle, trapping)
    await wait_all_tasks_blocked()  # parked in receive
    ref = otp.monitor(pid)

    otp.exit(pid, reason)

    # No checkpoint since the signal: the target has not run yet.
    assert otp.is_alive(pid) is (not ends)
    assert (otp.process_info(pid) is None) is ends
    if ends:
        await assert_down(ref, otp.KILLED if reason is otp.KILL else reason)
    else:
        otp.exit(pid, otp.KILL)
        await assert_down(ref, otp.KILLED)


async def test_a_killed_process_that_has_not_run_yet_is_not_alive():
    pid = otp.spawn(_idle, False)  # never scheduled before the signal
    otp.exit(pid, otp.KILL)
    assert not otp.is_alive(pid)
    assert otp.process_info(pid) is None


async def test_exit_by_registered_name_is_handled_first_too():
    pid = otp.spawn(_idle, False)
    otp.register("target", pid)
    otp.exit("target", "stop")
    assert not otp.is_alive(pid)
    assert otp.process_info("target") is None


async def test_the_caller_is_alive_for_itself_while_its_own_signal_is_a_message():
    otp.trap_exits(True)
    otp.exit(otp.current_pid(), "note")
    assert otp.is_alive(otp.current_pid())
    assert otp.process_info(otp.current_pid()).message_queue_len == 1
    assert await otp.receive(otp.ExitSignal) == otp.ExitSignal(otp.current_pid(), "note")
