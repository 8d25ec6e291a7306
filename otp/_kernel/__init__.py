"""The process kernel: processes, mailboxes, links, monitors, names, timers.

Nothing in here imports anything else from ``otp``. This package's names
are what the layers above are built from, as trio's modules take theirs
from ``trio._core``: the behaviours (``otp.genserver``, ``otp.supervisor``
and the rest) import ``from otp._kernel import ...``, never from the ``otp``
facade, so that importing ``otp`` has no cycle. Every name here is public
somewhere: in ``otp`` (processes, messages, signals, reasons, errors),
``otp.lowlevel`` (hooks for behaviours and tools) or ``otp.telemetry``;
``tests/test_exports.py`` checks that.
"""

from ._aliases import alias, unalias
from ._exceptions import (
    AlreadyAttached,
    AlreadyRegistered,
    AlreadyStarted,
    CallError,
    CallingSelf,
    CallTimeout,
    Exit,
    NoProc,
    NotAProcess,
    NotRegistered,
    OTPError,
    ReceiveTimeout,
    ServerExited,
    StartError,
    WouldBlock,
)
from ._hooks import (
    exiting,
    is_linked,
    queued_messages,
    registered_name,
    release_mailbox,
    resolve_pid,
    set_mail_callback,
    set_report_details,
    take_exit_signal,
    take_queued,
)
from ._introspection import (
    ProcessInfo,
    behaviour_of,
    is_alive,
    process_counters,
    process_info,
    processes,
    set_behaviour,
)
from ._mailbox import receive, receive_nowait, send
from ._names import Destination, Via, check_destination, register, register_name, unregister, whereis
from ._node import Node, NodeStatistics, current_node, open_node
from ._node import run as run_node
from ._pid import Pid, Ref, TimerRef, node_name_of
from ._process import current_pid
from ._reasons import KILL, KILLED, NODEDOWN, NOPROC, NORMAL, SHUTDOWN, Shutdown, is_normal
from ._remote import (
    add_remote_link,
    deliver_down,
    deliver_local,
    local_process,
    remove_remote_link,
    set_distribution,
    signal_exit,
    signal_link_exit,
)
from ._request import Response, request, respond, respond_to
from ._signals import Down, ExitSignal, demonitor, exit, link, monitor, trap_exits, unlink
from ._spawn import spawn, spawn_link, spawn_monitor, spawn_opt
from ._telemetry import Handler, attach, attach_many, attached, detach, execute, list_handlers, span
from ._timers import cancel_timer, send_after

__all__ = [
    # processes and nodes
    "Node", "NodeStatistics", "open_node", "run_node", "current_node",
    "Pid", "Ref", "TimerRef", "node_name_of",
    "spawn", "spawn_link", "spawn_monitor", "spawn_opt", "current_pid",
    "is_alive", "process_info", "processes", "ProcessInfo",
    # messages
    "send", "receive", "receive_nowait", "alias", "unalias",
    "request", "respond", "respond_to", "Response",
    # names
    "register", "unregister", "whereis", "Via", "Destination", "register_name", "check_destination",
    # links, monitors, exit signals
    "link", "unlink", "monitor", "demonitor", "trap_exits", "exit", "ExitSignal", "Down",
    # timers
    "send_after", "cancel_timer",
    # exit reasons
    "NORMAL", "SHUTDOWN", "Shutdown", "KILL", "KILLED", "NOPROC", "NODEDOWN", "is_normal",
    # errors
    "OTPError", "Exit", "AlreadyRegistered", "AlreadyStarted", "NotRegistered", "NotAProcess",
    "ReceiveTimeout", "WouldBlock", "CallError", "CallTimeout", "NoProc", "CallingSelf",
    "ServerExited", "StartError", "AlreadyAttached",
    # hooks for behaviours and tools (otp.lowlevel)
    "resolve_pid", "queued_messages", "set_report_details", "exiting", "registered_name",
    "is_linked", "take_queued", "take_exit_signal", "set_behaviour", "behaviour_of", "release_mailbox", "set_mail_callback",
    "process_counters",
    # distribution (otp.lowlevel, for otp.dist)
    "set_distribution", "local_process", "deliver_local", "deliver_down",
    "signal_link_exit", "signal_exit", "add_remote_link", "remove_remote_link",
    # telemetry (otp.telemetry)
    "Handler", "attach", "attach_many", "attached", "detach", "execute", "list_handlers", "span",
]  # fmt: skip
