"""Ports: external OS programs as processes, linked to their owner, talking in messages.

A port runs a program and turns it into something the actor model already
understands: its output arrives in the owner's mailbox as messages, input
is sent to it, and its life is linked to the owner's in both directions::

    import otp
    from otp import Port, PortExit, PortLine

    async def main():
        port = await Port.open(["sh", "-c", "echo one; echo two"], lines=True)
        lines = []
        while True:
            message = await otp.receive(PortLine, PortExit)
            if isinstance(message, PortExit):
                return lines, message.status
            lines.append(message.line)

    otp.run(main)              # -> ([b'one', b'two'], 0)

Opening
-------
``await Port.open(argv, *, lines=False, max_line=65536, stderr=MERGE,
env=None, cwd=None, shell=False, active=64, kill_timeout=1.0)`` starts the
program and returns a :class:`Port` handle once it runs (``OSError`` such
as ``FileNotFoundError`` if it cannot start; nothing is left behind).
``argv`` is a list run without a shell; a string with ``shell=True`` runs
through ``/bin/sh -c`` (only when asked: a shell line built from user input
is an injection). ``env`` replaces the environment when given.

Messages to the owner
---------------------
==========================================  =============================================
``PortData(port, data, stream)``            a chunk of output (bytes), ``lines=False``
``PortLine(port, line, stream, complete)``  one line, without its newline, ``lines=True``;
                                            ``complete`` is False for a piece cut at
                                            ``max_line`` or a last line with no newline
``PortPassive(port)``                       the ``active`` budget is spent; see below
``PortExit(port, status)``                  the program ended: its exit code, or ``-N``
                                            when killed by signal N; after all output
==========================================  =============================================

``stream`` is ``"stdout"`` or ``"stderr"``. ``stderr=MERGE`` (default)
sends the program's stderr into its stdout pipe, ``SEPARATE`` delivers it as
messages with ``stream="stderr"``, ``DISCARD`` drops it.

Back-pressure
-------------
A chatty program must not fill its owner's mailbox without bound, so a port
delivers at most ``active`` messages and then sends ``PortPassive(port)``
and stops reading (as ``{active, N}`` sockets do in Erlang). The program
then blocks on its next write once the pipe is full: it runs exactly as
fast as the owner takes its output. ``port.set_active(n)`` allows ``n``
more. ``active=None`` means no limit (only for programs whose output is
known to be small). A ``PortData`` holds at most 128 KiB, so with the
default budget at most 8 MiB of output waits in the owner's mailbox.

Throughput: the port asks the kernel for 128 KiB pipes (Linux; the default
is 64 KiB) and reads them whole, so that a program writing as fast as it
can costs one message per 128 KiB. ``python -m benchmarks port`` measures
it against reading the same program's pipe in plain trio.

Input and closing
-----------------
``port.command(data)`` writes bytes (or str, as UTF-8) to the program's
stdin, in order, without blocking the caller; ``port.close_input()`` closes
stdin after what was sent (the program sees end of file).
``port.close()`` ends the program and the port; no message follows.
``port.signal(signum)`` sends a signal to the program's process group (as
``close`` does, but the port keeps delivering output, and the
``PortExit`` after it), unless the program has ended already.

Links: who ends whom
--------------------
The port is a process linked to the owner that opened it:

- **the owner ends** (crash, exit signal, normal end): the port ends and the
  program's whole *process group* gets ``SIGTERM``, then ``SIGKILL`` after
  ``kill_timeout`` seconds, so the programs it started die too;
- **the program ends with status 0**: ``PortExit(port, 0)``, then the port
  ends with ``NORMAL`` (the owner keeps running);
- **the program fails** (non-zero status, or killed by a signal):
  ``PortExit(port, status)``, then the port ends with
  :class:`ProgramExited` as its reason. A non-trapping owner ends with it
  too, so a supervised owner is restarted, as after any linked crash. (Erlang
  ends a port normally whatever the status; we chose to make a failed
  program a failure, so supervision sees it. Trap exits to treat it as a
  message instead.)

A program can notice that its port is gone: its stdin reaches end of file
when the port ends, even after a ``SIGKILL`` of the whole node, since the
kernel closes the pipe. A program that reads stdin (or watches it) never
outlives its owner.
"""

from __future__ import annotations

