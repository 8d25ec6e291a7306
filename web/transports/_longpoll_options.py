"""The options of the long-poll transport, apart so that the WebSocket mount can carry them.

:class:`LongPoll` is documented and exported by :mod:`web.transports.longpoll`;
it lives here because :class:`~web.transports.websocket.WebSocket` has a
``longpoll`` field, and the transport's own module imports the WebSocket
module (for its connect info and origin check), not the other way round.
"""

from __future__ import annotations

import secrets

import attrs

__all__ = ["LongPoll", "longpoll_option", "longpoll_path"]


def _positive_seconds(instance, attribute, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"LongPoll {attribute.name} must be a number of seconds > 0; got {value!r}")


def _positive_count(instance, attribute, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"LongPoll {attribute.name} must be an int >= 1; got {value!r}")


def _path(instance, attribute, value) -> None:
    if value is not None and not (isinstance(value, str) and value.startswith("/")):
        raise ValueError(f'LongPoll path must be None or a path like "/socket/longpoll"; got {value!r}')


def _secret(instance, attribute, value) -> None:
    if not isinstance(value, (str, bytes)) or not value:
        raise ValueError("LongPoll secret must be a non-empty str or bytes (it signs the session tokens)")


@attrs.frozen
class LongPoll:
    """Long-poll beside a WebSocket mount: ``WebSocket(..., longpoll=LongPoll(window=10.0))``.

    ``longpoll=True`` is ``LongPoll()``. The module :mod:`web.transports.longpoll`
    is the manual; what the transport shares with its WebSocket mount (the
    handler, ``accept``, ``check_origin``, ``max_message_size``,
    ``max_outbound_bytes``) is said there.

    Attributes:
        path: where clients poll; None (the default) is the WebSocket's path
            with its last segment made ``longpoll`` (``/socket/websocket`` ->
            ``/socket/longpoll``), which is where phoenix.js looks for it.
        window: seconds a poll waits for frames before it is answered 204. A
            session is ended after ``1.5 * window`` seconds without a poll.
            Keep it below the client's ``longpollerTimeout`` (20 s), after
            which the client gives a poll up and reconnects.
        max_sessions: sessions at once on this mount. At the limit the oldest
            session that was never polled is ended to make room; when every
            session has been polled, a new client is refused (``{"status": 500}``:
            the client retries with its reconnect backoff).
        dispatch_timeout: seconds a ``POST`` waits for its frames to be handed
            to the socket; later it is answered 408 and the session ends (the
            client reconnects).
        secret: signs the session tokens. The default, random per
            ``LongPoll``, is right for one node: a session lives in one
            process, and a token cannot outlive it.
    """

    path: str | None = attrs.field(default=None, validator=_path)
    window: float = attrs.field(default=10.0, validator=_positive_seconds)
    max_sessions: int = attrs.field(default=10_000, validator=_positive_count)
    dispatch_timeout: float = attrs.field(default=10.0, validator=_positive_seconds)
    secret: str | bytes = attrs.field(factory=lambda: secrets.token_urlsafe(32), validator=_secret, repr=False)

    @property
    def idle_timeout(self) -> float:
        """Seconds without a poll after which a session is ended: ``1.5 * window``."""
        return 1.5 * self.window


def longpoll_option(value: bool | LongPoll | None) -> LongPoll | None:
    """``WebSocket(longpoll=...)``: True is ``LongPoll()``, False or None is none.

    Raises:
        TypeError: anything else.
    """
    if value is True:
        return LongPoll()
    if value is False or value is None:
        return None
    if isinstance(value, LongPoll):
        return value
    raise TypeError(f"longpoll must be True, False or a web.transports.longpoll.LongPoll(...); got {value!r}")


def longpoll_path(websocket_path: str, options: LongPoll) -> str:
    """Where a mount's long-poll is served: ``options.path``, else beside the WebSocket's path.

    >>> longpoll_path("/socket/websocket", LongPoll())
    '/socket/longpoll'
    >>> longpoll_path("/ws", LongPoll(path="/poll"))
    '/poll'

    Raises:
        ValueError: no ``path`` given, and the WebSocket's path does not end
            in ``/websocket`` (phoenix.js derives the long-poll URL from it).
    """
    if options.path is not None:
        return options.path
    mount, _, last = websocket_path.rpartition("/")
    if last != "websocket":
        raise ValueError(
            f"the WebSocket mount {websocket_path!r} does not end in /websocket, so its long-poll path cannot be "
            f'derived: give one, LongPoll(path="/.../longpoll")'
        )
    return f"{mount}/longpoll"
