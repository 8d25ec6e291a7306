"""Crash reports: one readable log record per abnormal process end.

Logged through the stdlib ``logging`` module, logger ``"otp"``, at ERROR.
Nothing is logged for ``NORMAL``, ``SHUTDOWN`` and ``Shutdown(...)``. A
process whose own code raised gets the traceback; a process ended by an exit
signal gets one line naming the sender, so a crash that spreads along links
shows its traceback once, not once per linked process::

    Process <0.7.0> (registered as 'worker') crashed: ValueError('boom')
      function: app.worker
      last message: ('incr', 1)          <- lines a behaviour adds
      Traceback (most recent call last):
        ...
    Process <0.6.0> exited with ValueError('boom'): exit signal from <0.7.0>

Each record carries ``otp_pid``, ``otp_name`` and ``otp_reason`` attributes for
handlers that want the data rather than the text.
"""

from __future__ import annotations

import logging
import os
import traceback

from ._process import Process, function_name

logger = logging.getLogger("otp")


def report_crash(process: Process, reason: object, *, signalled: bool) -> None:
    who = f"Process {process.pid!r}"
    if process.name is not None:
        who += f" (registered as {process.name!r})"
    if signalled:
        sender = process.killed_by if process.killed_by is not None else "the node"
        text = f"{who} exited with {reason!r}: exit signal from {sender!r}"
    else:
        text = f"{who} crashed: {reason!r}\n  function: {function_name(process.function)}"
        text += _details(process)
        if isinstance(reason, BaseException) and reason.__traceback__ is not None:
            text += "\n" + _indent(_format_traceback(reason))
    extra = {"otp_pid": process.pid, "otp_name": process.name, "otp_reason": reason}
    logger.error(text, extra=extra)


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


def _format_traceback(error: BaseException) -> str:
    # Skip the kernel's own frames at the top (the process wrapper): the
    # reader wants their code, not ours.
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_KERNEL_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.rstrip().splitlines())


_KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))
