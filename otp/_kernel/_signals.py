"""Links, monitors and exit signals: how processes learn that others ended.

Links
-----
``link(pid)`` ties two processes together in both directions. When either
ends, the other receives an *exit signal* carrying the reason. ``spawn_link``
spawns and links in one step, so no crash can slip between the two.

Monitors
--------
``monitor(pid)`` returns a :class:`Ref`; when the process ends, exactly one
``Down(ref, pid, reason)`` message arrives. Monitors are one-way and stack
(monitoring twice gives two refs and two messages). Monitoring a dead or
unknown pid gives ``Down(ref, pid, NOPROC)`` at once. A monitor taken by
registered name (or via-name) names that name in its ``Down``, as Erlang's
``{Name, Node}`` does. ``demonitor(ref,
flush=True)`` removes the monitor and any ``Down`` it already queued.

Exit signals
------------
A signal comes either from a link (the linked process ended with ``reason``)
or from ``otp.exit(pid, reason)``. What the receiving process does depends on
the reason and on whether it traps exits (``trap_exits(True)``). This table
is Erlang's, and ``tests/kernel/test_signals.py`` checks it row by row:

=====================  ===========  ==============================  ===============================
signal                 reason       receiver not trapping           receiver trapping exits
=====================  ===========  ==============================  ===============================
link                   NORMAL       ignored                         ``ExitSignal(pid, NORMAL)``
link                   any other    ends with that reason           ``ExitSignal(pid, reason)``
``exit(pid, r)``       NORMAL       ignored                         ``ExitSignal(sender, NORMAL)``
``exit(self, r)``      NORMAL       ends with NORMAL                ``ExitSignal(self, NORMAL)``
``exit(pid, r)``       KILL         ends with KILLED                ends with KILLED (untrappable)
``exit(pid, r)``       any other    ends with that reason           ``ExitSignal(sender, reason)``
``link(dead_pid)``     NOPROC       raises ``Exit(NOPROC)``         ``ExitSignal(dead_pid, NOPROC)``
=====================  ===========  ==============================  ===============================

Notes, each as in Erlang:

* ``KILL`` is untrappable only when sent with ``exit(pid, KILL)``. A process
  that *ends* with reason ``KILL`` sends its links an ordinary signal with
  reason ``KILL``; a process that was killed ends with ``KILLED``, and that is
  what its links and monitors see.
* ``SHUTDOWN`` and ``Shutdown(...)`` are ordinary reasons here: they end a
  non-trapping linked process. Only supervisors treat them specially.
* The first signal that ends a process fixes its reason; later ones are
  ignored. A process is ended at its next checkpoint (trio cancellation), so
  a process that never awaits cannot be ended from outside.
* A signal that will end its target marks it as exiting at once, when it
  is sent: from then on ``is_alive`` is False and ``process_info`` None for
  it, even before it has run again. So, as Erlang guarantees (the signals
  the caller sent are handled first), ``exit(pid, KILL)`` followed by
  ``is_alive(pid)`` is False. Messages sent to it are still queued, and
  links and monitors still see it end with its reason.
* Links and monitors are removed when either side ends.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import attrs

from ._aliases import add_alias
from ._exceptions import Exit
from ._mailbox import deliver
from ._names import Destination, remote_destination, resolve
from ._pid import Pid, Ref
from ._process import Process, current_process
from ._reasons import KILL, KILLED, NODEDOWN, NOPROC, NORMAL

__all__ = [
    "ExitSignal",
    "Down",
    "link",
    "unlink",
    "monitor",
    "demonitor",
    "exit",
    "trap_exits",
    "propagate_exit",
    "exit_signal",
    "link_signal",
    "kill",
]


@attrs.frozen
class ExitSignal:
    """Erlang's ``{'EXIT', Pid, Reason}``: an exit signal received while trapping exits."""

    pid: Pid
    reason: object


