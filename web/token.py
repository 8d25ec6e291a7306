"""Signed, expiring tokens for socket auth: Phoenix.Token's semantics on itsdangerous.

::

    token = sign(SECRET, "user socket", {"user_id": 42})
    verify(SECRET, "user socket", token, max_age=86400)   # -> {"user_id": 42}

``salt`` namespaces tokens (a token signed for "user socket" does not
verify for anything else); ``max_age`` is in whole seconds, as tokens are
timestamped to the second (default one day, as Phoenix). The data is JSON. Verification fails with :class:`InvalidToken`
(``.reason`` is ``"invalid"``, ``"expired"`` or ``"missing"``), never
silently, and never otherwise, whatever a client sent in place of a token
(a number, a list, a string that is not one). The typical use is in
``Socket.connect``, with the token the client sent as the ``authToken``
option (``connect_info["token"]``) or as a connect param.
"""

from __future__ import annotations

import itsdangerous

__all__ = ["sign", "verify", "InvalidToken", "DEFAULT_MAX_AGE"]

DEFAULT_MAX_AGE = 86400


class InvalidToken(ValueError):
    """A token that does not verify; ``.reason``: ``"invalid"``, ``"expired"`` or ``"missing"``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"token {reason}")
        self.reason = reason


def _serializer(secret: str | bytes, salt: str) -> itsdangerous.URLSafeTimedSerializer:
    if not secret:
        raise ValueError("a token secret must not be empty")
    return itsdangerous.URLSafeTimedSerializer(secret, salt=salt)


def sign(secret: str | bytes, salt: str, data: object) -> str:
    """A URL-safe token carrying ``data`` (JSON), signed with ``secret`` for ``salt``, timestamped."""
    return _serializer(secret, salt).dumps(data)


def verify(secret: str | bytes, salt: str, token: object, *, max_age: int = DEFAULT_MAX_AGE) -> object:
    """The data in ``token``, if it was signed with ``secret`` for ``salt`` less than ``max_age`` s ago.

    ``token`` is whatever the client sent: anything but a ``str`` (or
    ``bytes``) is invalid, not an error of the caller.

    Raises:
        InvalidToken: ``"missing"`` (None or empty); ``"invalid"`` (not a
            string, not UTF-8, tampered with, signed for another salt or
            secret); ``"expired"``.
    """
    if token is None or token == "" or token == b"":
        raise InvalidToken("missing")
    if token.__class__ is not str and token.__class__ is not bytes:
        raise InvalidToken("invalid")
    try:
        return _serializer(secret, salt).loads(token, max_age=max_age)
    except itsdangerous.SignatureExpired:
        raise InvalidToken("expired") from None
    except (itsdangerous.BadData, UnicodeError):  # UnicodeError: a lone surrogate cannot be encoded to check
        raise InvalidToken("invalid") from None
