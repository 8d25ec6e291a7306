"""The load generator's WebSocket client: Phoenix V2 frames over wsproto, on trio.

One :class:`PhxClient` is one WebSocket to ``/socket/websocket?vsn=2.0.0&user=...``
speaking the V2 JSON frames directly: ``[join_ref, ref, topic, event,
payload]``. It is deliberately thin (no heartbeats, no rejoin, no timers):
the benchmarks want the cost of the client to be as small and as constant as
possible, the same against our server and against the bare baseline.

Frames are read whole and returned as ``str``; :func:`decode` turns one into
a list when the caller needs its fields (the fan-out readers do not: they
only look for ``"shout"``).

:func:`http_get` is the page load before a LiveView's socket: one plain
``GET`` on h11.
"""

from __future__ import annotations

from collections import deque

import h11
import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, RejectConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

__all__ = ["PhxClient", "ServerClosed", "Refused", "decode", "http_get"]

RECEIVE_SIZE = 65536

decode = orjson.loads


class ServerClosed(Exception):
    """The server closed the WebSocket (``code``; 1006: the TCP stream just ended)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"the server closed the WebSocket ({code})")
        self.code = code


class Refused(Exception):
    """The upgrade was refused (the HTTP status)."""


class PhxClient:
    """One Phoenix V2 WebSocket client. Not for sharing between tasks, except a reader + a writer."""

    __slots__ = ("stream", "ws", "_events", "_parts", "_ref", "closed", "wire_in")

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.wire_in = 0  # bytes read from the socket after the upgrade (compressed, when deflate was agreed)
        self._events: deque = deque()
        self._parts: list[str] = []
        self._ref = 0
        self.closed = False

    @classmethod
    async def connect(
        cls, host: str, port: int, user: str, path: str = "/socket/websocket", *, deflate: bool = False
    ) -> PhxClient:
        """Open and upgrade as ``user``; raises :class:`Refused` if the server says no."""
        return await cls.open(host, port, f"{path}?vsn=2.0.0&user={user}", deflate=deflate)

    @classmethod
    async def open(cls, host: str, port: int, target: str, *, deflate: bool = False) -> PhxClient:
        """Open and upgrade on any target (``/live/websocket?_csrf_token=...``); :class:`Refused` if refused.

        ``deflate``: offer permessage-deflate, as browsers do (wsproto's own
        extension: it inflates without a bound, fine for a load generator).
        """
        stream = await trio.open_tcp_stream(host, port)
        client = cls(stream)
        extensions = [PerMessageDeflate()] if deflate else []
        try:
            await stream.send_all(client.ws.send(Request(host=f"{host}:{port}", target=target, extensions=extensions)))
            while True:
                event = await client._next_event()
                if isinstance(event, AcceptConnection):
                    client.wire_in = 0  # the 101 is not WebSocket traffic
                    return client
                if isinstance(event, RejectConnection):
                    raise Refused(f"upgrade refused: HTTP {event.status_code}")
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise

    def next_ref(self) -> str:
        self._ref += 1
        return str(self._ref)

    async def _next_event(self) -> object:
        events = self._events
        while not events:
            events.extend(self.ws.events())
            if events:
                break
            try:
                data = await self.stream.receive_some(RECEIVE_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            self.wire_in += len(data)
            self.ws.receive_data(data or None)
        return events.popleft()

    async def send_frame(self, join_ref: str | None, ref: str | None, topic: str, event: str, payload: object) -> None:
        text = orjson.dumps([join_ref, ref, topic, event, payload]).decode()
        await self.stream.send_all(self.ws.send(TextMessage(data=text)))

    async def receive(self) -> str:
        """The next whole text message; raises :class:`ServerClosed` at the end (the close is answered)."""
        while True:
            event = await self._next_event()
            if event.__class__ is TextMessage:
                if event.message_finished and not self._parts:
                    return event.data
                self._parts.append(event.data)
                if event.message_finished:
                    text = "".join(self._parts)
                    self._parts = []
                    return text
            elif isinstance(event, CloseConnection):
                await self._closed(event)
                raise ServerClosed(event.code)
            elif isinstance(event, Ping):
                await self.stream.send_all(self.ws.send(event.response()))

    async def _closed(self, event: CloseConnection) -> None:
        self.closed = True
        if self.ws.state.name == "REMOTE_CLOSING":
            try:
                await self.stream.send_all(self.ws.send(event.response()))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
        await trio.aclose_forcefully(self.stream)

    async def reply(self, ref: str) -> list:
        """Read until the ``phx_reply`` to ``ref``; return that frame (decoded). Other frames are dropped."""
        marker = f'"{ref}"'
        while True:
            text = await self.receive()
            if "phx_reply" in text and marker in text:
                frame = decode(text)
                if frame[1] == ref and frame[3] == "phx_reply":
                    return frame

    async def call(self, join_ref: str | None, topic: str, event: str, payload: object) -> dict:
        """Push and wait for the reply; return its ``{"status", "response"}``."""
        ref = self.next_ref()
        await self.send_frame(join_ref, ref, topic, event, payload)
        return (await self.reply(ref))[4]

    async def join(self, topic: str, payload: object | None = None) -> tuple[str, dict]:
        """``phx_join`` (join_ref = ref); return the join_ref and the reply's ``{"status", "response"}``."""
        ref = self.next_ref()
        await self.send_frame(ref, ref, topic, "phx_join", payload or {})
        return ref, (await self.reply(ref))[4]

    async def leave(self, join_ref: str, topic: str) -> dict:
        return await self.call(join_ref, topic, "phx_leave", {})

    async def close(self, code: int = 1000) -> int:
        """Start the close handshake, read until the server's close (or EOF); return its code."""
        if self.closed:
            return 1006
        try:
            await self.stream.send_all(self.ws.send(CloseConnection(code=code)))
            while True:
                event = await self._next_event()
                if isinstance(event, CloseConnection):
                    return event.code
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return 1006
        finally:
            self.closed = True
            await trio.aclose_forcefully(self.stream)

    async def aclose(self) -> None:
        """Drop the TCP connection without a close handshake."""
        self.closed = True
        await trio.aclose_forcefully(self.stream)


async def http_get(host: str, port: int, target: str) -> tuple[int, str]:
    """One ``GET`` (``Connection: close``); the status and the body."""
    conn = h11.Connection(h11.CLIENT)
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        request = h11.Request(method="GET", target=target, headers=[("host", f"{host}:{port}"), ("connection", "close")])
        await stream.send_all(conn.send(request) + conn.send(h11.EndOfMessage()))
        status, body = 0, []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return status, b"".join(body).decode()
