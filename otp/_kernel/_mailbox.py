"""Mailboxes: ``send`` and selective ``receive``.

Every process has one unbounded mailbox. ``send`` never blocks and never
fails for a pid: a message to a dead process is dropped, as in Erlang.
``receive`` is *selective*: it takes the oldest message that matches one of
its patterns and leaves the others queued, in order, for a later receive::

    send(pid, "hello")                       # sync: never a checkpoint
    msg = await receive()                    # the oldest message
    down = await receive(Down)               # the oldest Down, others stay
    n = await receive(lambda m: isinstance(m, int) and m > 3)
    msg = await receive(Down, timeout=1.0)   # ReceiveTimeout after 1 s
    msg = receive_nowait()                   # WouldBlock if none

A pattern is a type (``isinstance``) or a predicate (a callable returning a
bool). With no patterns, any message matches. Messages from one sender to one
receiver arrive in the order they were sent.

``receive`` on timeout raises :class:`ReceiveTimeout` (we chose an exception
over a sentinel: a forgotten check of a sentinel silently treats "nothing
came" as a message). ``timeout=0`` checks the mailbox without waiting, like
Erlang's ``after 0``. To wait with a trio deadline instead, wrap the receive
in ``trio.move_on_after``: a receive cancelled that way consumes nothing.
(``timeout=`` is the cheaper of the two: it is one entry in the node's timer
service, not a trio deadline.)

How it is fast: a process parked in ``receive`` is woken with trio's
low-level ``reschedule``, handing it the matching message directly; the
message never touches the queue. Only messages that arrive while the
receiver is busy, or that its patterns reject, are queued.

A queue that reaches 1,000 messages, then 2,000, 4,000 and so on, is the
telemetry event ``("otp", "process", "mailbox_high_water")``, each mark once
per process; with no handler attached the check costs one truth test, on
the queueing path only.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, TypeAlias, TypeVar, overload

import outcome
from trio.lowlevel import (
    Abort,
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_task_rescheduled,
)

from ._exceptions import NotAProcess, ReceiveTimeout, WouldBlock
from ._names import Destination, is_remote_name, resolve
from ._pid import Pid, Ref
from ._process import Process, _current, current_process
from ._telemetry import HANDLERS, dispatch

__all__ = ["send", "receive", "receive_nowait", "deliver", "Pattern", "Predicate"]

Pattern: TypeAlias = type[Any] | Callable[[Any], object]
"""What ``receive`` accepts as a pattern: a type (``isinstance``) or a predicate."""

Predicate: TypeAlias = Callable[[Any], bool]
"""A pattern that is a function: ``lambda m: isinstance(m, int) and m > 3``."""

# For type checkers, receive has three shapes: one type gives that type;
# predicates only, or several patterns, give Any. (Were one overload to take
# any pattern, a lone type would also match it, and a wrong annotation of
# what it gives, `x: A = await receive(B)`, would go unnoticed.)

M = TypeVar("M")

_NOTHING = object()
# Handed to a parked receiver when its predicate raised in the sender: the
# receiver re-runs its own patterns so the error surfaces in its own process.
_RESCAN = object()
# Handed to a parked receiver by its timeout timer.
_TIMED_OUT = object()

# Telemetry (see otp.telemetry): a queue reaching 1,000 messages, then 2,000, 4,000, ...
MAILBOX_HIGH_WATER = ("otp", "process", "mailbox_high_water")
FIRST_MARK = 1000


def send(dest: Destination | Ref, message: object) -> None:
    """Put ``message`` in the mailbox of ``dest``. Never blocks.

    Args:
        dest: a :class:`Pid`, a registered name, a via-name, or an alias
            (a :class:`Ref` made by ``alias()``).

    A dead pid or a revoked alias drops the message silently (as Erlang does).

    Raises:
        NotRegistered: ``dest`` is a name that no live process holds.
    """
    if dest.__class__ is Pid:
        process = dest._process
        if process is None:
            if dest.node:
                _send_remote(dest, message)
                return
            process = resolve(dest)
    elif isinstance(dest, Ref):
        process = current_process().node.aliases.get(dest)
    elif dest.__class__ is tuple and is_remote_name(dest) and dest[1] != current_process().node.name:
        _send_remote(dest, message)
        return
    else:
        process = resolve(dest, must_exist=True)
    if process is not None and process.alive:
        deliver(process, message)


def _send_remote(dest: Destination, message: object) -> None:
    # To another node: through the node's distribution (otp.dist), if it has
    # one; a node that is not distributed has no way there, so, as for a
    # dead pid, the message is dropped.
    remote = current_process().node.remote
    if remote is not None:
        remote.send(dest, message)


def deliver(process: Process, message: object) -> None:
    """Hand ``message`` to a live ``process``: wake it if it waits for it, else queue it."""
    if process.waiting:
        patterns = process.patterns
        if not patterns:
            _wake(process, message)
            return
        verdict = _matches_in_sender(patterns, message)
        if verdict is True:
            _wake(process, message)
            return
        if verdict is None:
            _enqueue(process, message)
            _wake(process, _RESCAN)
            return
    _enqueue(process, message)


@overload
async def receive(pattern: type[M], /, *, timeout: float | None = None) -> M: ...
@overload
async def receive(*predicates: Predicate, timeout: float | None = None) -> Any: ...
@overload
async def receive(first: Pattern, second: Pattern, /, *patterns: Pattern, timeout: float | None = None) -> Any: ...


async def receive(*patterns: Pattern, timeout: float | None = None) -> Any:
    """Wait for and remove the oldest message matching one of ``patterns``.

    Always a checkpoint. Messages that match no pattern stay queued. For
    type checkers, ``receive(SomeType)`` returns a ``SomeType``; any other
    receive returns ``Any`` (a message can be anything: narrow it yourself).

    Args:
        patterns: types and/or predicates; none means any message.
        timeout: seconds to wait; ``None`` waits for ever, ``0`` does not wait.

    Raises:
        ReceiveTimeout: nothing matched within ``timeout``.
        NotAProcess: not called by a process's own task.
    """
    process = _receiving_process()
    if patterns:
        _check_patterns(patterns)
    mailbox = process.mailbox
    if mailbox:
        await checkpoint_if_cancelled()
        message = _take(process, mailbox, patterns)
        if message is not _NOTHING:
            await cancel_shielded_checkpoint()
            return message
    # No checkpoint_if_cancelled before parking: trio delivers a pending
    # cancellation the moment a task parks, so the park is the checkpoint.
    if timeout is None:
        return await _park(process, patterns)
    if timeout > 0:
        message = await _park_until(process, patterns, timeout)
        if message is not _TIMED_OUT:
            return message
    else:
        await checkpoint()
    raise ReceiveTimeout(timeout, patterns)


@overload
def receive_nowait(pattern: type[M], /) -> M: ...
@overload
def receive_nowait(*predicates: Predicate) -> Any: ...
@overload
def receive_nowait(first: Pattern, second: Pattern, /, *patterns: Pattern) -> Any: ...


def receive_nowait(*patterns: Pattern) -> Any:
    """Remove and return the oldest message matching ``patterns`` without waiting.

    Raises:
        WouldBlock: no queued message matches.
    """
    process = _receiving_process()
    if patterns:
        _check_patterns(patterns)
    mailbox = process.mailbox
    if mailbox:
        message = _take(process, mailbox, patterns)
        if message is not _NOTHING:
            return message
    raise WouldBlock()


def queued(process: Process) -> list[Any]:
    """A copy of the messages waiting in ``process``'s mailbox, oldest first."""
    return list(process.mailbox) if process.mailbox else []


