"""The client side of ``otp.sys``: one system request per function, each a round trip with a timeout.

Each function sends a request of ``otp/genserver/_system.py`` with
:func:`~otp.genserver._gen.system_call` (a call's protocol: monitor, alias,
timeout) and turns a refusal into the exception it carries. Arguments are
checked here, in the caller, so that a wrong one never reaches the server.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, overload

from ._kernel import Destination, Pid, behaviour_of, resolve_pid
from .genserver import GenServer
from .genserver._gen import system_call
from .genserver._system import (
    ChangeCode,
    Event,
    Failed,
    GetState,
    GetStatus,
    Log,
    ReplaceState,
    Resume,
    Status,
    Suspend,
    Trace,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "get_state",
    "replace_state",
    "suspend",
    "resume",
    "get_status",
    "trace",
    "log",
    "change_code",
]

DEFAULT_TIMEOUT = 5.0  # seconds, for every function here (OTP's sys waits 5 s too)


async def get_state(server: Destination, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """The server's instance, which holds its state (OTP's ``sys:get_state``).

    It is the live object: read it, and change it only through
    :func:`replace_state`, which runs in the server between two messages.
    """
    return await _ask(server, GetState(), timeout)


async def replace_state(server: Destination, fun: Callable[[Any], Any], timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Run ``fun(instance)`` inside the server, between two messages; return the instance.

    ``fun`` (a plain function) changes the instance's attributes, and
    returns None or the instance (OTP's state function returns the new
    state; here the state is the instance, changed in place). If it raises,
    or returns anything else, the attributes are put back as they were (a
    shallow copy: objects they hold that ``fun`` changed in place stay
    changed) and :class:`~otp.sys.CallbackFailed` is raised here; the server
    runs on.
    """
    if not callable(fun):
        raise TypeError(f"replace_state takes a function of the state; got {fun!r}")
    return await _ask(server, ReplaceState(fun), timeout)


async def suspend(server: Destination, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Stop the server from handling its messages until :func:`resume`; they wait in its mailbox, in order.

    A suspended server still answers ``otp.sys`` and ``GenServer.stop``, and
    follows its parent's exit signal; calls to it wait, and time out as
    usual. Suspending a suspended server does nothing.
    """
    await _ask(server, Suspend(), timeout)


async def resume(server: Destination, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Let a suspended server handle its messages again, oldest first."""
    await _ask(server, Resume(), timeout)


async def get_status(server: Destination, timeout: float = DEFAULT_TIMEOUT) -> Status:
    """A :class:`~otp.sys.Status`: who it is, running or suspended, its state as ``format_status`` shows it, its log."""
    return await _ask(server, GetStatus(), timeout)


async def trace(server: Destination, flag: bool, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Log every message the server takes and every reply it sends (``flag=True``), or stop (``False``).

    One ``INFO`` record per event on the logger ``otp.sys``, such as
    ``<0.42.0> (Counter) got call 'get' from <0.41.0>``, with the server's pid
    as the record's ``otp_pid``.
    """
    if flag is not True and flag is not False:
        raise TypeError(f"trace takes True or False; got {flag!r}")
    await _ask(server, Trace(flag), timeout)


@overload
async def log(server: Destination, flag: Literal["get"], timeout: float = DEFAULT_TIMEOUT) -> list[Event]: ...
@overload
async def log(server: Destination, flag: bool | int, timeout: float = DEFAULT_TIMEOUT) -> None: ...


async def log(server: Destination, flag: bool | int | str, timeout: float = DEFAULT_TIMEOUT) -> list[Event] | None:
    """Keep the server's last events, or hand them over (OTP's ``sys:log``).

    Args:
        flag: ``True`` keeps the last 10 events (an int N keeps the last N;
            events kept so far stay, up to the new size), ``False`` stops and
            forgets them, ``"get"`` returns them, oldest first, as
            :class:`~otp.sys.Event` objects (an empty list while off).
    """
    if flag != "get" and flag is not True and flag is not False:
        if not isinstance(flag, int) or flag < 1:
            raise TypeError(f"log takes True, False, 'get' or a number of events >= 1; got {flag!r}")
    return await _ask(server, Log(flag), timeout)


async def change_code(server: Destination, new_class: type, extra: object = None, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Make the suspended server an instance of ``new_class`` and run its ``code_change``; return the old ``vsn``.

    The building block of ``otp.upgrade``, which also reloads the module and
    suspends and resumes each server. The server must be suspended (else
    ``RuntimeError``, nothing changed), as in OTP. If ``code_change`` raises
    or returns something else than None, the server gets its old class and
    attributes back and :class:`~otp.sys.CallbackFailed` is raised here.
    """
    if not (isinstance(new_class, type) and issubclass(new_class, GenServer)):
        raise TypeError(f"change_code takes a GenServer class; got {new_class!r}")
    return await _ask(server, ChangeCode(new_class, extra), timeout)


# ---------------------------------------------------------------- helpers


async def _ask(server: Destination, request: object, timeout: float) -> Any:
    _check_serves_system_messages(server)
    answer = await system_call(server, request, timeout)
    if answer.__class__ is Failed:
        raise answer.error
    return answer


def _check_serves_system_messages(server: Destination) -> None:
    # A local process that is no GenServer would never answer: say so now
    # rather than after the timeout, and leave its mailbox alone. (Another
    # node's processes are not known here: their requests just time out.)
    if isinstance(server, Pid) and server.node:
        return
    pid = resolve_pid(server)
    if pid is None:
        return  # not running here: system_call says NoProc (or reaches another node)
    behaviour = behaviour_of(pid)
    if behaviour is None or not isinstance(behaviour[1], GenServer):
        kind = behaviour[0] if behaviour is not None else "plain"
        raise TypeError(
            f"{server!r} is a {kind} process, not a GenServer: otp.sys talks to GenServer-based "
            f"processes only (GenServer, Supervisor, DynamicSupervisor, Agent, ...)"
        )
