"""The registry's tables: plain dicts, read by any process, written by owners and the registry.

Two indexes, kept in step:

* ``by_key``: key → ``{pid: value}`` for unique keys (one entry), and for
  duplicate keys too while a process registered a key once; a process that
  registered it several times has its values in a ``_Many`` list there;
* ``by_pid``: pid → ``{key: count}``, so that cleaning up after a process
  that ended costs its own entries, not a scan of the table. Most processes
  hold one key once (a channel subscribed to its topic): for them it is
  pid → the key itself, which saves a dict (224 bytes) per process. A key
  is hashable, so never a dict: the two cannot be confused.

Everything here is synchronous and runs in whichever process calls it: the
node is single-threaded, so a read never sees half a write. Entries of a
process that has ended are filtered out on read (``alive``) until the
registry process, told by the link, deletes them.
"""

from __future__ import annotations

import enum
from typing import Any

from .._kernel import AlreadyRegistered, Pid

__all__ = ["Keys", "Table"]

_NOTHING = object()  # no entry (a key or a value may be None)


class _Many(list):
    """A process's values under one duplicate key when it registered it more than once (one is held as itself)."""

    __slots__ = ()


class Keys(enum.Enum):
    UNIQUE = "unique"
    DUPLICATE = "duplicate"


def alive(pid: Pid) -> bool:
    process = pid._process
    return process is not None and process.alive


class Table:
    __slots__ = ("keys", "by_key", "by_pid", "meta", "owner", "linked", "__weakref__")

    def __init__(self, keys: Keys, owner: Pid) -> None:
        self.keys = keys
        self.by_key: dict = {}
        self.by_pid: dict[Pid, Any] = {}  # pid -> {key: count}, or the key itself (held once)
        self.meta: dict = {}
        self.owner = owner  # the registry process
        self.linked: set[Pid] = set()  # processes linked to the registry by registering

    # ------------------------------------------------------------ writes

    def insert(self, key: object, pid: Pid, value: object) -> None:
        entries = self.by_key.get(key)
        if self.keys is Keys.UNIQUE:
            if entries:
                (holder,) = entries
                if alive(holder):
                    raise AlreadyRegistered(key, holder)
                self._delete_all(key, holder)  # a dead holder not yet cleaned up
            self.by_key[key] = {pid: value}
        else:
            if entries is None:
                entries = self.by_key[key] = {}
            values = entries.get(pid, _NOTHING)
            if values is _NOTHING:
                entries[pid] = value
            elif values.__class__ is _Many:
                values.append(value)
            else:
                entries[pid] = _Many((values, value))
        held = self.by_pid.get(pid, _NOTHING)
        if held is _NOTHING:
            self.by_pid[pid] = key
        elif held.__class__ is dict:
            held[key] = held.get(key, 0) + 1
        else:
            self.by_pid[pid] = {key: 2} if held == key else {held: 1, key: 1}

    def delete(self, key: object, pid: Pid) -> bool:
        """Remove every entry of ``pid`` under ``key``; True if there was one."""
        entries = self.by_key.get(key)
        if not entries or pid not in entries:
            return False
        self._delete_all(key, pid)
        return True

    def delete_pid(self, pid: Pid) -> None:
        """Remove every entry of ``pid`` (it has ended)."""
        for key, _ in self._counts(pid):
            self._delete_all(key, pid)
        self.linked.discard(pid)

    def _delete_all(self, key: object, pid: Pid) -> None:
        entries = self.by_key[key]
        del entries[pid]
        if not entries:
            del self.by_key[key]
        held = self.by_pid[pid]
        if held.__class__ is dict:
            del held[key]
            if held:
                return
        del self.by_pid[pid]

    def _counts(self, pid: Pid) -> list[tuple[object, int]]:
        """``[(key, count), ...]`` of ``pid`` (a copy: safe to delete while iterating)."""
        held = self.by_pid.get(pid, _NOTHING)
        if held is _NOTHING:
            return []
        return list(held.items()) if held.__class__ is dict else [(held, 1)]

    def update(self, key: object, pid: Pid, value: object) -> None:
        self.by_key[key][pid] = value

    # ------------------------------------------------------------ reads

    def lookup(self, key: object) -> list[tuple[Pid, object]]:
        entries = self.by_key.get(key)
        if not entries:
            return []
        if self.keys is Keys.UNIQUE:
            # One entry: the common read of a name, kept to a few operations.
            for pid, value in entries.items():
                process = pid._process
                return [(pid, value)] if process is not None and process.alive else []
        return [
            (pid, value)
            for pid, values in entries.items()
            if alive(pid)
            for value in (values if values.__class__ is _Many else (values,))
        ]

    def keys_of(self, pid: Pid) -> list:
        if not alive(pid):
            return []
        return [key for key, count in self._counts(pid) for _ in range(count)]

    def count(self) -> int:
        return sum(
            sum(held.values()) if held.__class__ is dict else 1 for pid, held in self.by_pid.items() if alive(pid)
        )

    def count_by_key(self) -> dict:
        unique = self.keys is Keys.UNIQUE
        counts = {}
        for key, entries in self.by_key.items():
            n = sum(1 if unique or values.__class__ is not _Many else len(values) for pid, values in entries.items() if alive(pid))
            if n:
                counts[key] = n
        return counts

