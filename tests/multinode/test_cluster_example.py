"""The README's cluster example (examples/cluster_node.py) over a real Redis: two nodes find each other, three ride out faults."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cluster_node.py"

pytestmark = pytest.mark.slow


def test_two_example_nodes_hear_each_other_and_see_each_other_s_presence(redis_server):
    address = f"{redis_server.host}:{redis_server.port}"
    nodes = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLE), name, "--redis", address, "--peers", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("alpha", "beta")
    }
    outputs = {}
    try:
        for name, node in nodes.items():
            outputs[name], errors = node.communicate(timeout=60)
            assert node.returncode == 0, errors
    finally:
        for node in nodes.values():
            node.kill()
    for name, other in (("alpha", "beta"), ("beta", "alpha")):
        lines = outputs[name].splitlines()
        assert any(line.startswith(f"{name}: hello from {other} (<") for line in lines), lines
        assert lines[-1] == f"{name}: done"
        assert f"{name}: {name} is present" in lines


class ExampleNode:
    """One example node as an OS process, its output read as it comes."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.lines: list[tuple[float, str]] = []  # (time.monotonic() when read, line)
        self._changed = trio.Event()

    async def read(self) -> None:
        buffer = b""
        async for chunk in self.process.stdout:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            self.lines += [(time.monotonic(), line.decode()) for line in lines]
            self._changed.set()
            self._changed = trio.Event()

    async def wait_for(self, line: str, after: float = 0.0, timeout: float = 30.0) -> float:
        """When ``line`` was printed (at ``after`` or later; waiting for it)."""
        with trio.fail_after(timeout):
            while True:
                for at, said in self.lines:
                    if said == line and at >= after:
                        return at
                await self._changed.wait()

    def said_after(self, start: float) -> list[str]:
        return [line for at, line in self.lines if at >= start]


async def test_three_example_nodes_ride_out_a_redis_restart_and_see_a_killed_node_go(redis_server):
    names = ("alpha", "beta", "gamma")
    address = f"{redis_server.host}:{redis_server.port}"
    async with trio.open_nursery() as nursery:
        nodes = {}
        for name in names:
            process = await trio.lowlevel.open_process(
                [sys.executable, str(EXAMPLE), name, "--redis", address, "--down-after", "2"], stdout=subprocess.PIPE
            )
            nodes[name] = ExampleNode(process)
            nursery.start_soon(nodes[name].read)
        try:
            for name, node in nodes.items():  # each heard the others, and sees every presence
                for other in names:
                    await node.wait_for(f"{name}: {other} is present")
            restarted = time.monotonic()
            redis_server.kill()
            await trio.sleep(3.0)  # the fault itself: longer than down_after (2 s)
            await trio.to_thread.run_sync(redis_server.restart)
            for name, node in nodes.items():  # each held its verdicts, and judges again
                await node.wait_for(f"{name}: cut off (bus): declaring nobody down")
                await node.wait_for(f"{name}: judging silent nodes again", after=restarted)
            # Then a node killed is seen down, and its presence leaves: silence counts again.
            nodes["gamma"].process.kill()
            for name in ("alpha", "beta"):
                await nodes[name].wait_for(f"{name}: node gamma is down")
                await nodes[name].wait_for(f"{name}: gamma left")
            # And nothing else went down or left: the restart alarmed nobody.
            for name in ("alpha", "beta"):
                alarms = [line for line in nodes[name].said_after(restarted) if line.endswith((" left", " is down"))]
                assert sorted(alarms) == [f"{name}: gamma left", f"{name}: node gamma is down"]
        finally:
            for node in nodes.values():
                node.process.kill()
            nursery.cancel_scope.cancel()
