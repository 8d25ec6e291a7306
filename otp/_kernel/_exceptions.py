"""The exception tree of the kernel.

Success returns a value; failure raises one of these. Each carries fields, not
just text, and subclasses the built-in a caller would already catch::

    OTPError(Exception)
    ├── CallError(.server, .request, .timeout, .reason)   a call got no reply
    │   ├── CallTimeout                     also TimeoutError: no reply in time
    │   ├── NoProc                          the server was not running (reason NOPROC)
    │   ├── CallingSelf                     a process called itself (it would deadlock)
    │   └── ServerExited                    the server ended during the call (.reason)
    ├── StartError(.reason)                 a process failed to start (init raised, Stop, timeout)
    ├── AlreadyStarted(.pid)                a process with that name is already running
    ├── AlreadyRegistered(.key, .pid)       a name or key is held by another process
    ├── NotRegistered(.name)                also LookupError: no process has that name
    ├── NotAProcess                         also RuntimeError: not called from a process
    ├── AlreadyAttached(.handler_id)        also ValueError: a telemetry handler id is taken
    ├── ReceiveTimeout(.timeout, .patterns) also TimeoutError: receive(timeout=...) expired
    └── WouldBlock                          also trio.WouldBlock: receive_nowait() found nothing

    Exit(BaseException)(.reason)            raise Exit(reason) to end the current process

``Exit`` derives from ``BaseException`` so that ``except Exception`` in user
code cannot swallow a request to end the process. The call and start errors
belong to the behaviours (GenServer, Supervisor, Task) but live here so the
whole tree is drawn in one place. An uncaught ``CallError`` ends the caller
with that error as its reason, so links behave as in OTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from ._pid import Pid

__all__ = [
    "OTPError",
    "CallError",
    "CallTimeout",
    "NoProc",
    "CallingSelf",
    "ServerExited",
    "StartError",
    "AlreadyStarted",
    "AlreadyRegistered",
    "NotRegistered",
    "NotAProcess",
    "AlreadyAttached",
    "ReceiveTimeout",
    "WouldBlock",
    "Exit",
]


class OTPError(Exception):
    """Base class of every error this library raises for callers to handle."""


class CallError(OTPError):
    """A call (``GenServer.call``, ``Supervisor.which_children``, ...) got no reply.

    Attributes:
        server: what was called (pid, name or via-name).
        request: the request sent.
        timeout: the timeout of the call, in seconds.
        reason: why: ``"timeout"``, ``NOPROC``, ``"calling_self"`` or the
            server's exit reason.
    """

    def __init__(self, server: object, request: object, timeout: float, reason: object) -> None:
        super().__init__(self._explain(server, request, timeout, reason))
        self.server = server
        self.request = request
        self.timeout = timeout
        self.reason = reason

    def __reduce__(self) -> tuple[type[CallError], tuple[object, object, float, object]]:
        return (type(self), (self.server, self.request, self.timeout, self.reason))

    @staticmethod
    def _explain(server: object, request: object, timeout: float, reason: object) -> str:
        return f"call to {server!r} with {request!r} failed: {reason!r}"


class CallTimeout(CallError, TimeoutError):
    """The server did not reply within the timeout; a late reply will be dropped."""

    @staticmethod
    def _explain(server: object, request: object, timeout: float, reason: object) -> str:
        return f"call to {server!r} with {request!r} got no reply within {timeout} s"


class NoProc(CallError):
    """The server was not running (a dead pid or a name nobody holds)."""

    @staticmethod
    def _explain(server: object, request: object, timeout: float, reason: object) -> str:
        return f"call to {server!r} with {request!r}: no such process (it is not running)"


class CallingSelf(CallError):
    """A process called itself: it would wait for ever for its own reply."""

    @staticmethod
    def _explain(server: object, request: object, timeout: float, reason: object) -> str:
        return (
            f"a process cannot call itself ({server!r} with {request!r}): it would "
            f"deadlock. Do the work directly, or cast to yourself."
        )


class ServerExited(CallError):
    """The server ended before replying; ``.reason`` is its exit reason."""

    @staticmethod
    def _explain(server: object, request: object, timeout: float, reason: object) -> str:
        return f"call to {server!r} with {request!r}: the server exited with {reason!r}"


class StartError(OTPError):
    """A process failed to start: its ``init`` raised or stopped, or it timed out.

    ``.reason`` is the exception ``init`` raised, the reason of a ``Stop``, or
    ``"timeout"``.
    """

    def __init__(self, reason: object, what: object = None) -> None:
        who = f"{what} " if what is not None else ""
        super().__init__(f"{who}failed to start: {reason!r}")
        self.reason = reason
        self.what = what

    def __reduce__(self) -> tuple[type[StartError], tuple[object, object]]:
        return (type(self), (self.reason, self.what))


class AlreadyStarted(OTPError):
    """A process with this name is already running; ``.pid`` is that process."""

    def __init__(self, name: object, pid: Pid) -> None:
        super().__init__(f"{name!r} is already started as {pid!r}")
        self.name = name
        self.pid = pid

    def __reduce__(self) -> tuple[type[AlreadyStarted], tuple[object, Pid]]:
        return (type(self), (self.name, self.pid))


class AlreadyRegistered(OTPError):
    """A name (or a unique Registry key) is already held by a live process."""

    def __init__(self, key: object, pid: Pid) -> None:
        super().__init__(f"{key!r} is already registered to {pid!r}")
        self.key = key
        self.pid = pid


class AlreadyAttached(OTPError, ValueError):
    """A telemetry handler with this id is already attached (``otp.telemetry.attach``)."""

    def __init__(self, handler_id: object, event_names: tuple[tuple[str, ...], ...] = ()) -> None:
        super().__init__(
            f"a telemetry handler with id {handler_id!r} is already attached (to {list(event_names)!r}); "
            f"detach({handler_id!r}) first, or attach under another id"
        )
        self.handler_id = handler_id

    def __reduce__(self) -> tuple[type[AlreadyAttached], tuple[object]]:
        return (type(self), (self.handler_id,))


class NotRegistered(OTPError, LookupError):
    """No live process is registered under this name."""

    def __init__(self, name: object) -> None:
        super().__init__(f"no process is registered as {name!r}")
        self.name = name


class NotAProcess(OTPError, RuntimeError):
    """A process-only operation (receive, current_pid, ...) was called elsewhere."""


class ReceiveTimeout(OTPError, TimeoutError):
    """``receive(..., timeout=t)`` found no matching message within ``t`` seconds."""

    def __init__(self, timeout: float, patterns: tuple[object, ...]) -> None:
        wanted = ", ".join(map(_describe_pattern, patterns)) or "any message"
        super().__init__(f"no message matching {wanted} arrived within {timeout} s")
        self.timeout = timeout
        self.patterns = patterns


class WouldBlock(OTPError, trio.WouldBlock):
    """``receive_nowait()`` found no matching message in the mailbox."""


class Exit(BaseException):
    """Raise ``Exit(reason)`` to end the current process with ``reason``."""

    def __init__(self, reason: object) -> None:
        super().__init__(reason)
        self.reason = reason


def _describe_pattern(pattern: object) -> str:
    return getattr(pattern, "__qualname__", None) or repr(pattern)
