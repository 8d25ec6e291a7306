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

HTTP routes, sessions, static files and mounted ASGI applications are in
:mod:`web.router`, :mod:`web.session`, :mod:`web.plugs`, :mod:`web.static`
and :mod:`web.asgi`; the responses handlers return most are here
(:func:`web.json`, :func:`web.html`, :func:`web.text`, :func:`web.redirect`).
A one-file LiveView app is served by ``web.playground(View)`` (:mod:`web.playground`).
An app is served on every core, by worker processes in one cluster, by
:mod:`web.workers`.
"""

import importlib
from typing import TYPE_CHECKING

from otp import __version__ as __version__  # one package, one version
from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata

from . import _dependencies as _dependencies  # first: a missing package names the extra to install
from ._http import ClientDisconnected, Request, Response, StreamingResponse
from ._responses import html, json, redirect, text
from .endpoint import Endpoint, EndpointStatistics, Listening, serve
from .transports.websocket import ConnectInfo, Sender, SocketHandler, WebSocket

__all__ = [
    "Endpoint",
    "EndpointStatistics",
    "Listening",
    "serve",
    "Request",
    "Response",
    "StreamingResponse",
    "ClientDisconnected",
    "json",
    "html",
    "text",
    "redirect",
    "WebSocket",
    "SocketHandler",
    "Sender",
    "ConnectInfo",
]

_fixup_module_metadata(__name__, globals())

if TYPE_CHECKING:
    from .playground import playground as playground  # at run time the module itself, which is callable


def __getattr__(name: str) -> object:
    """``web.playground``, imported on first use: ``web.playground(View)`` serves a one-file app (see that module)."""
    if name == "playground":
        return importlib.import_module(".playground", __name__)
    raise AttributeError(f"module 'web' has no attribute {name!r}")
