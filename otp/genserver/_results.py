"""What GenServer callbacks return, and the checks that explain a wrong return.

======================  ===============================================================
callback                accepted returns
======================  ===============================================================
``init``                ``None`` · ``NoReply(timeout=t | hibernate=True)`` ·
                        ``Continue(arg)`` · ``Stop(reason)`` · ``Ignore()``
``handle_call``         any value (the reply) · ``Reply(r, timeout=t | hibernate=True)``
                        · ``NoReply()`` · ``NoReply(timeout=t | hibernate=True)``
                        · ``Continue(arg, reply=r)`` · ``Stop(reason, reply=r)``
``handle_cast``,        ``None`` · ``NoReply()`` ·
``handle_info``,        ``NoReply(timeout=t | hibernate=True)`` · ``Continue(arg)`` ·
``handle_continue``     ``Stop(reason)``
``code_change``         ``None`` (raise to refuse the upgrade: see ``otp.upgrade``)
======================  ===============================================================

``handle_call`` replies with whatever it returns, ``None`` included, so its
only "not a reply" shapes are the result classes. ``Continue`` and ``Stop``
take an optional ``reply=`` there; without it, no reply is sent now (reply
later with ``GenServer.reply(caller, value)``). ``Reply(r)`` is the reply
``r`` with what to do next; it exists for the options, since a plain return
value cannot carry them.

What to do while waiting for the next message (OTP's ``Timeout |
hibernate | {continue, Arg}``, one of the three):

``timeout=t``
    if no message arrives within ``t`` seconds, ``handle_info(TIMEOUT)``
    runs. Any message cancels it: a call, a cast, any ``send``. System
    messages (``otp.sys``) do not: the deadline stays where it was, so that
    a dashboard reading the server every second does not keep it awake
    (OTP starts the timeout again after each). ``timeout=0`` means "time out
    now unless a message is already queued". A suspended server
    (``otp.sys.suspend``) runs no callback, so a deadline that passes while
    it is suspended fires as soon as it is resumed, if nothing else is
    queued by then.
``hibernate=True``
    the server gives back what it keeps only for speed while idle: its empty
    mailbox's storage (a deque keeps a block of about 0.7 KB once used, for
    ever) and its last message (kept for a crash report; a large message
    would otherwise stay alive until the next one). There is no per-process
    heap to compact in Python, and a whole-interpreter ``gc.collect`` per
    hibernation would cost every other process too, so that is all it does;
    it needs no callback of the server. Worth it for many servers that wait
    a long time between bursts (100,000 idle servers: about 76 MB).
``Continue(arg)``
    ``handle_continue(arg)`` runs before any other message.

A wrong option fails where it is written: ``NoReply(timeout=-1)`` raises
``ValueError``, ``NoReply(timeout=1, hibernate=True)`` and
``NoReply(timeout="1")`` raise ``TypeError``, in the callback, crashing the
server with that error and a crash report that points at the line.
"""

from __future__ import annotations

import math

from .._kernel import NORMAL

__all__ = [
    "NoReply",
    "Reply",
    "Stop",
    "Continue",
    "Ignore",
    "NO_REPLY",
    "check_init",
    "check_noreply",
    "check_call_result",
]


class _NoReplyMarker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY = _NoReplyMarker()


class NoReply:
    """No reply now; with ``timeout=`` or ``hibernate=True``, what to do while idle.

    From ``handle_call``: send no reply now; ``GenServer.reply(caller,
    value)`` later. Elsewhere (``init``, ``handle_cast``, ``handle_info``,
    ``handle_continue``) ``NoReply()`` means the same as ``None``; its options
    are the reason to return it there::

        return NoReply(timeout=30.0)     # handle_info(TIMEOUT) after 30 s of silence
        return NoReply(hibernate=True)   # give back memory while waiting

    Args:
        timeout: seconds without a message before ``handle_info(TIMEOUT)``
            runs; None (or ``math.inf``) waits for ever.
        hibernate: give back the idle server's caches (see this module's docstring).

    Raises:
        TypeError: both options, or an option of the wrong type.
        ValueError: a negative or NaN timeout.
    """

    __slots__ = ("timeout", "hibernate")

    def __init__(self, *, timeout: float | None = None, hibernate: bool = False) -> None:
        if timeout is not None or hibernate is not False:
            timeout = _check_idle(self, timeout, hibernate)
        self.timeout = timeout
        self.hibernate = hibernate

    def __repr__(self) -> str:
        return f"NoReply({_options(self.timeout, self.hibernate)})"

    def __eq__(self, other: object) -> bool:
        return other.__class__ is NoReply and (self.timeout, self.hibernate) == (other.timeout, other.hibernate)

    __hash__ = object.__hash__


class Reply:
    """``handle_call``: reply ``value``, then wait for the next message with a timeout or hibernated.

    ``return Reply(count, timeout=5.0)`` is OTP's ``{reply, Count, State,
    5000}``. Without options it is the same as ``return value``.

    Raises:
        TypeError, ValueError: as :class:`NoReply` for its options.
    """

    __slots__ = ("value", "timeout", "hibernate")

    def __init__(self, value: object, *, timeout: float | None = None, hibernate: bool = False) -> None:
        if timeout is not None or hibernate is not False:
            timeout = _check_idle(self, timeout, hibernate)
        self.value = value
        self.timeout = timeout
        self.hibernate = hibernate

    def __repr__(self) -> str:
        options = _options(self.timeout, self.hibernate)
        return f"Reply({self.value!r}{', ' + options if options else ''})"

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Reply and (self.value, self.timeout, self.hibernate) == (
            other.value,
            other.timeout,
            other.hibernate,
        )

    __hash__ = object.__hash__