import enum
import fcntl
import math
import os
import signal
import subprocess
from typing import Any, Sequence

import attrs
import trio

from ._kernel import Exit, Pid, current_pid, receive, send, set_report_details, spawn_link

__all__ = [
    "Port",
    "Stderr",
    "PortData",
    "PortLine",
    "PortPassive",
    "PortExit",
    "ProgramExited",
]


class Stderr(enum.Enum):
    """Where a port's program's stderr goes."""

    MERGE = "merge"  # into stdout: one stream, in the order the program wrote it
    SEPARATE = "separate"  # messages of its own, stream="stderr"
    DISCARD = "discard"  # /dev/null


@attrs.frozen
class Port:
    """A handle on a running port: its process, the program's OS pid and argv.

    Created by :meth:`open`; every message a port sends names it, so an
    owner with several ports tells them apart with ``message.port == port``.
    """

    pid: Pid
    os_pid: int
    argv: tuple[str, ...]

    MERGE = Stderr.MERGE
    SEPARATE = Stderr.SEPARATE
    DISCARD = Stderr.DISCARD

    @staticmethod
    async def open(
        argv: Sequence[str] | str,
        *,
        lines: bool = False,
        max_line: int = 65536,
        stderr: Stderr = Stderr.MERGE,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        shell: bool = False,
        active: int | None = 64,
        kill_timeout: float = 1.0,
    ) -> Port:
        """Start ``argv`` as a port owned by (and linked to) the caller; see the module docstring.

        Raises:
            OSError: the program could not be started (``FileNotFoundError``, ``PermissionError``...).
            TypeError: ``argv`` does not fit ``shell``, or ``stderr`` is not one of the three choices.
            ValueError: ``argv`` is empty, or a number is out of range (``max_line``, ``active``).
        """
        options = _Options(tuple(_command_line(argv, shell)), lines, max_line, stderr, active, kill_timeout)
        program = await trio.lowlevel.open_process(
            list(options.argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=_STDERR_PIPES[stderr],
            env=env,
            cwd=cwd,
            start_new_session=True,  # its own process group: ending the port ends its children too
        )
        for pipe in (program.stdout, program.stderr):
            _widen(pipe)
        pid = spawn_link(_run_port, current_pid(), program, options)
        return Port(pid, program.pid, options.argv)

    def command(self, data: bytes | str) -> None:
        """Write ``data`` to the program's stdin (after what was sent before). Never blocks."""
        send(self.pid, _Command(data.encode() if isinstance(data, str) else bytes(data)))

    def close_input(self) -> None:
        """Close the program's stdin once what was sent before is written."""
        send(self.pid, _CloseInput())

    def set_active(self, count: int | None) -> None:
        """Allow ``count`` more output messages (None: no limit); see "Back-pressure"."""
        _check_active(count)
        send(self.pid, _SetActive(count))

    def close(self) -> None:
        """End the program (its process group) and the port; the owner gets no further message."""
        send(self.pid, _Close())

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the program's process group, unless it has ended; output and ``PortExit`` follow."""
        send(self.pid, _Signal(signal.Signals(signum)))


@attrs.frozen
class PortData:
    """A chunk of the program's output (``lines=False``)."""

    port: Port
    data: bytes
    stream: str = "stdout"


@attrs.frozen
class PortLine:
    """One line of the program's output, newline removed (``lines=True``)."""

    port: Port
    line: bytes
    stream: str = "stdout"
    complete: bool = True


@attrs.frozen
class PortPassive:
    """The port delivered its ``active`` budget and waits for ``port.set_active(n)``."""

    port: Port


@attrs.frozen
class PortExit:
    """The program ended with ``status``: its exit code, or ``-N`` when signal N killed it."""

    port: Port
    status: int


class ProgramExited(Exception):
    """A port's exit reason when its program failed (non-zero status or a signal)."""

    def __init__(self, argv: tuple[str, ...], status: int) -> None:
        super().__init__(argv, status)
        self.argv = argv
        self.status = status

    def __str__(self) -> str:
        how = f"was killed by signal {-self.status}" if self.status < 0 else f"exited with status {self.status}"
        return f"program {self.argv[0]!r} {how}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProgramExited) and (self.argv, self.status) == (other.argv, other.status)

    def __hash__(self) -> int:
        return hash((self.argv, self.status))


# ---------------------------------------------------------------- the port process


@attrs.frozen
class _Options:
    argv: tuple[str, ...]
    lines: bool
    max_line: int = attrs.field()
    stderr: Stderr
    active: int | None
    kill_timeout: float

    @max_line.validator
    def _positive(self, attribute: object, value: int) -> None:
        if value < 1:
            raise ValueError(f"max_line must be at least 1; got {value!r}")

    def __attrs_post_init__(self) -> None:
        _check_active(self.active)
        if not isinstance(self.stderr, Stderr):
            raise TypeError(f"stderr must be Port.MERGE, Port.SEPARATE or Port.DISCARD; got {self.stderr!r}")


@attrs.frozen
class _Command:
    data: bytes


@attrs.frozen
class _CloseInput:
    pass


@attrs.frozen
class _SetActive:
    count: int | None


@attrs.frozen
class _Close:
    pass


@attrs.frozen
class _Signal:
    signum: signal.Signals


_REQUESTS = (_Command, _CloseInput, _SetActive, _Signal, _Close)
_STDERR_PIPES = {Stderr.MERGE: subprocess.STDOUT, Stderr.SEPARATE: subprocess.PIPE, Stderr.DISCARD: subprocess.DEVNULL}
# Bytes read at once, and the pipe size asked for. A message per chunk is
# what a port costs beyond reading the pipe: 128 KiB chunks make it 1.0x a
# bare trio reader of a 64 KiB pipe in `python -m benchmarks port` (64 KiB
# ones: about 0.8x), and a chunk still fits in a core's cache.
_READ_SIZE = 131072


def _command_line(argv: Sequence[str] | str, shell: bool) -> list[str]:
    if shell:
        if not isinstance(argv, str):
            raise TypeError(f"shell=True takes one command line (a str); got {argv!r}")
        return ["/bin/sh", "-c", argv]
    if isinstance(argv, (str, bytes)):
        raise TypeError(f"argv is a list of arguments, run without a shell; got the string {argv!r} (shell=True?)")
    if not argv:
        raise ValueError("argv is empty: name the program to run")
    return [os.fspath(argument) for argument in argv]


def _check_active(count: object) -> None:
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"active must be a positive number of messages or None (no limit); got {count!r}")


