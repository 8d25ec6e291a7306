"""The process behind one joined channel (Phoenix's ``Channel.Server``).

Started by the socket for every ``phx_join``. It runs ``join`` (a binary
``phx_join`` is refused before: ``join`` always gets a dict), answers it,
tells the socket it joined, subscribes to the topic, then serves the client's
pushes, intercepted broadcasts and other messages until it stops. It traps
exits and monitors the socket's process, so ``terminate`` runs when the
socket closes (``Shutdown("closed")``), when the client leaves
(``Shutdown("left")``) and on a duplicate join (``Shutdown("duplicate_join")``).

Every frame it produces (replies, pushes) is written straight to the
transport, in the order it produces them: the join reply is always the first
frame of its membership.

Each ``join`` is timed and emitted as the telemetry event ``("web",
"channel", "join")``; a crash is emitted by the socket, which sees every
abnormal end (see ``otp.telemetry``). A crash's report goes to the logger
``web.channel`` with the topic as ``otp_topic`` (see ``otp.log``).
"""

from __future__ import annotations

import logging
import time

from otp import NORMAL, Down, Exit, ExitSignal, Pid, Shutdown, Stop, current_pid, monitor, pubsub, telemetry
from otp import receive, send, spawn_link, trap_exits
from otp.lowlevel import release_mailbox, set_behaviour, set_report_details

from . import serializer
from ._telemetry import CHANNEL_JOIN
from ._message import Broadcast, Message, Reply
from .channel import Channel, ChannelSocket, Error, Ok

__all__ = ["run_channel", "start_supervised_channel", "Go", "Joined", "Leave", "fastlane"]

LEFT = Shutdown("left")
CLOSED = Shutdown("closed")

logger = logging.getLogger("web.channel")  # crash reports of channel processes


class Joined:
    """Channel → socket: the join succeeded (sent after the ok reply)."""

    __slots__ = ("topic", "join_ref", "pid")

    def __init__(self, topic: str, join_ref: str | None, pid) -> None:
        self.topic, self.join_ref, self.pid = topic, join_ref, pid


class Go:
    """Socket → supervised channel: the socket monitors you now; here is the ``phx_join`` to answer.

    The join comes in this message, not in the start arguments: the
    supervisor keeps those for as long as the channel lives, and nothing of
    the join (its payload may hold a password) needs to last that long.
    """

    __slots__ = ("join",)

    def __init__(self, join: Message) -> None:
        self.join = join


class Leave:
    """Socket → channel: the client sent ``phx_leave`` with ``ref``."""

    __slots__ = ("ref",)

    def __init__(self, ref: str | None) -> None:
        self.ref = ref


class _ReportDetails:
    """What a channel's crash report adds: its class, topic and assigns (a slotted callable: every channel has one)."""

    __slots__ = ("channel", "socket")

    def __init__(self, channel: Channel, socket: ChannelSocket) -> None:
        self.channel, self.socket = channel, socket

    def __call__(self) -> dict[str, object]:
        return {"channel": type(self.channel).__qualname__, "topic": self.socket.topic, "assigns": self.socket.assigns}


class _Lane:
    """A subscriber's PubSub metadata: where its broadcasts are written without it."""

    __slots__ = ("transport", "intercept")

    def __init__(self, transport, intercept: tuple) -> None:
        self.transport, self.intercept = transport, intercept


def fastlane(entries: list, from_pid, message: object) -> None:
    """The PubSub dispatcher of channel broadcasts: encode once, write to every socket.

    A channel that intercepts the event gets the :class:`Broadcast` as a
    message instead (``handle_out``); so does any subscriber without a lane.
    """
    encoded = None
    for pid, lane in entries:
        if pid == from_pid:
            continue
        if message.__class__ is not Broadcast or lane.__class__ is not _Lane or message.event in lane.intercept:
            send(pid, message)
            continue
        if encoded is None:
            encoded = serializer.encode(message)
        lane.transport.send(encoded)


async def start_supervised_channel(channel_cls, socket_pid, transport, assigns: dict, socket_id, pubsub_name: str) -> Pid:
    """The start function of a channel under the endpoint's channel supervisor; the join comes in :class:`Go`."""
    return spawn_link(run_channel, channel_cls, None, socket_pid, transport, assigns, socket_id, pubsub_name)


