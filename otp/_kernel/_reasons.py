"""Exit reasons: the values a process ends with.

A process ends with a *reason*, a plain value that links, monitors and
supervisors inspect. The kernel's own reasons are singletons that print like
Erlang's atoms, so a crash report reads the way an OTP user expects:

>>> NORMAL, SHUTDOWN, KILL, KILLED, NOPROC
(normal, shutdown, kill, killed, noproc)
>>> Shutdown("left")
{shutdown,'left'}
>>> [is_normal(r) for r in (NORMAL, SHUTDOWN, Shutdown("left"), KILLED, ValueError())]
[True, True, True, False, False]

Any other value is a reason too: a process that raises ends with the
exception object itself, and ``otp.exit(pid, "bored")`` gives ``"bored"``.
"""

from __future__ import annotations

import attrs

__all__ = ["Reason", "NORMAL", "SHUTDOWN", "KILL", "KILLED", "NOPROC", "NODEDOWN", "Shutdown", "is_normal"]


class Reason:
    """A named exit reason, Erlang's atom. Compare with ``is``: each is a singleton."""

    __slots__ = ("name",)
    name: str
    _registry: dict[str, Reason] = {}

    def __new__(cls, name: str) -> Reason:
        # One object per name, also across pickling (see __reduce__), so
        # ``reason is NORMAL`` holds wherever the reason travelled.
        existing = cls._registry.get(name)
        if existing is not None:
            return existing
        self = super().__new__(cls)
        self.name = name
        cls._registry[name] = self
        return self

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple[type[Reason], tuple[str]]:
        return (Reason, (self.name,))


NORMAL = Reason("normal")
"""The function returned: not an error. Ignored by non-trapping linked processes."""
SHUTDOWN = Reason("shutdown")
"""Asked to stop by a supervisor or the node: not an error, not restarted if transient."""
KILL = Reason("kill")
"""Sent with ``otp.exit(pid, KILL)``: untrappable; the victim ends with ``KILLED``."""
KILLED = Reason("killed")
"""The reason of a process that was sent ``KILL``."""
NOPROC = Reason("noproc")
"""The process did not exist (monitoring or linking to a dead pid)."""
NODEDOWN = Reason("noconnection")
"""The process is on another node that stopped answering (Erlang's ``noconnection``)."""


@attrs.frozen(repr=False)
class Shutdown:
    """Erlang's ``{shutdown, Detail}``: an orderly stop that carries a detail."""

    detail: object

    def __repr__(self) -> str:
        return f"{{shutdown,{self.detail!r}}}"


def is_normal(reason: object) -> bool:
    """True for reasons that are not errors: ``NORMAL``, ``SHUTDOWN``, ``Shutdown(...)``.

    No crash report is logged for them and a transient child is not restarted.
    """
    return reason is NORMAL or reason is SHUTDOWN or reason.__class__ is Shutdown
