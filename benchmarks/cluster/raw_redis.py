"""The cluster baselines' Redis client: RESP over a bare trio stream, parsed by hiredis.

What one would write to do pub/sub on Redis without otp: ``pack`` a
command, write it, and read replies (and pushed messages) with
``hiredis.Reader``. The Redis adapter of ``otp.pubsub.redis`` talks to
Redis the same way (a trio stream, hiredis parsing), so the baselines price
what the adapter and the PubSub add on top, not a different client. It is
the baselines' own on purpose: a baseline imports nothing from otp.
"""

from __future__ import annotations

import trio

try:
    import hiredis
except ImportError:  # the extra "redis": nodes.in_fresh_redis says so before any run gets here
    hiredis = None

__all__ = ["Connection", "RedisError", "pack"]

RECEIVE_SIZE = 65536


class RedisError(Exception):
    """An error reply from Redis, or the connection closing."""


def pack(*args: bytes | str | int) -> bytes:
    """One command in RESP: ``*N``, then each argument as a bulk string."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Connection:
    """One TCP connection to Redis: write commands, read replies and pushed messages in order."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.reader = hiredis.Reader(replyError=RedisError)

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(await trio.open_tcp_stream(host, port))

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def read(self) -> object:
        """The next reply or pushed message (``[b"message", channel, data]``)."""
        while True:
            reply = self.reader.gets()
            if reply is not False:
                if isinstance(reply, RedisError):
                    raise reply
                return reply
            data = await self.stream.receive_some(RECEIVE_SIZE)
            if not data:
                raise RedisError("connection closed by Redis")
            self.reader.feed(data)

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True):
            await self.stream.aclose()
