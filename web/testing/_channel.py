"""The channel test client: sockets and channels without a network (Phoenix.ChannelTest in Python).

Inside an otp test (the pytest plugin runs each async test in a node)::

    from web.testing import connect

    async def test_ping_replies_with_the_payload():
        await PubSub.start_link("test_pubsub")
        client = await connect(UserSocket, {"user": "alice"}, pubsub="test_pubsub")
        assert await client.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})
        ref = client.push("room:lobby", "ping", {"n": 1})
        await client.assert_reply(ref, "ok", {"n": 1})

The client plays the official JS client's part frame for frame: every push
goes through the real serializer and the real socket protocol
(:class:`web.socket.SocketState`) in a connection process of its own; every
frame the server writes comes back to the test process and is decoded for
the asserts. Frames are kept in order; ``assert_*`` take the oldest frame
that matches (topic, event *and* payload, where ``ANY`` matches anything, as
Phoenix.ChannelTest's patterns do) and leave the others for later asserts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from types import EllipsisType
from typing import Any

import orjson

import otp
import otp.lowlevel
from otp import Destination, Pid, ReceiveTimeout, receive, send, spawn_link

from web.socket import ClientFrame, Socket, SocketState, TransportClosed

__all__ = ["connect", "ClientSocket", "TestTransport", "ANY"]


class _Any:
    def __eq__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()
"""Matches any value in an ``assert_*`` (e.g. a ``phx_ref``)."""


class _Frame:
    __slots__ = ("client", "data")

    def __init__(self, client: int, data: str | bytes) -> None:
        self.client, self.data = client, data


class _Closed:
    __slots__ = ("client", "code")

    def __init__(self, client: int, code: int) -> None:
        self.client, self.code = client, code


_clients = itertools.count(1)


class TestTransport:
    """A transport whose frames go to the test process as messages."""

    __test__ = False  # not a pytest test class

    def __init__(self, owner: Pid, client: int) -> None:
        self.owner, self.client = owner, client
        self.connection: Pid | None = None  # the connection process, once started
        self.closed: int | None = None

    def send(self, frame: str | bytes) -> None:
        if self.closed is None:
            send(self.owner, _Frame(self.client, frame))

    def close(self, code: int) -> None:
        if self.closed is None:
            self.closed = code
            send(self.owner, _Closed(self.client, code))
            if self.connection is not None:
                send(self.connection, TransportClosed())


async def _connection(
    socket: Socket, assigns: dict, transport: TestTransport, pubsub: str, channel_supervisor: Destination | None
) -> None:
    await SocketState(socket, assigns, transport, pubsub=pubsub, channel_supervisor=channel_supervisor).serve()


async def connect(
    socket_cls: type[Socket],
    params: Mapping[str, Any] | None = None,
    connect_info: Mapping[str, Any] | None = None,
    *,
    pubsub: str,
    channel_supervisor: Destination | None = None,
) -> ClientSocket | None:
    """Connect like a client would; return a :class:`ClientSocket`, or None if ``connect`` refused.

    ``channel_supervisor``: start channels under this DynamicSupervisor, as an endpoint would.
    """
    socket = socket_cls()
    assigns = await socket.connect(dict(params or {}), dict(connect_info or {}))
    if assigns is None:
        return None
    transport = TestTransport(otp.current_pid(), next(_clients))
    transport.connection = spawn_link(_connection, socket, assigns, transport, pubsub, channel_supervisor)
    return ClientSocket(transport, socket.id(assigns))


class ClientSocket:
    """The client side of one test connection."""

    def __init__(self, transport: TestTransport, socket_id: str | None) -> None:
        self.transport = transport
        self.id = socket_id
        self._refs = itertools.count(1)
        self.join_refs: dict[str, str] = {}

    # ------------------------------------------------------------ sending

    def send_raw(self, frame: str | bytes) -> None:
        """Send a frame as is (to test malformed input)."""
        send(self._connection(), ClientFrame(frame))

    def push(
        self, topic: str, event: str, payload: dict[str, Any] | None = None, *, join_ref: str | None | EllipsisType = ...
    ) -> str:
        """Push ``event`` on ``topic``; return its ref. ``join_ref`` defaults to the current membership's."""
        ref = str(next(self._refs))
        if join_ref is ...:
            join_ref = self.join_refs.get(topic)
        self.send_raw(orjson.dumps([join_ref, ref, topic, event, {} if payload is None else payload]).decode())
        return ref

    async def join(
        self, topic: str, payload: dict[str, Any] | None = None, *, timeout: float = 1.0
    ) -> tuple[str, dict[str, Any]]:
        """Join ``topic``; return the reply's ``(status, response)``."""
        ref = str(next(self._refs))
        self.join_refs[topic] = ref
        self.send_raw(orjson.dumps([ref, ref, topic, "phx_join", {} if payload is None else payload]).decode())
        reply = await self.assert_reply(ref, timeout=timeout)
        return reply["status"], reply["response"]

    async def leave(self, topic: str, *, timeout: float = 1.0) -> dict[str, Any]:
        """Leave ``topic``; return the reply (``phx_close`` follows it)."""
        ref = self.push(topic, "phx_leave", {})
        return await self.assert_reply(ref, timeout=timeout)

    def push_binary(self, topic: str, event: str, payload: bytes, *, join_ref: str | None | EllipsisType = ...) -> str:
        """Push ``event`` with a binary payload (e.g. an upload ``chunk``); return its ref.

        The frame is a kind 0 push (docs/protocol/channels.md, "Binary frames").
        """
        ref = str(next(self._refs))
        if join_ref is ...:
            join_ref = self.join_refs.get(topic)
        fields = [(field or "").encode("utf-8") for field in (join_ref, ref, topic, event)]
        self.send_raw(bytes([0, *map(len, fields)]) + b"".join(fields) + payload)
        return ref

    def heartbeat(self) -> str:
        ref = str(next(self._refs))
        self.send_raw(orjson.dumps([None, ref, "phoenix", "heartbeat", {}]).decode())
        return ref

    async def close(self) -> None:
        """Close the connection, as a client going away would."""
        send(self._connection(), TransportClosed())

    def _connection(self) -> Pid:
        assert self.transport.connection is not None  # (connect() starts it before it returns this client)
        return self.transport.connection

    # ------------------------------------------------------------ asserting

    async def next_frame(self, *, timeout: float = 1.0) -> list[Any] | bytes:
        """The next frame the server wrote to this client, decoded."""
        return await self._take(lambda frame: True, "any frame", timeout)

    async def assert_reply(
        self, ref: str, status: object = ANY, response: object = ANY, *, timeout: float = 1.0
    ) -> dict[str, Any]:
        """Wait for the reply to ``ref``; check its status and response; return ``{status, response}``."""

        def match(frame) -> bool:
            return isinstance(frame, list) and frame[1] == ref and frame[3] == "phx_reply"

        frame = await self._take(match, f"a reply to ref {ref!r}", timeout)
        body = frame[4]
        assert (body["status"], body["response"]) == (status, response), f"reply to {ref!r} was {frame!r}"
        return body

    async def assert_push(self, topic: str, event: str, payload: object = ANY, *, timeout: float = 1.0) -> list[Any]:
        """Wait for a push (join_ref set) of ``event`` on ``topic``; return the frame."""
        return await self._take(
            lambda f: isinstance(f, list) and f[0] is not None and f[2] == topic and f[3] == event and f[4] == payload,
            f"a push of {event!r} on {topic!r} with {payload!r}", timeout,
        )

    async def assert_broadcast(
        self, topic: str, event: str, payload: object = ANY, *, timeout: float = 1.0
    ) -> list[Any]:
        """Wait for a broadcast (join_ref and ref null) of ``event`` on ``topic``; return the frame."""
        return await self._take(
            lambda f: isinstance(f, list) and f[0] is None and f[1] is None and f[2] == topic and f[3] == event
            and f[4] == payload,
            f"a broadcast of {event!r} on {topic!r} with {payload!r}", timeout,
        )

    async def assert_closed(self, *, timeout: float = 1.0) -> int:
        """Wait until the server closed the connection; return the close code."""
        client = self.transport.client
        try:
            closed = await receive(lambda m: m.__class__ is _Closed and m.client == client, timeout=timeout)
        except ReceiveTimeout:
            raise AssertionError(f"the connection was not closed within {timeout} s") from None
        return closed.code

    async def refute_frame(self, *, timeout: float = 0.05) -> None:
        """Assert that no frame arrives within ``timeout``."""
        client = self.transport.client
        try:
            frame = await receive(lambda m: m.__class__ is _Frame and m.client == client, timeout=timeout)
        except ReceiveTimeout:
            return
        raise AssertionError(f"expected no frame, got {_decode(frame.data)!r}")

    async def receive_frame(
        self, match: Callable[[Any], bool], *, timeout: float
    ) -> list[Any] | bytes | None:
        """The oldest frame (decoded) for which ``match(frame)`` holds, or None after ``timeout``.

        A selective receive: frames that do not match stay queued, in order,
        for later asserts. ``timeout=0`` only looks at what already arrived.
        This is the step the ``assert_*`` here, and the LiveView helpers,
        are built from.
        """
        client = self.transport.client

        def is_wanted(m: object) -> bool:
            return m.__class__ is _Frame and m.client == client and match(_decode(m.data))

        try:
            frame = await receive(is_wanted, timeout=timeout)
        except ReceiveTimeout:
            return None
        return _decode(frame.data)

    async def _take(self, match: Callable[[Any], bool], wanted: str, timeout: float) -> Any:
        frame = await self.receive_frame(match, timeout=timeout)
        if frame is None:
            client = self.transport.client
            pending = [_decode(m.data) for m in otp.lowlevel.queued_messages() if m.__class__ is _Frame and m.client == client]
            raise AssertionError(f"no {wanted} within {timeout} s; frames waiting: {pending!r}")
        return frame


def _decode(data: str | bytes) -> list[Any] | bytes:
    return orjson.loads(data) if isinstance(data, str) else data
