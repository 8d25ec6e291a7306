"""Hooks for code that extends the kernel: behaviours, test helpers, tools.

Everything the behaviours in ``otp.genserver``, ``otp.supervisor`` and the
rest need from the kernel beyond the ``otp`` names is public here: a
behaviour needing something private means the kernel lacks a hook, and it
gets one here. This module only re-exports (the code is in ``otp._kernel``,
``_hooks.py`` and ``_remote.py`` for the distribution hooks).

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
* :func:`fixup_module_metadata`: what a package facade calls last, so that
  its exports say ``mylib.Thing``, not ``mylib._impl.Thing``;
  :func:`import_extra`: an optional dependency, or an ``ImportError`` that
  names the extra installing it.
* :func:`exiting`, :func:`registered_name`, :func:`is_linked`,
  :func:`take_queued`, :func:`take_exit_signal`: O(1) reads and clean-ups
  a behaviour needs around its protocols; :func:`release_mailbox`: what a
  hibernating GenServer gives back; :func:`set_mail_callback`: how a process
  waiting on a socket learns it has mail.
* :func:`set_distribution`, :func:`local_process`, :func:`deliver_local`,
  :func:`deliver_down`, :func:`signal_link_exit`, :func:`signal_exit`,
  :func:`add_remote_link`, :func:`remove_remote_link`: the local end of
  ``otp.dist``.
* :func:`set_behaviour`, :func:`behaviour_of`, :func:`process_counters`: what
  a process runs and its state, and every process's counters, for
  ``otp.introspection`` and tools like it.
"""

from ._kernel import (
    Node,
    Response,
    add_remote_link,
    behaviour_of,
    check_destination,
    current_node,
    deliver_down,
    deliver_local,
    exiting,
    is_linked,
    local_process,
    node_name_of,
    process_counters,
    queued_messages,
    register_name,
    registered_name,
    release_mailbox,
    remove_remote_link,
    request,
    resolve_pid,
    respond,
    respond_to,
    set_behaviour,
    set_distribution,
    set_mail_callback,
    set_report_details,
    signal_exit,
    signal_link_exit,
    spawn_opt,
    take_exit_signal,
    take_queued,
)
from ._util import fixup_module_metadata, import_extra

__all__ = [
    "fixup_module_metadata",
    "import_extra",
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
    "release_mailbox",
    "set_mail_callback",
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

# The hooks written for this module say otp.lowlevel; the kernel names it
# shares with otp (Node, Pid) keep theirs.
fixup_module_metadata(__name__, globals(), defined_in=("otp._kernel._hooks", "otp._kernel._remote", "otp._util"))