class _Budget:
    """How many more messages the port may deliver before it waits for ``set_active``."""

    def __init__(self, count: int | None) -> None:
        self.left: float = math.inf if count is None else count
        self._refilled = trio.Event()

    async def wait_for_room(self) -> None:
        while self.left <= 0:
            await self._refilled.wait()

    def refill(self, count: int | None) -> None:
        self.left = math.inf if count is None else count
        self._refilled.set()
        self._refilled = trio.Event()


async def _run_port(owner: Pid, program: trio.Process, options: _Options) -> None:
    """The port's process: deliver output, write input, end with the program (or end it)."""
    port = Port(current_pid(), program.pid, options.argv)
    set_report_details(lambda: {"program": " ".join(options.argv), "os pid": program.pid})
    budget = _Budget(options.active)
    to_stdin, stdin_queue = trio.open_memory_channel[bytes](math.inf)
    ended: list[int] = []
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_write_input, program, stdin_queue)
            nursery.start_soon(_watch_program, program, port, owner, options, budget, ended, nursery.cancel_scope)
            await _serve_requests(program, to_stdin, budget)
            nursery.cancel_scope.cancel()  # port.close(): the program goes, without a PortExit
    finally:
        with trio.CancelScope(shield=True):
            await _end_program(program, options.kill_timeout)
    if ended and ended[0] != 0:
        raise Exit(ProgramExited(options.argv, ended[0]))


async def _serve_requests(program: trio.Process, to_stdin: trio.MemorySendChannel[bytes], budget: _Budget) -> None:
    """Handle the owner's requests until ``port.close()`` (or until the program ends and cancels this)."""
    input_open = True
    while True:
        request = await receive(*_REQUESTS)
        if isinstance(request, _Command):
            if input_open:  # input after close_input() is dropped, as after a closed pipe
                to_stdin.send_nowait(request.data)
        elif isinstance(request, _CloseInput):
            input_open = False
            to_stdin.close()
        elif isinstance(request, _SetActive):
            budget.refill(request.count)
        elif isinstance(request, _Signal):
            if program.returncode is None:  # (reaped only by this port, in this thread: the pid is still its own)
                _signal_group(program, request.signum)
        else:
            return