@attrs.frozen
class Down:
    """Erlang's ``{'DOWN', Ref, process, Pid, Reason}``: a monitored process ended.

    ``pid`` is what was monitored: the pid, or the name a monitor taken by
    name was taken with.
    """

    ref: Ref
    pid: Destination
    reason: object


# ---------------------------------------------------------------- links


def link(pid: Pid) -> None:
    """Link the calling process and ``pid`` (both ways). Idempotent.

    Linking to a dead or unknown pid delivers an exit signal with reason
    ``NOPROC`` to the caller: a message if it traps exits, else this raises
    ``Exit(NOPROC)`` and the caller ends with ``NOPROC`` unless it catches it.
    """
    me = current_process()
    if remote_destination(pid, me.node):
        if pid.__class__ is not Pid:
            # As in Erlang: a link is between two processes, not a name.
            raise TypeError(f"link() needs a pid; {pid!r} is a name on another node: ask it for its pid")
        _link_remote(me, pid)
        return
    other = resolve(pid, node=me.node)
    if other is me:
        return
    if other is None:
        if me.trap_exit:
            deliver(me, ExitSignal(pid, NOPROC))
            return
        raise Exit(NOPROC)
    _add_link(me, other)


def unlink(pid: Pid) -> None:
    """Remove the link between the caller and ``pid``, if any. Idempotent."""
    me = current_process()
    if remote_destination(pid, me.node):
        remote = me.node.remote
        if me.remote_links and pid in me.remote_links:
            me.remote_links.discard(pid)
            if remote is not None:  # it is, or there would be no remote link
                remote.unlink(me, pid)
        return
    other = resolve(pid, node=me.node)
    if other is not None and me.links and other in me.links and other.links is not None:
        # (A link is recorded on both sides: other.links is a set here.)
        me.links.discard(other)
        other.links.discard(me)


def trap_exits(flag: bool) -> bool:
    """Turn exit trapping on or off for the caller; return the previous value."""
    me = current_process()
    previous = me.trap_exit
    me.trap_exit = bool(flag)
    return previous


def _link_remote(me: Process, pid: Pid) -> None:
    remote = me.node.remote
    if remote is None:
        # Not distributed: the other node is unreachable, as if it were down.
        if me.trap_exit:
            deliver(me, ExitSignal(pid, NODEDOWN))
            return
        raise Exit(NODEDOWN)
    if me.remote_links is None:
        me.remote_links = set()
    if pid not in me.remote_links:
        me.remote_links.add(pid)
        remote.link(me, pid)


def _add_link(a: Process, b: Process) -> None:
    if a.links is None:
        a.links = set()
    if b.links is None:
        b.links = set()
    a.links.add(b)
    b.links.add(a)


# ---------------------------------------------------------------- monitors


def monitor(pid: Destination, *, alias: bool = False) -> Ref:
    """Monitor ``pid`` (or a name); return the ref its ``Down`` message will carry.

    With ``alias=True`` the ref is also an alias of the caller (see
    ``_aliases.py``) until ``unalias(ref)``: one ref then tags a request, its
    reply and the ``Down``, which is how ``GenServer.call`` works.
    """
    me = current_process()
    ref = Ref.make()
    if alias:
        add_alias(me, ref)
    if remote_destination(pid, me.node):
        if me.node.remote is None:
            deliver(me, Down(ref, pid, NODEDOWN))
        else:
            me.node.remote.monitor(me, pid, ref)
        return ref
    target = resolve(pid, node=me.node)
    if target is None:
        # Erlang's Down names what was monitored: the pid, or the unknown name.
        deliver(me, Down(ref, pid, NOPROC))
    else:
        _add_monitor(me, target, ref)
        if pid.__class__ is not Pid:
            # Monitored by name: its Down names the name too (Erlang's {Name, Node}).
            me.node.monitored_names[ref] = pid
    return ref


