"""The server side of ``otp.sys``: system messages, served by the loop between two messages.

A system message (:class:`~._messages.System`) carries one of the requests
below and the caller's ``From``. The server loop hands it to
:func:`handle_system` as soon as it takes it from the mailbox, whatever the
server is doing with its own messages (never in the middle of a callback:
one message at a time holds for these too), and answers it with a reply:

==================  ==========================================================
request             what the server does, and answers
==================  ==========================================================
``GetState``        the server instance (its state lives on it)
``ReplaceState``    runs ``fun(instance)``, which changes its attributes; a
                    raise (or a result other than None or the instance)
                    puts them back and answers :class:`CallbackFailed`
``Suspend``         stops serving anything but system messages, a
                    ``GenServer.stop`` and its parent's exit signal; other
                    messages wait in the mailbox, in order
``Resume``          serves its messages again
``GetStatus``       a :class:`Status`
``Trace``           logs every message in and reply out (logger ``otp.sys``)
``Log``             keeps the last N events, or hands them over
``ChangeCode``      (suspended only) takes the new class and runs
                    ``code_change``; a raise puts the old class and
                    attributes back and answers :class:`CallbackFailed`
==================  ==========================================================

The debug options (``Trace``, ``Log``) cost the loop one ``is None`` test
per message while they are off.
"""

from __future__ import annotations

import collections
import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable

import attrs

from .._kernel import (
    Exit,
    ExitSignal,
    OTPError,
    Pid,
    current_pid,
    process_info,
    receive,
    registered_name,
)
from ._gen import reply
from ._messages import Call, Cast, StopRequest, System

if TYPE_CHECKING:
    from ._loop import _Loop

__all__ = [
    "GetState",
    "ReplaceState",
    "Suspend",
    "Resume",
    "GetStatus",
    "Trace",
    "Log",
    "ChangeCode",
    "Event",
    "Status",
    "CallbackFailed",
    "Failed",
    "Debug",
    "handle_system",
    "DEFAULT_LOG_SIZE",
]

logger = logging.getLogger("otp.sys")  # what trace(server, True) writes, at INFO

DEFAULT_LOG_SIZE = 10  # events log(server, True) keeps, as OTP's sys:log does


# ---------------------------------------------------------------- the requests


@attrs.frozen(slots=True)
class GetState:
    pass


@attrs.frozen(slots=True)
class ReplaceState:
    fun: Callable[[Any], Any]


@attrs.frozen(slots=True)
class Suspend:
    pass


@attrs.frozen(slots=True)
class Resume:
    pass


@attrs.frozen(slots=True)
class GetStatus:
    pass


@attrs.frozen(slots=True)
class Trace:
    on: bool


@attrs.frozen(slots=True)
class Log:
    what: int | bool | str  # a size to keep, False to stop, "get"


@attrs.frozen(slots=True)
class ChangeCode:
    new_class: type
    extra: object


# ---------------------------------------------------------------- what comes back


@attrs.frozen
class Event:
    """One thing a traced or logged server did (OTP's system events).

    Attributes:
        kind: ``"call"``, ``"cast"``, ``"info"`` (any other message, ``TIMEOUT``
            included), ``"reply"`` (a reply the loop sent for a callback's
            return value) or ``"continue"`` (``handle_continue`` about to run).
        message: the request, message, reply value or continue argument.
        peer: the caller of a ``"call"``, the one a ``"reply"`` went to; else None.
    """

    kind: str
    message: object
    peer: Pid | None = None

    def __str__(self) -> str:
        if self.kind == "call":
            return f"got call {self.message!r} from {self.peer!r}"
        if self.kind == "cast":
            return f"got cast {self.message!r}"
        if self.kind == "reply":
            return f"replied {self.message!r} to {self.peer!r}"
        if self.kind == "continue":
            return f"continues with {self.message!r}"
        return f"got {self.message!r}"


