"""What GenServer callbacks return, and the checks that explain a wrong return.

======================  ===============================================================
callback                accepted returns
======================  ===============================================================
``init``                ``None`` · ``Continue(arg)`` · ``Stop(reason)`` · ``Ignore()``
``handle_call``         any value (the reply) · ``NoReply()`` · ``Continue(arg, reply=r)``
                        · ``Stop(reason, reply=r)``
``handle_cast``,        ``None`` · ``NoReply()`` · ``Continue(arg)`` · ``Stop(reason)``
``handle_info``,
``handle_continue``
======================  ===============================================================

``handle_call`` replies with whatever it returns, ``None`` included, so its
only "not a reply" shapes are the three result classes. ``Continue`` and
``Stop`` take an optional ``reply=`` there; without it, no reply is sent now
(reply later with ``GenServer.reply(caller, value)``).
"""

from __future__ import annotations

from .._kernel import NORMAL

__all__ = ["NoReply", "Stop", "Continue", "Ignore", "NO_REPLY", "check_init", "check_noreply", "check_call_result"]


class _NoReplyMarker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY = _NoReplyMarker()


class NoReply:
    """``handle_call``: send no reply now; ``GenServer.reply(caller, value)`` later.

    Elsewhere (``handle_cast``, ``handle_info``) it means the same as ``None``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "NoReply()"

    def __eq__(self, other: object) -> bool:
        return other.__class__ is NoReply

    __hash__ = object.__hash__


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


_INIT_SHAPES = "None, Continue(arg), Stop(reason) or Ignore()"
_NOREPLY_SHAPES = "None, NoReply(), Continue(arg) or Stop(reason)"
_CALL_SHAPES = "a reply value, NoReply(), Continue(arg, reply=r) or Stop(reason, reply=r)"


def check_init(server: object, result: object) -> None:
    if result is None or result.__class__ in (Continue, Stop, Ignore):
        if result.__class__ in (Continue, Stop) and result.reply is not NO_REPLY:
            raise _wrong(server, "init", result, _INIT_SHAPES, "reply= only makes sense in handle_call")
        return
    raise _wrong(server, "init", result, _INIT_SHAPES, "keep state on self and return None")


def check_noreply(server: object, callback: str, result: object) -> Continue | Stop:
    """``result`` of a non-call callback that is neither None nor NoReply: a Continue or a Stop.

    Raises:
        TypeError: it is anything else (or has a ``reply=``).
    """
    if result.__class__ is Continue or result.__class__ is Stop:
        if result.reply is not NO_REPLY:
            raise _wrong(server, callback, result, _NOREPLY_SHAPES, "there is no caller to reply to")
        return result
    raise _wrong(
        server, callback, result, _NOREPLY_SHAPES, "keep state on self; only handle_call returns a reply"
    )


def check_call_result(server: object, result: object) -> TypeError:
    """The error for ``Ignore()`` from handle_call, the one shape it cannot reply with."""
    return _wrong(
        server, "handle_call", result, _CALL_SHAPES, "Ignore() only makes sense in init; to reply None, return None"
    )


def _wrong(server: object, callback: str, result: object, accepted: str, hint: str) -> TypeError:
    name = f"{type(server).__qualname__}.{callback}"
    return TypeError(f"{name} returned {result!r}; expected {accepted} ({hint})")