def demonitor(ref: Ref, *, flush: bool = False) -> bool:
    """Remove the monitor ``ref``; with ``flush``, also drop its queued ``Down``.

    Returns True if the monitor was still active (the process had not ended).
    """
    me = current_process()
    target = me.monitors.pop(ref, None) if me.monitors else None
    if me.node.monitored_names:
        me.node.monitored_names.pop(ref, None)
    if target is not None and target.monitored_by:
        target.monitored_by.pop(ref, None)
    active = target is not None
    if not active and me.node.remote is not None:
        active = me.node.remote.demonitor(me, ref)
    if flush and me.mailbox:
        _drop_down(me.mailbox, ref)
    return active


def _add_monitor(watcher: Process, target: Process, ref: Ref) -> None:
    if watcher.monitors is None:
        watcher.monitors = {}
    if target.monitored_by is None:
        target.monitored_by = {}
    watcher.monitors[ref] = target
    target.monitored_by[ref] = watcher


def _drop_down(mailbox: deque[Any], ref: Ref) -> None:
    for index, message in enumerate(mailbox):
        if message.__class__ is Down and message.ref == ref:
            del mailbox[index]
            return


# ---------------------------------------------------------------- exit signals


def exit(pid: Destination, reason: object) -> None:
    """Send an exit signal with ``reason`` to ``pid`` (Erlang's ``exit/2``).

    See the table in this module's docstring for what the receiver does.
    Sync: the target ends at its next checkpoint. When the caller signals
    itself and is not trapping, this raises ``Exit`` straight away.
    """
    me = current_process()
    if remote_destination(pid, me.node):
        if me.node.remote is not None:
            me.node.remote.exit(me.pid, pid, reason)
        return
    target = resolve(pid, node=me.node)
    if target is None:
        return
    if reason is KILL:
        kill(target, KILLED, me.pid)
    elif target.trap_exit:
        deliver(target, ExitSignal(me.pid, reason))
    elif reason is NORMAL and target is not me:
        return
    else:
        kill(target, reason, me.pid)
    if target is me and me.kill_reason is not None:
        raise Exit(me.kill_reason)


def exit_signal(target: Process, sender: Pid, reason: object) -> None:
    """Deliver an ``exit(pid, reason)`` signal that came from ``sender`` (possibly remote)."""
    if reason is KILL:
        kill(target, KILLED, sender)
    elif target.trap_exit:
        deliver(target, ExitSignal(sender, reason))
    elif reason is not NORMAL:
        kill(target, reason, sender)


def link_signal(target: Process, sender: Pid, reason: object) -> None:
    """Deliver the exit signal of a linked process that ended (first two table rows)."""
    if target.trap_exit:
        deliver(target, ExitSignal(sender, reason))
    elif reason is not NORMAL:
        kill(target, reason, sender)


def kill(target: Process, reason: object, sender: Pid | None) -> None:
    """End ``target`` with ``reason`` at its next checkpoint; the first reason wins."""
    if target.kill_reason is None and target.alive:
        target.kill_reason = reason
        target.killed_by = sender
        target.scope.cancel()


def propagate_exit(process: Process, reason: object) -> None:
    """Tell links and monitors that ``process`` ended; drop its own monitors."""
    pid = process.pid
    links = process.links
    if links:
        process.links = None
        for other in links:
            if other.links is not None:  # always: a link is recorded on both sides
                other.links.discard(process)
            if other.alive:
                link_signal(other, pid, reason)
    watchers = process.monitored_by
    if watchers:
        process.monitored_by = None
        names = process.node.monitored_names
        for ref, watcher in watchers.items():
            if watcher.monitors is not None:  # always: a monitor is recorded on both sides
                del watcher.monitors[ref]
            label = names.pop(ref, pid) if names else pid
            if watcher.alive:
                deliver(watcher, Down(ref, label, reason))
    monitored = process.monitors
    if monitored:
        process.monitors = None
        names = process.node.monitored_names
        for ref, target in monitored.items():
            if target.monitored_by:
                target.monitored_by.pop(ref, None)
            if names:
                names.pop(ref, None)
