"""Transports move frames between a client and a socket handler; they know no protocol.

Two of them: :mod:`web.transports.websocket` (docs/protocol/channels.md,
"Connecting") and, beside a WebSocket mount that asks for it,
:mod:`web.transports.longpoll` (docs/protocol/channels.md, "Long-poll"). A
transport hands each message to a :class:`~web.transports.websocket.SocketHandler`
and gives it a sender to write back; the Phoenix socket protocol lives in
``web/socket.py``, above any transport, and runs unchanged on either.
"""
