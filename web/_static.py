"""The official JavaScript clients, shipped with the package and served by the LiveView router.

``phoenix.min.js`` (sockets and channels) and ``phoenix_live_view.min.js``
(LiveView) are the npm packages' own built files, copied into ``web/static/``
by ``make vendor`` from the versions locked in ``tests/js/package-lock.json``
and never edited by hand. They are package data, so an installed wheel
serves them as a clone does: every page a :class:`~web.live.LiveRouter`
renders loads them from these two paths, and its ``http()`` handler answers
them::

    >>> response = client_script("/phoenix.min.js")
    >>> response.status, response.headers["content-type"]
    (200, 'text/javascript; charset=utf-8')
    >>> client_script("/app.js") is None
    True
"""

from __future__ import annotations

import functools
from importlib import resources

from ._http import Response

__all__ = ["CLIENT_SCRIPTS", "client_script"]

#: URL path -> file in ``web/static/``.
CLIENT_SCRIPTS = {
    "/phoenix.min.js": "phoenix.min.js",
    "/phoenix_live_view.min.js": "phoenix_live_view.min.js",
}


def client_script(path: str) -> Response | None:
    """The response for one of :data:`CLIENT_SCRIPTS`, or None for any other path."""
    name = CLIENT_SCRIPTS.get(path)
    if name is None:
        return None
    return Response(200, {"content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600"}, _read(name))


@functools.cache
def _read(name: str) -> bytes:
    # Read once: they are a few hundred KB that every page load asks for.
    return (resources.files(__package__) / "static" / name).read_bytes()
