"""A minimal Redis client connection on trio: where to connect, RESP commands out, hiredis parsing in.

Only what the PubSub adapter needs: connect (TCP, TLS or a Unix domain
socket, then AUTH and SELECT), send pipelined commands, read replies, read
pushed pub/sub messages. ``hiredis`` (C) parses the protocol; writing a command is a few
byte joins.

:class:`RedisSettings` says where and how to connect; it is built from
arguments or from a ``redis://`` / ``rediss://`` / ``unix://`` URL (the URL
forms are in :meth:`RedisSettings.from_url`). A password is kept out of every repr, log
line and exception message.

Errors form a small tree, all :class:`RedisError`::

    RedisError             the connection failed, or closed, or did not answer in time
    ├── RedisReplyError    Redis answered a command with an error (NOPERM, ERR ...)
    ├── RedisAuthError     Redis refused the credentials, or wanted some and got none
    └── RedisTLSError      the TLS handshake failed (an untrusted certificate, say)
"""

from __future__ import annotations

import ssl
import urllib.parse
from typing import Any

import attrs
import trio

from .._util import import_extra

hiredis = import_extra("hiredis", extra="redis", needed_by="Redis (otp.pubsub.redis, otp.dist)")

__all__ = [
    "Connection",
    "pack",
    "RedisError",
    "RedisReplyError",
    "RedisAuthError",
    "RedisTLSError",
    "RedisSettings",
    "redis_settings",
]

DEFAULT_PORT = 6379


# ------------------------------------------------------------------ errors


class RedisError(Exception):
    """Talking to Redis failed: the connection broke or closed, or Redis did not answer in time.

    The subclasses say more: an error reply, refused credentials, a failed
    TLS handshake.
    """


class _ConnectionClosed(RedisError):
    """Redis closed the connection (a RedisError like the others; told apart only while connecting over TLS)."""


class RedisReplyError(RedisError):
    """Redis answered a command with an error (``NOPERM ...``, ``ERR DB index is out of range``, ...)."""


class RedisAuthError(RedisError):
    """Redis refused the credentials (``WRONGPASS``), or wanted some and none were given (``NOAUTH``).

    The message names the user and the server, never the password.

    Attributes:
        user: the user that tried (``"default"`` when no user name was given).
        address: the server, ``host:port``.
    """

    def __init__(self, message: str, *, user: str, address: str) -> None:
        super().__init__(message)
        self.user = user
        self.address = address


class RedisTLSError(RedisError):
    """The TLS handshake with Redis failed; ``__cause__`` holds the :class:`ssl.SSLError`.

    Attributes:
        address: the server, ``host:port``.
    """

    def __init__(self, message: str, *, address: str) -> None:
        super().__init__(message)
        self.address = address


# ------------------------------------------------------------------ settings


