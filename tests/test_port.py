"""Ports (otp/port.py) with real programs: output as messages, input, exit status, links both ways, back-pressure.

Whether an OS process has ended is waited for on a pidfd (it becomes
readable when the process exits), never by sleeping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import trio
import trio.testing

import otp
from otp import (
    KILL,
    KILLED,
    NORMAL,
    Down,
    ExitSignal,
    Port,
    PortData,
    PortExit,
    PortLine,
    PortPassive,
    ProgramExited,
    PubSub,
    Supervisor,
)
from otp.lowlevel import queued_messages
from otp.testing import assert_down, assert_receive, capture_crash_reports

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux pidfds")


async def os_process_ended(pid: int, timeout: float = 10.0) -> None:
    """Wait until OS process ``pid`` has exited (a zombie counts: it runs no more)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return  # gone and reaped already
    try:
        with trio.fail_after(timeout):
            await trio.lowlevel.wait_readable(fd)
    finally:
        os.close(fd)


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def output_until_exit(port: Port) -> tuple[list[object], int]:
    messages = []
    while True:
        message = await otp.receive(lambda m: getattr(m, "port", None) == port)
        if isinstance(message, PortExit):
            return messages, message.status
        messages.append(message)


# ---------------------------------------------------------------- output


async def test_lines_arrive_in_order_then_the_exit_status_then_the_port_ends_normally():
    port = await Port.open(["sh", "-c", "echo one; echo two; printf 'no newline'"], lines=True)
    ref = otp.monitor(port.pid)
    messages, status = await output_until_exit(port)
    assert messages == [
        PortLine(port, b"one"), PortLine(port, b"two"), PortLine(port, b"no newline", "stdout", complete=False),
    ]
    assert status == 0
    await assert_down(ref, NORMAL)
    assert queued_messages() == []


async def test_binary_output_arrives_as_chunks_byte_for_byte():
    payload = bytes(range(256)) * 1024  # 256 KiB: several reads
    program = "import sys; sys.stdout.buffer.write(bytes(range(256)) * 1024)"
    port = await Port.open([sys.executable, "-c", program], active=None)
    messages, status = await output_until_exit(port)
    assert all(isinstance(m, PortData) and m.stream == "stdout" for m in messages)
    assert b"".join(m.data for m in messages) == payload
    assert status == 0


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (Port.MERGE, [("stdout", b"out"), ("stdout", b"err")]),
        (Port.SEPARATE, [("stderr", b"err"), ("stdout", b"out")]),
        (Port.DISCARD, [("stdout", b"out")]),
    ],
)
async def test_stderr_merged_separate_or_discarded(stderr, expected):
    port = await Port.open(["sh", "-c", "echo out; echo err >&2"], lines=True, stderr=stderr)
    messages, status = await output_until_exit(port)
    assert sorted((m.stream, m.line) for m in messages) == sorted(expected)
    assert status == 0


async def test_a_line_longer_than_max_line_comes_in_pieces():
    port = await Port.open(["sh", "-c", "echo abcdefghij; echo xy"], lines=True, max_line=4)
    messages, _ = await output_until_exit(port)
    assert [(m.line, m.complete) for m in messages] == [
        (b"abcd", False), (b"efgh", False), (b"ij", True), (b"xy", True),
    ]


async def test_env_and_cwd_are_the_programs(tmp_path):
    env = {"PATH": os.environ["PATH"], "GREETING": "hej"}
    port = await Port.open(["sh", "-c", 'echo "$GREETING"; pwd; echo "${HOME:-unset}"'], lines=True, env=env, cwd=tmp_path)
    messages, _ = await output_until_exit(port)
    assert [m.line for m in messages] == [b"hej", os.fsencode(tmp_path.resolve()), b"unset"]


async def test_a_shell_line_runs_only_when_asked():
    port = await Port.open("echo $((6 * 7))", shell=True, lines=True)
    messages, _ = await output_until_exit(port)
    assert [m.line for m in messages] == [b"42"]
    with pytest.raises(TypeError, match=r"argv is a list of arguments, run without a shell; got the string 'ls -l'"):
        await Port.open("ls -l")
    with pytest.raises(TypeError, match=r"shell=True takes one command line \(a str\); got \['ls'\]"):
        await Port.open(["ls"], shell=True)
    with pytest.raises(ValueError, match="argv is empty"):
        await Port.open([])
    with pytest.raises(ValueError, match="active must be a positive number of messages or None"):
        await Port.open(["true"], active=0)


