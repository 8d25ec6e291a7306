"""``Worker``: one configurable GenServer for the behaviour tests (GenServer, supervisors).

Import it as ``from _workers import Worker`` (``tests/`` is on ``sys.path``
through ``tests/conftest.py``). Start it like any GenServer, with a config
dict (every key optional)::

    pid = await Worker.start_link({"notify": otp.current_pid()})
    spec = Worker.child_spec({"init": "crash"}, id="w1", restart=otp.Restart.TRANSIENT)
    pid = await Worker.start_link({}, name="w")            # name= registers it

Config keys:

``"init"``
    ``"ok"`` (default): start. ``"crash"``: ``init`` raises ``config["reason"]``
    (an exception; default a fresh ``RuntimeError("init crashed")``).
    ``"stop"``: ``init`` returns ``Stop(config.get("reason", "init stopped"))``.
    ``"ignore"``: ``init`` returns ``Ignore()``.
``"trap_exits"``
    bool: ``init`` calls ``otp.trap_exits(True)``. A trapped exit signal from
    the parent runs ``terminate``; one from any other process reaches
    ``handle_info`` (and is reported to ``notify`` as ``("info", pid, msg)``).
``"hang_on_shutdown"``
    bool: trap exits, and never return from ``terminate`` (it awaits for
    ever after notifying ``"terminating"``); only ``KILL`` ends it then.
``"notify"``
    a pid told about the worker's life, in this order:
    ``("started", pid)`` when ``init`` succeeded (sent before ``start_link``
    returns), ``("terminating", pid, reason)`` when ``terminate`` starts, and
    ``("info", pid, message)`` for every message ``handle_info`` receives that
    is not a command below.

Commands, accepted by ``GenServer.call`` (with the reply shown), by
``GenServer.cast`` and as plain messages (``handle_info``):

==================  ================================================
``"ping"``          replies ``"pong"`` (a cast or plain message: no-op)
``("crash", exc)``  raises ``exc`` (the worker crashes with it)
``("stop", r)``     returns ``Stop(r, reply="ok")`` (no reply from cast/info)
``("exit", r)``     raises ``otp.Exit(r)``
==================  ================================================

Any other call raises ``ValueError``; any other cast is ignored.
"""

from __future__ import annotations

import trio

import otp
from otp import GenServer, Ignore, Stop

__all__ = ["Worker"]


class Worker(GenServer):
    """A GenServer whose every behaviour is picked by its config dict (see the module docstring)."""

    async def init(self, config):
        config = dict(config or {})
        self.config = config
        self.notify = config.get("notify")
        mode = config.get("init", "ok")
        if config.get("trap_exits") or config.get("hang_on_shutdown"):
            otp.trap_exits(True)
        if mode == "crash":
            raise config.get("reason") or RuntimeError("init crashed")
        if mode == "stop":
            return Stop(config.get("reason", "init stopped"))
        if mode == "ignore":
            return Ignore()
        if mode != "ok":
            raise ValueError(f"Worker: unknown init mode {mode!r}")
        self._tell("started", otp.current_pid())
        return None

    async def handle_call(self, request, caller):
        if request == "ping":
            return "pong"
        result = self._command(request)
        if result is None:
            raise ValueError(f"Worker: unknown call {request!r}")
        return result

    async def handle_cast(self, request):
        result = self._command(request)
        return Stop(result.reason) if result is not None else None

    async def handle_info(self, message):
        result = self._command(message)
        if result is not None:
            return Stop(result.reason)
        if message != "ping":
            self._tell("info", otp.current_pid(), message)
        return None

    async def terminate(self, reason):
        self._tell("terminating", otp.current_pid(), reason)
        if self.config.get("hang_on_shutdown"):
            await trio.sleep_forever()

    def _command(self, request):
        if isinstance(request, tuple) and len(request) == 2:
            verb, argument = request
            if verb == "crash":
                raise argument
            if verb == "exit":
                raise otp.Exit(argument)
            if verb == "stop":
                return Stop(argument, reply="ok")
        return None

    def _tell(self, *message):
        if self.notify is not None:
            otp.send(self.notify, message)
