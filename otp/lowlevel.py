"""Hooks for code that extends the kernel: behaviours, test helpers, tools.

Everything the behaviours in ``otp.genserver``, ``otp.supervisor`` and the
rest need from the kernel is public here; none of them reaches into
``otp._kernel`` directly.

* :func:`spawn_opt`: spawn with ``link``, ``monitor`` and ``trap_exits`` set
  atomically, before the child runs a single instruction.
* :func:`current_node`, :class:`Node`: the caller's node and its statistics.
* :func:`register_name`, :func:`resolve_pid`: name handling that accepts plain
  names and via-names alike, for behaviours taking ``name=``.
* :func:`queued_messages`: a copy of a process's mailbox, for test helpers.
* :func:`request`, :func:`respond`, :class:`Response`: a call's round trip
  (monitor, alias, send, wait for the response or the Down) in one step.
* :func:`set_report_details`: extra lines for the caller's crash report
  (a GenServer adds its last message and state).
* :func:`set_behaviour`, :func:`behaviour_of`, :func:`process_counters`: what
  a process runs and its state, and every process's counters, for
  ``otp.introspection`` and tools like it.
"""

from ._kernel._exceptions import WouldBlock as _WouldBlock
from ._kernel._introspection import behaviour_of, process_counters, set_behaviour
from ._kernel._mailbox import queued as _queued
from ._kernel._names import check_destination, register_name
from ._kernel._names import resolve as _resolve
from ._kernel._node import Node, current_node
from ._kernel._pid import Pid, node_name_of
from ._kernel._process import current_process as _current_process
from ._kernel._request import Response, request, respond, respond_to
from ._kernel._spawn import spawn_opt

__all__ = [
    "spawn_opt",
    "current_node",
    "Node",
    "register_name",
    "resolve_pid",
    "check_destination",
    "queued_messages",
    "set_report_details",
    "set_behaviour",
    "behaviour_of",
    "process_counters",
    "exiting",
    "registered_name",
    "is_linked",
    "take_queued",
    "take_exit_signal",
    "node_name_of",
    "set_distribution",
    "local_process",
    "deliver_local",
    "deliver_down",
    "signal_link_exit",
    "signal_exit",
    "add_remote_link",
    "remove_remote_link",
    "request",
    "respond",
    "respond_to",
    "Response",
]


def resolve_pid(dest: object) -> Pid | None:
    """The pid of the live process ``dest`` (pid, name or via-name) names, or None."""
    process = _resolve(dest)
    return process.pid if process is not None else None


def queued_messages(pid: Pid | None = None) -> list:
    """A copy of the messages queued for ``pid`` (default: the caller), oldest first."""
    process = _current_process() if pid is None else _resolve(pid)
    return _queued(process) if process is not None else []


def set_report_details(details) -> None:
    """Have the caller's crash report include ``details()``, a dict label → value.

    ``details`` is called only if the process crashes, so it may be costly;
    pass None to remove it. Values are shown with ``repr`` (strings as is),
    cut to 2,000 characters.
    """
    _current_process().report_details = details


def exiting() -> bool:
    """True once an exit signal has ended the caller, while it unwinds.

    A behaviour uses it to tell ``Exit`` raised by its callback (run
    ``terminate``) from the kernel ending the process (do not).
    """
    return _current_process().kill_reason is not None


def registered_name(pid: Pid | None = None) -> str | None:
    """The registered name of ``pid`` (default: the caller), or None. O(1), unlike process_info."""
    process = _current_process() if pid is None else _resolve(pid)
    return process.name if process is not None else None


# ---------------------------------------------------------------- distribution
# The hooks otp.dist uses to carry pids, messages and signals between nodes.
# A handler (see otp.dist.Distribution) is called by the kernel for every
# remote destination; these functions let it act on the local side.


def set_distribution(name: str, handler: object) -> None:
    """Make the caller's node the node ``name``, with ``handler`` for remote pids."""
    node = _current_process().node
    node.name = name
    node.remote = handler


def local_process(target: object):
    """The live local process ``target`` names: a pid number, a Pid or a registered name."""
    node = _current_process().node
    if isinstance(target, int) and not isinstance(target, Pid):
        process = node.processes.get(target)
    elif isinstance(target, str):
        process = node.names.get(target)
    else:
        process = _resolve(target)
    return process if process is not None and process.alive else None


def deliver_local(target: object, message: object) -> None:
    """Deliver ``message`` to a local process (dropped if it is not alive)."""
    from ._kernel._mailbox import deliver

    process = local_process(target)
    if process is not None:
        deliver(process, message)


def deliver_down(watcher: Pid, ref, pid: object, reason: object) -> None:
    """Deliver ``Down(ref, pid, reason)`` to a local watcher."""
    from ._kernel._signals import Down

    deliver_local(watcher, Down(ref, pid, reason))


def signal_link_exit(target: object, sender: Pid, reason: object) -> None:
    """A remote process linked to ``target`` ended with ``reason``: the link's exit signal."""
    from ._kernel._signals import link_signal

    process = local_process(target)
    if process is not None and process.remote_links and sender in process.remote_links:
        process.remote_links.discard(sender)
        link_signal(process, sender, reason)


def signal_exit(target: object, sender: Pid, reason: object) -> None:
    """``exit(target, reason)`` sent by a remote ``sender``."""
    from ._kernel._signals import exit_signal

    process = local_process(target)
    if process is not None:
        exit_signal(process, sender, reason)


def add_remote_link(target: object, remote: Pid) -> bool:
    """Record a link from a remote pid to a local process; False if it is not alive."""
    process = local_process(target)
    if process is None:
        return False
    if process.remote_links is None:
        process.remote_links = set()
    process.remote_links.add(remote)
    return True


def remove_remote_link(target: object, remote: Pid) -> None:
    process = local_process(target)
    if process is not None and process.remote_links:
        process.remote_links.discard(remote)


def is_linked(pid: Pid) -> bool:
    """Whether the caller is linked to the local process ``pid``. O(1)."""
    me = _current_process()
    other = _resolve(pid)
    return other is not None and me.links is not None and other in me.links


def take_queued(*patterns: object):
    """Remove and return the oldest queued message matching ``patterns``, or None. Never waits.

    For cleaning up after a protocol (a late ack, a link's exit signal) without
    the ``WouldBlock`` dance.
    """
    from ._kernel._mailbox import receive_nowait

    try:
        return receive_nowait(*patterns)
    except _WouldBlock:
        return None


def take_exit_signal(pid: Pid):
    """Remove and return a queued ``ExitSignal`` from ``pid`` (the caller traps exits), or None."""
    from ._kernel._signals import ExitSignal

    return take_queued(lambda m: m.__class__ is ExitSignal and m.pid == pid)