# ---------------------------------------------------------------- helpers


def _receiving_process() -> Process:
    process = _current.get(None)
    # A helper task started by a process inherits its context; letting it
    # receive would have two tasks park on one mailbox.
    if process is None or process.task is not current_task():
        raise NotAProcess(
            "receive() must be called by an otp process's own task, not from "
            "outside a node or from a trio task that a process started"
        )
    return process


async def _park(process: Process, patterns: tuple[Pattern, ...]) -> Any:
    process.patterns = patterns
    process.waiting = True
    while True:
        message = await wait_task_rescheduled(_abort_for(process))
        if message is not _RESCAN:
            if message is _TIMED_OUT:
                return message
            process.messages_received += 1
            return message
        mailbox = process.mailbox
        message = _take(process, mailbox, patterns) if mailbox else _NOTHING
        if message is not _NOTHING:
            process.messages_received += 1
            return message
        process.waiting = True


async def _park_until(process: Process, patterns: tuple[Pattern, ...], timeout: float) -> Any:
    # The node's timer service wakes us with _TIMED_OUT; cheaper than a trio
    # cancel scope with a deadline (see TimerService.call_later).
    timers = process.node.timers

    def time_out() -> None:
        if process.waiting:
            _wake(process, _TIMED_OUT)

    entry = timers.call_later(timeout, time_out)
    try:
        return await _park(process, patterns)
    finally:
        timers.cancel_later(entry)


