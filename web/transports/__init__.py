"""Transports move frames between a client and a socket handler; they know no protocol.

Only :mod:`web.transports.websocket` exists so far (docs/protocol/channels.md, "Connecting"). A
transport hands each message to a :class:`~web.transports.websocket.SocketHandler`
and gives it a sender to write back; the Phoenix socket protocol lives in
``web/socket.py``, above any transport.
"""
