"""The abuse benchmark's raw wire: WebSocket frames and HTTP requests written byte by byte.

The attacks of :mod:`benchmarks.web.abuse` send what no well-behaved client
sends: a message that never ends, pings nobody reads, a request head one
byte at a time, two framings of one body. wsproto and h11 refuse to write
such things (that is their job), so the attacking side builds its bytes
here; only the watching side (fresh and existing clients, see
``abuse_watch.py``) speaks through wsproto and h11.

Every attacking connection comes from :data:`ATTACKER_ADDRESS`
(127.0.0.2; the whole of 127.0.0.0/8 is loopback), the watchers from
127.0.0.1: a defence keyed by the peer's address (a failed-join budget, a
per-address connection cap) then tells the attacker from everybody else,
as it would on a network. Where that address cannot be bound, attackers
share 127.0.0.1 (:func:`attacker_address` says which).

Client frames are masked with the all-zero key. RFC 6455 requires a mask on
every client frame but leaves its value to the client, and a zero key makes
the payload its own masked form: building a million frames costs a
``bytes`` concatenation each, so the load generator is not the bottleneck.

>>> ws_frame(OP_TEXT, b"hi")
b'\\x81\\x82\\x00\\x00\\x00\\x00hi'
>>> ws_frame(OP_TEXT, b"h", fin=False)[:1], ws_frame(OP_CONTINUATION, b"i")[:1]
(b'\\x01', b'\\x80')
>>> len(ws_frame(OP_BINARY, bytes(70_000)))  # 2 + 8 (64-bit length) + 4 (mask) + payload
70014
>>> frames = ServerFrames()
>>> frames.feed(b"\\x81\\x02hi\\x88\\x02\\x03")  # a text frame and half a close frame
[(1, b'hi')]
>>> frames.feed(b"\\xef"), close_code(b"\\x03\\xef")
([(8, b'\\x03\\xef')], 1007)
>>> statuses(b"HTTP/1.1 400 Bad Request\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\n")
[400, 200]
"""

from __future__ import annotations

import base64
import socket
import struct

import orjson
import trio
from wsproto.events import AcceptConnection, RejectConnection, Request

from .._harness.servers import HOST
from .._harness.web_client import PhxClient, Refused

__all__ = [
    "OP_CONTINUATION",
    "OP_TEXT",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "ws_frame",
    "phx_frame",
    "upgrade_request",
    "ATTACKER_ADDRESS",
    "attacker_address",
    "open_stream",
    "open_websocket",
    "open_phx",
    "UpgradeRefused",
    "exchange",
    "receive_until_closed",
    "statuses",
    "reset",
    "ServerFrames",
    "close_code",
]

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING = 0x0, 0x1, 0x2, 0x8, 0x9

ATTACKER_ADDRESS = "127.0.0.2"
_ZERO_MASK = b"\0\0\0\0"
_HEAD_LIMIT = 65536  # bytes of a response head the attacker is willing to read
RECEIVE_SIZE = 65536


class UpgradeRefused(Exception):
    """The server answered an upgrade request with something other than 101 (the head, as bytes)."""


