"""The web layer: a Phoenix-compatible real-time server built as supervised otp processes.

This facade holds the transport layer: :mod:`web.endpoint` (an HTTP/1.1
endpoint whose connections are otp processes) and
:mod:`web.transports.websocket`. On it: the frame serializer
(:mod:`web.serializer`), sockets and channels (:mod:`web.socket`,
:mod:`web.channel`, mounted by :mod:`web.transports.phoenix`), Presence
(:mod:`web.presence`), LiveView (:mod:`web.live`), the test client
(:mod:`web.testing`), metrics (:mod:`web.metrics`) and the dashboard
(:mod:`web.dashboard`), each imported from its own module. Needs the
``web`` extra (``pip install trio-otp[web]``).

::

    from web import Endpoint, Request, Response, SocketHandler, WebSocket
"""

from otp import __version__ as __version__  # one package, one version
from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata

from . import _dependencies as _dependencies  # first: a missing package names the extra to install
from ._http import Request, Response
from .endpoint import Endpoint, EndpointStatistics, Listening, serve
from .transports.websocket import ConnectInfo, Sender, SocketHandler, WebSocket

__all__ = [
    "Endpoint",
    "EndpointStatistics",
    "Listening",
    "serve",
    "Request",
    "Response",
    "WebSocket",
    "SocketHandler",
    "Sender",
    "ConnectInfo",
]

_fixup_module_metadata(__name__, globals())