def _abort_for(process: Process) -> Callable[[Any], Abort]:
    # Made once per process and kept: a park is the hottest path there is.
    # (A bound method, 64 bytes, where a closure and its cell took 190.)
    abort = process.abort
    if abort is None:
        abort = process.abort = process.stop_waiting
    return abort


def _wake(process: Process, message: object) -> None:
    process.waiting = False
    # Only a parked process is woken, and a parked process has its task: no
    # None check on the hottest path for the type checker's sake.
    reschedule(process.task, outcome.Value(message))  # type: ignore[arg-type]


def _enqueue(process: Process, message: object) -> None:
    mailbox = process.mailbox
    if mailbox is None:
        process.mailbox = deque((message,))
    else:
        mailbox.append(message)
        if HANDLERS and len(mailbox) >= FIRST_MARK:  # the empty table first: W4 queues a million
            _high_water(process, len(mailbox))
    if process.mail_callback is not None:
        process.mail_callback()  # it waits on something else (a socket): see set_mail_callback


def _high_water(process: Process, length: int) -> None:
    # Each mark is reported once per process life (a high-water mark, not a
    # level): the next one is twice the last. The mark moves before the
    # handlers run, so a handler sending to this process cannot recurse here.
    handlers = HANDLERS.get(MAILBOX_HIGH_WATER)
    if not handlers:
        return
    marks = process.node.mailbox_marks
    mark = marks.get(process, FIRST_MARK)
    if length < mark:
        return
    while mark * 2 <= length:
        mark *= 2
    marks[process] = mark * 2
    dispatch(handlers, MAILBOX_HIGH_WATER, {"length": length, "threshold": mark}, {"pid": process.pid, "name": process.name})


def _take(process: Process, mailbox: deque[Any], patterns: tuple[Pattern, ...]) -> Any:
    """Remove and return the oldest match queued in ``mailbox`` (``process``'s), or ``_NOTHING``."""
    if not patterns:
        process.messages_received += 1
        return mailbox.popleft()
    for index, message in enumerate(mailbox):
        if _matches(patterns, message):
            del mailbox[index]
            process.messages_received += 1
            return message
    return _NOTHING


def _matches(patterns: tuple[Pattern, ...], message: object) -> bool:
    for pattern in patterns:
        if isinstance(pattern, type):
            if isinstance(message, pattern):
                return True
        elif pattern(message):
            return True
    return False


def _matches_in_sender(patterns: tuple[Pattern, ...], message: object) -> bool | None:
    # The receiver's predicates run here, in the sender's task. A predicate
    # that raises must not crash the sender: report "unknown" and let the
    # receiver evaluate it again in its own process.
    try:
        return bool(_matches(patterns, message))
    except Exception:
        return None


def _check_patterns(patterns: tuple[object, ...]) -> None:
    for pattern in patterns:
        if not callable(pattern):
            raise TypeError(
                f"receive() patterns must be types or predicates (callables "
                f"returning a bool); got {pattern!r}. To match a value, use "
                f"a predicate: receive(lambda m: m == {pattern!r})"
            )
