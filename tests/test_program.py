"""Programs (otp/program.py) with real programs: ready lines, output, failures and restarts, the stop sequence.

Whether an OS process has ended is waited for on a pidfd, never by sleeping.
"""

from __future__ import annotations

import logging
import os
import sys
import textwrap

import pytest
import trio
from test_port import os_process_ended, running

import otp
from otp import NORMAL, StartError, Supervisor
from otp.port import ProgramExited
from otp.program import Program, ProgramNotReady
from otp.testing import assert_down, assert_receive, capture_crash_reports

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux pidfds")


def python(code: str) -> list[str]:
    """A Python program (unbuffered) running ``code``."""
    return [sys.executable, "-u", "-c", textwrap.dedent(code)]


def to_me():
    """An ``on_output`` that sends each line to the test's process."""
    me = otp.current_pid()
    return lambda label, line, stream: otp.send(me, ("output", label, line, stream))


# A program that says it is ready, then reports how it is asked to stop.
POLITE = """
    import signal, sys, time
    def on_term(*_):
        print("got SIGTERM", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    print("starting")
    print("ready to serve", flush=True)
    if sys.stdin.read() == "":
        print("stdin closed", flush=True)
    {after_eof}
"""


async def test_start_link_returns_once_the_ready_line_is_printed_and_output_goes_to_on_output():
    argv = python("""
        import sys, time
        print("warming up"); print("oops", file=sys.stderr, flush=True)
        print("listening on 4000", flush=True)
        print("serving", flush=True)
        sys.stdin.read()
    """)
    program = await Program.start_link(argv, ready=r"listening on \d+", label="web", on_output=to_me())
    # The stdout lines up to the ready line were handled before start_link returned. (The
    # two streams are two pipes: lines keep their order within each stream only.)
    stdout = [m for m in otp.lowlevel.queued_messages() if m[3] == "stdout"]
    assert stdout[:2] == [("output", "web", "warming up", "stdout"), ("output", "web", "listening on 4000", "stdout")]
    assert await assert_receive(lambda m: m[2] == "serving", timeout=10) == ("output", "web", "serving", "stdout")
    assert await assert_receive(lambda m: m[3] == "stderr", timeout=10) == ("output", "web", "oops", "stderr")
    assert running(await Program.os_pid(program))


async def test_ready_may_be_a_function_of_the_line():
    argv = python("print('a'); print('b', flush=True); import sys; sys.stdin.read()")
    seen = []
    await Program.start_link(argv, ready=lambda line: seen.append(line) or line == "b", on_output=to_me())
    assert seen == ["a", "b"]


async def test_without_ready_start_link_returns_as_soon_as_the_program_runs():
    program = await Program.start_link(["sleep", "30"])
    assert running(await Program.os_pid(program))


async def test_output_goes_to_the_otp_port_logger_with_the_label(caplog):
    caplog.set_level(logging.INFO, logger="otp.port")
    argv = python("import sys; print('hello'); print('careful', file=sys.stderr); print('go', flush=True); sys.stdin.read()")
    # stderr is a pipe of its own: its line may be read after the ready line on stdout. Wait for its record.
    warned = trio.Event()

    class _WarningSeen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno == logging.WARNING:
                warned.set()

    seen = _WarningSeen()
    logging.getLogger("otp.port").addHandler(seen)
    try:
        await Program.start_link(argv, ready="go", label="worker-1")
        with trio.fail_after(10):
            await warned.wait()
    finally:
        logging.getLogger("otp.port").removeHandler(seen)
    records = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.name == "otp.port"]
    assert sorted(records) == sorted([
        ("otp.port", "INFO", "worker-1: hello"),
        ("otp.port", "WARNING", "worker-1: careful"),
        ("otp.port", "INFO", "worker-1: go"),
    ])


async def test_no_ready_line_in_time_is_a_start_error_and_the_program_is_stopped():
    argv = python("import time; print('still booting', flush=True); time.sleep(60)")
    me = otp.current_pid()
    with capture_crash_reports() as reports:
        with pytest.raises(StartError) as raised:
            await Program.start_link(
                argv, ready="ready", ready_timeout=0.3, label="slow", shutdown=0.5,
                on_output=lambda label, line, stream: otp.send(me, ("os pid", line)),
            )
    assert raised.value.reason == ProgramNotReady("slow", "timeout", 0.3)
    assert str(raised.value.reason) == "program 'slow' printed no ready line within 0.3 s (ready_timeout)"
    assert [r.otp_reason for r in reports] == [ProgramNotReady("slow", "timeout", 0.3)]


async def test_a_program_that_fails_before_its_ready_line_is_a_start_error_with_its_status():
    argv = python("import sys; sys.exit(3)")
    with capture_crash_reports():
        with pytest.raises(StartError) as raised:
            await Program.start_link(argv, ready="ready")
    assert raised.value.reason == ProgramExited(tuple(argv), 3)


async def test_a_program_that_ends_well_before_its_ready_line_is_not_ready():
    with capture_crash_reports():
        with pytest.raises(StartError) as raised:
            await Program.start_link(["true"], ready="ready")
    assert raised.value.reason == ProgramNotReady("true", "exited", 30.0)


