"""An endpoint's listening sockets: trio's own, or ``SO_REUSEPORT`` ones that worker processes share.

With ``SO_REUSEPORT`` (Linux 3.9+), several processes of the same user each
bind and listen on the same address and port, and the kernel spreads new
connections among their listening sockets (by a hash of the connection's
addresses and ports). That is how ``web.workers`` runs one endpoint in N
OS processes: no process hands connections to another, and a worker that
dies takes only its own connections (and those waiting in its accept
queue) with it.

Only sockets of the same user can join a port's group: another user's
process cannot steal connections. Another process of the same user that
binds the port with ``SO_REUSEPORT`` can; run the server under a user of
its own.
"""

from __future__ import annotations

import socket

import trio

__all__ = ["open_listeners", "reserve_port"]

BACKLOG = 65535  # the kernel caps it at net.core.somaxconn, as trio's own listeners do


async def open_listeners(host: str, port: int, *, reuse_port: bool = False) -> list[trio.SocketListener]:
    """Listen on ``host``:``port`` (every address ``host`` resolves to); with ``reuse_port``, in a shared group.

    Raises:
        OSError: an address could not be bound (taken by a socket without
            ``SO_REUSEPORT``, or by another user's).
    """
    if not reuse_port:
        return await trio.open_tcp_listeners(port, host=host)
    listeners: list[trio.SocketListener] = []
    try:
        for family, kind, proto, _, address in await _addresses(host, port):
            listeners.append(trio.SocketListener(await _reuse_port_socket(family, kind, proto, address, listen=True)))
    except BaseException:
        for listener in listeners:
            await trio.aclose_forcefully(listener)
        raise
    return listeners


async def reserve_port(host: str, port: int = 0) -> trio.socket.SocketType:
    """A socket bound (not listening) to ``host``:``port`` in its ``SO_REUSEPORT`` group: the port stays ours.

    Workers then listen on the port it got (``port=0`` picks a free one).
    A bound socket that does not listen receives no connections; while it
    is open no other user can take the port, and when the process that
    holds it ends, so does the reservation.
    """
    family, kind, proto, _, address = (await _addresses(host, port))[0]
    return await _reuse_port_socket(family, kind, proto, address, listen=False)


async def _addresses(host: str, port: int) -> list:
    return await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)


async def _reuse_port_socket(family: int, kind: int, proto: int, address: tuple, *, listen: bool) -> trio.socket.SocketType:
    sock = trio.socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # (as trio's: rebinding after a restart)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # its own address only, as trio's
        await sock.bind(address)
        if listen:
            sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock
