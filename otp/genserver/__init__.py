"""GenServer: a process that holds state and serves calls and casts, one at a time.

Example
-------
A counter. State lives on ``self``; every callback is ``async``::

    import otp
    from otp import GenServer, NoReply, Stop

    class Counter(GenServer):
        async def init(self, start):
            self.count = start                    # return None: started

        async def handle_call(self, request, caller):
            if request == "get":
                return self.count                 # the reply
            if request == "stop":
                return Stop(otp.NORMAL, reply="bye")

        async def handle_cast(self, request):
            self.count += request                 # return None: no reply to casts

    async def main():
        pid = await Counter.start_link(10)
        GenServer.cast(pid, 5)
        return await GenServer.call(pid, "get")   # -> 15

    otp.run(main)

Client API
----------
``await Cls.start_link(arg, name=None, timeout=math.inf)`` returns the pid
once ``init`` has finished (``start`` is the unlinked twin). If ``init``
raises or returns ``Stop(reason)``, it raises ``StartError`` with
``.reason``; the failed process is gone and, as a deliberate difference from
OTP, the caller gets the exception instead of an exit signal along the link
(an uncaught ``StartError`` ends the caller just the same). ``Ignore()``
makes it return None. A taken name raises ``AlreadyStarted`` (``.pid``).

``await GenServer.call(server, request, timeout=5.0)`` sends a request and
waits for the reply. ``server`` is a pid, a registered name or a via-name.
It monitors the server and tags the request with a unique ref that is also
an *alias*, so:

- a server that is not running raises ``NoProc``;
- a server that ends before replying raises ``ServerExited`` with its reason;
- no reply within ``timeout`` raises ``CallTimeout``, and a reply that comes
  later is dropped by the kernel, never left in the caller's mailbox;
- a process calling itself raises ``CallingSelf`` at once.

``GenServer.cast(server, request)`` never blocks and never fails (a dead
server drops it). ``GenServer.reply(caller, value)`` answers a call later,
from anywhere, after ``handle_call`` returned ``NoReply()``.
``await GenServer.stop(server, reason=NORMAL, timeout=math.inf)`` makes the
server run ``terminate(reason)`` and waits until it has exited.

Callbacks and what they return
------------------------------
See :mod:`otp.genserver._results` for the table. ``handle_call`` replies
with its return value; ``Reply(value, timeout=...)``, ``NoReply()``,
``Continue(arg, reply=...)`` and ``Stop(reason, reply=...)`` are the other
shapes. ``handle_cast``, ``handle_info`` and ``handle_continue`` return None
(or ``NoReply(...)``, ``Continue``, ``Stop``). A wrong return raises
``TypeError`` naming the callback, the value and the accepted shapes, and
the server crashes with it.

Timeouts, hibernate and continue
--------------------------------
What OTP writes ``{noreply, State, Timeout | hibernate | {continue, Arg}}``
is, from any callback but ``terminate``::

    return NoReply(timeout=30.0)         # handle_info(TIMEOUT) after 30 s without a message
    return Reply(count, timeout=30.0)    # the same, from handle_call, after replying
    return NoReply(hibernate=True)       # give memory back while idle
    return Continue("load")              # handle_continue("load") before the next message

Any message cancels a timeout (a call, a cast, any ``send``); ``otp.sys``
requests do not. ``init`` may return ``NoReply(timeout=...)`` too: a server
that nobody talks to for 30 s can then stop itself. What hibernating gives
back, and why that is all, is in :mod:`otp.genserver._results`.

Looking inside, and upgrading the code
--------------------------------------
Every GenServer answers ``otp.sys``: ``get_state``, ``replace_state``,
``suspend``/``resume``, ``get_status`` (its state as ``format_status``
gives it), ``trace`` and ``log`` of its messages; its callbacks never see
those requests. ``await otp.upgrade(module)`` reloads a module and moves
its live servers to the new classes; each server's ``code_change(old_vsn,
extra)`` runs then, in the server, with ``self`` already of the new class,
to bring its attributes up to the new code (raise to refuse: the server
keeps its old class and attributes). ``vsn``, a class attribute, is the
version ``code_change`` receives as ``old_vsn``; by default the module's
``__version__``.

When ``terminate(reason)`` runs
-------------------------------
- a callback returned ``Stop(reason)``, or ``GenServer.stop`` was called;
- a callback raised (``reason`` is the exception; the crash report shows the
  last message and the state, from ``format_status``);
- its parent (the process that called ``start_link``, usually a supervisor)
  sent an exit signal *and the server traps exits* (``otp.trap_exits(True)``
  in ``init``). Without trapping, the signal ends the server at once, with
  no ``terminate``, exactly as in OTP.

Telemetry
---------
Every ``call`` is a telemetry span, client side: ``("otp", "genserver",
"call", "start" | "stop" | "exception")`` with the ``duration`` and the
``server`` and ``request_kind`` (see ``otp.telemetry``). With no handler
attached it costs one check.

Supervision
-----------
``Cls.child_spec(arg, **overrides)`` gives the ``ChildSpec`` a supervisor
needs; class keyword arguments set defaults
(``class Cache(GenServer, restart=Restart.TRANSIENT)``).

Types
-----
``GenServer`` is generic in the requests ``handle_call`` takes and the
replies it gives: subclass ``GenServer[Request, Reply]`` and call through
your class, and a type checker (mypy, pyright) checks both ends::

    class Counter(GenServer[str, int]):
        async def init(self, start: int) -> None:
            self.count = start

        async def handle_call(self, request: str, caller: From) -> int:
            return self.count

    pid = await Counter.start_link(10)           # a Pid
    count = await Counter.call(pid, "get")       # an int
    await Counter.call(pid, 42)                  # error: 42 is not a str

A bare ``GenServer`` is ``GenServer[Any, Any]``, so ``GenServer.call``
returns ``Any`` and untyped code keeps working. The callbacks' parameters
are typed loosely in the base class (``Any``, or ``Request``), so a subclass
annotates them as it likes: ``handle_cast(self, request: int)``,
``handle_info(self, message: Tick)``. ``handle_call`` returns the reply or
``Reply``/``NoReply``/``Continue``/``Stop``; the others return None or
``NoReply``/``Continue``/``Stop``.

``start_link`` and ``start`` return a ``Pid``, not ``Pid | None``, unless
``init`` is annotated as possibly returning ``Ignore``
(``async def init(self, arg) -> Ignore | None``): only then can they
return None. Call and cast take a ``otp.Destination``: a pid, a registered
name, a via-name or ``(name, node)``.
"""

from .._util import fixup_module_metadata as _fixup_module_metadata
from ._behaviour import GenServer
from ._gen import call, cast, reply, stop
from ._messages import TIMEOUT, From
from ._results import Continue, Ignore, NoReply, Reply, Stop

__all__ = [
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
]

_fixup_module_metadata(__name__, globals())