async def test_a_program_that_cannot_start_raises_and_leaves_nothing_behind():
    with pytest.raises(FileNotFoundError):
        await Port.open(["/nonexistent/program"])
    info = otp.process_info(otp.current_pid())
    assert info.links == ()
    assert queued_messages() == []


# ---------------------------------------------------------------- input


async def test_commands_go_to_stdin_in_order_and_close_input_ends_it():
    port = await Port.open(["cat"], lines=True)
    port.command(b"hello\n")
    port.command("wörld\n")
    assert await assert_receive(PortLine, timeout=10) == PortLine(port, b"hello")
    assert await assert_receive(PortLine, timeout=10) == PortLine(port, "wörld".encode())
    port.close_input()
    port.command(b"after close\n")  # dropped: the pipe is closed
    messages, status = await output_until_exit(port)
    assert (messages, status) == ([], 0)


# ---------------------------------------------------------------- links


async def test_a_failing_program_ends_a_non_trapping_owner_with_program_exited():
    async def owner(test):
        port = await Port.open(["sh", "-c", "echo bye; exit 3"], lines=True)
        otp.send(test, ("port", port))
        await otp.receive(lambda m: False)

    with capture_crash_reports() as reports:
        pid, ref = otp.spawn_monitor(owner, otp.current_pid())
        port = (await assert_receive(lambda m: m[0] == "port", timeout=10))[1]
        down = await assert_receive(Down, timeout=10)
    assert down.ref == ref
    assert down.reason == ProgramExited(port.argv, 3)
    assert str(down.reason) == "program 'sh' exited with status 3"
    assert [r.otp_pid for r in reports] == [str(port.pid)]  # the port's report; the owner was ended by its signal


async def test_a_trapping_owner_gets_the_output_the_status_and_then_the_exit_signal():
    otp.trap_exits(True)
    with capture_crash_reports():
        port = await Port.open(["sh", "-c", "echo last words; kill -9 $$"], lines=True)
        messages, status = await output_until_exit(port)
        signal = await assert_receive(ExitSignal, timeout=10)
    assert messages == [PortLine(port, b"last words")]
    assert status == -9
    assert signal == ExitSignal(port.pid, ProgramExited(port.argv, -9))
    assert str(signal.reason) == "program 'sh' was killed by signal 9"


async def test_the_owners_end_kills_the_program_and_the_programs_it_started():
    async def owner(test):
        port = await Port.open(["sh", "-c", "sleep 1000 & echo $!; wait"], lines=True)
        line = await otp.receive(PortLine)
        otp.send(test, (port, int(line.line)))
        await otp.receive(lambda m: False)

    owner_pid = otp.spawn(owner, otp.current_pid())
    port, sleeper = await assert_receive(tuple, timeout=10)
    port_ref = otp.monitor(port.pid)
    assert running(port.os_pid) and running(sleeper)
    otp.exit(owner_pid, KILL)
    await assert_down(port_ref, KILLED, timeout=10)
    await os_process_ended(port.os_pid)
    await os_process_ended(sleeper)


async def test_a_program_that_ignores_sigterm_is_killed_after_kill_timeout():
    program = "trap '' TERM; echo ready; while :; do sleep 1; done"
    port = await Port.open(["sh", "-c", program], lines=True, kill_timeout=0.2)
    assert await assert_receive(PortLine, timeout=10) == PortLine(port, b"ready")
    ref = otp.monitor(port.pid)
    with trio.fail_after(10):
        port.close()
        await assert_down(ref, NORMAL, timeout=10)
    await os_process_ended(port.os_pid)


async def test_close_ends_the_program_and_the_owner_hears_nothing_more():
    port = await Port.open(["sleep", "1000"])
    ref = otp.monitor(port.pid)
    port.close()
    await assert_down(ref, NORMAL, timeout=10)
    await os_process_ended(port.os_pid)
    assert otp.process_info(otp.current_pid()).links == ()
    assert queued_messages() == []


