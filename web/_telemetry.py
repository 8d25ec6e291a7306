"""The web layer's telemetry event names.

Their measurements and metadata are listed, with every other event, in the
docstring of :mod:`otp.telemetry`. Each emitter checks
``telemetry.attached(EVENT)`` first, so an event nobody listens to costs a
dict lookup and builds nothing.
"""

from __future__ import annotations

CONNECTION_OPEN = ("web", "connection", "open")
CONNECTION_CLOSE = ("web", "connection", "close")
WEBSOCKET_OPEN = ("web", "websocket", "open")
WEBSOCKET_CLOSE = ("web", "websocket", "close")
WEBSOCKET_SHED = ("web", "websocket", "shed")
ENDPOINT_STATISTICS = ("web", "endpoint", "statistics")
SOCKET_CONNECT = ("web", "socket", "connect")
CHANNEL_JOIN = ("web", "channel", "join")
CHANNEL_CRASH = ("web", "channel", "crash")
LIVE_VIEW_RENDER_STOP = ("web", "live_view", "render", "stop")  # mount and handle_event are spans
