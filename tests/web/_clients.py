"""Test clients over real loopback sockets: HTTP/1.1 on h11, WebSocket on wsproto, both on trio."""

from __future__ import annotations

import base64
import socket
from collections import deque

import attrs
import h11
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

HOST = "127.0.0.1"


@attrs.frozen
class HTTPResponse:
    status: int
    headers: dict
    body: bytes


@attrs.frozen
class Closed:
    """The server closed the WebSocket with ``code`` (1006: no close frame, the TCP stream ended)."""

    code: int
    reason: str | None = None


async def open_stream(port: int, *, receive_buffer: int | None = None) -> trio.SocketStream:
    """A TCP stream to the endpoint; ``receive_buffer`` shrinks SO_RCVBUF before connecting."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    await sock.connect((HOST, port))
    return trio.SocketStream(sock)


async def read_until_eof(stream: trio.abc.ReceiveStream) -> bytes:
    chunks = []
    while True:
        try:
            data = await stream.receive_some(65536)
        except trio.BrokenResourceError:  # reset
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, return everything the server sends until it closes the connection."""
    stream = await open_stream(port)
    async with stream:
        await stream.send_all(data)
        return await read_until_eof(stream)


class HTTPClient:
    """Requests one after the other on a single keep-alive connection."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.conn = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, port: int) -> HTTPClient:
        return cls(await open_stream(port))

    async def request(self, method: str, target: str, *, headers=(), body: bytes = b"") -> HTTPResponse:
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        all_headers = [("host", HOST), ("content-length", str(len(body))), *headers]
        data = self.conn.send(h11.Request(method=method, target=target, headers=all_headers))
        data += self.conn.send(h11.Data(data=body)) if body else b""
        data += self.conn.send(h11.EndOfMessage())
        await self.stream.send_all(data)
        return await self._response()

    async def _response(self) -> HTTPResponse:
        response, chunks = None, []
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await self.stream.receive_some(65536))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                headers = {k.decode(): v.decode() for k, v in response.headers}
                return HTTPResponse(response.status_code, headers, b"".join(chunks))
            else:
                raise AssertionError(f"unexpected {event!r}")

    async def at_eof(self) -> bool:
        """True if the server closed the connection (reads what is left)."""
        return await read_until_eof(self.stream) == b""

    async def aclose(self) -> None:
        await self.stream.aclose()


class WSClient:
    """A WebSocket client: connect (or be refused), send, receive whole messages, close."""

    def __init__(self, stream: trio.SocketStream, ws: WSConnection) -> None:
        self.stream = stream
        self.ws = ws
        self.events: deque = deque()
        self.subprotocol: str | None = None
        self._message: list = []

    @classmethod
    async def connect(
        cls,
        port: int,
        path: str = "/socket/websocket",
        *,
        headers=(),
        subprotocols=(),
        receive_buffer: int | None = None,
    ) -> WSClient | HTTPResponse:
        """The open client, or the server's refusal as an :class:`HTTPResponse`."""
        stream = await open_stream(port, receive_buffer=receive_buffer)
        client = cls(stream, WSConnection(ConnectionType.CLIENT))
        request = Request(host=f"{HOST}:{port}", target=path, extra_headers=list(headers), subprotocols=list(subprotocols))
        await stream.send_all(client.ws.send(request))
        return await client._handshake()

    async def _handshake(self) -> WSClient | HTTPResponse:
        rejection, body = None, []
        while True:
            event = await self._next_event()
            if isinstance(event, AcceptConnection):
                self.subprotocol = event.subprotocol
                return self
            if isinstance(event, RejectConnection):
                rejection = event
                if not event.has_body:
                    break
            elif isinstance(event, RejectData):
                body.append(event.data)
                if event.body_finished:
                    break
        await self.stream.aclose()
        headers = {k.decode(): v.decode() for k, v in rejection.headers}
        return HTTPResponse(rejection.status_code, headers, b"".join(body))

    async def _next_event(self) -> object:
        while not self.events:
            self.events.extend(self.ws.events())
            if self.events:
                break
            try:
                data = await self.stream.receive_some(65536)
            except trio.BrokenResourceError:
                data = b""
            self.ws.receive_data(data or None)
        return self.events.popleft()

    async def send_text(self, text: str) -> None:
        await self.stream.send_all(self.ws.send(TextMessage(data=text)))

    async def send_binary(self, data: bytes) -> None:
        await self.stream.send_all(self.ws.send(BytesMessage(data=data)))

    async def ping(self, payload: bytes) -> None:
        await self.stream.send_all(self.ws.send(Ping(payload=payload)))

    async def receive(self) -> str | bytes | Closed | object:
        """The next whole message, a :class:`Closed` (the close handshake is answered), or a Pong."""
        while True:
            event = await self._next_event()
            if isinstance(event, CloseConnection):
                return await self._closed(event)
            if not isinstance(event, (TextMessage, BytesMessage)):
                return event
            self._message.append(event.data)
            if event.message_finished:
                message = ("" if isinstance(event.data, str) else b"").join(self._message)
                self._message = []
                return message

    async def _closed(self, event: CloseConnection) -> Closed:
        if self.ws.state.name == "REMOTE_CLOSING":
            try:
                await self.stream.send_all(self.ws.send(event.response()))
            except trio.BrokenResourceError:
                pass
        await self.stream.aclose()
        return Closed(event.code, event.reason or None)

    async def close(self, code: int = 1000) -> Closed:
        """Close with ``code``; return the server's answer."""
        await self.stream.send_all(self.ws.send(CloseConnection(code=code)))
        while True:
            event = await self._next_event()
            if isinstance(event, CloseConnection):
                await self.stream.aclose()
                return Closed(event.code, event.reason or None)


def auth_token_protocol(token: str) -> str:
    """The subprotocol phoenix.js offers for ``authToken``: ``btoa(token)`` without ``=`` padding."""
    return "base64url.bearer.phx." + base64.b64encode(token.encode()).decode().rstrip("=")
