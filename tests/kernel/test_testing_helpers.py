"""otp.testing: the helpers fail with useful messages, and the plugin gives each test a node."""

import logging

import pytest

import otp
from otp.testing import (
    assert_down,
    assert_receive,
    capture_crash_reports,
    flush_mailbox,
    kill_and_wait,
    refute_receive,
    wait_all_tasks_blocked,
)


async def test_assert_receive_failure_lists_the_mailbox(autojump_clock):
    otp.send(otp.current_pid(), "unrelated")
    with pytest.raises(AssertionError) as raised:
        await assert_receive(int, timeout=0.5)
    assert str(raised.value) == "no message matching int arrived within 0.5 s; the mailbox holds ['unrelated']"


async def test_refute_receive_fails_naming_the_message(autojump_clock):
    otp.send(otp.current_pid(), 3)
    with pytest.raises(AssertionError, match=r"^expected no message matching int, got 3$"):
        await refute_receive(int)
    await refute_receive(int)


async def test_assert_down_checks_the_reason_exactly():
    pid, ref = otp.spawn_monitor(lambda: None)
    await assert_down(ref, otp.NORMAL)
    pid, ref = otp.spawn_monitor(otp.receive)
    otp.exit(pid, "why")
    with pytest.raises(AssertionError, match=r"ended with 'why', expected 'because'"):
        await assert_down(ref, "because")


async def test_kill_and_wait_returns_the_exit_reason():
    pid = otp.spawn(otp.receive)
    assert await kill_and_wait(pid) is otp.KILLED
    pid = otp.spawn(otp.receive)
    assert await kill_and_wait(pid, otp.SHUTDOWN) is otp.SHUTDOWN


async def test_kill_and_wait_fails_when_the_process_ignores_the_signal(autojump_clock):
    async def stubborn():
        otp.trap_exits(True)
        while True:
            await otp.receive(int)

    pid = otp.spawn(stubborn)
    await wait_all_tasks_blocked()  # it traps exits now
    with pytest.raises(AssertionError, match="was still alive 1.0 s after exit"):
        await kill_and_wait(pid, otp.SHUTDOWN)
    assert flush_mailbox() == []
    otp.exit(pid, otp.KILL)


async def test_capture_crash_reports_collects_only_inside_the_block():
    async def exit_x():
        raise otp.Exit("x")

    with capture_crash_reports() as reports:
        pid, ref = otp.spawn_monitor(exit_x)
        await assert_down(ref, "x")
        logging.getLogger("otp").error("inside")
    logging.getLogger("otp").error("outside")
    assert [r.getMessage().splitlines()[0] for r in reports] == [f"Process {pid!r} crashed: 'x'", "inside"]


def test_the_plugin_runs_async_tests_in_a_fresh_node_per_test(pytester):
    pytester.makeini("[pytest]\ntrio_mode = true\notp_mode = true\n")
    pytester.makepyfile(
        """
        import otp

        seen = []

        async def test_one():
            seen.append(otp.current_pid())
            otp.register("only_in_this_node", otp.current_pid())

        async def test_two():
            assert otp.whereis("only_in_this_node") is None
            assert otp.processes() == [otp.current_pid()]
            assert otp.current_pid() != seen[0]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_otp_marker_enables_a_node_for_one_test(pytester):
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(
        """
        import pytest
        import otp

        @pytest.mark.otp
        async def test_marked():
            otp.current_pid()

        async def test_unmarked():
            with pytest.raises(otp.NotAProcess):
                otp.current_pid()
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_crash_linked_to_the_test_fails_the_test_with_exit(pytester):
    pytester.makeini("[pytest]\ntrio_mode = true\notp_mode = true\n")
    pytester.makepyfile(
        """
        import otp

        async def crash():
            raise ValueError("linked crash")

        async def test_linked_crash():
            otp.spawn_link(crash)
            await otp.receive()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Exit: linked crash*"])
