"""Test helpers for code built on otp, and a pytest plugin that uses them.

With the plugin (installed with the package, as pytest plugin ``otp``), each
async test can run as the root process of a fresh node: set ``otp_mode =
true`` next to pytest-trio's ``trio_mode = true`` in your pytest ini options,
or mark single tests with ``@pytest.mark.otp``. The test body can then spawn,
link and receive, and everything it started is shut down when it returns::

    async def test_worker_replies():
        pid = otp.spawn_link(echo)
        otp.send(pid, (otp.current_pid(), "hi"))
        assert await assert_receive(str) == "hi"
        await refute_receive(str)

Waiting is always for an event (a message, a Down), never a blind sleep;
the timeouts below are upper bounds. Under pytest-trio's ``autojump_clock``
fixture they cost no real time.

Telemetry events become messages too (Elixir's ``:telemetry_test``)::

    with forward_telemetry(("otp", "supervisor", "restart")):
        otp.exit(worker, "boom")
        event = await assert_receive(TelemetryEvent)
    assert event.metadata["reason"] == "boom"

Processes a test needs can run under the test's own supervisor (ExUnit's
``start_supervised``): started by the test, stopped newest first when it
ends, restarted meanwhile by their restart type; ``wait_for_restart``
waits for a supervisor to have one of its children running again::

    async def test_the_counter_restarts_from_zero():
        counter = await start_supervised(Counter.child_spec(0, name="counter"))
        otp.exit(counter, "boom")
        await wait_for_restart(current_test_supervisor(), Counter, counter)
        assert await GenServer.call("counter", "get") == 0
"""

from __future__ import annotations

import itertools
import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, TypeVar, overload

import attrs
import trio
from trio.testing import Sequencer, wait_all_tasks_blocked

from .._kernel import (
    KILL,
    Down,
    Pid,
    ReceiveTimeout,
    Ref,
    attach_many,
    current_node,
    current_pid,
    demonitor,
    detach,
    exit,
    monitor,
    queued_messages,
    receive,
    receive_nowait,
    send,
)
from ._supervised import (
    current_test_supervisor,
    open_test_supervisor,
    start_supervised,
    stop_supervised,
    wait_for_restart,
)

__all__ = [
    "assert_receive",
    "refute_receive",
    "assert_down",
    "kill_and_wait",
    "flush_mailbox",
    "capture_crash_reports",
    "forward_telemetry",
    "TelemetryEvent",
    "start_supervised",
    "stop_supervised",
    "current_test_supervisor",
    "open_test_supervisor",
    "wait_for_restart",
    "current_node",
    "wait_all_tasks_blocked",
    "Sequencer",
]


if TYPE_CHECKING:
    from .._kernel._mailbox import Pattern, Predicate

M = TypeVar("M")


@overload
async def assert_receive(pattern: type[M], /, *, timeout: float = 0.1) -> M: ...
@overload
async def assert_receive(*predicates: Predicate, timeout: float = 0.1) -> Any: ...
@overload
async def assert_receive(first: Pattern, second: Pattern, /, *patterns: Pattern, timeout: float = 0.1) -> Any: ...


async def assert_receive(*patterns: Pattern, timeout: float = 0.1) -> Any:
    """Wait up to ``timeout`` for a message matching ``patterns``; return it.

    Raises:
        AssertionError: nothing matched in time; the message lists what the
            mailbox holds instead.
    """
    __tracebackhide__ = True
    try:
        return await receive(*patterns, timeout=timeout)
    except ReceiveTimeout as e:
        raise AssertionError(f"{e}; the mailbox holds {queued_messages()!r}") from None


async def refute_receive(*patterns: Pattern, timeout: float = 0.1) -> None:
    """Assert that no message matching ``patterns`` arrives within ``timeout``.

    Raises:
        AssertionError: one did; it is named in the message.
    """
    __tracebackhide__ = True
    try:
        message = await receive(*patterns, timeout=timeout)
    except ReceiveTimeout:
        return
    raise AssertionError(f"expected no message matching {_describe(patterns)}, got {message!r}")