async def _write_input(program: trio.Process, queue: trio.MemoryReceiveChannel[bytes]) -> None:
    assert program.stdin is not None
    try:
        async for data in queue:
            await program.stdin.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the program closed its stdin or ended: input for it is dropped, as in a shell pipeline
    finally:
        await program.stdin.aclose()


async def _watch_program(
    program: trio.Process, port: Port, owner: Pid, options: _Options, budget: _Budget,
    ended: list[int], scope: trio.CancelScope,
) -> None:
    """Deliver all output, then the exit status; then end the port."""
    async with trio.open_nursery() as readers:
        readers.start_soon(_deliver, program.stdout, "stdout", port, owner, options, budget)
        if program.stderr is not None:
            readers.start_soon(_deliver, program.stderr, "stderr", port, owner, options, budget)
    ended.append(await program.wait())
    send(owner, PortExit(port, ended[0]))
    scope.cancel()


async def _deliver(
    pipe: trio.abc.ReceiveStream | None, stream: str, port: Port, owner: Pid, options: _Options, budget: _Budget,
) -> None:
    assert pipe is not None
    make = _LineSplitter(port, stream, options.max_line) if options.lines else _Chunks(port, stream)
    while True:
        # Reading only while there is budget is the back-pressure: the pipe
        # fills and the program blocks on its writes.
        await budget.wait_for_room()
        data = bytes(await pipe.receive_some(_READ_SIZE))
        for message in make.messages(data) if data else make.rest():
            await budget.wait_for_room()
            budget.left -= 1
            send(owner, message)
            if budget.left == 0:
                send(owner, PortPassive(port))
        if not data:
            return


class _Chunks:
    def __init__(self, port: Port, stream: str) -> None:
        self.port, self.stream = port, stream

    def messages(self, data: bytes) -> list[Any]:
        return [PortData(self.port, data, self.stream)]

    def rest(self) -> list[Any]:
        return []


class _LineSplitter:
    """Cuts output into lines; a line longer than ``max_line`` comes in pieces (``complete=False``)."""

    def __init__(self, port: Port, stream: str, max_line: int) -> None:
        self.port, self.stream, self.max_line = port, stream, max_line
        self.pending = bytearray()

    def messages(self, data: bytes) -> list[Any]:
        self.pending += data
        out: list[Any] = []
        while True:
            end = self.pending.find(b"\n", 0, self.max_line + 1)
            if end >= 0:
                out.append(PortLine(self.port, bytes(self.pending[:end]), self.stream, True))
                del self.pending[: end + 1]
            elif len(self.pending) >= self.max_line:
                out.append(PortLine(self.port, bytes(self.pending[: self.max_line]), self.stream, False))
                del self.pending[: self.max_line]
            else:
                return out

    def rest(self) -> list[Any]:
        if not self.pending:
            return []
        line, self.pending = bytes(self.pending), bytearray()
        return [PortLine(self.port, line, self.stream, False)]


def _widen(pipe: trio.abc.ReceiveStream | None) -> None:
    """Ask the kernel for a pipe of ``_READ_SIZE`` bytes (Linux only; elsewhere the default stays)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if pipe is None or set_size is None:
        return
    try:
        fcntl.fcntl(pipe.fileno(), set_size, _READ_SIZE)  # type: ignore[attr-defined]  # a trio FdStream
    except OSError:
        pass  # over the user's quota of pipe memory: the default pipe works, in smaller chunks


async def _end_program(program: trio.Process, kill_timeout: float) -> None:
    """SIGTERM the program's process group, SIGKILL it after ``kill_timeout``, and reap the program."""
    if program.poll() is None:
        _signal_group(program, signal.SIGTERM)
        with trio.move_on_after(kill_timeout):
            await program.wait()
        if program.poll() is None:
            _signal_group(program, signal.SIGKILL)
            await program.wait()
    for pipe in (program.stdout, program.stderr):
        if pipe is not None:
            await pipe.aclose()


def _signal_group(program: trio.Process, signum: int) -> None:
    # The program leads its own group (start_new_session), and while it is
    # not reaped its pid cannot name another group: this reaches only it and
    # the processes it started.
    try:
        os.killpg(program.pid, signum)
    except ProcessLookupError:
        pass

