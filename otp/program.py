"""Programs: an OS program as a supervised child, started when it says it is ready, stopped in order.

A :class:`~otp.port.Port` turns a running program into messages; a
``Program`` is the child a supervisor needs around one. Its ``start_link``
returns once the program printed its *ready* line (a web server's
"listening on ...", a database's "ready to accept connections"), its
output goes to the log, its failure ends the child (so the supervisor
restarts it, within its restart intensity), and the supervisor's shutdown
stops it gracefully::

    from otp import Restart, Supervisor
    from otp.program import Program

    children = [
        Program.child_spec(
            ["redis-server", "--port", "6400"], id="redis",
            ready=r"Ready to accept connections", shutdown=5.0,
        ),
        Program.child_spec(["python", "-m", "myapp.worker"], id="worker", restart=Restart.PERMANENT),
    ]
    await Supervisor.start_link(children)

Starting
--------
``await Program.start_link(argv, *, ready=None, ready_timeout=30.0,
label=None, env=None, cwd=None, input=None, on_output=None,
eof_timeout=0.0, shutdown=5.0, name=None)`` runs ``argv`` (a list, no
shell) through a port owned by a new process linked to the caller, and
returns that process's pid:

* ``ready``: a regular expression (a ``str`` or compiled pattern, found
  with ``search``) or a function ``line -> bool``, tried on each line of
  output (stdout and stderr) until one matches; ``start_link`` returns
  then. None: ready as soon as the program runs.
* ``ready_timeout``: seconds the program has to print it. Past that, or
  if the program ends first, the program is stopped and ``start_link``
  raises :class:`~otp.StartError` whose ``reason`` is
  :class:`ProgramNotReady` (it timed out or ended with status 0) or
  :class:`~otp.port.ProgramExited` (it failed).
* ``env`` replaces the environment (as ``Port.open``: pass
  ``{**os.environ, ...}`` to add to it), ``cwd`` the directory.
* ``input``: bytes written to the program's stdin at once (a
  configuration, a secret that must not appear in ``ps``); stdin stays
  open after it, so the program can watch it for end of file (below).
* ``label``: the program's name in log lines (default: ``argv[0]``'s
  base name).

Output
------
Every line of output, before and after the ready line, goes to
``on_output(label, line, stream)`` if given (``line`` a ``str``,
``stream`` ``"stdout"`` or ``"stderr"``), else to the logger
``otp.port``: a stdout line at INFO, a stderr line at WARNING, each as
``"<label>: <line>"``. Output is read only as fast as it is handled (the
port's back-pressure), so a chatty program cannot fill the node's memory.

When it ends
------------
The program ending ends the child: status 0 with reason ``NORMAL``, a
failure (a non-zero status, a signal) with
:class:`~otp.port.ProgramExited`, which is a crash: it is reported, and
the supervisor restarts the child as its restart type says
(``PERMANENT``: always, ``TRANSIENT``: after a failure only) and its
restart intensity allows.

Stopping
--------
A shutdown (the supervisor's, or ``GenServer.stop``) stops the program in
three steps, each only if it is still running:

1. its stdin is closed: a program that watches its input sees end of file
   and may end by itself (it has ``eof_timeout`` seconds);
2. its process group gets ``SIGTERM`` (the programs it started get it too);
3. ``shutdown`` seconds later, ``SIGKILL``.

``child_spec`` gives the supervisor a shutdown time longer than all of
that, so a program always gets its full time. Should the child be killed
anyway (``BRUTAL_KILL``, or its own node ending), the port still ends the
program's group with ``SIGTERM`` then ``SIGKILL``; and a program that reads
or watches its stdin sees end of file even when the whole node is killed
with ``SIGKILL`` (the kernel closes the pipe). That is how a program can
make sure it never outlives its parent.

Reading it
----------
``await Program.os_pid(program)`` is the program's OS pid (a new one after
each restart).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import signal
from typing import Any, Callable, Sequence

import attrs
import trio

from ._child_spec import ChildSpec, Restart
from ._kernel import Destination, Down, ExitSignal, Pid, Via, monitor, receive, trap_exits
from ._util import fixup_module_metadata as _fixup_module_metadata
from .genserver import Continue, GenServer, NoReply, Stop
from .port import Port, PortExit, PortLine, PortPassive, ProgramExited, Stderr

__all__ = ["Program", "ProgramNotReady"]

logger = logging.getLogger("otp.port")

OutputHandler = Callable[[str, str, str], None]
Ready = str | re.Pattern[str] | Callable[[str], bool] | None

_ACTIVE = 64  # output lines delivered before the port waits for this process to take them
_SPEC_MARGIN = 1.0  # seconds the supervisor waits beyond the program's own stop sequence


class ProgramNotReady(Exception):
    """Why a program's ``start_link`` failed when it neither printed its ready line nor failed.

    Attributes:
        label: the program's label.
        reason: ``"timeout"`` (no ready line within ``ready_timeout``) or
            ``"exited"`` (it ended with status 0 first).
        timeout: the ``ready_timeout`` it had.
    """

    def __init__(self, label: str, reason: str, timeout: float) -> None:
        super().__init__(label, reason, timeout)
        self.label, self.reason, self.timeout = label, reason, timeout

    def __str__(self) -> str:
        if self.reason == "timeout":
            return f"program {self.label!r} printed no ready line within {self.timeout:g} s (ready_timeout)"
        return f"program {self.label!r} exited with status 0 before printing its ready line"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProgramNotReady) and self.args == other.args

    def __hash__(self) -> int:
        return hash(self.args)


def _check_seconds(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"Program: {attribute.name} must be seconds >= 0; got {value!r}")


def _ready_test(ready: Ready) -> Callable[[str], bool] | None:
    if ready is None or callable(ready):
        return ready
    if isinstance(ready, (str, re.Pattern)):
        return re.compile(ready).search  # type: ignore[return-value]
    raise TypeError(f"Program: ready must be a regular expression, a function line -> bool, or None; got {ready!r}")


@attrs.frozen
class _Config:
    """What a program's process is started with (checked before anything runs)."""

    argv: tuple[str, ...]
    label: str
    ready: Callable[[str], bool] | None
    ready_timeout: float = attrs.field(validator=_check_seconds)
    env: dict[str, str] | None
    cwd: str | os.PathLike[str] | None
    input: bytes | None
    on_output: OutputHandler | None
    eof_timeout: float = attrs.field(validator=_check_seconds)
    shutdown: float = attrs.field(validator=_check_seconds)


