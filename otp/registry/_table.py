"""The registry's tables: plain dicts, read by any process, written by owners and the registry.

Two indexes, kept in step:

* ``by_key``: key → ``{pid: value}`` for unique keys (one entry), key →
  ``{pid: [values]}`` for duplicate keys (a process may register one key
  several times);
* ``by_pid``: pid → ``{key: count}``, so that cleaning up after a process
  that ended costs its own entries, not a scan of the table.

Everything here is synchronous and runs in whichever process calls it: the
node is single-threaded, so a read never sees half a write. Entries of a
process that has ended are filtered out on read (``alive``) until the
registry process, told by the link, deletes them.
"""

from __future__ import annotations

import enum

from .._kernel import AlreadyRegistered, Pid

__all__ = ["Keys", "Table"]


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
        self.by_pid: dict[Pid, dict] = {}
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
            entries.setdefault(pid, []).append(value)
        counts = self.by_pid.setdefault(pid, {})
        counts[key] = counts.get(key, 0) + 1

    def delete(self, key: object, pid: Pid) -> bool:
        """Remove every entry of ``pid`` under ``key``; True if there was one."""
        entries = self.by_key.get(key)
        if not entries or pid not in entries:
            return False
        self._delete_all(key, pid)
        return True

    def delete_pid(self, pid: Pid) -> None:
        """Remove every entry of ``pid`` (it has ended)."""
        for key in list(self.by_pid.get(pid, ())):
            self._delete_all(key, pid)
        self.linked.discard(pid)

    def _delete_all(self, key: object, pid: Pid) -> None:
        entries = self.by_key[key]
        del entries[pid]
        if not entries:
            del self.by_key[key]
        counts = self.by_pid[pid]
        del counts[key]
        if not counts:
            del self.by_pid[pid]

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
        return [(pid, value) for pid, values in entries.items() if alive(pid) for value in values]

    def keys_of(self, pid: Pid) -> list:
        if not alive(pid):
            return []
        return [key for key, count in self.by_pid.get(pid, {}).items() for _ in range(count)]

    def count(self) -> int:
        return sum(count for pid, counts in self.by_pid.items() if alive(pid) for count in counts.values())

    def count_by_key(self) -> dict:
        unique = self.keys is Keys.UNIQUE
        counts = {}
        for key, entries in self.by_key.items():
            n = sum(1 if unique else len(values) for pid, values in entries.items() if alive(pid))
            if n:
                counts[key] = n
        return counts

    def value_of(self, key: object, pid: Pid) -> object:
        entries = self.by_key.get(key)
        return entries.get(pid) if entries else None
