"""A configurable GenServer worker for the supervisor tests.

``Worker.start_link(config)`` with ``config`` a dict (or None):

* ``"tag"``: how notifications name this worker (default: the pid);
* ``"notify"``: a pid sent ``("started", tag, pid)`` when ``init`` succeeds,
  ``("init", tag, mode)`` when ``init`` runs at all (only with
  ``"notify_init"``), and
  ``("terminating", tag, pid, reason)`` when ``terminate`` starts;
* ``"init"``: ``"ok"`` (default), ``"crash"`` (raise ``config["error"]``, or a
  fresh ``ValueError``), ``"ignore"``, ``"stop"`` (``Stop(config["stop_reason"])``).
  A *list* of modes is consumed one per start (the last one stays), so a
  test can make the second start crash; the list is shared and may be
  changed by the test while the supervisor retries;
* ``"trap_exits"``: trap exits in ``init`` (so ``terminate`` runs on shutdown);
* ``"wait_in_init"``: ``init`` sends ``("waiting", tag, pid)`` to ``notify`` and
  waits for the message ``"go"`` (so its starter, a supervisor, is busy);
* ``"hang_on_shutdown"``: ``terminate`` never returns;
* ``"terminate_delay"``: seconds ``terminate`` sleeps before returning;
* ``"on_terminate"``: an async function ``f(reason)`` run by ``terminate``;
* ``"terminate_raises"``: ``terminate`` raises this exception.

Requests: cast ``("exit", reason)`` stops it with ``reason`` (terminate
runs); cast ``("raise", error)`` makes ``handle_cast`` raise ``error``; call
``"ping"`` answers ``"pong"``.
"""

from __future__ import annotations

import otp
import trio
from otp import GenServer, Ignore, Stop

__all__ = ["Worker", "spec", "stop_with", "events", "notifications"]


class Worker(GenServer):
    async def init(self, config):
        self.config = config = dict(config or {})
        self.notify = config.get("notify")
        self.tag = config.get("tag", otp.current_pid())
        mode = config.get("init", "ok")
        if isinstance(mode, list):
            mode = mode.pop(0) if len(mode) > 1 else mode[0]
        if config.get("notify_init"):
            self._tell("init", self.tag, mode)
        if config.get("trap_exits"):
            otp.trap_exits(True)
        if config.get("wait_in_init"):
            self._tell("waiting", self.tag, otp.current_pid())
            await otp.receive(lambda m: m == "go")
        if mode == "crash":
            raise config.get("error") or ValueError("init crash")
        if mode == "ignore":
            return Ignore()
        if mode == "stop":
            return Stop(config.get("stop_reason", "stopped_in_init"))
        assert mode == "ok", mode
        self._tell("started", self.tag, otp.current_pid())
        return None

    def _tell(self, *message):
        if self.notify is not None:
            otp.send(self.notify, message)

    async def handle_call(self, request, caller):
        if request == "ping":
            return "pong"
        raise ValueError(f"unexpected call {request!r}")

    async def handle_cast(self, request):
        kind, value = request
        if kind == "exit":
            return Stop(value)
        if kind == "raise":
            raise value
        raise ValueError(f"unexpected cast {request!r}")

    async def terminate(self, reason):
        self._tell("terminating", self.tag, otp.current_pid(), reason)
        config = self.config
        if config.get("on_terminate") is not None:
            await config["on_terminate"](reason)
        if config.get("hang_on_shutdown"):
            await trio.sleep_forever()
        if config.get("terminate_delay"):
            await trio.sleep(config["terminate_delay"])
        if config.get("terminate_raises") is not None:
            raise config["terminate_raises"]

    def format_status(self):
        return {"tag": self.tag}


def spec(tag, **config):
    """A ChildSpec for a Worker with id ``tag``; ``restart``, ``shutdown``, ``type`` go to the spec."""
    fields = {key: config.pop(key) for key in ("restart", "shutdown", "type") if key in config}
    config.setdefault("tag", tag)
    return Worker.child_spec(config, id=tag, **fields)


def stop_with(pid, reason):
    """Make the worker ``pid`` end with ``reason``: its own Stop, a raise, or an exit signal for KILL."""
    if reason is otp.KILL:
        otp.exit(pid, otp.KILL)
    elif isinstance(reason, BaseException):
        GenServer.cast(pid, ("raise", reason))
    else:
        GenServer.cast(pid, ("exit", reason))


def events(records):
    """The supervisor reports among captured log records: ``(otp_event, otp_child_id, otp_reason)``."""
    return [(r.otp_event, r.otp_child_id, r.otp_reason) for r in records if hasattr(r, "otp_event")]


def notifications(messages):
    """The worker notifications among ``messages`` (tuples starting with "started"/"terminating"/"init")."""
    return [m for m in messages if isinstance(m, tuple) and m and m[0] in ("started", "terminating", "init")]
