"""Helpers for the Registry tests: agents that act on the registry in their own name.

Registry writes act on the *calling* process (``register`` registers the
caller, ``unregister`` removes the caller's entries and may unlink it), so the
tests run them inside small processes, :class:`Agent`, instead of the test's
root process (which started the registry and is linked to it).

Expected results in the matrices are data; they name processes by tokens
(``H`` the holder, ``N`` the agent that acts, ``B`` a bystander) that
:func:`resolve` turns into pids, and expected exceptions as :class:`Raises`.
"""

from __future__ import annotations

import attrs

import otp
from otp.lowlevel import queued_messages
from otp.testing import assert_down, assert_receive, capture_crash_reports

__all__ = [
    "Agent",
    "Raises",
    "Token",
    "H",
    "N",
    "B",
    "resolve",
    "outcome",
    "check",
    "ALIVE",
    "ENDED_NORMALLY",
    "CRASHED",
    "KILLED",
    "end",
    "busy",
    "pending_exit",
]


# ---------------------------------------------------------------- agents


async def _agent(test: otp.Pid, trapping: bool) -> None:
    otp.trap_exits(trapping)
    while True:
        message = await otp.receive()
        kind = message[0] if isinstance(message, tuple) and message else None
        if kind == "run":
            _, ref, fn, args = message
            try:
                result = ("ok", fn(*args))
            except Exception as error:
                result = ("raised", error)
            otp.send(test, ("ran", ref, result))
        elif kind == "stop":
            return
        elif kind == "crash":
            raise message[1]
        else:
            otp.send(test, ("got", otp.current_pid(), message))


@attrs.define
class Agent:
    """A process that runs functions in itself on request and forwards every other message.

    ``await agent.run(fn, *args)`` returns ``fn(*args)`` computed in the agent,
    or raises the exception it raised there.
    """

    pid: otp.Pid

    @classmethod
    def spawn(cls, *, trapping: bool = False) -> Agent:
        return cls(otp.spawn(_agent, otp.current_pid(), trapping))

    async def run(self, fn, *args):
        __tracebackhide__ = True
        ref = otp.Ref.make()
        otp.send(self.pid, ("run", ref, fn, args))
        _, _, (status, value) = await assert_receive(
            lambda m: isinstance(m, tuple) and len(m) == 3 and m[0] == "ran" and m[1] == ref
        )
        if status == "raised":
            raise value
        return value

    async def outcome(self, fn, *args):
        """``("ok", result)`` or ``("raised", exception)``: what ``run`` would give, as a value."""
        try:
            return ("ok", await self.run(fn, *args))
        except Exception as error:
            return ("raised", error)


# ---------------------------------------------------------------- ending a process

ALIVE = "alive"
ENDED_NORMALLY = "ended normally"
CRASHED = "crashed"
KILLED = "killed"


async def end(agent: Agent, how: str) -> object:
    """End ``agent`` normally, by a crash or by a kill; wait for its end; return its reason.

    Crash reports are captured and checked: one for a crash, none for a
    normal end nor a kill (an exit signal is not a crash).
    """
    ref = otp.monitor(agent.pid)
    with capture_crash_reports() as reports:
        if how == ENDED_NORMALLY:
            otp.send(agent.pid, ("stop",))
            expected = otp.NORMAL
        elif how == CRASHED:
            expected = RuntimeError("crashed")
            otp.send(agent.pid, ("crash", expected))
        elif how == KILLED:
            otp.exit(agent.pid, otp.KILL)
            expected = otp.KILLED
        else:
            raise ValueError(how)
        down = await assert_down(ref, expected)
    assert [r.otp_reason for r in reports] == ([expected] if how == CRASHED else [])
    return down.reason


# ---------------------------------------------------------------- the registry's mailbox


def busy(registry: otp.Pid, messages: int = 50) -> None:
    """Queue ``messages`` harmless messages for the registry process.

    They are exit signals of a process that registered nothing (the root
    sends them as plain messages): the registry handles each as it would a
    real one, deleting nothing. It takes one message per scheduling round,
    so an exit signal queued after these stays unprocessed for the next
    ``messages`` rounds: long enough for a test to read the table while a
    dead process's entries are still in it.
    """
    ghost = otp.Pid(0)  # never a live process
    for _ in range(messages):
        otp.send(registry, otp.ExitSignal(pid=ghost, reason="padding"))


def pending_exit(registry: otp.Pid, pid: otp.Pid) -> bool:
    """Whether the registry has an exit signal of ``pid`` still queued (not yet processed)."""
    return any(m.__class__ is otp.ExitSignal and m.pid == pid for m in queued_messages(registry))


# ---------------------------------------------------------------- expected values


@attrs.frozen
class Token:
    """A process named in an expected value (resolved to a pid per test)."""

    name: str

    def __repr__(self) -> str:
        return self.name


H = Token("H")
N = Token("N")
B = Token("B")


@attrs.frozen
class Raises:
    """An expected exception: exactly this type, this message if given, these attributes."""

    type: type
    message: str | None = None
    attributes: dict = attrs.field(factory=dict)

    def __repr__(self) -> str:
        return f"Raises({self.type.__name__})"


def resolve(expected: object, pids: dict[Token, otp.Pid]) -> object:
    """``expected`` with every token replaced by its pid (in tuples, lists, dicts, Raises, strings)."""
    if isinstance(expected, Token):
        return pids[expected]
    if isinstance(expected, tuple):
        return tuple(resolve(e, pids) for e in expected)
    if isinstance(expected, list):
        return [resolve(e, pids) for e in expected]
    if isinstance(expected, dict):
        return {k: resolve(v, pids) for k, v in expected.items()}
    if isinstance(expected, Raises):
        message = expected.message
        if message is not None:
            message = message.format(**{t.name: repr(p) for t, p in pids.items()})
        return Raises(expected.type, message, resolve(expected.attributes, pids))
    return expected


def outcome(expected: object) -> tuple[str, object]:
    return ("raised", expected) if isinstance(expected, Raises) else ("ok", expected)


def check(actual: tuple[str, object], expected: object) -> None:
    """Compare an ``Agent.outcome`` with an expected value or :class:`Raises` (already resolved)."""
    __tracebackhide__ = True
    status, value = actual
    if isinstance(expected, Raises):
        assert status == "raised", f"expected {expected.type.__name__}, got the result {value!r}"
        assert type(value) is expected.type, f"expected {expected.type.__name__}, got {value!r}"
        if expected.message is not None:
            assert str(value) == expected.message
        for name, wanted in expected.attributes.items():
            assert getattr(value, name) == wanted, f"{name}: {getattr(value, name)!r} != {wanted!r}"
    else:
        assert status == "ok", f"expected {expected!r}, got the exception {value!r}"
        assert value == expected