async def test_a_program_that_cannot_start_is_a_start_error_with_the_os_error():
    with capture_crash_reports():
        with pytest.raises(StartError) as raised:
            await Program.start_link(["/nonexistent/program"])
    assert isinstance(raised.value.reason, FileNotFoundError)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"ready": 5}, TypeError),
        ({"shutdown": -1}, ValueError),
        ({"eof_timeout": "1"}, ValueError),
    ],
)
async def test_malformed_options_raise_before_anything_runs(options, error):
    with pytest.raises(error):
        await Program.start_link(["true"], **options)


async def test_a_program_that_ends_well_ends_its_child_normally():
    otp.trap_exits(True)
    program = await Program.start_link(python("print('ready', flush=True)"), ready="ready")
    ref = otp.monitor(program)
    await assert_down(ref, NORMAL, timeout=10)


async def test_a_failing_program_crashes_its_child_and_the_supervisor_starts_it_again():
    argv = python("""
        import sys
        print("ready", flush=True)
        if sys.stdin.readline() == "fail\\n":
            sys.exit(7)
        sys.stdin.read()
    """)
    with capture_crash_reports() as reports:
        supervisor = await Supervisor.start_link([Program.child_spec(argv, id="p", ready="ready")])
        [child] = await Supervisor.which_children(supervisor)
        first = child.pid
        first_os_pid = await Program.os_pid(first)
        ref = otp.monitor(first)
        otp.send(first, "not a port message")  # (ignored, logged by the default handle_info)
        await _write_stdin(first_os_pid, b"fail\n")
        await assert_down(ref, ProgramExited(tuple(argv), 7), timeout=10)
        second = await otp.testing.wait_for_restart(supervisor, "p", first)
    assert second != first and await Program.os_pid(second) != first_os_pid
    assert ProgramExited(tuple(argv), 7) in [r.otp_reason for r in reports]


async def _write_stdin(os_pid: int, data: bytes) -> None:
    # The program's stdin is the port's pipe; /proc gives the test a way into it.
    with open(f"/proc/{os_pid}/fd/0", "wb") as stdin:
        stdin.write(data)


async def test_shutdown_closes_stdin_first_and_a_program_that_watches_it_ends_by_itself():
    argv = python(POLITE.format(after_eof="sys.exit(0)"))
    program = await Program.start_link(argv, ready="ready", on_output=to_me(), eof_timeout=5.0, shutdown=5.0)
    os_pid = await Program.os_pid(program)
    await Program.stop(program)
    await os_process_ended(os_pid)
    lines = [m[2] for m in otp.lowlevel.queued_messages() if m[0] == "output"]
    assert lines == ["starting", "ready to serve", "stdin closed"]


async def test_a_program_that_does_not_end_at_end_of_input_gets_sigterm():
    argv = python(POLITE.format(after_eof="time.sleep(60)"))
    program = await Program.start_link(argv, ready="ready", on_output=to_me(), eof_timeout=0.2, shutdown=5.0)
    os_pid = await Program.os_pid(program)
    await Program.stop(program)
    await os_process_ended(os_pid)
    lines = [m[2] for m in otp.lowlevel.queued_messages() if m[0] == "output"]
    assert lines == ["starting", "ready to serve", "stdin closed", "got SIGTERM"]


async def test_a_program_that_ignores_sigterm_is_killed_after_shutdown_seconds():
    argv = python("""
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *_: print("ignoring SIGTERM", flush=True))
        print("ready", flush=True)
        sys.stdin.read()
        while True:
            time.sleep(1)
    """)
    program = await Program.start_link(argv, ready="ready", on_output=to_me(), shutdown=0.3)
    os_pid = await Program.os_pid(program)
    started = trio.current_time()
    await Program.stop(program)
    await os_process_ended(os_pid)
    # It outlived SIGTERM: only the SIGKILL after `shutdown` ended it. (Its "ignoring SIGTERM"
    # line may or may not be read before the kill on a loaded machine, so it is not asserted.)
    assert trio.current_time() - started >= 0.3


async def test_the_child_spec_gives_the_supervisor_time_for_the_whole_stop_sequence():
    spec = Program.child_spec(["sleep", "1"], eof_timeout=2.0, shutdown=3.0, restart=otp.Restart.TRANSIENT)
    assert (spec.id, spec.shutdown, spec.restart) == ("sleep", 6.0, otp.Restart.TRANSIENT)
    assert Program.child_spec(["sleep", "1"], id="s", label="napper").id == "s"
    assert Program.child_spec(["sleep", "1"], label="napper").id == "napper"


async def test_a_supervisor_stops_its_programs_newest_first_each_after_its_stdin_closes(tmp_path):
    journal = tmp_path / "journal"
    argv = python(f"""
        import sys
        print("ready", flush=True)
        sys.stdin.read()
        with open({str(journal)!r}, "a") as journal:
            journal.write(sys.argv[1] + "\\n")
    """)
    children = [
        Program.child_spec([*argv, name], label=name, ready="ready", eof_timeout=5.0) for name in ("first", "second")
    ]
    supervisor = await Supervisor.start_link(children)
    os_pids = [await Program.os_pid(child.pid) for child in await Supervisor.which_children(supervisor)]
    ref = otp.monitor(supervisor)
    otp.unlink(supervisor)
    otp.exit(supervisor, otp.SHUTDOWN)
    await assert_down(ref, otp.SHUTDOWN, timeout=10)
    for os_pid in os_pids:
        await os_process_ended(os_pid)
    assert journal.read_text() == "second\nfirst\n"
