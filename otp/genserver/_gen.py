"""The client side of a GenServer: start with an acknowledgement, call, cast, reply, stop.

These are OTP's ``gen`` and ``proc_lib`` protocols, built only from public
kernel functions. The races they must survive are named beside each fence.
"""

from __future__ import annotations

import math
from typing import Any, Awaitable, Callable

from .._kernel import (
    KILL,
    NOPROC,
    NORMAL,
    AlreadyStarted,
    CallingSelf,
    CallTimeout,
    Destination,
    Down,
    NoProc,
    NotRegistered,
    Pid,
    ReceiveTimeout,
    Ref,
    Response,
    ServerExited,
    StartError,
    current_pid,
    demonitor,
    exit,
    monitor,
    receive,
    resolve_pid,
    respond_to,
    send,
    spawn_opt,
    take_exit_signal,
    take_queued,
)
from .._kernel import request as _request
from ..telemetry import attached, span
from ._messages import Ack, Call, Cast, From, StopRequest, System

__all__ = ["start", "ack", "call", "system_call", "cast", "reply", "stop", "CALL"]

CALL = ("otp", "genserver", "call")  # a telemetry span: start, stop, exception (see otp.telemetry)
_CALL_EVENTS = (CALL + ("start",), CALL + ("stop",), CALL + ("exception",))


# ---------------------------------------------------------------- starting


async def start(
    entry: Callable[..., Awaitable[None]],
    *args: object,
    link: bool,
    timeout: float = math.inf,
    what: object = None,
) -> Pid | None:
    """Spawn ``entry(starter, ack_ref, *args)`` and wait for its :func:`ack`.

    Returns the new pid, or None if the process answered ``"ignored"``.

    Raises:
        StartError: the process failed (``.reason`` from its ack or its exit
            reason), or did not acknowledge within ``timeout`` (``"timeout"``).
        AlreadyStarted: the process found its name taken.
    """
    ack_ref = Ref.make()
    pid, down_ref = spawn_opt(entry, current_pid(), ack_ref, *args, link=link, monitor=True)

    def is_answer(m: object) -> bool:
        return (m.__class__ is Ack and m.ref is ack_ref) or (m.__class__ is Down and m.ref is down_ref)

    try:
        answer = await receive(is_answer, timeout=None if timeout == math.inf else timeout)
    except ReceiveTimeout:
        await _kill_and_reap(pid, down_ref)
        # Race: it may have acknowledged after the deadline, before the kill.
        take_queued(lambda m: m.__class__ is Ack and m.ref is ack_ref)
        raise StartError("timeout", what) from None
    if answer.__class__ is Down:
        # Killed by a signal before it could answer. If we trap exits its
        # link also queued an ExitSignal: consume it, it is about this start.
        take_exit_signal(pid)
        raise StartError(answer.reason, what)
    if answer.outcome == "started":
        demonitor(down_ref, flush=True)
        return pid
    # Failed or ignored: wait until it has really gone, so that no process is
    # left behind and its name is free when we return.
    await receive(lambda m: m.__class__ is Down and m.ref is down_ref)
    if answer.outcome == "ignored":
        return None
    if isinstance(answer.reason, AlreadyStarted):
        raise answer.reason
    raise StartError(answer.reason, what)


def ack(starter: Pid, ack_ref: Ref, outcome: str, reason: object = None) -> None:
    """Called by the starting process: tell ``starter`` how start-up went."""
    send(starter, Ack(ack_ref, outcome, reason))


async def _kill_and_reap(pid: Pid, down_ref: Ref) -> None:
    exit(pid, KILL)
    await receive(lambda m: m.__class__ is Down and m.ref is down_ref)
    take_exit_signal(pid)


# ---------------------------------------------------------------- calls


async def call(server: Destination, request: Any, timeout: float = 5.0) -> Any:
    """Send ``request`` to ``server`` and wait for its reply (OTP's ``gen:call``).

    The round trip is the kernel's ``request`` (``otp.lowlevel``): it monitors
    the server and tags the request with a ref that is also an alias of the
    caller, so a reply that comes after the timeout is dropped, never queued.

    Raises:
        NoProc: ``server`` is not running.
        CallingSelf: the caller is ``server``.
        ServerExited: ``server`` ended before replying (``.reason``).
        CallTimeout: no reply within ``timeout`` seconds; a late reply is dropped.
    """
    if attached(*_CALL_EVENTS):
        return await _timed_call(server, request, timeout)
    # The untimed path awaits the kernel directly: no extra coroutine on W3's path.
    answer: _Answer
    try:
        answer = await _request(server, lambda pid, ref: Call(request, From(pid, ref)), timeout)
    except (ReceiveTimeout, ValueError, NotRegistered) as error:
        answer = error
    return _answer(server, request, timeout, answer)


