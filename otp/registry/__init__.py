"""Registry: a local key → process store, Elixir's ``Registry``.

A registry is a process that owns a table of ``key → (pid, value)`` entries.
Processes register *themselves*; an entry vanishes when its process ends.
Reads (``lookup``, ``match``, ``dispatch``, ``count``, ``keys``, ``meta``)
never go through the registry process: they read the table directly, in the
caller, so they cost a dict lookup, not a message round trip::

    import otp
    from otp import Registry

    async def main():
        await Registry.start_link(keys=Registry.UNIQUE, name="sessions")
        Registry.register("sessions", "alice", {"room": 1})
        [(pid, value)] = Registry.lookup("sessions", "alice")
        return pid == otp.current_pid(), value

    otp.run(main)            # -> (True, {'room': 1})

Keys
----
``Registry.UNIQUE``: one process per key; registering a taken key raises
``AlreadyRegistered`` (``.pid`` holds it). ``Registry.DUPLICATE``: any number
of entries per key, a process may register the same key several times (this
is what PubSub builds on: topic → subscribers).

Via-names
---------
``Registry.via(registry, key)`` is a name accepted by ``send``,
``GenServer.start_link(name=...)``, ``GenServer.call``/``cast`` and child
specs, for unique registries::

    await Worker.start_link(arg, name=Registry.via("workers", ("user", 42)))
    await GenServer.call(Registry.via("workers", ("user", 42)), "get")

How entries vanish
------------------
Registering links the caller to the registry process, which traps exits and
deletes a process's entries when its exit signal arrives; until then, reads
already skip entries of processes that have ended. ``unregister`` removes the
caller's entries for a key (and the link, once it has none left). As in
Elixir, if the registry process itself crashes, the link ends the processes
registered in it: they would otherwise be unreachable by name.
"""

from __future__ import annotations

from .._util import fixup_module_metadata as _fixup_module_metadata
from ._registry import Registry, RegistryVia, UnknownRegistry
from ._table import Keys

__all__ = ["Registry", "Keys", "RegistryVia", "UnknownRegistry"]

_fixup_module_metadata(__name__, globals())
