"""The web benchmarks' baseline: a Phoenix V2 chat server in bare trio + h11 + wsproto.

::

    python -m benchmarks.web.raw_server      # prints "listening on http://127.0.0.1:PORT"

What one would write without this project's Endpoint, sockets, channels
and processes: ``trio.serve_listeners``, h11 for the upgrade, a wsproto
``Connection`` per socket, a reader task and a writer task with an outbox
per socket, a dict of topic → sockets. It answers what the load generator
sends with frames of the same shape as ours:

* ``phx_join`` → ``{"room", "user"}``; ``phx_leave`` → ``{}``, then ``phx_close``;
* ``ping`` → its own payload (also the echo of the LiveView benchmark L1);
* ``heartbeat`` on ``phoenix`` → ``{}``;
* ``shout`` → the ``shout`` broadcast frame, JSON-encoded once and written
  to every socket of the topic (the fastlane, as ours does).

Anything else gets an ``error`` reply. ``load.server("raw")`` starts it in
an OS process of its own.
"""

from __future__ import annotations

from functools import partial

import h11
import orjson
import trio
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage
from wsproto.utilities import generate_accept_token

from .._harness.servers import HOST, announce, raise_fd_limit

__all__ = ["serve"]

dumps = orjson.dumps


class _RawSocket:
    """One WebSocket of the bare server: its wsproto connection, its outbox, its user, its topics."""

    __slots__ = ("ws", "frames", "wakeup", "user", "topics", "open")

    def __init__(self, ws, user: str) -> None:
        self.ws, self.user = ws, user
        self.frames: list[bytes] = []
        self.wakeup = trio.Event()
        self.topics: dict[str, str] = {}  # topic -> join_ref
        self.open = True

    def send_text(self, text: str) -> None:
        if self.open:
            self.frames.append(self.ws.send(TextMessage(data=text)))
            self.wakeup.set()


class _Topics:
    """The sockets joined to each topic; handles one client frame at a time."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[_RawSocket]] = {}

    def handle(self, sock: _RawSocket, text: str) -> None:
        join_ref, ref, topic, event, payload = orjson.loads(text)
        if event == "ping":
            _reply(sock, join_ref, ref, topic, "ok", payload)
        elif event == "shout":
            frame = dumps([None, None, topic, "shout", {"body": payload.get("body"), "user": sock.user}]).decode()
            for other in self.subscribers.get(topic, ()):
                other.send_text(frame)
        elif event == "phx_join":
            sock.topics[topic] = join_ref
            self.subscribers.setdefault(topic, set()).add(sock)
            _reply(sock, join_ref, ref, topic, "ok", {"room": topic.partition(":")[2], "user": sock.user})
        elif event == "phx_leave":
            _reply(sock, join_ref, ref, topic, "ok", {})
            if sock.topics.pop(topic, None) is not None:
                self.unsubscribe(sock, topic)
                sock.send_text(dumps([join_ref, join_ref, topic, "phx_close", {}]).decode())
        elif topic == "phoenix" and event == "heartbeat":
            _reply(sock, None, ref, topic, "ok", {})
        else:
            _reply(sock, join_ref, ref, topic, "error", {"reason": "unknown event"})

    def unsubscribe(self, sock: _RawSocket, topic: str) -> None:
        members = self.subscribers.get(topic)
        if members is not None:
            members.discard(sock)
            if not members:
                del self.subscribers[topic]


def _reply(sock: _RawSocket, join_ref, ref, topic, status: str, response) -> None:
    sock.send_text(dumps([join_ref, ref, topic, "phx_reply", {"status": status, "response": response}]).decode())


async def _writer(stream, sock: _RawSocket) -> None:
    while sock.open or sock.frames:
        if not sock.frames:
            sock.wakeup = trio.Event()
            await sock.wakeup.wait()
            continue
        data = b"".join(sock.frames)
        sock.frames.clear()
        await stream.send_all(data)


_NOT_UPGRADED = (None, None, None, None)


async def _upgrade(stream: trio.SocketStream) -> tuple:
    """Read the HTTP request and accept the WebSocket upgrade (no checks: a benchmark's client).

    Returns the socket and the upgrade's h11 state, ``(sock, conn, headers,
    query)`` (see :func:`_connection`); all None if the client went away.
    """
    conn = h11.Connection(h11.SERVER)
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(65536)
            if not data:
                return _NOT_UPGRADED
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            break
        else:
            return _NOT_UPGRADED
    headers = {k.decode().lower(): v.decode() for k, v in event.headers}
    query = dict(part.split("=", 1) for part in event.target.decode().partition("?")[2].split("&") if "=" in part)
    accept = generate_accept_token(headers.get("sec-websocket-key", "").encode()).decode()
    response = h11.InformationalResponse(
        status_code=101,
        headers=[("upgrade", "websocket"), ("connection", "Upgrade"), ("sec-websocket-accept", accept)],
    )
    await stream.send_all(conn.send(response))
    ws = Connection(ConnectionType.SERVER, trailing_data=conn.trailing_data[0])
    return _RawSocket(ws, query.get("user", "")), conn, headers, query


async def _read(stream, sock: _RawSocket, topics: _Topics) -> None:
    """Hand each whole text message to ``topics``; answer pings and the close."""
    ws, parts = sock.ws, []
    while sock.open:
        for event in ws.events():
            if event.__class__ is TextMessage:
                parts.append(event.data)
                if event.message_finished:
                    topics.handle(sock, "".join(parts))
                    parts.clear()
            elif isinstance(event, CloseConnection):
                if ws.state.name == "REMOTE_CLOSING":
                    sock.frames.append(ws.send(event.response()))
                sock.open = False
                sock.wakeup.set()
                break
            elif isinstance(event, Ping):
                sock.frames.append(ws.send(event.response()))
                sock.wakeup.set()
        else:
            data = await stream.receive_some(65536)
            ws.receive_data(data or None)


async def _connection(stream: trio.SocketStream, topics: _Topics) -> None:
    async with stream:
        try:
            # XX: the upgrade's h11 state (connection, headers, query) stays
            # referenced, in this frame, for the socket's life, as it did when
            # this server was one function in web_load.py: the C1 baseline
            # figures were taken so. Dropping it saves about 2.5 KB per socket
            # (C1 raw: ~15.0 -> ~12.5 KB/conn); do that as a change of the
            # baseline, on its own.
            sock, _conn, _headers, _query = await _upgrade(stream)
            if sock is None:
                return
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_writer, stream, sock)
                try:
                    await _read(stream, sock, topics)
                finally:
                    sock.open = False
                    sock.wakeup.set()
                    for topic in sock.topics:
                        topics.unsubscribe(sock, topic)
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.RemoteProtocolError):
            pass


async def serve() -> None:
    """Listen on a free port of :data:`HOST`, announce it, serve until cancelled."""
    topics = _Topics()
    listeners = await trio.open_tcp_listeners(0, host=HOST)
    announce(HOST, listeners[0].socket.getsockname()[1])
    await trio.serve_listeners(partial(_connection, topics=topics), listeners)


if __name__ == "__main__":
    raise_fd_limit()
    try:
        trio.run(serve)
    except KeyboardInterrupt:
        pass
