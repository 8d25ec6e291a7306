"""trio-otp: Erlang/OTP's actor model for Python, on trio.

Processes are trio tasks with a mailbox; they link, monitor, trap exits and
register names exactly as Erlang processes do::

    import otp

    async def worker():
        msg = await otp.receive()
        print("worker got", msg)

    async def main():
        pid = otp.spawn_link(worker)
        otp.send(pid, "hello")
        ref = otp.monitor(pid)
        down = await otp.receive(otp.Down)
        return down.reason

    otp.run(main)          # -> normal

The kernel lives in ``otp._kernel``; this module only re-exports it. Use
``otp.exit(pid, reason)`` qualified: bare, ``exit`` shadows the builtin.
``otp.telemetry`` (events and handlers), ``otp.introspection`` (the
supervision trees, top processes) and ``otp.sys`` (a server's state,
suspend/resume, tracing; ``otp.upgrade`` is its hot code upgrade) are
modules, used qualified.
"""

__version__ = "0.1.0"  # the package's version (pyproject.toml reads it from here); see CHANGELOG.md

from . import introspection as introspection  # used qualified: otp.introspection
from . import sys as sys  # used qualified: otp.sys.get_state(pid)
from . import telemetry as telemetry  # used qualified: otp.telemetry
from ._application import run
from ._child_spec import BRUTAL_KILL, ChildSpec, ChildType, Restart
from ._kernel import (
    KILL,
    KILLED,
    NODEDOWN,
    NOPROC,
    NORMAL,
    SHUTDOWN,
    AlreadyRegistered,
    AlreadyStarted,
    CallError,
    CallingSelf,
    CallTimeout,
    Destination,
    Down,
    Exit,
    ExitSignal,
    Node,
    NodeStatistics,
    NoProc,
    NotAProcess,
    NotRegistered,
    OTPError,
    Pid,
    ProcessInfo,
    ReceiveTimeout,
    Ref,
    ServerExited,
    Shutdown,
    StartError,
    TimerRef,
    Via,
    WouldBlock,
    alias,
    cancel_timer,
    current_pid,
    demonitor,
    exit,
    is_alive,
    is_normal,
    link,
    monitor,
    open_node,
    process_info,
    processes,
    receive,
    receive_nowait,
    register,
    send,
    send_after,
    spawn,
    spawn_link,
    spawn_monitor,
    trap_exits,
    unalias,
    unlink,
    unregister,
    whereis,
)
from ._util import fixup_module_metadata as _fixup_module_metadata
from .agent import Agent
from .port import Port, PortData, PortExit, PortLine, PortPassive, ProgramExited
from .program import Program, ProgramNotReady
from .genserver import TIMEOUT, Continue, From, GenServer, Ignore, NoReply, Reply, Stop, call, cast, reply, stop
from .pubsub import PubSub
from .registry import Registry
from .supervisor import (
    ChildCounts,
    ChildInfo,
    DynamicSupervisor,
    Strategy,
    Supervisor,
    SupervisorError,
    SupervisorSpec,
)
from .sys import upgrade
from .task import Task, TaskExited, TaskSupervisor
from .tracker import Tracker

__all__ = [
    # running a node
    "run",
    "open_node",
    "Node",
    "NodeStatistics",
    # processes
    "Pid",
    "Ref",
    "TimerRef",
    "spawn",
    "spawn_link",
    "spawn_monitor",
    "current_pid",
    "is_alive",
    "process_info",
    "processes",
    "ProcessInfo",
    # messages
    "send",
    "receive",
    "receive_nowait",
    "alias",
    "unalias",
    # names
    "register",
    "unregister",
    "whereis",
    "Via",
    "Destination",
    # links, monitors, exit signals
    "link",
    "unlink",
    "monitor",
    "demonitor",
    "trap_exits",
    "exit",
    "ExitSignal",
    "Down",
    # timers
    "send_after",
    "cancel_timer",
    # exit reasons
    "NORMAL",
    "SHUTDOWN",
    "Shutdown",
    "KILL",
    "KILLED",
    "NOPROC",
    "NODEDOWN",
    "is_normal",
    # errors
    "OTPError",
    "Exit",
    "AlreadyRegistered",
    "NotRegistered",
    "NotAProcess",
    "ReceiveTimeout",
    "WouldBlock",
    # registry and pubsub
    "Registry",
    "PubSub",
    "Tracker",
    # tasks and agents
    "Task",
    "Agent",
    # external programs
    "Port",
    "PortData",
    "PortLine",
    "PortPassive",
    "PortExit",
    "ProgramExited",
    "Program",
    "ProgramNotReady",
    "TaskSupervisor",
    "TaskExited",
    # GenServer
    "GenServer",
    "call",
    "cast",
    "reply",
    "stop",
    "From",
    "NoReply",
    "Reply",
    "Stop",
    "Continue",
    "Ignore",
    "TIMEOUT",
    # hot code upgrade (and otp.sys, used qualified)
    "upgrade",
    "CallError",
    "CallTimeout",
    "NoProc",
    "CallingSelf",
    "ServerExited",
    "StartError",
    "AlreadyStarted",
    # supervisors
    "Supervisor",
    "DynamicSupervisor",
    "SupervisorSpec",
    "ChildSpec",
    "Strategy",
    "Restart",
    "ChildType",
    "BRUTAL_KILL",
    "ChildInfo",
    "ChildCounts",
    "SupervisorError",
]

_fixup_module_metadata(__name__, globals())
