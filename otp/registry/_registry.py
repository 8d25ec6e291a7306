"""The Registry class: starting a registry, registering keys, lookups, dispatch, via-names.

Reads happen in the caller against the shared table (``_table.py``); only
the cleanup when an owner exits goes through the registry's process.
``otp.registry``'s docstring is the manual.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import attrs

from .._child_spec import ChildSpec
from .._kernel import (
    Destination,
    ExitSignal,
    NotRegistered,
    Pid,
    Via,
    current_pid,
    is_linked,
    link,
    resolve_pid,
    trap_exits,
    unlink,
)
from ..genserver import Continue, GenServer, NoReply, Stop
from ._table import Keys, Table, alive

# Registry pid -> its table. Weak: a registry's table lives as long as its
# process's state does, so a killed registry leaves nothing behind here.
_TABLES: weakref.WeakValueDictionary[Pid, Table] = weakref.WeakValueDictionary()


class _RegistryServer(GenServer):
    """The registry process: owns the table, cleans up after processes that end."""

    async def init(self, keys: Keys) -> None:
        trap_exits(True)
        self.table = Table(keys, current_pid())
        _TABLES[current_pid()] = self.table

    async def handle_info(self, message: object) -> NoReply | Continue | Stop | None:
        if message.__class__ is ExitSignal:
            self.table.delete_pid(message.pid)
            return None
        return await super().handle_info(message)

    def format_status(self) -> object:
        return {"keys": self.table.keys, "entries": self.table.count()}


@attrs.frozen(repr=False)
class RegistryVia:
    """``Registry.via(registry, key, value)``: a name registered in a unique registry."""

    registry: Destination
    key: object
    value: object = None

    def __repr__(self) -> str:
        return f"Registry.via({self.registry!r}, {self.key!r})"

    def whereis(self) -> Pid | None:
        table = _table(self.registry)
        _check_unique(table, self)
        entries = table.lookup(self.key)
        return entries[0][0] if entries else None

    def register(self, pid: Pid) -> None:
        if pid != current_pid():
            raise ValueError(f"{self!r}: a process can only register itself in a Registry")
        _check_unique(_table(self.registry), self)
        Registry.register(self.registry, self.key, self.value)

    def unregister(self) -> None:
        Registry.unregister(self.registry, self.key)


class Registry:
    """Start a registry and read or write its entries; every function is sync but ``start_link``."""

    UNIQUE = Keys.UNIQUE
    DUPLICATE = Keys.DUPLICATE

    @staticmethod
    async def start_link(*, keys: Keys, name: str | Via | None = None) -> Pid:
        """Start a registry process linked to the caller.

        Args:
            keys: ``Registry.UNIQUE`` or ``Registry.DUPLICATE``.
            name: a registered name for it (usual: readers find it by name).
        """
        if not isinstance(keys, Keys):
            raise TypeError(f"Registry keys must be Registry.UNIQUE or Registry.DUPLICATE; got {keys!r}")
        return await _RegistryServer.start_link(keys, name=name)

    @staticmethod
    def child_spec(*, keys: Keys, name: str | Via | None = None, id: object = None) -> ChildSpec:
        """A supervisor child spec for a registry (id defaults to its name)."""
        async def start() -> Pid:
            return await Registry.start_link(keys=keys, name=name)

        return ChildSpec(id=id if id is not None else (name or Registry), start=(start,))

    # ------------------------------------------------------------ writes (the caller's own entries)

    @staticmethod
    def register(registry: Destination, key: object, value: object = None) -> None:
        """Register the calling process under ``key`` with ``value``.

        Raises:
            AlreadyRegistered: a unique ``key`` is held by another live process.
        """
        table = _table(registry)
        me = current_pid()
        table.insert(key, me, value)
        if me not in table.linked and not is_linked(table.owner):
            # Only a link we make is ours to remove in unregister (the
            # registry's starter, say, was linked before and stays linked).
            link(table.owner)
            table.linked.add(me)

    @staticmethod
    def unregister(registry: Destination, key: object) -> None:
        """Remove the caller's entries under ``key`` (no error if there are none)."""
        table = _table(registry)
        me = current_pid()
        table.delete(key, me)
        if me not in table.by_pid and me in table.linked:
            table.linked.discard(me)
            unlink(table.owner)

    @staticmethod
    def update_value(registry: Destination, key: object, update: Callable[[Any], object]) -> tuple[object, object]:
        """Replace the caller's value under a unique ``key`` with ``update(old)``; return ``(new, old)``.

        Raises:
            LookupError: the caller has no entry under ``key``.
        """
        table = _table(registry)
        if table.keys is not Keys.UNIQUE:
            raise TypeError("update_value works on unique registries only, as in Elixir")
        me = current_pid()
        entries = table.by_key.get(key)
        if not entries or me not in entries:
            raise LookupError(f"{current_pid()!r} has no entry under {key!r} in {registry!r}")
        old = entries[me]
        new = update(old)
        table.update(key, me, new)
        return new, old

    # ------------------------------------------------------------ reads

    @staticmethod
    def lookup(registry: Destination, key: object) -> list[tuple[Pid, Any]]:
        """``[(pid, value), ...]`` of the live processes registered under ``key``."""
        return _table(registry).lookup(key)

    @staticmethod
    def match(registry: Destination, key: object, predicate: Callable[[Any], object]) -> list[tuple[Pid, Any]]:
        """The entries under ``key`` whose value satisfies ``predicate`` (Elixir's match spec)."""
        return [(pid, value) for pid, value in _table(registry).lookup(key) if predicate(value)]

    @staticmethod
    def dispatch(registry: Destination, key: object, function: Callable[[list[tuple[Pid, Any]]], object]) -> None:
        """Call ``function(entries)`` with the entries under ``key``, if there are any.

        Runs in the caller, with no copy of the table kept: this is how PubSub
        delivers a broadcast.
        """
        entries = _table(registry).lookup(key)
        if entries:
            function(entries)

    @staticmethod
    def keys(registry: Destination, pid: Pid) -> list[Any]:
        """The keys ``pid`` is registered under (a key twice if registered twice)."""
        return _table(registry).keys_of(pid)

    @staticmethod
    def count(registry: Destination) -> int:
        """How many entries the registry holds (live processes only)."""
        return _table(registry).count()

    @staticmethod
    def count_by_key(registry: Destination) -> dict[Any, int]:
        """``{key: entries}`` for every key with a live entry (what a dashboard lists)."""
        return _table(registry).count_by_key()

    @staticmethod
    def meta(registry: Destination, key: object, default: object = None) -> Any:
        """The registry's metadata under ``key`` (set with ``put_meta``)."""
        return _table(registry).meta.get(key, default)

    @staticmethod
    def put_meta(registry: Destination, key: object, value: object) -> None:
        _table(registry).meta[key] = value

    @staticmethod
    def via(registry: Destination, key: object, value: object = None) -> RegistryVia:
        """A name in ``registry`` under ``key``, for ``name=`` and every function taking a server."""
        return RegistryVia(registry, key, value)


class UnknownRegistry(NotRegistered):
    """No running Registry by that name or pid (a ``NotRegistered``, so ``send`` and ``call`` treat
    a via-name in it as a name nobody holds)."""

    def __init__(self, registry: object) -> None:
        super().__init__(registry)
        self.args = (f"{registry!r} is not a running Registry",)

    def __str__(self) -> str:
        return self.args[0]


def _table(registry: Destination) -> Table:
    pid = registry if registry.__class__ is Pid else resolve_pid(registry)
    if pid is not None:
        # WeakValueDictionary.get costs a Python-level call; its .data holds the
        # weak references directly (CPython's; the type stubs do not show it).
        ref = _TABLES.data.get(pid)  # type: ignore[attr-defined]
        table = ref() if ref is not None else None
        if table is not None and alive(pid):
            return table
    raise UnknownRegistry(registry)


def _check_unique(table: Table, via: RegistryVia) -> None:
    if table.keys is not Keys.UNIQUE:
        raise TypeError(f"{via!r}: via-names need a Registry with keys=Registry.UNIQUE (as in Elixir)")