class Program:
    """Start, supervise and read OS programs as children; see the module docstring."""

    @staticmethod
    async def start_link(
        argv: Sequence[str],
        *,
        ready: Ready = None,
        ready_timeout: float = 30.0,
        label: str | None = None,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        input: bytes | str | None = None,
        on_output: OutputHandler | None = None,
        eof_timeout: float = 0.0,
        shutdown: float = 5.0,
        name: str | Via | None = None,
    ) -> Pid:
        """Run ``argv`` as a child of the caller; return its pid once the program printed its ready line.

        Raises:
            StartError: the program could not start (``reason``: the
                ``OSError``), failed (:class:`~otp.port.ProgramExited`), or
                was not ready in time (:class:`ProgramNotReady`).
            TypeError, ValueError: an option is malformed (``argv`` a
                string, ``ready`` neither a pattern nor a function, seconds
                below 0).
        """
        config = _config(argv, ready, ready_timeout, label, env, cwd, input, on_output, eof_timeout, shutdown)
        return await _ProgramServer.start_link(config, name=name)

    @staticmethod
    def child_spec(
        argv: Sequence[str],
        *,
        id: object = None,
        restart: Restart = Restart.PERMANENT,
        **options: Any,
    ) -> ChildSpec:
        """A child spec running :meth:`start_link` with ``options``; ``id`` defaults to the label.

        The spec's shutdown time is the program's whole stop sequence
        (``eof_timeout + shutdown``) plus a second, so the supervisor never
        cuts it short.
        """
        start = functools.partial(Program.start_link, argv, **options)
        label = options.get("label") or _default_label(argv)
        stop_time = options.get("eof_timeout", 0.0) + options.get("shutdown", 5.0) + _SPEC_MARGIN
        return ChildSpec(id=label if id is None else id, start=(start,), restart=restart, shutdown=stop_time)

    @staticmethod
    async def os_pid(program: Destination) -> int:
        """The OS pid of the program ``program`` runs now."""
        return await GenServer.call(program, _OS_PID)

    stop = staticmethod(GenServer.stop)


def _default_label(argv: Sequence[str]) -> str:
    if isinstance(argv, (str, bytes)) or not argv:
        return "program"  # Port.open says what is wrong with argv
    return os.path.basename(os.fspath(argv[0]))