@attrs.frozen
class Status:
    """What ``otp.sys.get_status`` reports of a server (OTP's ``sys:get_status``).

    Attributes:
        pid: the server.
        name: its registered name, or None.
        module: its class, as ``module.QualifiedName``.
        vsn: its class's ``vsn`` (see ``otp.upgrade``).
        status: ``"running"`` or ``"suspended"``.
        state: what its ``format_status()`` returns (by default its
            attributes); a ``format_status`` that raises gives a sentence
            saying so instead.
        last_message: the last message it took (None after hibernating).
        logged: the events ``otp.sys.log`` keeps, oldest first; empty if off.
        log_size: how many events ``otp.sys.log`` keeps, or None while it is off.
        tracing: whether ``otp.sys.trace`` is on.
        message_queue_len: messages waiting in its mailbox.
    """

    pid: Pid
    name: str | None
    module: str
    vsn: object
    status: str
    state: object
    last_message: object
    logged: tuple[Event, ...]
    log_size: int | None
    tracing: bool
    message_queue_len: int


class CallbackFailed(OTPError):
    """A function or callback run by a system request raised; nothing was changed.

    Raised by ``otp.sys.replace_state`` (its function raised, or returned
    something else than None or the instance) and ``otp.sys.change_code`` (``code_change`` raised or
    returned something else than None). The server keeps running with the
    class and attributes it had.

    Attributes:
        server: the server's pid.
        callback: ``"replace_state"`` or ``"code_change"``.
        reason: the exception.
    """

    def __init__(self, server: Pid, callback: str, reason: BaseException) -> None:
        super().__init__(f"{callback} failed in {server!r}: {reason!r}; the server's state is unchanged")
        self.server = server
        self.callback = callback
        self.reason = reason

    def __reduce__(self) -> tuple[type[CallbackFailed], tuple[Pid, str, BaseException]]:
        return (type(self), (self.server, self.callback, self.reason))


class Failed:
    """A reply that makes the client function raise ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


# ---------------------------------------------------------------- tracing and logging


class Debug:
    """A server's debug options: whether it traces, and the events it keeps."""

    __slots__ = ("trace", "log")

    def __init__(self) -> None:
        self.trace = False
        self.log: collections.deque[Event] | None = None

    @property
    def off(self) -> bool:
        return not self.trace and self.log is None

    def took(self, loop: _Loop, message: object) -> None:
        """The loop took ``message`` (not a system message) and is about to handle it."""
        if isinstance(message, Call):
            self.record(loop, Event("call", message.request, message.caller.pid))
        elif isinstance(message, Cast):
            self.record(loop, Event("cast", message.request))
        else:
            self.record(loop, Event("info", message))

    def record(self, loop: _Loop, event: Event) -> None:
        if self.log is not None:
            self.log.append(event)
        if self.trace:
            pid = current_pid()
            logger.info("%r (%s) %s", pid, type(loop.server).__qualname__, event, extra={"otp_pid": str(pid)})


# ---------------------------------------------------------------- serving a request


async def handle_system(loop: _Loop, message: System) -> None:
    """Serve one system message and answer its caller."""
    if isinstance(message.request, Suspend):
        reply(message.caller, None)
        if not loop.suspended:  # (else: already in _serve_suspended, below us)
            loop.suspended = True
            await _serve_suspended(loop)
        return
    reply(message.caller, await _answer(loop, message.request))


async def _serve_suspended(loop: _Loop) -> None:
    """Serve only system messages until resumed; a stop or the parent's exit signal still ends the server.

    (OTP's suspended loop also takes the parent's exit signal; ``GenServer.stop``
    is a system message in OTP, so it is served here as well.)
    """
    parent = loop.parent

    def served(message: object) -> bool:
        if isinstance(message, ExitSignal):
            return parent is not None and message.pid == parent
        return isinstance(message, (System, StopRequest))

    while loop.suspended:
        message = await receive(served)
        if isinstance(message, System):
            await handle_system(loop, message)
        else:
            raise Exit(message.reason)  # terminate runs, as it would for these when running


