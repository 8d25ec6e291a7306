"""One long-poll session: the frames waiting for the client's next poll, and the process that owns its socket.

A long-poll client has no connection of its own: it polls with ``GET`` and
sends with ``POST``, each request on whatever HTTP connection its browser
picks. What a WebSocket's connection process is to its socket, a *session
process* is here (see :mod:`web.transports.longpoll` for the manual):

* it calls the :class:`~web.transports.websocket.SocketHandler`, one
  callback at a time: ``on_open`` first (the Phoenix handler starts the
  socket's protocol here: this process is the socket's), then
  ``on_text``/``on_binary`` for each frame a ``POST`` brought, ``on_info``
  for every other message sent to it, and ``on_close`` once the session is
  over;
* it ends the session after ``1.5 * window`` seconds without a poll.

The frames for the client do not go through it: any process writes them
through the :class:`LongPollSender` (sync, never blocks) into the session's
:class:`LongPollSession`, and the connection process of the poll waiting
takes them from there. Both sides meet on that object, as a WebSocket's
writers and its connection meet on its outbox: one trio thread runs every
process, so plain attributes and ``trio.Event`` will do.

What the client may make it hold: frames up to the WebSocket mount's
``max_outbound_bytes`` (UTF-8 bytes, counted in the endpoint's
``outbound_queued`` against ``max_outbound_total`` too, as a WebSocket's
outbox is); one frame more and the session is shed (ended, a warning
logged, ``outbound_overflows`` counted). A ``POST``'s frames wait in the
session process's mailbox until it hands them on; how many, and how big, is
bounded by the request's size.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Sequence

import trio

from otp import Pid, ReceiveTimeout, current_pid, receive, send
from otp.lowlevel import set_report_details

from .._limits import ConnectionContext
from ._session import ABNORMAL_CLOSURE, GOING_AWAY, Sender

if TYPE_CHECKING:
    from ._longpoll_options import LongPoll
    from .websocket import SocketHandler

__all__ = ["LongPollSession", "LongPollSender", "run_session", "DISPATCHED", "GONE"]

logger = logging.getLogger("web.transports")

#: What a ``POST`` is answered with once its frames are handed on (the JSON ``status``).
DISPATCHED = 200
#: ... once the session ended before they all were.
GONE = 410


class _Batch:
    """A ``POST``'s frames on their way to the session process; ``status`` once ``done``."""

    __slots__ = ("frames", "done", "status")

    def __init__(self, frames: Sequence[str | bytes]) -> None:
        self.frames = frames
        self.done = trio.Event()
        self.status = GONE

    def finish(self, status: int) -> None:
        if not self.done.is_set():
            self.status = status
            self.done.set()


class _Wake:
    """Sender → session process: the session was closed; stop waiting and end."""

    __slots__ = ()


_WAKE = _Wake()


class _Ticket:
    """Marks the one poll waiting on a session; a newer poll replaces it (see :meth:`LongPollSession.poll`)."""

    __slots__ = ()


