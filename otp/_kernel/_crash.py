"""Crash reports: one log record for each process whose own code failed.

A process that ends with an abnormal reason it raised itself (an exception,
or ``Exit(reason)`` with a reason other than ``NORMAL``, ``SHUTDOWN`` and
``Shutdown(...)``) gets a crash report: one record at ERROR through the
stdlib :mod:`logging`, on the logger ``otp.process``, or on the one its
behaviour named with :func:`otp.lowlevel.set_report_details`
(``otp.genserver``, ``web.channel``, ...). The message reads on its own;
the traceback is the record's ``exc_info``, which a plain formatter prints
after the message and a JSON formatter or an error tracker takes as a
traceback::

    Process <0.7.0> (registered as 'worker') crashed: ValueError('boom')
      function: app.worker
      last message: ('incr', 1)          <- lines a behaviour adds
    Traceback (most recent call last):   <- exc_info, as a plain formatter prints it
      ...

A process ended by an exit signal gets none, as in OTP: killed, or linked
to a process that crashed while not trapping exits, it did not fail, it was
stopped. The one that did fail has the report, once, however far its exit
spreads along links; whoever cares about the others hears of them through
links and monitors, and a supervisor reports what became of its child
(logger ``otp.supervisor``).

Each record carries ``otp_pid`` (the pid as text), ``otp_name`` (the
registered name, or None), ``otp_reason`` (the exit reason itself) and the
fields its behaviour adds (``otp_topic``, ``otp_view``, ``otp_url``): the
table is in :mod:`otp.log`.
"""

from __future__ import annotations

import logging
import os
from types import TracebackType

from ._process import Process, current_process_or_none, function_name

logger = logging.getLogger("otp.process")

ExcInfo = tuple[type[BaseException], BaseException, "TracebackType | None"]


def report_crash(process: Process, reason: object) -> None:
    """Log the crash report of ``process``, which failed by itself with ``reason``."""
    text = f"{_who(process)} crashed: {reason!r}\n  function: {function_name(process.function)}"
    text += _details(process)
    extra = {"otp_pid": str(process.pid), "otp_name": process.name, "otp_reason": reason}
    target = logger
    if process.report_logging is not None:
        target, fields = process.report_logging
        extra.update(fields)
    _log_error(target, text, _exc_info(reason), extra)


def process_fields() -> dict[str, object]:
    """``otp_pid`` and ``otp_name`` of the calling process (both None outside one), for a record's ``extra``."""
    process = current_process_or_none()
    if process is None:
        return {"otp_pid": None, "otp_name": None}
    return {"otp_pid": str(process.pid), "otp_name": process.name}


def _log_error(target: logging.Logger, text: str, exc_info: ExcInfo | None, extra: dict[str, object]) -> None:
    """``target.error(text, exc_info=exc_info, extra=extra)``, leaving no frame of the dead process in the record."""
    if not target.isEnabledFor(logging.ERROR):
        return
    path, line, function, _ = target.findCaller(stacklevel=2)
    record = target.makeRecord(target.name, logging.ERROR, path, line, text, (), exc_info, function, extra)
    target.handle(record)
    if exc_info is not None:
        # A handler that keeps records (a test's capture, a MemoryHandler)
        # would keep every frame of the dead process alive through the
        # traceback. Once all handlers have seen the record, it keeps the
        # traceback as text: exc_text, which formatters print as it is.
        if record.exc_text is None:
            record.exc_text = _FORMATTER.formatException(exc_info)
        record.exc_info = (exc_info[0], exc_info[1], None)


def _who(process: Process) -> str:
    if process.name is None:
        return f"Process {process.pid!r}"
    return f"Process {process.pid!r} (registered as {process.name!r})"


def _details(process: Process) -> str:
    # Behaviours add their own lines (a GenServer's last message and state)
    # through otp.lowlevel.set_report_details. A broken formatter must not
    # hide the crash it was meant to explain.
    if process.report_details is None:
        return ""
    try:
        details = process.report_details()
    except Exception as error:
        return f"\n  (report details unavailable: {error!r})"
    return "".join(f"\n  {label}: {_shorten(value)}" for label, value in details.items())


def _shorten(value: object, limit: int = 2000) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def _exc_info(reason: object) -> ExcInfo | None:
    # A reason that was never raised (Exit("bored"), Stop(reason)) has no
    # traceback to show: the message names it.
    if not isinstance(reason, BaseException) or reason.__traceback__ is None:
        return None
    return (type(reason), reason, _without_kernel_frames(reason.__traceback__))


def _without_kernel_frames(tb: TracebackType | None) -> TracebackType | None:
    # Skip the kernel's own frames at the top (the process wrapper): the
    # reader wants their code, not ours.
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_KERNEL_DIR):
        tb = tb.tb_next
    return tb


_KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))
_FORMATTER = logging.Formatter()
