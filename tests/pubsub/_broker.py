"""A broker (otp.pubsub.broker) in an OS process of its own, shaped like tests/_redis.py's RedisServer.

The Redis adapter's tests take a ``redis_server`` with ``host``, ``port``,
``kill()``, ``restart()`` and ``stop()``; :class:`BrokerServer` has the
same, so those tests run unchanged against the broker. On a Unix socket,
``host`` is the ``unix://`` URL and ``port`` None: ``Redis(host, port)``
and ``dist.start(host=..., port=...)`` take a URL that way too.
"""

from __future__ import annotations

import subprocess
import sys

import attrs
from _redis import free_port


@attrs.define
class BrokerServer:
    args: list[str]
    host: str
    port: int | None
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return self.host if self.port is None else f"redis://{self.host}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdout.close()

    def restart(self) -> None:
        """Start it again at the same address (after stop or kill)."""
        self.process = _launch(self.args)


def start_broker(*, path: str | None = None) -> BrokerServer:
    """A broker on a Unix socket at ``path``, or on a free loopback port."""
    if path is not None:
        args = ["--path", path]
        return BrokerServer(args, f"unix://{path}", None, _launch(args))
    port = free_port()
    args = ["--host", "127.0.0.1", "--port", str(port)]
    return BrokerServer(args, "127.0.0.1", port, _launch(args))


def _launch(args: list[str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "otp.pubsub.broker", *args], stdout=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline()  # the event, not a while: it says when it listens
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the broker did not start: {line!r}")
    return process
