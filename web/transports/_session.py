"""An open WebSocket: one task that reads, writes what waits and takes the process's mail; the sender.

Runs inside the connection process once the upgrade succeeded (see
:mod:`web.transports.websocket` for the manual). The process's own task
does everything, so an idle socket costs one parked task and nothing else:

* it **reads** from the socket with the idle deadline, feeds wsproto and
  calls the handler, one message at a time;
* it **takes the messages** sent to the process, for a handler that wants
  them (``on_info``): a message wakes it from its read (the kernel calls
  back, see ``otp.lowlevel.set_mail_callback``, and the read is cancelled,
  which loses no byte), it hands each queued message to the handler, then
  reads on. So one task serves both the client and the process's mail, as
  a Phoenix socket's process does: the channel protocol runs here, with no
  process of its own (see :mod:`web.transports.phoenix`);
* it **writes what the socket could not take** at once (see below),
  reading nothing meanwhile: a peer that does not read is not read either,
  until it does.

Any process may write through the :class:`Sender` (sync, never blocks):
frames are encoded at once and written straight to the socket, in the
sender's own task, as far as the socket takes them without waiting (almost
always all of it: no task switch, no copy). What it does not take is kept
in the outbox, whole frames in order behind it, and the reader is woken to
write it as the socket drains, so the peer only ever sees complete frames
in order. The outbox holds at most ``max_outbound_bytes``, and every byte
for the peer counts: data frames, the pongs answering its pings, and the
close frame (which alone may use :data:`CLOSE_RESERVE` bytes more, so the
closing handshake can always start). One more frame and the peer is
declared too slow: the queue is dropped, a warning logged,
``outbound_overflows`` counted, the telemetry event ``("web", "websocket",
"shed")`` emitted, and the TCP connection reset. No close frame: it would
have to wait behind the data the peer is not reading.

What a peer costs us, whatever it sends
---------------------------------------
* A message arriving in fragments is gathered in one ``bytearray`` (text as
  UTF-8), so holding it costs what its bytes cost, however small the
  fragments: a list of a million one-byte ``bytes`` would cost fifty times
  more. It may not grow past ``max_message_size`` (1009), and must be
  finished within ``message_timeout`` seconds of its first fragment (1008),
  or a peer could hold a part of one forever by trickling a byte at a time.
* A compressed message (permessage-deflate) is inflated by the codec of
  ``web.transports._deflate`` never more than one byte past what is left of
  ``max_message_size``: a zip bomb costs that much, then 1009.
* wsproto itself keeps no more than one read (:data:`RECEIVE_SIZE`) plus an
  unfinished frame header or control frame (at most 139 bytes): the payload
  of a data frame is handed over as it arrives, even when its header
  announces gigabytes.
* One read of tiny frames (pings, fragments, messages of a few bytes) is
  thousands of events; the reader lets other tasks run every
  :data:`EVENTS_PER_TURN` of them, so a few such peers share the CPU with
  everyone else instead of taking it in 50 ms slices.
* A peer that does not read is not read either once frames wait for it:
  what it sends stays in TCP (its writes block) and costs us nothing, the
  frames waiting for it at most ``max_outbound_bytes``, and it is closed
  ``idle_timeout`` s after the last bytes read.
* A closed connection is freed by reference counting at once, not by the
  next full garbage collection: nothing here refers back to the session (the
  :class:`Sender` points to the session, the session not to it; a
  handler's exception is dropped once raised).

Bytes and frames are counted per connection (an integer addition per read,
write or message; the totals go with ``("web", "websocket", "close")``) and
per endpoint (``bytes_in``, ``bytes_out`` in ``Endpoint.statistics``).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import struct
from collections import deque
from typing import TYPE_CHECKING

import trio
from wsproto.connection import Connection, ConnectionState
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage

from otp import WouldBlock, receive_nowait, telemetry
from otp.lowlevel import release_mailbox, set_mail_callback

from .._limits import ConnectionContext
from .._telemetry import WEBSOCKET_SHED

if TYPE_CHECKING:
    from .websocket import SocketHandler, WebSocket

__all__ = ["Sender", "Session"]

logger = logging.getLogger("web.transports")

NORMAL_CLOSURE = 1000
GOING_AWAY = 1001
ABNORMAL_CLOSURE = 1006
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
INTERNAL_ERROR = 1011
SERVICE_RESTART = 1012

RECEIVE_SIZE = 65536
EVENTS_PER_TURN = 16  # frames (or parts of frames) handled before letting other tasks run
#: Bytes a close frame may queue past ``max_outbound_bytes``: the largest one
#: we send (a 2-byte header and a payload of at most 125 bytes, RFC 6455 §5.5).
CLOSE_RESERVE = 127
_SHUTDOWN_GRACE = 0.1  # seconds a killed connection spends trying to say 1012


class Sender:
    """Writes to one WebSocket; usable from any process of the node. Every method is sync.

    Sends after the connection started closing are dropped (and return
    False), as a send to a dead process is.
    """

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def send_text(self, text: str) -> bool:
        """Queue a text frame; False if the connection is closing or closed."""
        return self._session.send(TextMessage(data=text))

    def send_binary(self, data: bytes) -> bool:
        """Queue a binary frame; False if the connection is closing or closed."""
        return self._session.send(BytesMessage(data=bytes(data)))

    def send(self, frame: str | bytes) -> bool:
        """Queue ``frame``: a text frame for a ``str``, a binary one for ``bytes``.

        So a sender is a transport of :mod:`web.socket` as it is, with no
        object in between.
        """
        return self.send_text(frame) if frame.__class__ is str else self.send_binary(frame)  # type: ignore[arg-type]

    def close(self, code: int = GOING_AWAY, reason: str = "") -> None:
        """Start the closing handshake with ``code`` (after the frames already queued).

        The default is 1001, not 1000: phoenix.js ≤ 1.8.12 never reconnects
        after a 1000 and LiveView reloads the page (docs/protocol/channels.md, "Close codes").
        """
        self._session.close(code, reason)

    @property
    def closed(self) -> bool:
        """True once the connection is closing or closed: sends are dropped."""
        return self._session.closing

    def __repr__(self) -> str:
        return f"<web.Sender peer={self._session.peer} closed={self.closed}>"


class _Outbox:
    """Encoded frames the socket did not take at once, in one ``bytearray``, within the peer's limits.

    One growing ``bytearray``, not a queue of ``bytes`` frames: thousands of
    small frames would each be a small object, and freed small objects leave
    the allocator's arenas fragmented, so the memory of a shed peer's 4 MiB
    would not go back to the system. A large buffer is one allocation, which
    the C allocator maps on its own and unmaps when it is dropped. (Taking
    written bytes from its front costs nothing: a ``bytearray`` just moves
    its start.)
    """

    __slots__ = ("limit", "context", "queued", "refused_by")

    def __init__(self, limit: float, context: ConnectionContext) -> None:
        self.limit = limit
        # The endpoint's limits and counters: every byte queued here is also
        # counted in counters.outbound_queued, against limits.max_outbound_total.
        self.context = context
        self.queued = bytearray()  # not written yet, oldest first
        self.refused_by: str | None = None  # the limit the last refused frame would have passed

    @property
    def size(self) -> int:
        """Bytes queued."""
        return len(self.queued)

    def put(self, data: bytes) -> bool:
        """Queue ``data``; False (and nothing queued, ``refused_by`` set) if that would pass a limit.

        The peer's own ``limit``, or the endpoint's ``max_outbound_total``
        once this peer holds more than its share of it.
        """
        size = len(self.queued) + len(data)
        if size > self.limit:
            self.refused_by = "max_outbound_bytes"
            return False
        limits = self.context.limits
        if self.context.counters.outbound_queued + len(data) > limits.max_outbound_total and size > limits.outbound_share:
            self.refused_by = "max_outbound_total"
            return False
        self._append(data)
        return True

    def put_close(self, data: bytes) -> bool:
        """Queue a close frame, which may pass the limit by :data:`CLOSE_RESERVE` bytes.

        A session queues at most one close frame, so the outbox never holds
        more than ``limit + CLOSE_RESERVE`` bytes.
        """
        if len(self.queued) + len(data) > self.limit + CLOSE_RESERVE:
            self.refused_by = "max_outbound_bytes"
            return False
        self._append(data)
        return True

    def _append(self, data: bytes) -> None:
        self.queued += data
        self.context.counters.outbound_queued += len(data)

    def written(self, count: int) -> None:
        """The first ``count`` bytes queued were written."""
        self.context.counters.outbound_queued -= count
        if count == len(self.queued):
            self.queued = bytearray()  # (its memory back at once, not when the next frame comes)
        else:
            del self.queued[:count]

    def drop(self) -> None:
        self.context.counters.outbound_queued -= len(self.queued)
        self.queued = bytearray()


class _EventQueue(list):
    """What wsproto queues of its own events: at most the close it reports when the stream ends.

    A list of none or one (56 bytes) in place of wsproto's deque (760 bytes,
    on every connection): wsproto only appends to it, tests it and takes
    from its left (``popleft``; checked by the tests for wsproto 1.2 and 1.3).
    """

    __slots__ = ()

    def popleft(self) -> object:
        return self.pop(0)


def _shrink_event_queue(ws: Connection) -> None:
    queue = getattr(ws, "_events", None)
    if queue.__class__ is deque and not queue:
        ws._events = _EventQueue()  # type: ignore[assignment]


def _takes_mail(handler: SocketHandler) -> bool:
    """Whether ``handler`` overrides ``on_info``: only then does mail wake the reader."""
    # Told apart by where on_info is defined: importing SocketHandler here would be an
    # import circle (web.transports.websocket imports this module).
    return type(handler).on_info.__qualname__ != "SocketHandler.on_info"


def _utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8, without encoding it when it is ASCII (``isascii`` is O(1))."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


class Session:
    """One open WebSocket in its connection process; :meth:`run` until it is closed."""

    # One lives as long as its connection, on every connection.
    __slots__ = (
        "ws", "stream", "peer", "options", "context", "outbox", "closing", "code", "aborted", "crash",
        "_close_deadline", "_read_scope", "_flushing", "_mid_frame", "_partial", "_partial_is_text",
        "_message_deadline", "_idle_deadline", "_mail", "bytes_in", "bytes_out", "frames_in", "frames_out",
    )

    def __init__(
        self,
        ws: Connection,
        stream: trio.SocketStream,
        peer: tuple,
        options: WebSocket,
        context: ConnectionContext,
    ) -> None:
        self.ws = ws
        _shrink_event_queue(ws)
        self.stream = stream
        self.peer = peer
        self.options = options
        # The endpoint's counters (bytes, overflows, idle timeouts, messages too
        # big) and pid (telemetry metadata), through the one context reference.
        self.context = context
        self.outbox = _Outbox(self.options.max_outbound_bytes, context)
        self.closing = False
        self.code: int | None = None  # the code on_close will get
        self.aborted = False
        self.crash: Exception | None = None
        self._close_deadline = math.inf
        # The reader's wait (a read, or a write of what is queued), while it waits: what wakes it cancels this.
        self._read_scope: trio.CancelScope | None = None
        self._flushing = False  # the reader is writing what is queued: more frames just join the queue
        self._mid_frame = False  # the outbox begins with the rest of a frame: the stream must not end here
        # The message being received in fragments: its bytes (text as UTF-8), or None.
        self._partial: bytearray | None = None
        self._partial_is_text = False
        self._message_deadline = math.inf  # when the message begun in _partial must be finished
        self._idle_deadline = math.inf  # idle_timeout after the last bytes read
        self._mail = False  # a message came for the process: take it before reading on
        self.bytes_in = self.bytes_out = 0  # read from and written to the socket
        self.frames_in = self.frames_out = 0  # messages received and sent (or queued)

    # ------------------------------------------------------------ sender side

    def send(self, event: Message) -> bool:
        if self.closing:
            return False
        if not self._write(self.ws.send(event)):
            return False
        self.frames_out += 1
        return True

    def close(self, code: int, reason: str = "") -> None:
        if self.closing:
            return
        self.closing = True
        self.code = code
        self._partial = None  # a message begun will not be finished: drop it now
        # From now on only the close deadline counts: the peer's close frame may take that long.
        self._idle_deadline = self._message_deadline = math.inf
        if self.ws.state is ConnectionState.OPEN:
            self._queue_close(self.ws.send(CloseConnection(code=code, reason=reason or None)))
        # Wait this long for the peer's close frame, then drop the connection.
        self._close_deadline = trio.current_time() + self.options.close_timeout
        if self._read_scope is not None:
            self._read_scope.deadline = min(self._read_scope.deadline, self._close_deadline)

    def _queue_close(self, frame: bytes) -> None:
        self._write(frame, close=True)

    def _write(self, frame: bytes, *, close: bool = False) -> bool:
        """Write ``frame`` now as far as the socket takes it, unless frames wait before it; queue the rest.

        False if queueing it would pass a limit (the peer is then shed).
        Sync, in whichever task sends: a write that would wait is never made.
        """
        if not self.outbox.queued:
            written = self._write_now(frame)
            if written == len(frame) or self.aborted:
                return True  # (aborted: the peer is gone, and the frame with it)
            self._mid_frame = written > 0
            frame = frame[written:]
        if not (self.outbox.put_close(frame) if close else self.outbox.put(frame)):
            self._overflow()
            return False
        if self._read_scope is not None and not self._flushing:
            self._read_scope.cancel()  # the reader is reading: it must write this first
        return True

    def _write_now(self, data: bytes | bytearray) -> int:
        """Write as much of ``data`` as the socket takes without waiting; how much. A peer gone: abort()."""
        try:
            written = os.write(self.stream.socket.fileno(), data)
        except BlockingIOError:
            return 0
        except OSError:  # reset, or closed (EPIPE): nobody to write to (fileno() is -1 once closed: EBADF)
            self.abort()
            return 0
        self.bytes_out += written
        self.context.counters.bytes_out += written
        return written

    def _overflow(self) -> None:
        self.context.counters.outbound_overflows += 1
        limit = self.outbox.refused_by or "max_outbound_bytes"
        if limit == "max_outbound_bytes":
            why, bound = "its outbound buffer passed", self.options.max_outbound_bytes
        else:
            why, bound = "it held the most when all peers' outbound buffers together passed", self.context.limits.max_outbound_total
        self.context.log.warning(
            "shed", "closing the WebSocket of %s: the peer does not read and %s %s bytes (%s)", self.peer, why, bound, limit, detail=limit
        )
        if telemetry.attached(WEBSOCKET_SHED):
            measurements = {"queued_bytes": self.outbox.size, "max_outbound_bytes": self.options.max_outbound_bytes}
            metadata = {**self.telemetry_metadata(), "limit": limit}
            telemetry.execute(WEBSOCKET_SHED, measurements, metadata)
        self.abort()

    def telemetry_metadata(self) -> dict:
        return {"endpoint": self.context.endpoint, "peer": self.peer, "path": self.options.path}

    def abort(self) -> None:
        """Drop the connection now: no close frame, no more reads or writes (code 1006)."""
        self.closing = self.aborted = True
        self.code = ABNORMAL_CLOSURE
        self._partial = None
        self.outbox.drop()
        if self._read_scope is not None:
            self._read_scope.cancel()

    # ------------------------------------------------------------ the process

    async def run(self, handler: SocketHandler) -> None:
        """Serve until closed; then ``on_close``; re-raise a handler's exception (the process crashes).

        The read loop is written out here, not in a method of its own: this
        frame lives as long as the connection, and a second one would cost a
        quarter of a KB on every connection.
        """
        try:
            await self._open(handler)
            while not self.aborted:
                if self._mail:
                    await self._take_mail(handler)
                    continue  # (aborted meanwhile, or more mail came)
                data = None
                with trio.CancelScope(deadline=min(self._idle_deadline, self._close_deadline, self._message_deadline)) as scope:
                    self._read_scope = scope
                    if self.outbox.queued:
                        await self._flush()
                    elif (data := self._read_now()) is not None:
                        await trio.lowlevel.cancel_shielded_checkpoint()  # bytes were waiting: let others run, keep them
                    else:
                        # Parked here on every idle socket: straight in trio's wait, no frame of ours in between.
                        await trio.lowlevel.wait_readable(self.stream.socket.fileno())
                        data = self._read_now()  # (None if woken with nothing to read after all: read again)
                self._read_scope = None
                if data is not None:
                    if await self._received(data, handler):
                        break  # a close frame, or the stream ended
                elif scope.cancelled_caught and trio.current_time() >= scope.deadline:
                    if self.closing:
                        break  # the peer never answered our close (or read what came before it)
                    self._deadline_passed()
                # else: flushed, or woken (mail, frames to write, abort()): go round
            if not self.aborted:
                with trio.move_on_after(self.options.close_timeout):
                    await self._flush()
        except BaseException:
            # Killed (the endpoint is shutting down): try to say so. 1012 makes
            # phoenix.js and LiveView reconnect (docs/protocol/channels.md, "Close codes").
            await self._say_goodbye()
            raise
        finally:
            # No write once the socket is closed: its descriptor may be another connection's by then.
            self.closing = True
            self.outbox.drop()  # what it did not take goes with it (and leaves the endpoint's count)
            await self._close_socket()
        crash = self._take_crash()
        if crash is not None:
            raise crash
        # The read loop ends only after a close frame, close() or abort(), and each of them sets the code.
        assert self.code is not None
        await handler.on_close(self.code)

    def _take_crash(self) -> Exception | None:
        # Not kept once raised: its traceback holds this session's frames.
        crash, self.crash = self.crash, None
        return crash

    async def _open(self, handler: SocketHandler) -> None:
        # The sender is made here, not kept: it points to the session, and a
        # session pointing back would make a cycle that only a full garbage
        # collection frees.
        await self._callback(handler.on_open, Sender(self))
        if _takes_mail(handler):
            # Held by the process record until the process ends: the
            # session does not point back, so there is no cycle.
            set_mail_callback(self._mail_arrived)
            self._mail = True  # what came before
        self._idle_deadline = trio.current_time() + self.options.idle_timeout

    async def _received(self, data: bytes, handler: SocketHandler) -> bool:
        """Feed what was read to wsproto and act on it; True when the connection is over."""
        if not self.closing:
            self._idle_deadline = trio.current_time() + self.options.idle_timeout
        self.bytes_in += len(data)
        self.context.counters.bytes_in += len(data)
        self.ws.receive_data(data or None)
        return await self._handle_events(handler)

    def _mail_arrived(self) -> None:
        # The kernel calls this in the sender's task: only a flag and a cancel.
        self._mail = True
        if self._read_scope is not None:
            self._read_scope.cancel()

    async def _take_mail(self, handler: SocketHandler) -> None:
        """Hand every message queued for the process to ``on_info``, one at a time."""
        self._mail = False
        while not self.aborted:
            try:
                message = receive_nowait()
            except WouldBlock:
                break
            await self._callback(handler.on_info, message)
        # Mail is rare here (a channel joining or ending): no need to keep the
        # mailbox's 0.6 KB block for the next one, on every socket.
        release_mailbox()

    def _deadline_passed(self) -> None:
        if trio.current_time() >= self._message_deadline:
            self.context.counters.message_timeouts += 1
            self.close(POLICY_VIOLATION, "message not finished in time")
        else:
            self.context.counters.idle_timeouts += 1
            self.close(GOING_AWAY, "idle timeout")

    def _read_now(self) -> bytes | None:
        """What the peer sent, if bytes wait (at most :data:`RECEIVE_SIZE`): ``b""`` at EOF or on a reset; else None.

        Sync: the read loop waits for the socket itself, with trio's
        ``wait_readable``, rather than through ``stream.receive_some``,
        whose layers would stay parked on every idle socket (about 1.3 KB
        of frames and context managers each).
        """
        try:
            return os.read(self.stream.socket.fileno(), RECEIVE_SIZE)
        except BlockingIOError:
            return None
        except OSError:  # a reset (ECONNRESET), or the socket closed under us
            return b""

    async def _handle_events(self, handler: SocketHandler) -> bool:
        """Act on what wsproto parsed; True when the connection is over."""
        handled = 0
        for event in self.ws.events():
            handled += 1
            if handled % EVENTS_PER_TURN == 0:
                # One read of tiny frames is thousands of events; without a
                # checkpoint, a few peers sending them would starve everyone else.
                await trio.lowlevel.checkpoint()
                if self.aborted:
                    return True
            if isinstance(event, CloseConnection):
                return self._on_close_frame(event)
            if isinstance(event, Ping):
                if not self.closing:
                    self._write(self.ws.send(event.response()))  # a pong counts like any frame: a peer pinging without reading is shed
            elif isinstance(event, (TextMessage, BytesMessage)):
                await self._on_data(event, handler)
            if self.aborted:
                return True
        return False

    def _on_close_frame(self, event: CloseConnection) -> bool:
        state = self.ws.state
        if state is ConnectionState.OPEN:
            # wsproto reports a frame it could not parse as a close it wants
            # us to send; 1009 is the deflate codec refusing to inflate more.
            if event.code == MESSAGE_TOO_BIG:
                self._too_big()
            else:
                self.close(event.code, event.reason or "")
            return False
        if state is ConnectionState.REMOTE_CLOSING:
            self._queue_close(self.ws.send(event.response()))
        if not self.closing:
            self.closing = True
            self.code = event.code
        return True

    # ------------------------------------------------------------ messages in

    async def _on_data(self, event: Message, handler: SocketHandler) -> None:
        if self.closing:
            return  # after a close, data is discarded (RFC 6455 §5.5.1)
        data = event.data
        if self._partial is None and event.message_finished:
            # The common case: a whole message in one event, nothing to gather.
            size = len(data) if data.__class__ is bytes else _utf8_size(data)
            if size > self.options.max_message_size:
                return self._too_big()
            return await self._deliver(data, handler)
        if not self._add_fragment(data):
            return self._too_big()
        if event.message_finished:
            await self._deliver(self._take_message(), handler)

    def _add_fragment(self, data: str | bytes) -> bool:
        """Append to the message being gathered; False if it would pass ``max_message_size``."""
        if self._partial is None:
            self._partial = bytearray()
            self._partial_is_text = isinstance(data, str)
            self._message_deadline = trio.current_time() + self.options.message_timeout
        chunk = data.encode("utf-8") if isinstance(data, str) else data
        if len(self._partial) + len(chunk) > self.options.max_message_size:
            return False
        self._partial += chunk
        return True

    def _take_message(self) -> str | bytes:
        gathered, self._partial = self._partial, None
        assert gathered is not None, "a message is taken only after _add_fragment began it"
        self._message_deadline = math.inf
        # wsproto checked the UTF-8 as it came: decoding cannot fail.
        return gathered.decode("utf-8") if self._partial_is_text else bytes(gathered)

    def _too_big(self) -> None:
        self.context.counters.messages_too_big += 1
        self.close(MESSAGE_TOO_BIG, "message too big")

    async def _deliver(self, message: str | bytes, handler: SocketHandler) -> None:
        self.frames_in += 1
        if message.__class__ is str:
            await self._callback(handler.on_text, message)
        else:
            await self._callback(handler.on_binary, message)

    async def _callback(self, callback, argument: object) -> None:
        if self.crash is not None:
            return
        try:
            await callback(argument)
        except Exception as e:
            self.crash = e
            self.close(INTERNAL_ERROR, "internal error")

    # ------------------------------------------------------------ messages out

    async def _flush(self) -> None:
        """Write what is queued as the socket takes it (in the reader's turn: nothing is read meanwhile)."""
        self._flushing = True
        try:
            while self.outbox.queued and not self.aborted:
                await trio.lowlevel.wait_writable(self.stream.socket.fileno())
                written = self._write_now(self.outbox.queued)
                if written and not self.aborted:
                    self.outbox.written(written)
                    # A write may end anywhere in the queue: say a frame is cut unless nothing is left.
                    self._mid_frame = bool(self.outbox.queued)
        finally:
            self._flushing = False

    # ------------------------------------------------------------ the end

    async def _say_goodbye(self) -> None:
        if self.aborted or self._mid_frame or self.ws.state is not ConnectionState.OPEN:
            return  # (after half a frame, a close frame would only be garbage)
        self.closing = True  # no frame from another process may cut into this one
        self.outbox.drop()  # (whole frames only: they go unsent, the close frame first)
        with trio.CancelScope(shield=True), trio.move_on_after(_SHUTDOWN_GRACE):
            try:
                await self.stream.send_all(self.ws.send(CloseConnection(code=SERVICE_RESTART)))
            except (trio.BrokenResourceError, trio.ClosedResourceError, trio.BusyResourceError):
                pass

    async def _close_socket(self) -> None:
        if self.aborted:
            # RST rather than FIN: the kernel must not keep trying to deliver
            # data the peer does not read.
            try:
                self.stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        with trio.CancelScope(shield=True):
            await self.stream.aclose()
