"""Crash reports: one readable record per abnormal end, none for normal ones."""

import pytest

import otp
from otp.testing import assert_down, capture_crash_reports


async def crash_with_value_error():
    raise ValueError("bad input 7")


async def exit_with(reason):
    raise otp.Exit(reason)


async def test_a_crash_logs_pid_name_reason_function_and_traceback():
    me = otp.current_pid()

    async def named_crasher():
        otp.register("crasher", otp.current_pid())
        otp.send(me, "registered")
        await otp.receive()
        await crash_with_value_error()

    with capture_crash_reports() as reports:
        pid, ref = otp.spawn_monitor(named_crasher)
        await otp.receive(lambda m: m == "registered")
        otp.send(pid, "go")
        await assert_down(ref, ValueError)
    assert len(reports) == 1
    record = reports[0]
    text = record.getMessage()
    first_line, function_line, *traceback_lines = text.splitlines()
    assert first_line == f"Process {pid!r} (registered as 'crasher') crashed: ValueError('bad input 7')"
    assert function_line == f"  function: {__name__}.test_a_crash_logs_pid_name_reason_function_and_traceback.<locals>.named_crasher"
    assert traceback_lines[0] == "  Traceback (most recent call last):"
    assert traceback_lines[-1] == "  ValueError: bad input 7"
    assert any("in crash_with_value_error" in line for line in traceback_lines)
    # The kernel's own wrapper frame is left out.
    assert not any("_spawn.py" in line for line in traceback_lines)
    assert (record.name, record.levelname) == ("otp", "ERROR")
    assert (record.otp_pid, record.otp_name) == (pid, "crasher")
    assert isinstance(record.otp_reason, ValueError)


@pytest.mark.parametrize("reason", [otp.NORMAL, otp.SHUTDOWN, otp.Shutdown("left")])
async def test_nothing_is_logged_for_normal_and_shutdown_reasons(reason):
    with capture_crash_reports() as reports:
        pid, ref = otp.spawn_monitor(exit_with, reason)
        await assert_down(ref, reason)
    assert reports == []


async def test_a_custom_exit_reason_is_reported_without_traceback():
    with capture_crash_reports() as reports:
        pid, ref = otp.spawn_monitor(exit_with, "bored")
        await assert_down(ref, "bored")
    assert [r.getMessage() for r in reports] == [
        f"Process {pid!r} crashed: 'bored'\n  function: {__name__}.exit_with"
    ]


async def test_a_process_ended_by_a_signal_reports_the_sender_in_one_line():
    me = otp.current_pid()
    with capture_crash_reports() as reports:
        victim, ref = otp.spawn_monitor(otp.receive)
        otp.exit(victim, otp.KILL)
        await assert_down(ref, otp.KILLED)
    assert [r.getMessage() for r in reports] == [f"Process {victim!r} exited with killed: exit signal from {me!r}"]


async def test_a_crash_spreading_along_a_link_shows_its_traceback_once():
    async def linked_pair():
        otp.spawn_link(crash_with_value_error)
        await otp.receive()

    with capture_crash_reports() as reports:
        pid, ref = otp.spawn_monitor(linked_pair)
        down = await assert_down(ref, ValueError)
    messages = [r.getMessage() for r in reports]
    assert len(messages) == 2
    crasher_report, victim_report = messages
    assert "Traceback" in crasher_report
    assert victim_report.startswith(f"Process {pid!r} exited with ValueError('bad input 7'): exit signal from <0.")
    assert "Traceback" not in victim_report
    # The reported exception drops its traceback so dead frames are freed.
    assert down.reason.__traceback__ is None