async def _answer(loop: _Loop, request: object) -> object:
    match request:
        case GetState():
            return loop.server
        case GetStatus():
            return _status(loop)
        case Resume():
            loop.suspended = False  # _serve_suspended returns once this answer is sent
            return None
        case ReplaceState(fun):
            return _replace_state(loop, fun)
        case Trace(on):
            _set_trace(loop, on)
            return None
        case Log(what):
            return _log(loop, what)
        case ChangeCode():
            return await _change_code(loop, request)
    return Failed(TypeError(f"unknown system request {request!r}"))


def _status(loop: _Loop) -> Status:
    server = loop.server
    cls = type(server)
    try:
        state = server.format_status()
    except Exception as error:
        state = f"(format_status raised {error!r})"
    info = process_info(current_pid())
    log = loop.debug.log if loop.debug is not None else None
    return Status(
        pid=current_pid(),
        name=registered_name(),
        module=f"{cls.__module__}.{cls.__qualname__}",
        vsn=cls.vsn,
        status="suspended" if loop.suspended else "running",
        state=state,
        last_message=loop.last_message,
        logged=tuple(log) if log is not None else (),
        log_size=log.maxlen if log is not None else None,
        tracing=loop.debug is not None and loop.debug.trace,
        message_queue_len=info.message_queue_len if info is not None else 0,
    )


def _replace_state(loop: _Loop, fun: Callable[[Any], Any]) -> object:
    server = loop.server
    saved = dict(vars(server))
    try:
        _check_same_server(fun(server), server)
    except Exception as error:
        _restore(server, type(server), saved)
        return Failed(CallbackFailed(current_pid(), "replace_state", error))
    return server


def _check_same_server(result: object, server: object) -> None:
    # The state lives on the instance, so the function changes it in place;
    # what it returns can only say "done" (None, or the instance: OTP's
    # StateFun returns the new state).
    if result is None or result is server:
        return
    if inspect.iscoroutine(result):
        result.close()  # never awaited: say so ourselves, without the RuntimeWarning
        raise TypeError("replace_state takes a plain function (def, lambda), not an async one")
    raise TypeError(
        f"replace_state's function returned {result!r}; expected None or the server it changed "
        f"(the state lives on the instance: change its attributes)"
    )


def _set_trace(loop: _Loop, on: bool) -> None:
    debug = loop.debug or Debug()
    debug.trace = on
    loop.debug = None if debug.off else debug


def _log(loop: _Loop, what: int | bool | str) -> list[Event] | None:
    debug = loop.debug or Debug()
    if what == "get":
        return list(debug.log) if debug.log is not None else []
    if what is False:
        debug.log = None
    else:
        size = DEFAULT_LOG_SIZE if what is True else int(what)
        debug.log = collections.deque(debug.log or (), maxlen=size)
    loop.debug = None if debug.off else debug
    return None


async def _change_code(loop: _Loop, request: ChangeCode) -> object:
    """Take ``request.new_class`` and run its ``code_change``; all or nothing."""
    if not loop.suspended:
        return Failed(RuntimeError(f"{current_pid()!r} is running: suspend it (otp.sys.suspend) before change_code"))
    server = loop.server
    old_class = type(server)
    old_vsn = old_class.vsn
    saved = dict(vars(server))
    try:
        server.__class__ = request.new_class
        # Any: whatever it really returned, whatever its annotation says.
        result: Any = await server.code_change(old_vsn, request.extra)  # type: ignore[func-returns-value]
        if result is not None:
            raise TypeError(
                f"{request.new_class.__qualname__}.code_change returned {result!r}; expected None "
                f"(change the attributes on self; raise to refuse the upgrade)"
            )
    except Exception as error:
        _restore(server, old_class, saved)
        return Failed(CallbackFailed(current_pid(), "code_change", error))
    except BaseException:
        _restore(server, old_class, saved)  # an exit signal or Exit: end as the old code
        raise
    return old_vsn


def _restore(server: object, cls: type, saved: dict[str, object]) -> None:
    # Shallow: the attributes are put back, not what a callback changed inside
    # the objects they hold (code_change should build new values, not mutate).
    server.__class__ = cls
    attributes = vars(server)
    attributes.clear()
    attributes.update(saved)
