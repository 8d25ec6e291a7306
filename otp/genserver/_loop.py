"""The server side of a GenServer: start-up, the message loop, terminate.

One process runs one GenServer instance. Its life:

1. register its name, if any (a taken name answers ``AlreadyStarted``);
2. ``await init(arg)``, then acknowledge the starter (``start_link`` returns);
3. loop: take the oldest message, dispatch it to ``handle_call``,
   ``handle_cast`` or ``handle_info``; a ``Continue`` runs ``handle_continue``
   before the next message; a ``timeout=`` of ``NoReply``/``Reply`` bounds
   the wait for the next one (``handle_info(TIMEOUT)`` when it expires) and
   ``hibernate=True`` gives memory back before it (see ``_results.py``);
   system messages (``otp.sys``) are served between two messages, by
   ``_system.py``, and never reach the callbacks;
4. end: ``terminate(reason)`` runs when a callback returns ``Stop``, raises,
   when ``GenServer.stop`` asks, or when its parent's exit signal arrives
   while it traps exits. An exit signal that kills a server that does not
   trap exits skips ``terminate``, as in OTP.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import trio
from trio import Cancelled

from .._kernel import (
    AlreadyRegistered,
    AlreadyStarted,
    Exit,
    ExitSignal,
    Pid,
    ReceiveTimeout,
    Ref,
    Via,
    current_pid,
    exiting,
    receive,
    register_name,
    release_mailbox,
    set_behaviour,
    set_report_details,
    unlink,
    unregister,
    whereis,
)
from ._gen import ack, reply
from ._messages import TIMEOUT, Call, Cast, StopRequest, System
from ._results import (
    NO_REPLY,
    Continue,
    Ignore,
    NoReply,
    Reply,
    Stop,
    check_call_result,
    check_init,
    check_noreply,
)
from ._system import Debug, Event, handle_system

if TYPE_CHECKING:
    from ._behaviour import GenServer

__all__ = ["serve"]

logger = logging.getLogger("otp.genserver")  # crash reports of GenServers (see otp.log)


class _Hibernate:
    __slots__ = ()

    def __repr__(self) -> str:
        return "HIBERNATE"


HIBERNATE = _Hibernate()


class _Loop:
    """Per-process bookkeeping: the crash report's details, the parent, what to do while idle, sys's flags."""

    __slots__ = ("server", "parent", "last_message", "terminated", "idle", "suspended", "debug")

    def __init__(self, server: GenServer[Any, Any], parent: Pid | None) -> None:
        self.server = server
        self.parent = parent
        self.last_message: object = None
        self.terminated = False
        # While waiting for the next message: None (wait for ever: the hot
        # path), a deadline on trio's clock (a timeout=), or HIBERNATE.
        self.idle: float | _Hibernate | None = None
        self.suspended = False  # otp.sys.suspend: only system messages are served
        self.debug: Debug | None = None  # otp.sys.trace / log; None while both are off

    def report_details(self) -> dict[str, object]:
        return {
            "behaviour": f"GenServer {type(self.server).__module__}.{type(self.server).__qualname__}",
            "last message": self.last_message,
            "state": self.server.format_status(),
        }


async def serve(
    starter: Pid, ack_ref: Ref, cls: type[GenServer[Any, Any]], arg: object, name: str | Via | None, linked: bool
) -> None:
    """The whole life of a GenServer process (spawned by ``GenServer.start``)."""
    started = await _start_up(starter, ack_ref, cls, arg, name, linked)
    if started is None:
        return
    loop, first = started
    try:
        if first is not None:
            await _continue(loop, first)
        await _run(loop)
    except Exit as stop:
        # Raised by the callback (Erlang's exit/1): terminate, as OTP does.
        # Raised because an exit signal ended us (exit(self(), r) while not
        # trapping): a signal skips terminate.
        if not exiting():
            await _terminate_once(loop, stop.reason)
        raise
    except Cancelled:
        # Killed by an exit signal while not trapping: no terminate (OTP).
        raise
    except Exception as crash:
        await _terminate_once(loop, crash)
        raise


# ---------------------------------------------------------------- start-up


async def _start_up(
    starter: Pid, ack_ref: Ref, cls: type[GenServer[Any, Any]], arg: object, name: str | Via | None, linked: bool
) -> tuple[_Loop, Continue | None] | None:
    if name is not None and not _claim_name(starter, ack_ref, name, linked):
        return None
    try:
        server = cls()
        loop = _Loop(server, starter if linked else None)
        set_report_details(loop.report_details, logger=logger)
        set_behaviour("genserver", server)
        result: Any = await server.init(arg)  # anything: check_init says what is wrong with it
        check_init(server, result)
    except Cancelled:
        raise
    except BaseException as error:
        reason = error.reason if isinstance(error, Exit) else error
        _fail(starter, ack_ref, name, linked, reason)
        raise
    if result is None or result.__class__ is Continue:
        ack(starter, ack_ref, "started")
        return loop, result
    if result.__class__ is NoReply:
        _wait_as(loop, result)
        ack(starter, ack_ref, "started")
        return loop, None
    if result.__class__ is Ignore:
        _fail(starter, ack_ref, name, linked, None, outcome="ignored")
        return None
    _fail(starter, ack_ref, name, linked, result.reason)
    raise Exit(result.reason)


def _claim_name(starter: Pid, ack_ref: Ref, name: str | Via, linked: bool) -> bool:
    failure: Exception
    try:
        register_name(name, current_pid())
    except AlreadyRegistered as taken:
        failure = AlreadyStarted(name, taken.pid)
    except Exception as error:  # a via-name that cannot register (unknown registry, ...)
        failure = error
    else:
        return True
    if linked:
        unlink(starter)  # as in _fail: the starter hears of it only by the exception
    ack(starter, ack_ref, "failed", failure)
    if failure.__class__ is not AlreadyStarted:
        raise failure  # a name that could not even be tried is a crash (with its report)
    return False


def _fail(
    starter: Pid, ack_ref: Ref, name: str | Via | None, linked: bool, reason: object, outcome: str = "failed"
) -> None:
    # Race: the starter may retry at once (a supervisor restarting us), so the
    # name must be free before it hears from us, not when we have exited.
    if name is not None:
        _free_name(name)
    # The starter learns of the failure from the ack and raises StartError;
    # it must not also be killed by our exit signal, so unlink before exiting.
    if linked:
        unlink(starter)
    ack(starter, ack_ref, outcome, reason)


def _free_name(name: str | Via) -> None:
    if isinstance(name, str):
        if whereis(name) == current_pid():
            unregister(name)
    else:
        name.unregister()


# ---------------------------------------------------------------- the loop


async def _run(loop: _Loop) -> None:
    server = loop.server
    while True:
        message = await receive() if loop.idle is None else await _receive_when_idle(loop)
        kind = message.__class__
        if kind is System:
            await handle_system(loop, message)
            continue
        loop.last_message = message
        if loop.debug is not None:
            loop.debug.took(loop, message)
        if kind is Call:
            await _handle_call(loop, server, message)
        elif kind is Cast:
            await _after(loop, "handle_cast", await server.handle_cast(message.request))
        elif kind is StopRequest:
            raise Exit(message.reason)
        elif kind is ExitSignal and message.pid == loop.parent and loop.parent is not None:
            # Our parent (a supervisor shutting us down, or the linked
            # starter ending) while we trap exits: terminate, then follow it.
            raise Exit(message.reason)
        else:
            await _after(loop, "handle_info", await server.handle_info(message))


async def _receive_when_idle(loop: _Loop) -> Any:
    """The next message, after a callback asked for a timeout or to hibernate; TIMEOUT if it expired."""
    idle = loop.idle
    if idle is HIBERNATE:
        _hibernate(loop)
        message = await receive()
    else:
        assert isinstance(idle, float)  # a deadline
        try:
            message = await receive(timeout=max(0.0, idle - trio.current_time()))
        except ReceiveTimeout:
            loop.idle = None
            return TIMEOUT
    if message.__class__ is not System:  # a system message leaves the deadline where it was
        loop.idle = None
    return message


def _hibernate(loop: _Loop) -> None:
    # What the server holds only for speed or for a report (see _results.py
    # for why this is all): the last message, and an empty mailbox's deque.
    loop.last_message = None
    release_mailbox()


def _wait_as(loop: _Loop, result: NoReply | Reply) -> None:
    """Remember how ``result`` asks to wait for the next message."""
    if result.timeout is not None:
        loop.idle = trio.current_time() + result.timeout
    elif result.hibernate:
        loop.idle = HIBERNATE


async def _handle_call(loop: _Loop, server: GenServer[Any, Any], message: Call) -> None:
    # Any: what the callback really returned, whatever its annotation says.
    result: Any = await server.handle_call(message.request, message.caller)
    kind = result.__class__
    if kind is NoReply:
        _wait_as(loop, result)
    elif kind is Reply:
        _reply(loop, message, result.value)
        _wait_as(loop, result)
    elif kind is Continue:
        if result.reply is not NO_REPLY:
            _reply(loop, message, result.reply)
        await _continue(loop, result)
    elif kind is Stop:
        await _terminate_once(loop, result.reason)
        if result.reply is not NO_REPLY:
            _reply(loop, message, result.reply)
        raise Exit(result.reason)
    elif kind is Ignore:
        raise check_call_result(server, result)
    else:
        reply(message.caller, result)  # the hot path: no helper call
        if loop.debug is not None:
            loop.debug.record(loop, Event("reply", result, message.caller.pid))


def _reply(loop: _Loop, message: Call, value: object) -> None:
    reply(message.caller, value)
    if loop.debug is not None:
        loop.debug.record(loop, Event("reply", value, message.caller.pid))


async def _after(loop: _Loop, callback: str, result: object) -> None:
    """Act on what handle_cast / handle_info / handle_continue returned."""
    if result is None:
        return
    step = check_noreply(loop.server, callback, result)
    if isinstance(step, NoReply):
        _wait_as(loop, step)
    elif isinstance(step, Continue):
        await _continue(loop, step)
    else:
        raise Exit(step.reason)


async def _continue(loop: _Loop, step: Continue) -> None:
    # Iterative, so a chain of Continues cannot grow the stack.
    while True:
        loop.last_message = step
        if loop.debug is not None:
            loop.debug.record(loop, Event("continue", step.arg))
        result = await loop.server.handle_continue(step.arg)
        if result is None:
            return
        next_step = check_noreply(loop.server, "handle_continue", result)
        if isinstance(next_step, NoReply):
            _wait_as(loop, next_step)
            return
        if isinstance(next_step, Stop):
            raise Exit(next_step.reason)
        step = next_step


async def _terminate_once(loop: _Loop, reason: object) -> None:
    if loop.terminated:
        return
    loop.terminated = True
    await loop.server.terminate(reason)
