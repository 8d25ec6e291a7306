"""The web layer: a Phoenix-compatible real-time server built as supervised otp processes.

It lands piece by piece (see the issues): the V2 frame serializer
(:mod:`web.serializer`) and the transport layer (:mod:`web.endpoint`: an
HTTP/1.1 endpoint whose connections are otp processes, and
:mod:`web.transports.websocket`) so far; sockets, channels, Presence and
LiveView follow. Needs the ``web`` extra (``pip install trio-otp[web]``).

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
