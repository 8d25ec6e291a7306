"""Look inside a running GenServer, pause it, trace it, and change its code while it runs (OTP's ``sys``).

Every GenServer-based process (a ``GenServer``, ``Supervisor``,
``DynamicSupervisor``, ``Agent``, a ``Registry``...) answers *system
messages* between two of its own messages, without its callbacks ever
seeing them::

    import otp
    from otp import GenServer

    class Counter(GenServer):
        async def init(self, start):
            self.count = start

        async def handle_call(self, request, caller):
            self.count += 1
            return self.count

    async def main():
        pid = await Counter.start_link(0)
        await otp.sys.log(pid, True)                  # keep its last 10 events
        await GenServer.call(pid, "incr")
        events = await otp.sys.log(pid, "get")        # got call 'incr' from <0.1.0>, replied 1 to <0.1.0>
        await otp.sys.replace_state(pid, lambda server: setattr(server, "count", 41))
        status = await otp.sys.get_status(pid)        # Status(pid=<0.2.0>, status='running', state=...)
        return [e.kind for e in events], status.state, await GenServer.call(pid, "incr")

    otp.run(main)   # -> (['call', 'reply'], {'count': 41}, 42)

=========================================  =================================================
``await get_state(server)``                its instance (the state lives on it)
``await replace_state(server, fun)``       ``fun(instance)`` runs in the server; all or nothing
``await suspend(server)``                  handles nothing but system messages, ``stop`` and
                                           its parent's exit signal; the rest waits, in order
``await resume(server)``                   handles its messages again
``await get_status(server)``               a :class:`Status`: pid, name, class, vsn,
                                           running/suspended, ``format_status()``, last
                                           message, logged events, mailbox length
``await trace(server, True | False)``      an ``INFO`` record on logger ``otp.sys`` per
                                           message in and reply out
``await log(server, True | N | False)``    keep its last 10 (N) events, or stop
``await log(server, "get")``               those events, oldest first (:class:`Event`)
``await change_code(server, cls, extra)``  (suspended) take class ``cls``; its
                                           ``code_change`` runs
``await upgrade(module)``                  reload ``module``; move its live servers to the
                                           new code (also ``otp.upgrade``)
=========================================  =================================================

``server`` is a pid, a registered name or a via-name. Every function takes
``timeout=`` (default 5 s) and fails as ``GenServer.call`` does:
``CallTimeout`` (a server busy in a long callback, or suspended behind a
long queue: system messages wait their turn in the mailbox), ``NoProc``,
``ServerExited``. A local process that is not GenServer-based (a plain
process, a Task, a channel) is refused at once with a ``TypeError``, instead
of a request it would never answer. A function or callback that raises
inside the server (``replace_state``'s, ``code_change``) changes nothing
and raises :class:`CallbackFailed` in the caller; the server runs on.

Hot code upgrade
----------------
``await otp.upgrade(module)`` reloads a module and, for every live
GenServer whose class it defines, suspends it, gives the instance the new
class of the same qualified name, runs ``code_change(old_vsn, extra)`` in
it and resumes it: the state (its attributes) is kept, the messages that
arrived meanwhile are handled by the new code, none is lost. A
``code_change`` that raises leaves that server on its old code, and the
:class:`UpgradeReport` says why. Supervisors start the new classes from
then on, for children they restart and children added later with specs
written before the upgrade. The steps, and what it cannot do, are in
``otp/_upgrade.py``'s docstring; the shape of ``code_change`` and ``vsn``
in ``GenServer``'s.
"""

from ._sys import change_code, get_state, get_status, log, replace_state, resume, suspend, trace
from ._upgrade import UpgradeReport, follow_upgrades, upgrade
from ._util import fixup_module_metadata as _fixup_module_metadata
from .genserver._system import CallbackFailed, Event, Status

__all__ = [
    "get_state",
    "replace_state",
    "suspend",
    "resume",
    "get_status",
    "trace",
    "log",
    "change_code",
    "upgrade",
    "follow_upgrades",
    "Status",
    "Event",
    "UpgradeReport",
    "CallbackFailed",
]

_fixup_module_metadata(__name__, globals(), defined_in=("otp._sys", "otp._upgrade", "otp.genserver._system"))
