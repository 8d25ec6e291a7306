"""A redis-server for the cluster benchmarks: a fresh one on a free loopback port, or yours.

``with redis_server() as (host, port): ...`` starts ``redis-server`` on a
free port of 127.0.0.1 (no persistence, its files in a temporary
directory), waits until it logs "Ready to accept connections", and stops it
on the way out. With ``REDIS_PORT`` set in the environment it starts
nothing and yields ``(REDIS_HOST or 127.0.0.1, REDIS_PORT)`` instead: a
server you run yourself (it must be reachable and empty of other traffic on
the ``bench`` channels).

Raises:
    RedisServerMissing: no ``redis-server`` on the PATH (and no ``REDIS_PORT``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from typing import Iterator

__all__ = ["redis_server", "RedisServerMissing"]


class RedisServerMissing(RuntimeError):
    """There is no redis-server to start, and REDIS_PORT names none running."""


@contextmanager
def redis_server() -> Iterator[tuple[str, int]]:
    """``(host, port)`` of a Redis server for one benchmark run; see the module docs."""
    if os.environ.get("REDIS_PORT"):
        yield os.environ.get("REDIS_HOST") or "127.0.0.1", int(os.environ["REDIS_PORT"])
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissing(
            "the cluster benchmarks need redis-server (apt-get install redis-server), "
            "or REDIS_PORT set to the port of a running one"
        )
    with tempfile.TemporaryDirectory(prefix="otp-bench-redis-") as directory:
        port = _free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", directory, "--loglevel", "notice"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_ready(process, port)
            yield "127.0.0.1", port
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(process: subprocess.Popen, port: int) -> None:
    # Wait for the event, not for a while: Redis says when it is ready. Past
    # that line nothing reads its output, so it must not write much more
    # (loglevel notice: a line at shutdown).
    for line in process.stdout:
        if "Ready to accept connections" in line:
            return
    raise RuntimeError(f"redis-server on port {port} exited before it was ready (code {process.wait()})")
