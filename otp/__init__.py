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
``otp.telemetry`` (events and handlers) and ``otp.introspection`` (the
supervision trees, top processes) are modules, used qualified.
"""

from ._kernel._aliases import alias, unalias
from ._kernel._exceptions import (
    AlreadyRegistered,
    AlreadyStarted,
    CallError,
    CallingSelf,
    CallTimeout,
    NoProc,
    ServerExited,
    StartError,
    Exit,
    NotAProcess,
    NotRegistered,
    OTPError,
    ReceiveTimeout,
    WouldBlock,
)
from ._kernel._introspection import ProcessInfo, is_alive, process_info, processes
from ._kernel._mailbox import receive, receive_nowait, send
from ._kernel._names import Via, register, unregister, whereis
from ._kernel._node import Node, NodeStatistics, open_node
from ._kernel._pid import Pid, Ref, TimerRef
from ._kernel._process import current_pid
from ._kernel._reasons import KILL, KILLED, NODEDOWN, NOPROC, NORMAL, SHUTDOWN, Shutdown, is_normal
from ._kernel._signals import Down, ExitSignal, demonitor, exit, link, monitor, trap_exits, unlink
from ._kernel._spawn import spawn, spawn_link, spawn_monitor
from ._kernel._timers import cancel_timer, send_after

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
]


def _fix_module_names(namespace: dict, module: str) -> None:
    # So that reprs, tracebacks and docs say otp.Down, not otp._kernel._signals.Down.
    for name in namespace["__all__"]:
        obj = namespace[name]
        if getattr(obj, "__module__", "").startswith(module + "."):
            try:
                obj.__module__ = module
            except (AttributeError, TypeError):
                pass


# The behaviours are built on the kernel names above, so they come last;
# telemetry first, as they emit events.
from . import telemetry  # noqa: E402
from .genserver import Continue, From, GenServer, Ignore, NoReply, Stop, call, cast, reply, stop  # noqa: E402
from .supervisor import (  # noqa: E402
    BRUTAL_KILL,
    ChildCounts,
    ChildInfo,
    ChildSpec,
    ChildType,
    DynamicSupervisor,
    Restart,
    Strategy,
    Supervisor,
    SupervisorError,
    SupervisorSpec,
)

from .task import Task, TaskExited, TaskSupervisor  # noqa: E402
from .registry import Registry  # noqa: E402
from .pubsub import PubSub  # noqa: E402
from .tracker import Tracker  # noqa: E402
from ._application import run  # noqa: E402  (the kernel's run, plus trees)
from . import introspection  # noqa: E402  (reads supervisors and processes)

__all__ += [
    # registry and pubsub
    "Registry",
    "PubSub",
    "Tracker",
    # tasks
    "Task",
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
    "Stop",
    "Continue",
    "Ignore",
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

_fix_module_names(globals(), __name__)
