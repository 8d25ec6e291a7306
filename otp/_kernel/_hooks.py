"""Process-level hooks for behaviours and tools, exported by ``otp.lowlevel``.

Each is a small, O(1) read or write on the caller's process record (or on
a process a pid names) that a behaviour needs and a user program does not:
whether the caller is already exiting, its registered name, extra lines for
its crash report, the message that ended a protocol. For example, a
behaviour that traps exits cleans up a link's signal after an unlink::

    unlink(pid)
    take_exit_signal(pid)   # the ExitSignal that raced the unlink, or None
"""

from __future__ import annotations

import logging
from typing import Any, Callable, TypeVar, overload

from ._crash import logger as crash_logger
from ._exceptions import WouldBlock
from ._mailbox import Pattern, Predicate, queued, receive_nowait
from ._names import Destination, resolve
from ._pid import Pid
from ._process import current_process
from ._signals import ExitSignal

M = TypeVar("M")


def resolve_pid(dest: Destination) -> Pid | None:
    """The pid of the live process ``dest`` (pid, name or via-name) names, or None.

    Unlike ``is_alive``, this still finds a process that an exit signal is
    ending until it has ended: a tool that wants to wait for that end
    (``monitor`` it) asks here.
    """
    process = resolve(dest)
    return process.pid if process is not None else None


def queued_messages(pid: Destination | None = None) -> list[Any]:
    """A copy of the messages queued for ``pid`` (default: the caller), oldest first."""
    process = current_process() if pid is None else resolve(pid)
    return queued(process) if process is not None else []


def set_report_details(
    details: Callable[[], dict[str, object]] | None,
    *,
    logger: logging.Logger | None = None,
    fields: dict[str, object] | None = None,
) -> None:
    """Have the caller's crash report include ``details()``, a dict label → value.

    ``details`` is called only if the process crashes, so it may be costly;
    pass None to remove it. Values are shown with ``repr`` (strings as is),
    cut to 2,000 characters.

    ``logger`` is where the report goes instead of ``otp.process``: a
    behaviour names its own (``otp.genserver``, ``web.channel``) so that its
    users can configure its reports apart. ``fields`` become attributes of the
    report's record next to ``otp_pid``, ``otp_name`` and ``otp_reason``
    (``{"otp_topic": topic}``), for handlers that want data, not text; the
    names in use are listed in :mod:`otp.log`. Each call replaces all three.
    """
    process = current_process()
    process.report_details = details
    if logger is None and not fields:
        process.report_logging = None
    else:
        process.report_logging = (logger if logger is not None else crash_logger, dict(fields or {}))


def exiting() -> bool:
    """True once an exit signal has ended the caller, while it unwinds.

    A behaviour uses it to tell ``Exit`` raised by its callback (run
    ``terminate``) from the kernel ending the process (do not).
    """
    return current_process().kill_reason is not None


def registered_name(pid: Destination | None = None) -> str | None:
    """The registered name of ``pid`` (default: the caller), or None. O(1), unlike process_info."""
    process = current_process() if pid is None else resolve(pid)
    return process.name if process is not None else None


def is_linked(pid: Pid) -> bool:
    """Whether the caller is linked to the local process ``pid``. O(1)."""
    me = current_process()
    other = resolve(pid)
    return other is not None and me.links is not None and other in me.links


@overload
def take_queued(pattern: type[M], /) -> M | None: ...
@overload
def take_queued(*predicates: Predicate) -> Any: ...
@overload
def take_queued(first: Pattern, second: Pattern, /, *patterns: Pattern) -> Any: ...


def take_queued(*patterns: Pattern) -> Any:
    """Remove and return the oldest queued message matching ``patterns``, or None. Never waits.

    For cleaning up after a protocol (a late ack, a link's exit signal) without
    the ``WouldBlock`` dance.
    """
    try:
        return receive_nowait(*patterns)
    except WouldBlock:
        return None


def release_mailbox() -> bool:
    """Give back the storage of the caller's mailbox if it is empty; True if there was some to give.

    A mailbox's deque is made when the first message is queued and kept: a
    block of about 0.7 KB that an idle process holds for ever. A hibernating
    GenServer calls this; the next queued message makes a new one.
    """
    process = current_process()
    if process.mailbox is None or process.mailbox:
        return False
    process.mailbox = None
    return True


def set_mail_callback(callback: Callable[[], None] | None) -> None:
    """Have ``callback()`` called whenever a message is queued for the caller; None: no more.

    For a process whose own task waits on something other than its mailbox
    (a socket's next bytes, say) and must still take the messages sent to
    it: the callback wakes it (cancels that wait), and it takes them with
    ``receive_nowait``. A message that a ``receive`` in progress takes at
    once is not queued, so it calls nothing.

    The callback runs in the *sender's* task, inside ``send`` (or wherever
    the message comes from: a monitor's ``Down``, a timer): it must be
    sync, quick, and never raise (set a flag, cancel a scope). It is
    dropped when the process ends.
    """
    current_process().mail_callback = callback


def take_exit_signal(pid: Pid) -> ExitSignal | None:
    """Remove and return a queued ``ExitSignal`` from ``pid`` (the caller traps exits), or None."""
    return take_queued(lambda m: m.__class__ is ExitSignal and m.pid == pid)
