"""The kernel's side of distribution: what ``otp.dist`` calls for the local end.

The kernel hands every remote destination (a pid of another node, a name
on another node) to the node's distribution handler (``Node.remote``, set
by :func:`set_distribution`). The handler carries the message or signal to
the other node; there, the node's own handler calls the functions below to
act on the local process: deliver a message, a ``Down``, a link's exit
signal, or keep the set of remote pids a process is linked to
(``Process.remote_links``), so that its exit reaches them.
"""

from __future__ import annotations

from typing import Protocol

from ._mailbox import deliver
from ._names import Destination, resolve
from ._pid import Pid, Ref
from ._process import Process, current_process
from ._signals import Down, exit_signal, link_signal


class RemoteHandler(Protocol):
    """What the kernel asks of a node's distribution (``otp.dist.Distribution`` is one).

    Each method carries one operation on a remote destination to its node;
    none may block (they are called from sync kernel functions).
    """

    def send(self, dest: Destination, message: object) -> None: ...
    def monitor(self, watcher: Process, dest: Destination, ref: Ref) -> None: ...
    def demonitor(self, watcher: Process, ref: Ref) -> bool: ...
    def link(self, process: Process, pid: Pid) -> None: ...
    def unlink(self, process: Process, pid: Pid) -> None: ...
    def exit(self, sender: Pid, dest: Destination, reason: object) -> None: ...
    def respond(self, pid: Pid, ref: Ref, value: object) -> None: ...
    def process_ended(self, process: Process, reason: object) -> None: ...


def set_distribution(name: str, handler: RemoteHandler) -> None:
    """Make the caller's node the node ``name``, with ``handler`` for remote pids."""
    node = current_process().node
    node.name = name
    node.remote = handler


def local_process(target: object) -> Process | None:
    """The live local process ``target`` names: a pid number, a Pid or a registered name."""
    node = current_process().node
    if isinstance(target, int) and not isinstance(target, Pid):
        process = node.processes.get(target)
    elif isinstance(target, str):
        process = node.names.get(target)
    else:
        process = resolve(target)
    return process if process is not None and process.alive else None


def deliver_local(target: object, message: object) -> None:
    """Deliver ``message`` to a local process (dropped if it is not alive)."""
    process = local_process(target)
    if process is not None:
        deliver(process, message)


def deliver_down(watcher: Pid, ref: Ref, pid: Destination, reason: object) -> None:
    """Deliver ``Down(ref, pid, reason)`` to a local watcher."""
    deliver_local(watcher, Down(ref, pid, reason))


def signal_link_exit(target: object, sender: Pid, reason: object) -> None:
    """A remote process linked to ``target`` ended with ``reason``: the link's exit signal."""
    process = local_process(target)
    if process is not None and process.remote_links and sender in process.remote_links:
        process.remote_links.discard(sender)
        link_signal(process, sender, reason)


def signal_exit(target: object, sender: Pid, reason: object) -> None:
    """``exit(target, reason)`` sent by a remote ``sender``."""
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