class LongPollSession:
    """The state one session's processes share: frames out, the poll waiting, the end.

    Args:
        session_id: the random id its tokens carry.
        options: the mount's :class:`~web.transports.longpoll.LongPoll`.
        max_outbound_bytes: bytes of frames it may hold for the client (the
            WebSocket mount's option of that name).
        context: the endpoint's counters, limits and throttled log.
        peer: the address of the client that opened it, for log lines.
        forget: called once, when the session is over, to drop it from its
            mount's tables.
    """

    def __init__(
        self,
        session_id: str,
        options: LongPoll,
        max_outbound_bytes: int,
        context: ConnectionContext,
        peer: tuple,
        forget: Callable[[LongPollSession], None],
    ) -> None:
        self.id = session_id
        self.options = options
        self.max_outbound_bytes = max_outbound_bytes
        self.context = context
        self.peer = peer
        self.forget = forget
        self.pid: Pid | None = None  # set by the session process as it starts
        self.frames: list[str] = []  # for the next poll, oldest first
        self.size = 0  # their UTF-8 bytes, also counted in the endpoint's outbound_queued
        self.code: int | None = None  # set once closing: what on_close gets
        self.over = False  # the process ended: no more frames, polls get what is left then 410
        self.last_poll = trio.current_time()  # when the last poll was answered (the opening counts)
        self._poller: _Ticket | None = None  # the poll waiting now, if any
        self._arrived = trio.Event()  # set when frames (or the end) come for the poll waiting
        self._batches: set[_Batch] = set()  # POSTs not yet handed on

    @property
    def closing(self) -> bool:
        """True once closed (or over): frames are refused."""
        return self.code is not None

    # ------------------------------------------------------------ frames to the client (any process)

    def push(self, text: str) -> bool:
        """Keep a frame for the next poll; False if closing, or shed for holding too much."""
        if self.code is not None:
            return False
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        limit = self._limit_passed(size)
        if limit is not None:
            self._shed(limit)
            return False
        self.frames.append(text)
        self.size += size
        self.context.counters.outbound_queued += size
        self._arrived.set()
        return True

    def _limit_passed(self, size: int) -> str | None:
        """The limit one more frame of ``size`` bytes would pass, as a WebSocket's outbox judges it; None if none."""
        held = self.size + size
        if held > self.max_outbound_bytes:
            return "max_outbound_bytes"
        limits = self.context.limits
        if self.context.counters.outbound_queued + size > limits.max_outbound_total and held > limits.outbound_share:
            return "max_outbound_total"
        return None

    def _shed(self, limit: str) -> None:
        self.context.counters.outbound_overflows += 1
        self.context.log.warning(
            "shed", "ending the long-poll session of %s: the client does not poll and its frames passed %s",
            self.peer, limit, detail=limit,
        )
        self._drop()
        self.close(ABNORMAL_CLOSURE)

    def refuse_binary(self) -> bool:
        """A binary frame for the client: long-poll cannot carry one (the client reads text only). Dropped."""
        self.context.log.warning(
            "longpoll_binary", "dropped a binary frame for the long-poll client %s: long-poll carries text frames only",
            self.peer, detail=str(self.peer),
        )
        return False

    def close(self, code: int) -> None:
        """End the session (sync, from any process): the session process calls ``on_close(code)`` and ends."""
        if self.code is not None:
            return
        self.code = code
        if self.pid is not None:
            send(self.pid, _WAKE)

    # ------------------------------------------------------------ polls (the connection process of a GET)

    async def poll(self, window: float) -> list[str] | None:
        """The frames for a poll: those waiting, else the first to come within ``window`` s, else ``[]``.

        None when the session is over and nothing is left for the client.
        One poll waits at a time: a newer one replaces it, and the replaced
        poll gets ``[]`` at once (it is answered 204), so two requests never
        share out one session's frames.
        """
        self._replace_poller()
        ticket = self._poller = _Ticket()
        try:
            if not self.frames and not self.over:
                with trio.move_on_after(window):
                    await self._wait_arrival()
            if self._poller is not ticket:
                return []  # replaced by a newer poll meanwhile
            if self.frames:
                return self._take()
            return None if self.over else []
        finally:
            if self._poller is ticket:
                self._poller = None
                self.last_poll = trio.current_time()
            if self.over:
                self._drop()  # (a poll cancelled with frames taken by nobody)

    async def _wait_arrival(self) -> None:
        self._arrived = trio.Event()
        await self._arrived.wait()
        # Let the rest of a burst come (a reply and the pushes that follow it
        # are written one after the other): they go in this answer, not the next.
        await trio.lowlevel.checkpoint()

    def _replace_poller(self) -> None:
        if self._poller is not None:
            self._poller = None
            self._arrived.set()

    def _take(self) -> list[str]:
        frames, self.frames = self.frames, []
        self.context.counters.outbound_queued -= self.size
        self.size = 0
        return frames

    def _drop(self) -> None:
        self._take()

    def polled_lately(self, now: float) -> bool:
        """A poll waits, or one was answered less than ``idle_timeout`` s ago."""
        return self._poller is not None or now - self.last_poll < self.options.idle_timeout

    def seconds_until_idle(self, now: float) -> float:
        """Seconds until the session would be idle if no poll came (to be checked again then)."""
        if self._poller is not None:
            return self.options.idle_timeout
        return max(0.0, self.last_poll + self.options.idle_timeout - now)

    # ------------------------------------------------------------ frames from the client (the connection process of a POST)

    async def dispatch(self, frames: Sequence[str | bytes]) -> int:
        """Hand a ``POST``'s frames to the session process; the JSON status to answer.

        200 once they are all handed on, 410 if the session ended first,
        408 if that took ``dispatch_timeout`` (the session is then ended:
        the client, told 408, will not poll it again).
        """
        if self.code is not None or self.pid is None:
            return GONE
        batch = _Batch(frames)
        self._batches.add(batch)
        send(self.pid, batch)
        with trio.move_on_after(self.options.dispatch_timeout):
            await batch.done.wait()
            return batch.status
        self.close(GOING_AWAY)
        return 408

    def handed_on(self, batch: _Batch, every_frame: bool) -> None:
        """The session process is done with ``batch``: answer its ``POST`` (GONE if not ``every_frame`` was handed on)."""
        self._batches.discard(batch)
        batch.finish(DISPATCHED if every_frame else GONE)

    # ------------------------------------------------------------ the end (the session process)

    def finish(self) -> None:
        """The session process ended (sync: it may be unwinding from a kill). Idempotent."""
        if self.over:
            return
        self.over = True
        if self.code is None:
            self.code = ABNORMAL_CLOSURE  # killed (the endpoint shut down), or a callback crashed
        self.forget(self)
        for batch in self._batches:
            batch.finish(GONE)
        self._batches.clear()
        if self._poller is None:
            self._drop()
        self._arrived.set()  # the poll waiting gets what is left, then 410

    def __repr__(self) -> str:
        return f"<LongPollSession {self.id[:6]}… peer={self.peer} frames={len(self.frames)} closing={self.closing}>"


