"""The README's cluster example (examples/cluster_node.py): two nodes find each other over a real Redis."""

import subprocess
import sys
from pathlib import Path

import pytest

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
