"""Crash reports: one readable record per process that failed; none for normal ends nor exit signals."""

import pytest

import otp
from otp.testing import assert_down, capture_crash_reports


async def crash_with_value_error():
    raise ValueError("bad input 7")


async def exit_with(reason):
    raise otp.Exit(reason)


async def test_a_crash_logs_pid_name_reason_function_and_the_traceback_as_exc_info():
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
    function = f"{__name__}.test_a_crash_logs_pid_name_reason_function_and_the_traceback_as_exc_info.<locals>.named_crasher"
    assert record.getMessage() == (
        f"Process {pid!r} (registered as 'crasher') crashed: ValueError('bad input 7')\n  function: {function}"
    )
    # Once handled, the record keeps the traceback as text, not the dead process's frames.
    assert record.exc_info == (ValueError, record.otp_reason, None)
    traceback_lines = record.exc_text.splitlines()
    assert traceback_lines[0] == "Traceback (most recent call last):"
    assert traceback_lines[-1] == "ValueError: bad input 7"
    assert any(line.endswith("in crash_with_value_error") for line in traceback_lines)
    # The kernel's own wrapper frame is left out.
    assert not any("_spawn.py" in line for line in traceback_lines)
    assert (record.name, record.levelname) == ("otp.process", "ERROR")
    assert (record.otp_pid, record.otp_name) == (str(pid), "crasher")


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
    assert [(r.getMessage(), r.exc_info) for r in reports] == [
        (f"Process {pid!r} crashed: 'bored'\n  function: {__name__}.exit_with", None)
    ]


@pytest.mark.parametrize(("signal", "reason"), [(otp.KILL, otp.KILLED), ("go away", "go away")])
async def test_a_process_ended_by_an_exit_signal_has_no_crash_report(signal, reason):
    with capture_crash_reports() as reports:
        victim, ref = otp.spawn_monitor(otp.receive)
        otp.exit(victim, signal)
        await assert_down(ref, reason)
    assert reports == []


async def test_a_crash_spreading_along_a_link_is_reported_once_by_the_process_that_crashed():
    crashers = []

    async def linked_pair():
        crashers.append(otp.spawn_link(crash_with_value_error))
        await otp.receive()

    with capture_crash_reports() as reports:
        pid, ref = otp.spawn_monitor(linked_pair)
        down = await assert_down(ref, ValueError)
    assert [r.otp_pid for r in reports] == [str(crashers[0])]
    # The reported exception drops its traceback so dead frames are freed.
    assert down.reason.__traceback__ is None