class LongPollSender(Sender):
    """Writes to one long-poll session; usable from any process of the node. Every method is sync.

    What the socket layer writes through, as a WebSocket's
    :class:`~web.transports.websocket.Sender`: text frames are kept for the
    client's next poll; binary frames cannot be carried (dropped, logged).
    """

    __slots__ = ("_longpoll",)

    def __init__(self, session: LongPollSession) -> None:
        # (Sender.__init__ is not called: there is no WebSocket session, and every method is ours.)
        self._longpoll = session

    def send_text(self, text: str) -> bool:
        """Keep a text frame for the next poll; False if the session is closing or closed."""
        return self._longpoll.push(text)

    def send_binary(self, data: bytes) -> bool:
        """Long-poll carries text only: the frame is dropped (a warning is logged); always False."""
        return self._longpoll.refuse_binary()

    def close(self, code: int = GOING_AWAY, reason: str = "") -> None:
        """End the session; its next poll is answered 410, and the client reconnects."""
        self._longpoll.close(code)

    @property
    def closed(self) -> bool:
        """True once the session is closing or over."""
        return self._longpoll.closing

    def __repr__(self) -> str:
        return f"<web.LongPollSender peer={self._longpoll.peer} closed={self.closed}>"


# ---------------------------------------------------------------- the process


async def run_session(session: LongPollSession, handler: SocketHandler) -> None:
    """The session process: open the socket, hand it the client's frames, end it when the session is over.

    A callback that raises crashes this process (a crash report on
    ``web.transports``); killed (the endpoint shutting down), it ends
    without ``on_close``, as a WebSocket's connection does. Either way
    :meth:`LongPollSession.finish` runs.
    """
    session.pid = current_pid()  # (already set by whoever spawned it, if it did)
    set_report_details(lambda: {"long-poll session": repr(session)}, logger=logger)
    try:
        await handler.on_open(LongPollSender(session))
        code = await _serve(session, handler)
        session.finish()  # before on_close: no poll may find it while its channels end
        await handler.on_close(code)
    finally:
        session.finish()


async def _serve(session: LongPollSession, handler: SocketHandler) -> int:
    """Hand on the client's frames, and any other message to ``on_info``, until the session is closed or idle; the close code."""
    while session.code is None:
        try:
            message = await receive(timeout=session.seconds_until_idle(trio.current_time()))
        except ReceiveTimeout:
            if not session.polled_lately(trio.current_time()):
                session.close(GOING_AWAY)
            continue
        if message.__class__ is _Batch:
            await _hand_on(session, message, handler)
        elif message.__class__ is not _Wake:
            await handler.on_info(message)  # the socket's own mail (its channels', a "disconnect"), as a WebSocket's
    return session.code


async def _hand_on(session: LongPollSession, batch: _Batch, handler: SocketHandler) -> None:
    for frame in batch.frames:
        if session.code is not None:
            # Closed by one of them (a malformed frame, the rate limit): the rest is dropped.
            session.handed_on(batch, every_frame=False)
            return
        if isinstance(frame, str):
            await handler.on_text(frame)
        else:
            await handler.on_binary(frame)
    # Every frame handed on, even if the last one closed the session (it was
    # read, as a WebSocket's would be): 200, as when the socket had a process
    # of its own and closed after the answer.
    session.handed_on(batch, every_frame=True)
