"""A minimal Redis client connection on trio: RESP commands out, hiredis parsing in.

Only what the PubSub adapter needs: send pipelined commands, read replies,
read pushed pub/sub messages. ``hiredis`` (C) parses the protocol; writing
a command is a few byte joins.
"""

from __future__ import annotations

import trio

from .._util import import_extra

hiredis = import_extra("hiredis", extra="redis", needed_by="Redis (otp.pubsub.redis, otp.dist)")

__all__ = ["Connection", "pack", "RedisError"]


class RedisError(Exception):
    """An error reply from Redis, or the connection failing."""


def pack(*args: bytes | str | int) -> bytes:
    """Encode one command in RESP: ``*N`` then each argument as a bulk string."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Connection:
    """One TCP connection to Redis."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.reader = hiredis.Reader(replyError=RedisError)

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(await trio.open_tcp_stream(host, port))

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def read(self) -> object:
        """The next reply or pushed message."""
        while True:
            reply = self.reader.gets()
            if reply is not False:
                if isinstance(reply, RedisError):
                    raise reply
                return reply
            data = await self.stream.receive_some(65536)
            if not data:
                raise RedisError("connection closed by Redis")
            self.reader.feed(data)

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True):
            await self.stream.aclose()