async def _timed_call(server: Destination, request: object, timeout: float) -> Any:
    with span(CALL, {"server": server, "request_kind": request_kind(request)}):
        answer: _Answer
        try:
            answer = await _request(server, lambda pid, ref: Call(request, From(pid, ref)), timeout)
        except (ReceiveTimeout, ValueError, NotRegistered) as error:
            answer = error
        return _answer(server, request, timeout, answer)


async def system_call(server: Destination, request: object, timeout: float) -> Any:
    """Send the system request ``request`` (see ``_system.py``) and wait for the answer, as ``call`` does.

    Raises what :func:`call` raises, with ``request`` as the error's request.
    """
    answer: _Answer
    try:
        answer = await _request(server, lambda pid, ref: System(request, From(pid, ref)), timeout)
    except (ReceiveTimeout, ValueError, NotRegistered) as error:
        answer = error
    return _answer(server, request, timeout, answer)


# What the kernel's request gave: the response, the server's Down, None (not
# running), or the error it raised.
_Answer = Response | Down | None | ReceiveTimeout | ValueError | NotRegistered


def _answer(server: Destination, request: object, timeout: float, answer: _Answer) -> Any:
    """The reply in ``answer`` (a Response), or the CallError its other shapes mean."""
    if answer.__class__ is Response:
        return answer.value
    if isinstance(answer, ReceiveTimeout):
        raise CallTimeout(server, request, timeout, "timeout")
    if isinstance(answer, ValueError):  # the kernel's "calling self"
        raise CallingSelf(server, request, timeout, "calling_self")
    if isinstance(answer, Down) and answer.reason is not NOPROC:
        raise ServerExited(server, request, timeout, answer.reason)
    raise NoProc(server, request, timeout, NOPROC)  # not running: None, NotRegistered or Down(NOPROC)


def request_kind(request: object) -> str:
    """A short, low-cardinality name for a request, for telemetry: ``"get"``, ``("add", 1)`` -> ``"add"``, else its type."""
    if request.__class__ is str:
        return request
    if request.__class__ is tuple and request and request[0].__class__ is str:
        return request[0]
    return type(request).__qualname__


def cast(server: Destination, request: object) -> None:
    """Send ``request`` to ``server`` without waiting. Never blocks, never fails.

    A dead server or a name nobody holds drops the request, as OTP does.
    """
    try:
        send(server, Cast(request))
    except NotRegistered:
        pass


def reply(caller: From, value: object) -> None:
    """Answer a call later: ``caller`` is what ``handle_call`` received.

    If the caller has given up (timed out) or died, the reply is dropped.
    """
    if caller.__class__ is not From:
        raise TypeError(f"reply() needs the caller handle_call received (a From); got {caller!r}")
    respond_to(caller.pid, caller.ref, value)


async def stop(server: Destination, reason: object = NORMAL, timeout: float = math.inf) -> None:
    """Stop ``server``: it runs ``terminate(reason)`` and exits with ``reason``.

    Returns once it has exited.

    Raises:
        NoProc: ``server`` is not running.
        CallingSelf: a server cannot wait for its own end; return ``Stop`` instead.
        ServerExited: it exited with another reason (its ``terminate`` crashed).
        CallTimeout: it did not exit within ``timeout``.
    """
    pid = resolve_pid(server)
    if pid is None:
        raise NoProc(server, StopRequest(reason), timeout, NOPROC)
    if pid == current_pid():
        raise CallingSelf(server, StopRequest(reason), timeout, "calling_self")
    ref = monitor(pid)
    send(pid, StopRequest(reason))
    try:
        down = await receive(
            lambda m: m.__class__ is Down and m.ref is ref,
            timeout=None if timeout == math.inf else timeout,
        )
    except ReceiveTimeout:
        demonitor(ref, flush=True)
        raise CallTimeout(server, StopRequest(reason), timeout, "timeout") from None
    if down.reason is NOPROC:
        raise NoProc(server, StopRequest(reason), timeout, NOPROC)
    if down.reason != reason:
        raise ServerExited(server, StopRequest(reason), timeout, down.reason)