def _config(
    argv: Sequence[str], ready: Ready, ready_timeout: float, label: str | None, env: dict[str, str] | None,
    cwd: str | os.PathLike[str] | None, input: bytes | str | None, on_output: OutputHandler | None,
    eof_timeout: float, shutdown: float,
) -> _Config:
    if isinstance(argv, (str, bytes)):
        raise TypeError(f"Program: argv is a list of arguments, run without a shell; got the string {argv!r}")
    data = input.encode() if isinstance(input, str) else input
    return _Config(
        tuple(os.fspath(part) for part in argv), label or _default_label(argv), _ready_test(ready), ready_timeout,
        env, cwd, data, on_output, eof_timeout, shutdown,
    )


# ---------------------------------------------------------------- the process


class _OsPid:
    __slots__ = ()


_OS_PID = _OsPid()


class _ProgramServer(GenServer):
    """Internal: the process owning one program's port (see :class:`Program`)."""

    async def init(self, config: _Config) -> None:
        trap_exits(True)  # a shutdown goes through terminate: the stop sequence
        self.config = config
        self.exited: int | None = None
        self.port = await Port.open(
            list(config.argv), lines=True, stderr=Stderr.SEPARATE, env=config.env, cwd=config.cwd,
            active=_ACTIVE, kill_timeout=config.shutdown,
        )
        if config.input:
            self.port.command(config.input)
        if config.ready is not None:
            await self._wait_until_ready(config.ready)

    async def _wait_until_ready(self, ready: Callable[[str], bool]) -> None:
        with trio.move_on_after(self.config.ready_timeout):
            while True:
                message = await receive(self._is_from_port)
                if isinstance(message, PortExit):
                    raise _not_started(self.config, message.status)
                if not isinstance(message, PortLine):
                    self._handle_port_message(message)
                elif ready(self._output(message)):
                    return
        # init's failure ends this process, and with it the port: the program is stopped.
        raise ProgramNotReady(self.config.label, "timeout", self.config.ready_timeout)

    def _is_from_port(self, message: object) -> bool:
        return isinstance(message, (PortLine, PortPassive, PortExit)) and message.port == self.port

    async def handle_info(self, message: object) -> NoReply | Continue | Stop | None:
        if self._is_from_port(message):
            self._handle_port_message(message)
            return None
        if isinstance(message, ExitSignal) and message.pid == self.port.pid:
            # After the PortExit: the program ended, NORMAL or ProgramExited (a crash, reported).
            return Stop(message.reason)
        return await super().handle_info(message)

    async def handle_call(self, request: object, caller: object) -> object:
        if request is _OS_PID:
            return self.port.os_pid
        raise ValueError(f"Program: unknown call {request!r}")

    def _handle_port_message(self, message: object) -> None:
        if isinstance(message, PortLine):
            self._output(message)
        elif isinstance(message, PortPassive):
            self.port.set_active(_ACTIVE)  # the lines before it are handled: let more come
        elif isinstance(message, PortExit):
            self.exited = message.status

    def _output(self, message: PortLine) -> str:
        line = message.line.decode("utf-8", "replace")
        if self.config.on_output is not None:
            self.config.on_output(self.config.label, line, message.stream)
        else:
            level = logging.INFO if message.stream == "stdout" else logging.WARNING
            logger.log(level, "%s: %s", self.config.label, line)
        return line

    async def terminate(self, reason: object) -> None:
        """The stop sequence (module docstring): end of input, SIGTERM, SIGKILL, each if it still runs."""
        if self.exited is not None:
            return
        self.port.close_input()
        if await self._exits_within(self.config.eof_timeout):
            return
        self.port.signal(signal.SIGTERM)
        if await self._exits_within(self.config.shutdown):
            return
        await self._kill()

    async def _exits_within(self, seconds: float) -> bool:
        """Handle the program's output until it exits (True) or ``seconds`` pass (False)."""
        with trio.move_on_after(seconds):
            while self.exited is None:
                self._handle_port_message(await receive(self._is_from_port))
        return self.exited is not None

    async def _kill(self) -> None:
        """SIGKILL the program's group, and wait for its port to end (the port reaps it)."""
        ref = monitor(self.port.pid)
        self.port.signal(signal.SIGKILL)
        self.port.close()  # its output may be held open by a program it started: do not wait for that
        await receive(lambda m: isinstance(m, Down) and m.ref == ref)

    def format_status(self) -> object:
        return {"program": " ".join(self.config.argv), "label": self.config.label, "os pid": self.port.os_pid}


def _not_started(config: _Config, status: int) -> BaseException:
    if status == 0:
        return ProgramNotReady(config.label, "exited", config.ready_timeout)
    return ProgramExited(config.argv, status)


_fixup_module_metadata(__name__, globals())
