"""Registered names: ``register``, ``unregister``, ``whereis``, and via-names.

A process can hold one name (a ``str``, Erlang's atom) at a time; the name is
freed when the process ends. Every function that takes a destination (``send``
here, ``call``/``cast`` in the behaviours) accepts a pid, a name, or a
*via-name*: any object implementing the :class:`Via` protocol, which is how
``Registry.via(registry, key)`` plugs in (Erlang's ``{via, Module, Name}``)::

    register("logger", pid)
    send("logger", "hello")
    whereis("logger")          # -> pid, or None
    unregister("logger")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeGuard, runtime_checkable

from ._exceptions import AlreadyRegistered, NotRegistered
from ._pid import Pid
from ._process import Process, current_process

if TYPE_CHECKING:
    from ._node import Node

__all__ = ["Via", "Destination", "register", "unregister", "whereis", "resolve", "register_name", "remote_destination", "is_remote_name"]


@runtime_checkable
class Via(Protocol):
    """A name resolved by someone else than the kernel (e.g. a Registry).

    Implement three methods; the kernel calls them, never their internals.
    """

    def whereis(self) -> Pid | None:
        """The live pid holding this name, or None."""

    def register(self, pid: Pid) -> None:
        """Give this name to ``pid``; raise AlreadyRegistered if it is taken."""

    def unregister(self) -> None:
        """Free this name."""


Destination: TypeAlias = Pid | str | Via | tuple[str, str]
"""Where a message can go: a pid, a registered name, a via-name, or ``(name, node_name)``.

What ``send``, ``monitor``, ``GenServer.call`` and the other functions taking
a process accept; annotate your own client functions with it::

    async def count(server: otp.Destination) -> int:
        return await Counter.call(server, "count")
"""


def register(name: str, pid: Pid) -> None:
    """Register ``pid`` under ``name`` in the caller's node.

    Raises:
        AlreadyRegistered: another live process holds ``name`` (``.pid`` says which).
        ValueError: ``pid`` is not alive, or already has another name.
        TypeError: ``name`` is not a str.
    """
    node = current_process().node
    _check_name(name)
    holder = node.names.get(name)
    if holder is not None:
        raise AlreadyRegistered(name, holder.pid)
    process = _live_process(node, pid)
    if process is None:
        raise ValueError(f"cannot register {name!r}: {pid!r} is not alive")
    if process.name is not None:
        raise ValueError(f"cannot register {name!r}: {pid!r} is already registered as {process.name!r}")
    node.names[name] = process
    process.name = name


def unregister(name: str) -> None:
    """Remove ``name`` from the registry.

    Raises:
        NotRegistered: no process holds ``name``.
    """
    node = current_process().node
    process = node.names.pop(name, None)
    if process is None:
        raise NotRegistered(name)
    process.name = None


def whereis(name: Destination) -> Pid | None:
    """The pid registered as ``name`` (a str or a via-name), or None."""
    process = resolve(name)
    return process.pid if process is not None else None


def register_name(name: str | Via, pid: Pid) -> None:
    """Register ``pid`` under a plain name or a via-name (for behaviours' ``name=``)."""
    if isinstance(name, str):
        register(name, pid)
    elif isinstance(name, Via):
        name.register(pid)
    else:
        _check_name(name)


def resolve(dest: object, *, must_exist: bool = False, node: Node | None = None) -> Process | None:
    """The live process ``dest`` (pid, name or via-name) designates.

    Returns None for a dead pid. For a name nobody holds, returns None, or
    raises ``NotRegistered`` when ``must_exist`` (Erlang's ``Name ! Msg``).
    Names are looked up in ``node``, by default the caller's.
    """
    if dest.__class__ is Pid:
        process = dest._process
        if process is None:
            process = (node or current_process().node).processes.get(dest.number)
        return process if process is not None and process.alive else None
    if isinstance(dest, str):
        process = (node or current_process().node).names.get(dest)
    elif dest.__class__ is tuple and len(dest) == 2 and isinstance(dest[0], str) and isinstance(dest[1], str):
        # (name, node_name): Erlang's {Name, Node}. Resolved here only when
        # it names this node; otherwise it is a remote destination.
        here = node or current_process().node
        process = here.names.get(dest[0]) if dest[1] == here.name else None
        if process is None and dest[1] != here.name:
            return None
    elif isinstance(dest, Via):
        pid = dest.whereis()
        process = resolve(pid, node=node) if pid is not None else None
    else:
        check_destination(dest)
    if process is None and must_exist:
        raise NotRegistered(dest)
    return process


def check_destination(dest: object) -> None:
    """Raise TypeError unless ``dest`` is a pid, a name, a via-name or ``(name, node)``."""
    if not (dest.__class__ is Pid or isinstance(dest, (str, Via)) or is_remote_name(dest)):
        raise TypeError(
            f"expected a Pid, a registered name (str), a via-name or (name, node_name); got {dest!r}"
        )


def is_remote_name(dest: object) -> TypeGuard[tuple[str, str]]:
    return dest.__class__ is tuple and len(dest) == 2 and isinstance(dest[0], str) and isinstance(dest[1], str)


def remote_destination(dest: object, node: Node) -> bool:
    """True if ``dest`` names a process on another node (a remote pid or ``(name, other_node)``)."""
    if dest.__class__ is Pid:
        return dest.node != 0
    return is_remote_name(dest) and dest[1] != node.name


def _live_process(node: Node, pid: Pid) -> Process | None:
    if pid.__class__ is not Pid:
        raise TypeError(f"expected a Pid, got {pid!r}")
    process = pid._process or node.processes.get(pid.number)
    return process if process is not None and process.alive else None


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(
            f"a registered name must be a str (or a via-name such as "
            f"Registry.via(registry, key)); got {name!r}"
        )
