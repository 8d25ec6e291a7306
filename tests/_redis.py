"""A real redis-server for the tests, started on a free loopback port.

Tests that need one use the ``redis_server`` fixture (tests/conftest.py).
Without the ``redis-server`` binary the tests are skipped, except in CI
(``CI=true``), where a missing Redis is a failure: CI installs it
(``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import attrs
import pytest


@attrs.define
class RedisServer:
    host: str
    port: int
    process: subprocess.Popen
    dir: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def restart(self) -> None:
        """Start it again on the same port (after stop or kill)."""
        self.process = _launch(self.port, self.dir)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp_dir: str) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed; .ci/run should have installed it (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    return RedisServer("127.0.0.1", port, _launch(port, tmp_dir), tmp_dir)


def _launch(port: int, tmp_dir: str) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", tmp_dir, "--loglevel", "notice"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Wait for the event, not for a while: Redis says when it is ready.
    for line in process.stdout:
        if "Ready to accept connections" in line:
            return process
    raise RuntimeError(f"redis-server on port {port} exited before it was ready (code {process.wait()})")