def _check_idle(result: object, timeout: object, hibernate: object) -> float | None:
    """The checked ``timeout`` of a NoReply or Reply (``math.inf`` becomes None: no timeout)."""
    shape = type(result).__name__
    if hibernate is not False and hibernate is not True:
        raise TypeError(f"{shape}(hibernate=...) takes True or False; got {hibernate!r}")
    if timeout is not None and hibernate:
        raise TypeError(
            f"{shape}() takes timeout= or hibernate=True, not both: a hibernating server waits for its next "
            f"message however long it takes"
        )
    if timeout is None:
        return None
    if timeout.__class__ is bool or not isinstance(timeout, (int, float)):
        raise TypeError(f"{shape}(timeout=...) takes seconds (an int or a float) or None; got {timeout!r}")
    if math.isnan(timeout) or timeout < 0:
        raise ValueError(f"{shape}(timeout=...) takes seconds >= 0; got {timeout!r}")
    return None if timeout == math.inf else float(timeout)


def _options(timeout: float | None, hibernate: bool) -> str:
    if timeout is not None:
        return f"timeout={timeout!r}"
    return "hibernate=True" if hibernate else ""


class Stop:
    """Stop the server with ``reason`` after ``terminate(reason)`` has run.

    From ``handle_call``, ``reply=value`` also answers the caller (after
    ``terminate``, as OTP does). From ``init``, ``start_link`` raises
    ``StartError(reason)``.
    """

    __slots__ = ("reason", "reply")

    def __init__(self, reason: object = NORMAL, *, reply: object = NO_REPLY) -> None:
        self.reason = reason
        self.reply = reply

    def __repr__(self) -> str:
        if self.reply is NO_REPLY:
            return f"Stop({self.reason!r})"
        return f"Stop({self.reason!r}, reply={self.reply!r})"

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Stop and (self.reason, self.reply) == (other.reason, other.reply)

    __hash__ = object.__hash__


class Continue:
    """Run ``handle_continue(arg)`` next, before any other message is handled.

    From ``handle_call``, ``reply=value`` answers the caller first.
    """

    __slots__ = ("arg", "reply")

    def __init__(self, arg: object, *, reply: object = NO_REPLY) -> None:
        self.arg = arg
        self.reply = reply

    def __repr__(self) -> str:
        if self.reply is NO_REPLY:
            return f"Continue({self.arg!r})"
        return f"Continue({self.arg!r}, reply={self.reply!r})"

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Continue and (self.arg, self.reply) == (other.arg, other.reply)

    __hash__ = object.__hash__


class Ignore:
    """``init``: do not start; ``start_link`` returns None and the process ends normally.

    A supervisor keeps the child spec of an ignored child, with no pid.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Ignore()"

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Ignore

    __hash__ = object.__hash__


_INIT_SHAPES = "None, NoReply(timeout=t | hibernate=True), Continue(arg), Stop(reason) or Ignore()"
_NOREPLY_SHAPES = "None, NoReply(), Continue(arg) or Stop(reason)"
_CALL_SHAPES = "a reply value, NoReply(), Continue(arg, reply=r) or Stop(reason, reply=r)"


def check_init(server: object, result: object) -> None:
    """Raises TypeError unless ``result`` is a shape ``init`` may return (see the table above)."""
    if result is None or isinstance(result, (NoReply, Ignore)):
        return
    if isinstance(result, (Continue, Stop)):
        if result.reply is not NO_REPLY:
            raise _wrong(server, "init", result, _INIT_SHAPES, "reply= only makes sense in handle_call")
        return
    hint = "only handle_call replies" if isinstance(result, Reply) else "keep state on self and return None"
    raise _wrong(server, "init", result, _INIT_SHAPES, hint)


def check_noreply(server: object, callback: str, result: object) -> NoReply | Continue | Stop:
    """``result`` of a non-call callback that is not None: a NoReply, a Continue or a Stop.

    Raises:
        TypeError: it is anything else (or has a ``reply=``).
    """
    if isinstance(result, NoReply):
        return result
    if isinstance(result, (Continue, Stop)):
        if result.reply is not NO_REPLY:
            raise _wrong(server, callback, result, _NOREPLY_SHAPES, "there is no caller to reply to")
        return result
    if isinstance(result, Reply):
        hint = "there is no caller to reply to; NoReply(timeout=..., hibernate=...) takes the same options"
    else:
        hint = "keep state on self; only handle_call returns a reply"
    raise _wrong(server, callback, result, _NOREPLY_SHAPES, hint)


def check_call_result(server: object, result: object) -> TypeError:
    """The error for ``Ignore()`` from handle_call, the one shape it cannot reply with."""
    return _wrong(
        server, "handle_call", result, _CALL_SHAPES, "Ignore() only makes sense in init; to reply None, return None"
    )


def _wrong(server: object, callback: str, result: object, accepted: str, hint: str) -> TypeError:
    name = f"{type(server).__qualname__}.{callback}"
    return TypeError(f"{name} returned {result!r}; expected {accepted} ({hint})")
