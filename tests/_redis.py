"""A real redis-server for the tests, started on a free loopback port.

Tests that need one use the ``redis_server`` fixture (tests/conftest.py).
Without the ``redis-server`` binary the tests are skipped, except in CI
(``CI=true``), where a missing Redis is a failure: CI installs it
(``.ci/run``).

:func:`start_redis` also takes more ``redis-server`` arguments (a password,
ACL users) and serves TLS only with ``tls=True`` (the port is then a TLS
port, and the arguments name the certificates; tests/pubsub/_tls.py makes
them). A build without TLS skips those tests, or fails them in CI.
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
    options: tuple[str, ...] = ()
    tls: bool = False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def restart(self) -> None:
        """Start it again on the same port (after stop or kill)."""
        self.process = _launch(self.port, self.dir, self.options, self.tls)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp_dir: str, *options: str, tls: bool = False) -> RedisServer:
    """A redis-server on a free loopback port; ``options`` are more of its arguments (``"--requirepass", "pw"``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        _skip_or_fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    try:
        process = _launch(port, tmp_dir, options, tls)
    except RedisDidNotStart as error:
        if tls and "tls" in error.output.lower():
            _skip_or_fail(f"this redis-server does not serve TLS (Debian's does): {error}")
        raise
    return RedisServer("127.0.0.1", port, process, tmp_dir, options, tls)


class RedisDidNotStart(RuntimeError):
    def __init__(self, message: str, output: str) -> None:
        super().__init__(f"{message}; it said:\n{output}")
        self.output = output


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; in CI, .ci/run installs Debian's redis-server (scripts/ensure-redis.sh)")
    pytest.skip(reason)


def _launch(port: int, tmp_dir: str, options: tuple[str, ...] = (), tls: bool = False) -> subprocess.Popen:
    listen = ["--port", "0", "--tls-port", str(port)] if tls else ["--port", str(port)]
    process = subprocess.Popen(
        ["redis-server", *listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", tmp_dir, "--loglevel", "notice", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Wait for the event, not for a while: Redis says when it is ready.
    said = []
    for line in process.stdout:
        if "Ready to accept connections" in line:
            return process
        said.append(line)
    code = process.wait()
    raise RedisDidNotStart(f"redis-server on port {port} exited before it was ready (code {code})", "".join(said))