# ---------------------------------------------------------------- frames and requests (pure)


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One masked client frame (zero mask key: the payload goes out as it is)."""
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", first, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, size)
    return head + _ZERO_MASK + payload


def phx_frame(join_ref: object, ref: object, topic: object, event: object, payload: object) -> bytes:
    """A Phoenix V2 text frame ``[join_ref, ref, topic, event, payload]``; the fields may be of any JSON type."""
    return ws_frame(OP_TEXT, orjson.dumps([join_ref, ref, topic, event, payload]))


def upgrade_request(
    port: int,
    target: str,
    *,
    key: str | None = None,
    version: str = "13",
    http: str = "1.1",
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A WebSocket upgrade request; every part can be made wrong on purpose."""
    key = base64.b64encode(b"abuse-benchmark!").decode() if key is None else key
    lines = [
        f"GET {target} HTTP/{http}",
        f"Host: {HOST}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Version: {version}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def statuses(data: bytes) -> list[int]:
    """The status code of every response head in ``data``, in order."""
    found = []
    for line in data.split(b"\r\n"):
        if line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")) and line[9:12].isdigit():
            found.append(int(line[9:12]))
    return found


class ServerFrames:
    """Splits what a server sends on a raw WebSocket into frames; the server's frames are never masked."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """``(opcode, payload)`` of every frame completed by ``data``, in order; the rest waits for more."""
        self._buffer += data
        frames = []
        while (frame := self._take()) is not None:
            frames.append(frame)
        return frames

    def _take(self) -> tuple[int, bytes] | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        size, start = buffer[1] & 0x7F, 2
        if size == 126:
            size, start = (struct.unpack_from("!H", buffer, 2)[0], 4) if len(buffer) >= 4 else (None, 0)
        elif size == 127:
            size, start = (struct.unpack_from("!Q", buffer, 2)[0], 10) if len(buffer) >= 10 else (None, 0)
        if size is None or len(buffer) < start + size:
            return None
        frame = (buffer[0] & 0x0F, bytes(buffer[start : start + size]))
        del buffer[: start + size]
        return frame


def close_code(payload: bytes) -> int:
    """The code of a close frame's payload (1005, "no code", when it carries none)."""
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005


# ---------------------------------------------------------------- streams


def attacker_address() -> str:
    """:data:`ATTACKER_ADDRESS` if this machine lets a socket bind it, else the watchers' own 127.0.0.1."""
    global _attacker_address
    if _attacker_address is None:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            probe.bind((ATTACKER_ADDRESS, 0))
            _attacker_address = ATTACKER_ADDRESS
        except OSError:
            _attacker_address = HOST
        finally:
            probe.close()
    return _attacker_address


_attacker_address: str | None = None


async def open_stream(port: int, *, receive_buffer: int | None = None) -> trio.SocketStream:
    """A TCP connection from the attacker's address; ``receive_buffer`` shrinks SO_RCVBUF first (a slow reader)."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        await sock.bind((attacker_address(), 0))
        await sock.connect((HOST, port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


async def open_websocket(port: int, target: str, *, receive_buffer: int | None = None) -> trio.SocketStream:
    """A raw TCP stream upgraded to a WebSocket on ``target``; frames are then ours to write.

    Raises:
        UpgradeRefused: the server did not answer 101.
    """
    stream = await open_stream(port, receive_buffer=receive_buffer)
    try:
        await stream.send_all(upgrade_request(port, target))
        head = await _read_head(stream)
        if statuses(head)[:1] != [101]:
            raise UpgradeRefused(head[:200])
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


async def open_phx(port: int, target: str) -> PhxClient:
    """A :class:`PhxClient` upgraded on ``target``, from the attacker's address.

    Raises:
        Refused: the server refused the upgrade.
    """
    stream = await open_stream(port)
    client = PhxClient(stream)
    try:
        await stream.send_all(client.ws.send(Request(host=f"{HOST}:{port}", target=target)))
        while True:
            data = await stream.receive_some(RECEIVE_SIZE)
            client.ws.receive_data(data or None)
            for event in client.ws.events():  # the server sends nothing more before our first frame
                if isinstance(event, AcceptConnection):
                    return client
                if isinstance(event, RejectConnection):
                    raise Refused(f"upgrade refused: HTTP {event.status_code}")
            if not data:
                raise Refused("the connection closed before the upgrade was answered")
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise


async def _read_head(stream: trio.SocketStream) -> bytes:
    # The server writes nothing after the 101 head until we send a frame,
    # so reading up to the blank line reads exactly the head.
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _HEAD_LIMIT:
        chunk = await stream.receive_some(RECEIVE_SIZE)
        if not chunk:
            break
        data += chunk
    return data


async def receive_until_closed(stream: trio.SocketStream, limit: float, enough=None) -> tuple[bytes, bool]:
    """What the server sends within ``limit`` seconds (or until ``enough(data)``); and whether it closed by then."""
    chunks = []
    with trio.move_on_after(limit):
        while enough is None or not enough(b"".join(chunks)):
            try:
                chunk = await stream.receive_some(RECEIVE_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return b"".join(chunks), True
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)
    return b"".join(chunks), False


async def exchange(port: int, data: bytes, limit: float) -> tuple[bytes, bool]:
    """Send ``data`` on a new connection; what came back within ``limit`` s, and whether the server closed.

    An upgrade answered 101 is not waited on: the connection stays open for
    WebSocket frames, so its head is the whole answer.
    """
    stream = await open_stream(port)
    try:
        try:
            await stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # closed before it all went out: what it answered is still to be read
        return await receive_until_closed(stream, limit, enough=_switched_protocols)
    finally:
        await trio.aclose_forcefully(stream)


def _switched_protocols(data: bytes) -> bool:
    return b"\r\n\r\n" in data and statuses(data)[:1] == [101]


async def reset(stream: trio.SocketStream) -> None:
    """Drop ``stream`` with a TCP reset (SO_LINGER 0): the server's next write or read fails at once."""
    try:
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    await trio.aclose_forcefully(stream)