def _positive(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise ValueError(f"RedisSettings: {attribute.name} must be more than 0; got {value!r}")


def _port_number(instance: object, attribute: attrs.Attribute, value: int) -> None:
    if not 0 < value < 65536:
        raise ValueError(f"RedisSettings: port must be 1..65535; got {value!r}")


def _database(instance: object, attribute: attrs.Attribute, value: int) -> None:
    if value < 0:
        raise ValueError(f"RedisSettings: db must be 0 or more; got {value!r}")


_TLS_FILES = ("ca_file", "cert_file", "key_file")


@attrs.frozen
class RedisSettings:
    """Where a Redis server is and how to connect to it: address, credentials, database, TLS.

    Build it from a URL with :meth:`from_url` (the usual way for a hosted
    Redis), or from arguments. Every place that takes a Redis host and port
    (``otp.pubsub.redis.Redis``, ``otp.dist.start``) takes one of these or
    a URL string instead.

    Attributes:
        host, port: the server.
        path: a Unix domain socket to connect to instead of ``host`` and
            ``port`` (a ``unix://`` URL; a local Redis, or the workers' bus,
            :mod:`otp.pubsub.broker`); no TLS (the socket never leaves the
            machine).
        db: the database to ``SELECT`` (0: none is sent). Redis's pub/sub
            channels are shared by all databases of a server: ``db`` does
            not separate two clusters on one server; the adapter's
            ``prefix`` does.
        username: the ACL user (Redis 6+); None authenticates as the
            ``default`` user, with ``password`` alone (``requirepass``).
        password: sent with ``AUTH``; None sends no ``AUTH``. Never shown
            in reprs, logs or errors.
        tls: connect with TLS (what a ``rediss://`` URL says).
        ca_file: the CA certificates (PEM) that verify the server's
            certificate; None trusts the system's store (enough for a
            hosted Redis with a public certificate).
        cert_file, key_file: a client certificate and its key (PEM), for a
            server that requires one (``tls-auth-clients yes``). The key
            may be in ``cert_file``, then ``key_file`` is None.
        check_hostname: the server's certificate must name ``host``.
        verify: verify the server's certificate at all. False accepts any
            certificate (and so any server that answers at that address):
            only for a provider that hands out none to verify against.
        ssl_context: a ready :class:`ssl.SSLContext`, in place of
            ``ca_file``, ``cert_file``, ``key_file``, ``check_hostname`` and
            ``verify``; it needs ``tls=True``.
        connect_timeout: seconds allowed to connect, shake hands and
            authenticate; past that the attempt fails (and is retried).
    """

    host: str = "127.0.0.1"
    port: int = attrs.field(default=DEFAULT_PORT, validator=_port_number)
    db: int = attrs.field(default=0, validator=_database)
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    check_hostname: bool = True
    verify: bool = True
    ssl_context: ssl.SSLContext | None = attrs.field(default=None, repr=False)
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    path: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.path is not None:
            if not isinstance(self.path, str) or not self.path:
                raise ValueError(f"RedisSettings: path is the Unix socket's path; got {self.path!r}")
            if self.tls:
                raise ValueError("RedisSettings: a Unix socket (path) is local and takes no TLS: drop tls")
        if self.username is not None and self.password is None:
            raise ValueError(f"RedisSettings: user {self.username!r} has no password; AUTH needs one")
        if not self.tls:
            given = [name for name in (*_TLS_FILES, "ssl_context") if getattr(self, name) is not None]
            if given:
                names = ", ".join(given)
                raise ValueError(f"RedisSettings: {names} only apply with TLS: set tls=True (or use rediss://)")
        if self.ssl_context is not None:
            given = [name for name in _TLS_FILES if getattr(self, name) is not None]
            given += [name for name in ("check_hostname", "verify") if not getattr(self, name)]
            if given:
                names = ", ".join(given)
                raise ValueError(f"RedisSettings: give ssl_context or {names}, not both (set them on the context)")
        if self.key_file is not None and self.cert_file is None:
            raise ValueError("RedisSettings: key_file needs cert_file (the client certificate it belongs to)")

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> RedisSettings:
        """The settings a ``redis://`` or ``rediss://`` URL describes, with ``overrides`` applied.

        The forms::

            redis://host                              port 6379, no AUTH, database 0
            redis://host:6380/2                       database 2
            redis://:password@host                    AUTH password (requirepass)
            redis://user:password@host                AUTH user password (an ACL user)
            rediss://user:password@host:6380/0        the same over TLS, server certificate verified
            rediss://host?ca_file=/etc/redis/ca.pem&cert_file=/etc/redis/client.pem
            unix:///run/redis/redis.sock              a Unix domain socket (three slashes: no host)
            unix://:password@/run/redis/redis.sock?db=2

        User and password are percent-decoded (write ``@`` as ``%40``). The
        query takes the options ``ca_file``, ``cert_file``, ``key_file``,
        ``check_hostname`` and ``verify`` (``true``/``false``) and
        ``connect_timeout`` (seconds); a ``unix://`` URL's query takes
        ``db`` and ``connect_timeout``. Keyword ``overrides`` replace what
        the URL says (``from_url(os.environ["REDIS_URL"], ca_file=...)``).

        >>> settings = RedisSettings.from_url("rediss://app:s3cr%40t@redis.example.com:6380/2")
        >>> settings
        RedisSettings(host='redis.example.com', port=6380, db=2, username='app', tls=True, ca_file=None, \
cert_file=None, key_file=None, check_hostname=True, verify=True, connect_timeout=10.0, path=None)
        >>> settings.password
        's3cr@t'
        >>> RedisSettings.from_url("unix:///tmp/bus.sock?db=1").address
        '/tmp/bus.sock'

        Raises:
            ValueError: not a Redis URL, or a part of it is malformed (the
                message never repeats the password).
        """
        return cls(**{**_parse_url(url), **overrides})

    @property
    def address(self) -> str:
        """``host:port`` (or the Unix socket's path), as errors and log lines name the server."""
        if self.path is not None:
            return self.path
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def user(self) -> str:
        """The user Redis sees: ``username``, or ``"default"``."""
        return self.username if self.username is not None else "default"

    def tls_context(self) -> ssl.SSLContext | None:
        """The :class:`ssl.SSLContext` a connection uses: ``ssl_context``, one built from the options, or None.

        Built anew for each connection, so certificates renewed on disk are
        read at the next reconnection.
        """
        if not self.tls:
            return None
        if self.ssl_context is not None:
            return self.ssl_context
        context = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context.check_hostname = self.check_hostname
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


def redis_settings(where: RedisSettings | str = "127.0.0.1", port: int | None = None) -> RedisSettings:
    """Settings from what callers pass where a Redis server is asked for.

    ``where`` is :class:`RedisSettings`, a ``redis://``/``rediss://``/``unix://``
    URL, or a host name (with ``port``, default 6379). A port beside settings or
    a URL is a mistake (which one wins?) and raises ValueError.
    """
    if isinstance(where, RedisSettings) or "://" in where:
        if port is not None:
            raise ValueError("a Redis port was given beside settings or a URL: put the port in the URL or the settings")
        return where if isinstance(where, RedisSettings) else RedisSettings.from_url(where)
    return RedisSettings(where, DEFAULT_PORT if port is None else port)


_SCHEMES = {"redis": False, "rediss": True}  # scheme -> TLS
_UNIX = "unix"
_TEXT_OPTIONS = ("ca_file", "cert_file", "key_file")
_FLAG_OPTIONS = ("check_hostname", "verify")
_NUMBER_OPTIONS = ("connect_timeout",)
_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _parse_url(url: str) -> dict[str, Any]:
    # Every message names the part that is wrong, never the URL: it may hold a password.
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == _UNIX:
        return _parse_unix_url(parts)
    if parts.scheme not in _SCHEMES:
        got = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise ValueError(f"a Redis URL starts with redis://, rediss:// or unix://; got {got}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port of the Redis URL is not a number in 1..65535") from None
    settings: dict[str, Any] = {"tls": _SCHEMES[parts.scheme], "db": _database_of(parts.path)}
    if parts.hostname:
        settings["host"] = parts.hostname
    if port is not None:
        settings["port"] = port
    settings.update(_credentials(parts))
    settings.update(_query_options(parts.query))
    return settings


def _parse_unix_url(parts: urllib.parse.SplitResult) -> dict[str, Any]:
    """``unix://[user:password@]/path/to/socket[?db=N&connect_timeout=S]``."""
    if parts.hostname:
        raise ValueError("a unix:// URL names no host: write unix:///path/to/socket (three slashes)")
    if not parts.path:
        raise ValueError("a unix:// URL needs the socket's path: unix:///path/to/socket")
    settings: dict[str, Any] = {"path": urllib.parse.unquote(parts.path), **_credentials(parts)}
    for name, value in _query_options(parts.query, _UNIX_OPTIONS).items():
        if name == "db" and not value.isdigit():
            raise ValueError(f"the unix:// URL option db is a database number (0, 1, ...); got {value!r}")
        settings[name] = int(value) if name == "db" else value
    return settings


def _credentials(parts: urllib.parse.SplitResult) -> dict[str, str]:
    if parts.username and parts.password is None:
        # Not named: what stands there may be a password written in the wrong place.
        raise ValueError("the Redis URL has a user but no password: write user:password@host, or :password@host")
    credentials = {}
    if parts.username:
        credentials["username"] = urllib.parse.unquote(parts.username)
    if parts.password is not None:
        credentials["password"] = urllib.parse.unquote(parts.password)
    return credentials


def _database_of(path: str) -> int:
    number = path.lstrip("/")
    if not number:
        return 0
    if not number.isdigit():
        raise ValueError(f"the path of a Redis URL is the database number (/0, /1, ...); got {path!r}")
    return int(number)


_UNIX_OPTIONS = ("db", "connect_timeout")


def _query_options(query: str, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if name in options:
            raise ValueError(f"the Redis URL gives the option {name!r} twice")
        if allowed is not None and name not in allowed:
            raise ValueError(f"unknown unix:// URL option {name!r}; the options are {', '.join(allowed)}")
        options[name] = value if name == "db" else _option_value(name, value)
    return options


def _option_value(name: str, value: str) -> object:
    if name in _TEXT_OPTIONS:
        return value
    if name in _FLAG_OPTIONS:
        if value.lower() not in _FLAGS:
            raise ValueError(f"the Redis URL option {name} is true or false; got {value!r}")
        return _FLAGS[value.lower()]
    if name in _NUMBER_OPTIONS:
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"the Redis URL option {name} is a number of seconds; got {value!r}") from None
    known = ", ".join(_TEXT_OPTIONS + _FLAG_OPTIONS + _NUMBER_OPTIONS)
    hint = " (ssl_cert_reqs=none of other clients is verify=false here)" if name == "ssl_cert_reqs" else ""
    raise ValueError(f"unknown Redis URL option {name!r}; the options are {known}{hint}")


# ------------------------------------------------------------------ the protocol


def pack(*args: bytes | str | int) -> bytes:
    """Encode one command in RESP: ``*N`` then each argument as a bulk string."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Connection:
    """One connection to Redis (TCP, TLS or a Unix socket), authenticated and on its database once :meth:`open` returns."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.reader = hiredis.Reader(replyError=RedisReplyError)

    @classmethod
    async def open(cls, where: RedisSettings | str = "127.0.0.1", port: int | None = None) -> Connection:
        """Connect to Redis, TLS handshake, ``AUTH`` and ``SELECT`` included.

        Args:
            where, port: the server, as :func:`redis_settings` takes it
                (``Connection.open(host, port)``, a URL, or settings).

        Raises:
            OSError: the server cannot be reached.
            RedisAuthError, RedisTLSError, RedisReplyError: the server
                refused us (see the module docstring).
            RedisError: the connection closed before Redis answered, or
                all this took longer than ``connect_timeout``.
        """
        settings = redis_settings(where, port)
        with trio.move_on_after(settings.connect_timeout):
            return await cls._open(settings)
        raise RedisError(
            f"Redis at {settings.address} did not answer within {settings.connect_timeout:g} s (connect_timeout)"
        )

    @classmethod
    async def _open(cls, settings: RedisSettings) -> Connection:
        context = settings.tls_context()
        if settings.path is not None:
            connection = cls(await trio.open_unix_socket(settings.path))
        elif context is None:
            connection = cls(await trio.open_tcp_stream(settings.host, settings.port))
        else:
            connection = cls(await trio.open_ssl_over_tcp_stream(settings.host, settings.port, ssl_context=context))
        try:
            await connection._introduce(settings)
        except (trio.BrokenResourceError, _ConnectionClosed) as error:
            await connection.aclose()
            if context is not None:
                raise _tls_failed(settings, error) from (error.__cause__ or error)
            # Closed or reset, as a TLS port does to a client speaking plain RESP.
            message = f"Redis at {settings.address} closed the connection before answering"
            raise _ConnectionClosed(f"{message} (a TLS port? then use rediss:// or tls=True)") from error
        except BaseException:
            await connection.aclose()
            raise
        return connection

    async def _introduce(self, settings: RedisSettings) -> None:
        """Authenticate and select the database, in one round trip (the TLS handshake happens on the way).

        With neither to do, a PING: every connection learns at once whether
        Redis lets it in (``NOAUTH``), not at its first real command.
        """
        steps: list[tuple[str, bytes]] = []
        if settings.password is not None:
            credentials = (settings.password,) if settings.username is None else (settings.username, settings.password)
            steps.append(("AUTH", pack(b"AUTH", *credentials)))
        if settings.db:
            steps.append(("SELECT", pack(b"SELECT", settings.db)))
        if not steps:
            steps.append(("PING", pack(b"PING")))
        await self.send(b"".join(command for _, command in steps))
        for step, _ in steps:
            try:
                await self.read()
            except RedisReplyError as error:
                raise _refused(settings, step, error) from None

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def read(self) -> Any:
        """The next reply or pushed message."""
        while True:
            reply = self.reader.gets()
            if reply is not False:
                if isinstance(reply, RedisError):
                    raise reply
                return reply
            data = await self.stream.receive_some(65536)
            if not data:
                raise _ConnectionClosed("connection closed by Redis")
            self.reader.feed(data)

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True):
            await trio.aclose_forcefully(self.stream)


