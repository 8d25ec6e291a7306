"""otp.run with a tree: a child spec, a supervisor class or a list of children; Ctrl-C."""

import signal
import subprocess
import sys
import textwrap

import pytest

import otp
from otp import GenServer, Stop, Supervisor, SupervisorSpec


class Finisher(GenServer):
    """Stops itself with the reason it was given, once started."""

    async def init(self, reason):
        self.reason = reason
        otp.send(otp.current_pid(), "finish")

    async def handle_info(self, message):
        return Stop(self.reason)


class App(Supervisor):
    async def init(self, reason):
        return SupervisorSpec([Finisher.child_spec(reason, restart=otp.Restart.TRANSIENT)])


def test_run_a_child_spec_returns_the_exit_reason_of_the_tree():
    # A transient child stopping normally is not restarted; a permanent one
    # stopping is restarted until the supervisor gives up.
    assert otp.run(Finisher.child_spec(otp.Shutdown("done"))) == otp.Shutdown("done")


def test_run_a_list_of_children_runs_them_under_a_one_for_one_supervisor():
    reason = otp.run([Finisher.child_spec("crash", id="a")], shutdown_timeout=1.0)
    assert reason == otp.Shutdown("reached_max_restart_intensity")


def test_run_a_module_based_supervisor():
    # Its only child is transient and stops normally: the supervisor stays up
    # with no running child, so stop it from the outside via a second tree.
    async def main():
        sup = await App.start_link(otp.NORMAL)
        counts = await Supervisor.count_children(sup)
        await Supervisor.stop(sup)
        return counts

    assert otp.run(main) == otp.ChildCounts(specs=1, active=0, supervisors=0, workers=1)


def test_run_a_tree_refuses_extra_arguments():
    with pytest.raises(TypeError, match="takes no extra arguments"):
        otp.run([Finisher.child_spec(otp.NORMAL)], 1)


SCRIPT = textwrap.dedent(
    """
    import sys
    import otp
    from otp import GenServer

    class Service(GenServer):
        async def init(self, name):
            otp.trap_exits(True)       # so that terminate runs on shutdown
            self.name = name
            print("started", name, flush=True)

        async def terminate(self, reason):
            print("terminating", self.name, reason, flush=True)

    children = [Service.child_spec(name, id=name) for name in ("db", "cache", "web")]
    try:
        otp.run(children)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


@pytest.mark.slow
def test_ctrl_c_shuts_the_tree_down_in_reverse_start_order(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = [proc.stdout.readline().strip() for _ in range(3)]
        assert started == ["started db", "started cache", "started web"]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert out.splitlines() == [
        "terminating web shutdown",
        "terminating cache shutdown",
        "terminating db shutdown",
        "interrupted",
    ], err
    assert proc.returncode == 130
    assert "crashed" not in err  # a shutdown is not a crash: nothing logged


CHURN_SCRIPT = textwrap.dedent(
    """
    import sys
    import trio
    import otp

    async def churn():
        while True:
            ref = otp.monitor(otp.spawn(trio.sleep, 0))
            otp.demonitor(ref, flush=True)
            otp.link(pid := otp.spawn(trio.sleep, 0))
            otp.unlink(pid)
            await trio.sleep(0)

    async def main():
        for _ in range(20):
            otp.spawn_link(churn)
        print("churning", flush=True)
        await trio.sleep(60)

    try:
        otp.run(main)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(5))
def test_ctrl_c_in_the_middle_of_link_and_monitor_churn_stops_cleanly(tmp_path, attempt):
    # Ctrl-C becomes a cancellation of the root, never an exception raised
    # half-way through updating the link and monitor tables.
    script = tmp_path / "churn.py"
    script.write_text(CHURN_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "churning\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert (proc.returncode, out, err) == (130, "interrupted\n", "")