async def assert_down(ref: Ref, reason: object, *, timeout: float = 0.1) -> Down:
    """Wait for the ``Down`` of monitor ``ref`` and assert its reason.

    ``reason`` is compared with ``==``, or with ``isinstance`` when it is an
    exception class (a crashed process's reason is the exception object).
    """
    __tracebackhide__ = True
    down = await assert_receive(lambda m: isinstance(m, Down) and m.ref == ref, timeout=timeout)
    if isinstance(reason, type) and issubclass(reason, BaseException):
        assert isinstance(down.reason, reason), f"{down} ended with {down.reason!r}, expected a {reason.__name__}"
    else:
        assert down.reason == reason, f"{down} ended with {down.reason!r}, expected {reason!r}"
    return down


async def kill_and_wait(pid: Pid, reason: object = KILL, *, timeout: float = 1.0) -> object:
    """Send ``pid`` an exit signal with ``reason``, wait until it has ended, return its exit reason.

    Raises:
        AssertionError: it was still alive after ``timeout`` (it traps exits
            and ignored the signal, say).
    """
    __tracebackhide__ = True
    ref = monitor(pid)
    exit(pid, reason)
    try:
        down = await receive(lambda m: isinstance(m, Down) and m.ref == ref, timeout=timeout)
    except ReceiveTimeout:
        demonitor(ref, flush=True)
        raise AssertionError(f"{pid!r} was still alive {timeout} s after exit({pid!r}, {reason!r})") from None
    return down.reason


def flush_mailbox() -> list[Any]:
    """Remove and return every message queued for the caller (Erlang's ``flush()``)."""
    messages = []
    while True:
        try:
            messages.append(receive_nowait())
        except trio.WouldBlock:
            return messages


@contextmanager
def capture_crash_reports() -> Iterator[list[logging.LogRecord]]:
    """Collect the reports logged inside the block: the ERROR records of the loggers ``otp`` and ``web``.

    Those are the crash reports of processes that failed (``otp.process``,
    ``otp.genserver``, ``web.channel``, ``web.live``, ``web.http``), the
    supervisors' reports (``otp.supervisor``) and the rest of the
    library's errors; a process stopped by an exit signal has none. Each
    record has ``otp_pid`` (the pid as text: ``str(pid)``), ``otp_name``
    (its registered name, or None) and ``otp_reason`` (the exit reason
    itself), plus ``otp_topic``, ``otp_view`` or ``otp_url`` where one
    applies; supervisor reports add ``otp_event``, ``otp_child_id`` and
    ``otp_child_pid``. ``record.getMessage()`` is the report's text and
    ``record.exc_text`` its traceback; ``record.exc_info`` keeps the
    exception's type and value, not its frames, once the record is handled
    (see :mod:`otp.log`)::

        with capture_crash_reports() as reports:
            GenServer.cast(pid, "crash")  # its handle_cast raises ValueError("boom")
            await assert_down(ref, ValueError)
        [report] = reports
        assert report.otp_pid == str(pid)
        assert report.exc_info[0] is ValueError
        assert report.exc_text.endswith("ValueError: boom")
    """
    records: list[logging.LogRecord] = []

    class _Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    # By name only: otp never imports web, but its processes log there too.
    loggers = [logging.getLogger("otp"), logging.getLogger("web")]
    handler = _Collector(level=logging.ERROR)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@attrs.frozen
class TelemetryEvent:
    """A telemetry event, as :func:`forward_telemetry` sends it to the test process."""

    name: tuple[str, ...]
    measurements: dict
    metadata: dict


_forwarders = itertools.count(1)


@contextmanager
def forward_telemetry(*event_names: tuple[str, ...]) -> Iterator[object]:
    """Inside the block, send every event of ``event_names`` to the caller as a :class:`TelemetryEvent`.

    Yields the handler id (detached when the block ends, even if it fails).
    """
    me = current_pid()
    handler_id = ("otp.testing.forward_telemetry", next(_forwarders))

    def forward(name, measurements, metadata, config) -> None:
        send(me, TelemetryEvent(name, measurements, metadata))

    attach_many(handler_id, event_names, forward)
    try:
        yield handler_id
    finally:
        detach(handler_id)


def _describe(patterns: tuple) -> str:
    return ", ".join(getattr(p, "__qualname__", None) or repr(p) for p in patterns) or "any message"