async def run_channel(
    channel_cls, join: Message | None, socket_pid, transport, assigns: dict, socket_id, pubsub_name: str
) -> None:
    """The whole life of one channel process; ``join`` None: it comes in :class:`Go` (a supervised channel)."""
    trap_exits(True)
    socket_ref = monitor(socket_pid)
    if join is None:
        # Race: started by the supervisor, we could end (a refused join)
        # before the socket monitors us, and it would see NOPROC instead of
        # our real end. So wait until it says it watches.
        first = await receive(lambda m: m.__class__ is Go or (m.__class__ is Down and m.ref == socket_ref))
        if first.__class__ is Down:
            return
        join = first.join
        del first
    joined = await _join(channel_cls, join, socket_pid, transport, assigns, socket_id, pubsub_name)
    # This frame lives as long as the channel: it keeps nothing of the join (its payload, its reply).
    del join, assigns
    if joined is None:
        return
    channel, socket = joined
    del joined
    # The message loop is here, not in a function of its own: a second frame
    # for the channel's whole life would cost 0.3 KB on every channel.
    reason: object = NORMAL
    try:
        while True:
            message = await receive()
            stop = await _handle(channel, socket, socket_pid, message)
            if stop is not None:
                reason = stop
                break
            # Most channels wait far longer than they work: give back the
            # mailbox's 0.6 KB between messages (one allocation a message).
            del message, stop
            release_mailbox()
    except Exit as error:
        reason = error.reason
    except Exception as error:
        await channel.terminate(error, socket)
        raise
    await channel.terminate(reason, socket)
    if reason is not NORMAL:
        raise Exit(reason)


async def _join(
    channel_cls, join: Message, socket_pid, transport, assigns: dict, socket_id, pubsub_name: str
) -> tuple[Channel, ChannelSocket] | None:
    """Run the channel's ``join`` and answer it; the channel and its socket if it joined, else None."""
    if join.payload.__class__ is not dict:
        # A binary phx_join: every join callback may count on a dict, so refuse it here.
        _reply(transport, join, Error({"reason": "a join payload must be a JSON object, not binary"}))
        return None
    socket = ChannelSocket(
        topic=join.topic, join_ref=join.join_ref, assigns=dict(assigns), socket_id=socket_id,
        transport=transport, pubsub=pubsub_name, fastlane=fastlane,
    )
    channel = channel_cls()
    set_report_details(_ReportDetails(channel, socket), logger=logger, fields={"otp_topic": socket.topic})
    set_behaviour("channel", channel)
    started = time.perf_counter()
    result = await channel.join(join.topic, join.payload, socket)
    if result is None:
        result = Ok({})
    if telemetry.attached(CHANNEL_JOIN):
        _emit_join(channel_cls, socket, result, time.perf_counter() - started)
    if result.__class__ is Error:
        _reply(transport, join, result)
        return None  # refused: no process remains, nothing else is sent
    if result.__class__ is not Ok:
        raise TypeError(
            f"{channel_cls.__qualname__}.join returned {result!r}; expected Ok(response), None or Error(response)"
        )
    _reply(transport, join, result)
    send(socket_pid, Joined(join.topic, join.join_ref, current_pid()))
    pubsub.subscribe(pubsub_name, join.topic, _Lane(transport, channel_cls.intercept))
    return channel, socket


def _emit_join(channel_cls, socket: ChannelSocket, result: object, duration: float) -> None:
    outcome = "ok" if result.__class__ is Ok else "error"  # (a wrong return raises a TypeError after this)
    metadata = {"channel": channel_cls, "topic": socket.topic, "pid": current_pid(), "socket_id": socket.id, "result": outcome}
    telemetry.execute(CHANNEL_JOIN, {"duration": duration}, metadata)


async def _handle(channel, socket: ChannelSocket, socket_pid, message: object) -> object:
    """Handle one message; return an exit reason to stop, else None."""
    if message.__class__ is Message:
        socket.ref = message.ref
        result = await channel.handle_in(message.event, message.payload, socket)
        return _after_in(channel, socket, message, result)
    if message.__class__ is Broadcast and message.topic == socket.topic:
        return _after(channel, "handle_out", await channel.handle_out(message.event, message.payload, socket))
    # A broadcast on another topic the channel subscribed to is an ordinary message (as in Phoenix).
    if message.__class__ is Leave:
        _reply(socket._transport, Message(socket.join_ref, message.ref, socket.topic, "phx_leave", {}), Ok({}))
        return LEFT
    if message.__class__ is Down and message.pid == socket_pid:
        return CLOSED  # the socket is gone: so are we
    if message.__class__ is ExitSignal:
        return message.reason  # our supervisor or the socket ending us (duplicate join, shutdown)
    return _after(channel, "handle_info", await channel.handle_info(message, socket))


def _after_in(channel, socket: ChannelSocket, message: Message, result: object) -> object:
    if result is None:
        return None
    if result.__class__ in (Ok, Error):
        _reply(socket._transport, message, result)
        return None
    if result.__class__ is Stop:
        if result.reply is not None and result.reply.__class__ in (Ok, Error):
            _reply(socket._transport, message, result.reply)
        return result.reason
    raise TypeError(
        f"{type(channel).__qualname__}.handle_in returned {result!r}; expected Ok(response), "
        f"Error(response), None or Stop(reason, reply=...)"
    )


def _after(channel, callback: str, result: object) -> object:
    if result is None:
        return None
    if result.__class__ is Stop:
        return result.reason
    raise TypeError(f"{type(channel).__qualname__}.{callback} returned {result!r}; expected None or Stop(reason)")


def _reply(transport, message: Message, reply: Ok | Error) -> None:
    transport.send(serializer.encode(Reply(message.join_ref, message.ref, message.topic, reply.status, reply.response)))


