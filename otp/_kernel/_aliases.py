"""Aliases: refs that deliver messages to the process that made them, until revoked.

Erlang's ``alias()`` (OTP 24). An alias is a :class:`Ref` you can ``send``
to; the message reaches the process that made it for as long as the alias
is active, and is silently dropped afterwards. That makes it the right
return address for a request whose answer may come too late::

    ref = alias()
    send(server, ("get", ref))       # the server answers with send(ref, ...)
    try:
        answer = await receive(lambda m: m[0] == ref, timeout=1.0)
    finally:
        unalias(ref)                 # a late answer is now dropped, never queued

``GenServer.call`` uses ``monitor(server, alias=True)``, which makes the
monitor's own ref an alias too, so one ref tags the request, the reply and
the ``Down``. An alias ends when its process ends.
"""

from __future__ import annotations

from ._pid import Ref
from ._process import Process, current_process

__all__ = ["alias", "unalias", "add_alias", "drop_aliases"]


def alias() -> Ref:
    """Make a new alias of the calling process and return it. Sync."""
    ref = Ref.make()
    add_alias(current_process(), ref)
    return ref


def unalias(ref: Ref) -> bool:
    """Revoke an alias of the calling process; True if it was active.

    Messages sent to ``ref`` afterwards are dropped. Messages that already
    arrived stay in the mailbox: revoke first, then flush, if that matters.
    """
    me = current_process()
    if me.aliases is None or ref not in me.aliases:
        return False
    me.aliases.discard(ref)
    me.node.aliases.pop(ref, None)
    return True


def add_alias(process: Process, ref: Ref) -> None:
    if process.aliases is None:
        process.aliases = set()
    process.aliases.add(ref)
    process.node.aliases[ref] = process


def drop_aliases(process: Process) -> None:
    """Revoke every alias of an ended process."""
    aliases = process.node.aliases
    for ref in process.aliases or ():
        aliases.pop(ref, None)
    process.aliases = None
