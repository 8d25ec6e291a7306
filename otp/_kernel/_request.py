"""Request/response: the kernel half of ``GenServer.call`` (Erlang's ``gen:call``).

``await request(dest, build, timeout)`` does in one step what a call needs:
monitor ``dest``, make the monitor's ref an alias of the caller, send it
``build(caller_pid, ref)``, and wait for either ``respond(ref, value)`` or
the target's end. It returns the :class:`Response` or the ``Down``::

    answer = await request(server, lambda pid, ref: ("get", pid, ref), 5.0)
    # in the server:  respond(ref, count)

It exists because a call is the hottest path of the behaviours, and doing
it with the public pieces (``monitor(alias=True)``, ``send``, ``receive``
with a predicate, ``unalias``, ``demonitor``) costs twice the Python work.
The semantics are the same as that composition:

* the target not running: returns None at once (the caller says NOPROC);
* no answer within ``timeout``: raises ``ReceiveTimeout``, after revoking the
  alias (a late response is dropped by the kernel) and removing any
  response or ``Down`` that arrived meanwhile, so nothing stale stays queued;
* a response wakes the parked caller directly: no pattern is evaluated.
"""

from __future__ import annotations

import math
from typing import Any, Callable, final

from trio.lowlevel import current_task, wait_task_rescheduled

from ._aliases import add_alias
from ._exceptions import NotAProcess, ReceiveTimeout
from ._mailbox import _NOTHING, _RESCAN, _TIMED_OUT, Pattern, _abort_for, _take, _wake, deliver
from ._names import Destination, remote_destination, resolve
from ._pid import Pid, Ref
from ._process import Process, _current, current_process
from ._signals import Down, _add_monitor

__all__ = ["Response", "request", "respond", "respond_to"]

RequestBuilder = Callable[[Pid, Ref], object]
"""``build(caller_pid, ref)``: makes the message a request sends."""


@final
class Response:
    """What ``respond(ref, value)`` delivers to the caller waiting on ``ref``."""

    __slots__ = ("ref", "value")

    def __init__(self, ref: Ref, value: object) -> None:
        self.ref = ref
        self.value = value

    def __repr__(self) -> str:
        return f"Response({self.ref!r}, {self.value!r})"


async def request(dest: Destination, build: RequestBuilder, timeout: float) -> Response | Down | None:
    """Send ``build(my_pid, ref)`` to ``dest`` and wait for the response or its end.

    Returns None if ``dest`` is not running. Raises ``ValueError`` if the
    caller is ``dest`` (the caller turns that into ``CallingSelf``).
    """
    me = _current.get(None)
    if me is None or me.task is not current_task():
        raise NotAProcess("a call must be made by an otp process's own task")
    target = dest._process if dest.__class__ is Pid else None
    if target is None or not target.alive:
        if remote_destination(dest, me.node):
            return await _remote_request(me, dest, build, timeout)
        target = resolve(dest, node=me.node)
        if target is None:
            return None
    if target is me:
        raise ValueError("calling self")
    ref = Ref.make()
    add_alias(me, ref)
    _add_monitor(me, target, ref)
    deliver(target, build(me.pid, ref))
    try:
        answer = await _wait_answer(me, ref, timeout)
    except BaseException:
        # Timed out, or cancelled from outside: forget the request entirely.
        _forget(me, ref)
        raise
    _forget(me, ref)
    return answer


async def _remote_request(me: Process, dest: Destination, build: RequestBuilder, timeout: float) -> Response | Down | None:
    # The same protocol across nodes: the distribution monitors the remote
    # target for us (a Down comes back, NODEDOWN if its node vanishes), and
    # the response comes back addressed to our alias.
    remote = me.node.remote
    if remote is None:
        return None
    ref = Ref.make()
    add_alias(me, ref)
    remote.monitor(me, dest, ref)
    remote.send(dest, build(me.pid, ref))
    try:
        answer = await _wait_answer(me, ref, timeout)
    except BaseException:
        _forget(me, ref)
        remote.demonitor(me, ref)
        raise
    _forget(me, ref)
    if answer.__class__ is Response:
        remote.demonitor(me, ref)
    return answer


def respond_to(pid: Pid, ref: Ref, value: object) -> None:
    """Answer the request tagged ``ref`` made by ``pid``, which may be on another node."""
    if pid.node:
        remote = current_process().node.remote
        if remote is not None:
            remote.respond(pid, ref, value)
        return
    respond(ref, value)


def respond(ref: Ref, value: object) -> None:
    """Answer the request tagged ``ref``; dropped if its caller gave up or ended."""
    process = current_process().node.aliases.get(ref)
    if process is None:
        return
    if process.waiting and process.awaiting == ref:
        # The caller is parked for exactly this: no pattern to run. (Use the
        # caller's own ref object: one that crossed nodes is an equal copy.)
        _wake(process, Response(process.awaiting, value))
        return
    deliver(process, Response(ref, value))


def _answer_pattern(ref: Ref) -> tuple[Pattern]:
    def is_answer(m: object) -> bool:
        return (m.__class__ is Response or m.__class__ is Down) and m.ref == ref

    return (is_answer,)


async def _wait_answer(me: Process, ref: Ref, timeout: float) -> Response | Down:
    patterns = _answer_pattern(ref)
    if me.mailbox:
        # Only a Down can be here already (the target ended while we sent).
        found = _take(me, me.mailbox, patterns)
        if found is not _NOTHING:
            return found
    me.patterns = patterns
    me.awaiting = ref
    me.waiting = True
    if timeout == math.inf:
        return await _park_for_answer(me, patterns)
    timers = me.node.timers

    def time_out() -> None:
        if me.waiting:
            _wake(me, _TIMED_OUT)

    entry = timers.call_later(timeout, time_out)
    try:
        answer = await _park_for_answer(me, patterns)
    finally:
        timers.cancel_later(entry)
    if answer is _TIMED_OUT:
        raise ReceiveTimeout(timeout, patterns)
    return answer


async def _park_for_answer(me: Process, patterns: tuple[Pattern]) -> Any:
    while True:
        message = await wait_task_rescheduled(_abort_for(me))
        if message is not _RESCAN:
            if message is not _TIMED_OUT:
                me.messages_received += 1
            return message
        message = _take(me, me.mailbox, patterns) if me.mailbox else _NOTHING
        if message is not _NOTHING:
            return message
        me.waiting = True


def _forget(me: Process, ref: Ref) -> None:
    me.awaiting = None
    me.patterns = ()  # (the answer's pattern would keep its closure and the ref until the next receive)
    if me.aliases is not None:  # always: the request made ref an alias
        me.aliases.discard(ref)
        if not me.aliases:
            me.aliases = None  # an empty set is 216 bytes, on every process that ever made a call
    me.node.aliases.pop(ref, None)
    target = me.monitors.pop(ref, None) if me.monitors else None
    if target is not None and target.monitored_by:
        target.monitored_by.pop(ref, None)
    if me.mailbox:
        # A response or Down that arrived after we stopped waiting.
        _take(me, me.mailbox, _answer_pattern(ref))