def _refused(settings: RedisSettings, step: str, error: RedisReplyError) -> RedisError:
    """The error to raise for an error reply to AUTH, SELECT or PING: it says what was refused, and by whom."""
    reply = str(error)
    if step == "AUTH":
        message = f"authentication failed for user {settings.user!r} at {settings.address}: {reply}"
        return RedisAuthError(message, user=settings.user, address=settings.address)
    if reply.startswith("NOAUTH"):
        message = f"Redis at {settings.address} requires authentication, and no password was given: {reply}"
        return RedisAuthError(message, user=settings.user, address=settings.address)
    return RedisReplyError(f"Redis at {settings.address} refused {step}: {reply}")


_CLIENT_CERTIFICATE_REFUSED = frozenset(  # OpenSSL's names of the alerts a server sends about our certificate
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_ALERT_ACCESS_DENIED",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    }
)


def _tls_failed(settings: RedisSettings, error: BaseException) -> RedisTLSError:
    """The error for a TLS connection that broke before Redis answered its first command."""
    cause = error.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError):
        reason = f"the server's certificate was not accepted: {cause.verify_message}"
        hint = " (is ca_file the CA that signed it, and is it issued for this host?)"
    elif isinstance(cause, ssl.SSLError) and cause.reason not in _CLIENT_CERTIFICATE_REFUSED:
        reason, hint = str(cause), ""
    else:
        # A server refusing our certificate (or our lack of one) alerts and hangs
        # up once the handshake is over on our side (TLS 1.3); whether we then
        # read its alert, or find the connection reset or closed, is a race:
        # one message for all of them.
        reason = "the server closed the connection before answering"
        hint = "; does it require a client certificate (cert_file and key_file) from a CA it trusts?"
    return RedisTLSError(f"TLS with Redis at {settings.address} failed: {reason}{hint}", address=settings.address)
