"""Long-poll across nodes: a request that reaches another node than its session's is relayed there.

A long-poll client's requests go wherever its HTTP connections go. With
several workers on one port (:mod:`web.workers`: the kernel spreads
connections among them), or several machines behind a load balancer, the
poll of a session opened on worker 1 may reach worker 2. A session lives
in one process on one node, so its token names the node and the *relay*
(a process beside the mount) that holds it, and a request for a session
held elsewhere is done there, through ``otp.dist``, the way Phoenix reaches
a long-poll session through its PubSub::

    worker 2 (GET, token -> worker 1's relay)         worker 1
    poll(relay, session, window) ───────────────────► the relay spawns a process that
                                                      waits for the session's frames
    ◄──────────────────────────────── frames, [] or None (the session is over)

* ``GET``: :func:`poll` answers the frames, ``[]`` after the window, None
  if the session is over, or :data:`UNKNOWN` if it is not there (gone, or
  its node unreachable): the poll then opens a new session where it is,
  as a poll with a stale token does on one node;
* ``POST``: :func:`publish` answers the status its frames got there;
* a client that closes the connection of its waiting poll, or a ``POST``
  refused before it is relayed: :func:`close` ends the session there.

Every node serving the mount must sign tokens with the same
``LongPoll(secret=...)`` (with :mod:`web.workers`,
``worker.derive_secret(...)``): a token a node cannot verify is a stale
one, and its client gets a new session.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Sequence

import otp
from otp import GenServer, dist
from otp.genserver import From, NoReply

if TYPE_CHECKING:
    from ._longpoll_session import LongPollSession

__all__ = ["Relay", "SessionRef", "UNKNOWN", "relay_name", "poll", "publish", "close", "RELAY_MARGIN"]

#: What the relay answers for a session it does not hold (or when its node cannot be reached).
UNKNOWN = "unknown session"
#: Seconds a relayed request waits beyond the session's own bound (the window, the dispatch timeout).
RELAY_MARGIN = 5.0


class SessionRef:
    """Where a session lives, as its token says: its id, its node (None: not distributed), its relay's name."""

    __slots__ = ("id", "node", "relay")

    def __init__(self, session_id: str, node: str | None, relay: str) -> None:
        self.id, self.node, self.relay = session_id, node, relay

    def to_payload(self) -> list:
        return [self.id, self.node, self.relay]

    @classmethod
    def from_payload(cls, payload: object) -> SessionRef | None:
        """The ref a verified token carries; None if it is not one."""
        if isinstance(payload, list) and len(payload) == 3:
            session_id, node, relay = payload
            if isinstance(session_id, str) and isinstance(relay, str) and (node is None or isinstance(node, str)):
                return cls(session_id, node, relay)
        return None

    def here(self, relay: str) -> bool:
        """True if the session is held by ``relay`` of this node."""
        return self.relay == relay and self.node == dist.node_name()

    def destination(self) -> str | tuple[str, str]:
        """Where its relay is: a local name, or ``(name, node)``."""
        return self.relay if self.node is None or self.node == dist.node_name() else (self.relay, self.node)


def relay_name(path: str) -> str:
    """A new relay's registered name: the mount's path and a random part (one node may serve a path twice)."""
    return f"web.longpoll {path} {secrets.token_hex(6)}"


class Relay(GenServer):
    """Beside one mount, on the node that holds its sessions: does for other nodes what their requests ask.

    ``sessions`` is the mount's table (session id -> session), ``polled``
    is called with a session id when a poll comes for it. Each poll and
    each ``POST`` is waited for by a process of its own, which replies, so
    the relay never waits.
    """

    async def init(self, mount: tuple[dict[str, LongPollSession], Callable[[str], None]]) -> None:
        self.sessions, self.polled = mount

    async def handle_call(self, request: tuple, caller: From) -> object:
        kind, session_id, argument = request
        session = self.sessions.get(session_id)
        if session is None:
            return UNKNOWN
        if kind == "poll":
            self.polled(session_id)
            otp.spawn(_reply_when_done, caller, session.poll(argument))
        else:
            otp.spawn(_reply_when_done, caller, session.dispatch(argument))
        return NoReply()

    async def handle_cast(self, request: tuple) -> None:
        _, session_id, code = request
        session = self.sessions.get(session_id)
        if session is not None:
            session.close(code)


async def _reply_when_done(caller: From, work: Awaitable[object]) -> None:
    GenServer.reply(caller, await work)


async def poll(ref: SessionRef, window: float) -> list[str] | None | str:
    """The session's frames for a poll (see the module docstring); :data:`UNKNOWN` if it is not there."""
    return await _call(ref, ("poll", ref.id, window), window + RELAY_MARGIN)


async def publish(ref: SessionRef, frames: Sequence[str | bytes], dispatch_timeout: float) -> int | str:
    """Hand a ``POST``'s frames to the session; the status to answer, or :data:`UNKNOWN`."""
    return await _call(ref, ("publish", ref.id, list(frames)), dispatch_timeout + RELAY_MARGIN)


def close(ref: SessionRef, code: int) -> None:
    """End the session (nothing happens if it is not there)."""
    if _reachable(ref):
        GenServer.cast(ref.destination(), ("close", ref.id, code))


async def _call(ref: SessionRef, request: tuple, timeout: float) -> Any:
    if not _reachable(ref):
        return UNKNOWN
    try:
        return await GenServer.call(ref.destination(), request, timeout=timeout)
    except otp.CallError:  # its relay, or its node, is gone
        return UNKNOWN


def _reachable(ref: SessionRef) -> bool:
    """False for a session of another node while this one is not distributed."""
    return ref.node is None or ref.node == dist.node_name() or dist.node_name() is not None