async def test_signal_reaches_the_program_and_its_output_and_exit_status_still_come():
    program = "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: (print('got TERM'), sys.exit(5))); print('ready', flush=True); time.sleep(60)"
    port = await Port.open([sys.executable, "-c", program], lines=True)
    assert await assert_receive(PortLine, timeout=10) == PortLine(port, b"ready")
    port.signal(signal.SIGTERM)
    assert await assert_receive(PortLine, timeout=10) == PortLine(port, b"got TERM")
    assert await assert_receive(PortExit, timeout=10) == PortExit(port, 5)
    port.signal(signal.SIGTERM)  # once it has ended: nothing (its pid is no longer its own)


@pytest.mark.slow
async def test_a_program_sees_end_of_input_when_its_whole_node_is_sigkilled(tmp_path):
    marker = tmp_path / "saw-eof"
    program = f"import signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); sys.stdin.read(); open({str(marker)!r}, 'w').write('eof')"
    node = textwrap.dedent(f"""
        import sys, otp
        from otp import Port, PortLine
        async def main():
            port = await Port.open([sys.executable, "-c", {program!r}], lines=True)
            await otp.receive(PortLine)
            print(port.os_pid, flush=True)
            await otp.receive(lambda m: False)
        otp.run(main)
    """)
    process = await trio.lowlevel.open_process([sys.executable, "-c", node], stdout=subprocess.PIPE)
    try:
        with trio.fail_after(30):
            output = b""
            while not output.endswith(b"\n"):
                output += await process.stdout.receive_some(100)
        program_pid = int(output)
        process.kill()  # SIGKILL: the node runs no cleanup at all
        await process.wait()
        await os_process_ended(program_pid)
    finally:
        process.kill()
        await process.stdout.aclose()
    assert marker.read_text() == "eof"


# ---------------------------------------------------------------- back-pressure


async def test_a_chatty_program_is_read_only_as_fast_as_the_owner_takes():
    port = await Port.open(["yes"], lines=True, active=4)
    for _ in range(4):
        assert await assert_receive(PortLine, timeout=10) == PortLine(port, b"y")
    assert await assert_receive(PortPassive, timeout=10) == PortPassive(port)
    await trio.testing.wait_all_tasks_blocked()  # the port waits; `yes` is blocked on a full pipe
    assert queued_messages() == []
    port.set_active(2)
    assert [await assert_receive(timeout=10) for _ in range(3)] == [
        PortLine(port, b"y"), PortLine(port, b"y"), PortPassive(port),
    ]
    await trio.testing.wait_all_tasks_blocked()
    assert queued_messages() == []
    ref = otp.monitor(port.pid)
    port.close()
    await assert_down(ref, NORMAL, timeout=10)


# ---------------------------------------------------------------- the example: a command behind PubSub


async def test_the_command_runner_example_publishes_batches_and_the_exit_status():
    from _examples import load_example

    runner = load_example("command_runner").CommandRunner
    await PubSub.start_link("ports")
    PubSub.subscribe("ports", "job")
    argv = ["sh", "-c", "for i in 1 2 3 4 5 6; do echo step $i; done"]
    await Supervisor.start_link([runner.child_spec({"argv": argv, "pubsub": "ports", "topic": "job"})])
    lines = []
    while True:
        kind, payload = await assert_receive(tuple, timeout=10)
        if kind == "exit":
            break
        lines += payload
    assert lines == [f"step {i}" for i in range(1, 7)]
    assert payload == 0


async def test_the_command_runner_restarts_a_failed_command():
    from _examples import load_example

    runner = load_example("command_runner").CommandRunner
    await PubSub.start_link("ports")
    PubSub.subscribe("ports", "job")
    argv = ["sh", "-c", "echo trying; exit 1"]
    with capture_crash_reports():
        supervisor = await Supervisor.start_link(
            [runner.child_spec({"argv": argv, "pubsub": "ports", "topic": "job"})], max_restarts=5, max_seconds=60
        )
        for _ in range(2):  # the first run and a restart, each with its output and its status
            assert await assert_receive(tuple, timeout=10) == ("lines", ["trying"])
            assert await assert_receive(tuple, timeout=10) == ("exit", 1)
        ref = otp.monitor(supervisor)
        otp.unlink(supervisor)
        otp.exit(supervisor, otp.SHUTDOWN)
        await assert_down(ref, otp.SHUTDOWN, timeout=10)
