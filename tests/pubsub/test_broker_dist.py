"""otp.dist between node OS processes through the broker on a Unix socket: no Redis anywhere.

The test's node runs the broker and joins the cluster as node "test"; two
node processes (tests/pubsub/_bus_node.py) run as Programs. Remote calls
(also from one node process to the other), sends and pids that travel,
monitors, and a node killed with SIGKILL seen down.
"""

import os
import signal
import sys
from pathlib import Path

import pytest

import otp
from otp import NODEDOWN, GenServer, dist
from otp.program import Program
from otp.pubsub.broker import Broker
from otp.testing import assert_down, assert_receive

from ._bus_node import SECRET, TIMING

NODE = Path(__file__).with_name("_bus_node.py")

pytestmark = pytest.mark.slow


async def start_node(name: str, url: str) -> otp.Pid:
    return await Program.start_link([sys.executable, "-u", str(NODE), name, url], ready="^ready$", label=name)


async def test_calls_sends_and_monitors_between_node_processes_over_the_broker(tmp_path):
    otp.trap_exits(True)  # a node killed below ends its Program child with a failure: a message here
    broker = await Broker.start_link(path=tmp_path / "bus.sock")
    url = Broker.url(broker)
    assert url == f"unix://{tmp_path / 'bus.sock'}"
    programs = {name: await start_node(name, url) for name in ("n1", "n2")}
    await dist.start("test", redis=url, secret=SECRET, **TIMING)
    known = set(await dist.monitor_nodes())
    while not {"n1", "n2"} <= known:
        known.add((await assert_receive(dist.NodeUp, timeout=10)).name)

    assert await GenServer.call(("counter", "n1"), "incr", timeout=5) == ("n1", 1)
    assert await GenServer.call(("counter", "n2"), "incr", timeout=5) == ("n2", 1)
    # n1's counter calls n2's: between the two node processes, through the broker.
    assert await GenServer.call(("counter", "n1"), ("call", ("counter", "n2"), "incr"), timeout=5) == ("n2", 2)

    otp.send(("echo", "n1"), ("ping", otp.current_pid()))
    _, echo_on_n1, node = await assert_receive(lambda m: isinstance(m, tuple) and m[0] == "pong", timeout=5)
    assert node == "n1" and echo_on_n1.node != 0  # a pid of another node
    ref = otp.monitor(echo_on_n1)

    os.kill(await Program.os_pid(programs["n1"]), signal.SIGKILL)
    await assert_down(ref, NODEDOWN, timeout=10)
    assert await assert_receive(dist.NodeDown, timeout=10) == dist.NodeDown("n1")
    assert await GenServer.call(("counter", "n2"), "incr", timeout=5) == ("n2", 3)  # the other lives on
    assert Broker.statistics(broker).disconnected == 0
