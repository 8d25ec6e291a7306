"""The exception tree of the kernel.

Success returns a value; failure raises one of these. Each carries fields, not
just text, and subclasses the built-in a caller would already catch::

    OTPError(Exception)
    ├── AlreadyRegistered(.key, .pid)       a name or key is held by another process
    ├── NotRegistered(.name)                also LookupError: no process has that name
    ├── NotAProcess                         also RuntimeError: not called from a process
    ├── ReceiveTimeout(.timeout, .patterns) also TimeoutError: receive(timeout=...) expired
    └── WouldBlock                          also trio.WouldBlock: receive_nowait() found nothing

    Exit(BaseException)(.reason)            raise Exit(reason) to end the current process

``Exit`` derives from ``BaseException`` so that ``except Exception`` in user
code cannot swallow a request to end the process. The behaviours (GenServer,
Supervisor, ...) add their own branches under ``OTPError``.
"""

from __future__ import annotations

import trio

__all__ = [
    "OTPError",
    "AlreadyRegistered",
    "NotRegistered",
    "NotAProcess",
    "ReceiveTimeout",
    "WouldBlock",
    "Exit",
]


class OTPError(Exception):
    """Base class of every error this library raises for callers to handle."""


class AlreadyRegistered(OTPError):
    """A name (or a unique Registry key) is already held by a live process."""

    def __init__(self, key: object, pid: object) -> None:
        super().__init__(f"{key!r} is already registered to {pid!r}")
        self.key = key
        self.pid = pid


class NotRegistered(OTPError, LookupError):
    """No live process is registered under this name."""

    def __init__(self, name: object) -> None:
        super().__init__(f"no process is registered as {name!r}")
        self.name = name


class NotAProcess(OTPError, RuntimeError):
    """A process-only operation (receive, current_pid, ...) was called elsewhere."""


class ReceiveTimeout(OTPError, TimeoutError):
    """``receive(..., timeout=t)`` found no matching message within ``t`` seconds."""

    def __init__(self, timeout: float, patterns: tuple) -> None:
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
