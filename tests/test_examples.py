"""The demo that `make demo` runs shows what the issue asks, and runs as a script."""

import subprocess
import sys
from pathlib import Path

import pytest

import otp

ROOT = Path(__file__).resolve().parent.parent


def load_demo():
    namespace = {"__name__": "kernel_demo"}
    source = (ROOT / "examples" / "kernel_demo.py").read_text()
    exec(compile(source, "kernel_demo.py", "exec"), namespace)
    return namespace


def test_kernel_demo_shows_link_crash_exit_signal_down_and_timer():
    lines = []
    result = otp.run(load_demo()["main"], lines.append)
    assert result == ["worker-1 was told to crash", "worker-1 was told to crash", "tick"]
    assert lines[0] == "<0.{}.0> traps exits".format(lines[0].split(".")[1])
    assert "spawned and linked" in lines[1]
    assert lines[2].startswith("exit signal arrived as a message: ExitSignal(pid=<0.")
    assert lines[2].endswith("reason=RuntimeError('worker-1 was told to crash'))")
    assert lines[3].startswith("monitor fired: Down(ref=#Ref<0.")
    assert lines[5] == "timer fired: 'tick'"


@pytest.mark.slow
def test_kernel_demo_runs_as_a_script_and_logs_the_crash_report():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "kernel_demo.py")],
        capture_output=True, text=True, timeout=60, check=True,
    )
    out = done.stdout
    assert "ERROR otp.process: Process <0.2.0> crashed: RuntimeError('worker-1 was told to crash')" in out
    assert "timer fired: 'tick'" in out


def test_supervisor_demo_restarts_the_counter_then_the_supervisor_gives_up():
    namespace = {"__name__": "supervisor_demo"}
    source = (ROOT / "examples" / "supervisor_demo.py").read_text()
    exec(compile(source, "supervisor_demo.py", "exec"), namespace)
    lines = []
    restarted, reason = otp.run(namespace["main"], lines.append)
    assert restarted is True
    assert reason == otp.Shutdown("reached_max_restart_intensity")
    assert lines[0].endswith("incr -> 101")
    assert lines[1].endswith("incr -> 101")  # fresh state after the restart
    assert lines[2:5] == [f"crash {n}: call failed with RuntimeError('counter told to crash')" for n in (1, 2, 3)]
    assert lines[5].startswith("supervisor gave up: ExitSignal(pid=<0.")
