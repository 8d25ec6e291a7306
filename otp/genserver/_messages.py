"""The messages a GenServer exchanges with its clients (OTP's ``$gen_call`` and friends).

Plain slotted classes rather than attrs: one of each is made per call or
cast, on the hottest path of the library.
"""

from __future__ import annotations

from .._kernel import Pid, Ref

__all__ = ["From", "Call", "Cast", "System", "StopRequest", "Ack", "TIMEOUT"]


class From:
    """Who is waiting for a reply: the caller's pid and the call's ref (an alias).

    Pass it to ``GenServer.reply(caller, value)`` to answer later.
    """

    __slots__ = ("pid", "ref")

    def __init__(self, pid: Pid, ref: Ref) -> None:
        self.pid = pid
        self.ref = ref

    def __repr__(self) -> str:
        return f"From({self.pid!r}, {self.ref!r})"

    def __eq__(self, other: object) -> bool:
        return other.__class__ is From and self.ref == other.ref and self.pid == other.pid

    def __hash__(self) -> int:
        return hash(self.ref)


class Call:
    __slots__ = ("request", "caller")

    def __init__(self, request: object, caller: From) -> None:
        self.request = request
        self.caller = caller

    def __repr__(self) -> str:
        return f"Call({self.request!r}, {self.caller!r})"


class Cast:
    __slots__ = ("request",)

    def __init__(self, request: object) -> None:
        self.request = request

    def __repr__(self) -> str:
        return f"Cast({self.request!r})"


class System:
    """A system message (OTP's ``{system, From, Request}``): a request of ``otp.sys``.

    Served by the server loop itself, between two messages, even while the
    server is suspended; the server's callbacks never see it.
    """

    __slots__ = ("request", "caller")

    def __init__(self, request: object, caller: From) -> None:
        self.request = request
        self.caller = caller

    def __repr__(self) -> str:
        return f"System({self.request!r}, {self.caller!r})"


class StopRequest:
    """``GenServer.stop``: run ``terminate(reason)`` and exit with ``reason``."""

    __slots__ = ("reason",)

    def __init__(self, reason: object) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"StopRequest({self.reason!r})"


class Ack:
    """A starting server tells its starter how ``init`` went.

    ``outcome`` is ``"started"``, ``"ignored"`` or ``"failed"`` (then
    ``reason`` says why: an exception, a ``Stop`` reason, or
    ``AlreadyStarted``).
    """

    __slots__ = ("ref", "outcome", "reason")

    def __init__(self, ref: Ref, outcome: str, reason: object = None) -> None:
        self.ref = ref
        self.outcome = outcome
        self.reason = reason

    def __repr__(self) -> str:
        return f"Ack({self.ref!r}, {self.outcome!r}, {self.reason!r})"


class _Timeout:
    __slots__ = ()

    def __repr__(self) -> str:
        return "TIMEOUT"


TIMEOUT = _Timeout()
"""What ``handle_info`` receives when a ``timeout=`` of ``NoReply`` or ``Reply`` expires (OTP's ``timeout``)."""
