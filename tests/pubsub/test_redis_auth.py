"""Managed Redis: URLs, AUTH with a password or an ACL user, SELECT, TLS, against real redis-servers.

Each test starts the redis-server it needs (tests/_redis.py): one with
``requirepass``, one whose only users are ACL users, one serving TLS with
certificates the test makes (tests/pubsub/_tls.py), with or without client
certificates required. Two nodes then broadcast through it; and what goes
wrong (a wrong password, an untrusted CA, no client certificate, a server
that never answers) gives an error that says so, never the password, and
no busy loop of reconnections.
"""

from __future__ import annotations

import contextlib
import doctest
import functools
import logging
import ssl
import time
import urllib.parse

import attrs
import pytest
import trio
import trio.testing
from _redis import RedisServer, start_redis

import otp
from otp import GenServer, dist, pubsub
from otp.pubsub import _resp
from otp.pubsub._resp import Connection, pack
from otp.pubsub.redis import (
    CONNECT_FAILED,
    Redis,
    RedisAuthError,
    RedisError,
    RedisReplyError,
    RedisSettings,
    RedisTLSError,
    _Backoff,
)
from otp.testing import assert_receive, refute_receive

from ._tls import PKI, make_pki

SECRET = b"test secret, shared by the nodes"
PUBSUB = "auth"
PASSWORD = "p@ss:w/rd%-of-the-test"  # what a URL must escape; never to be seen in a repr, log line or error
APP_USER, APP_PASSWORD = "app", "app-password-of-the-test"
ADMIN_USER, ADMIN_PASSWORD = "admin", "admin-password-of-the-test"


def quoted(text: str) -> str:
    return urllib.parse.quote(text, safe="")


# ---------------------------------------------------------------- servers


@pytest.fixture
def redis_with_password(tmp_path):
    server = start_redis(str(tmp_path), "--requirepass", PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def redis_with_acl_users(tmp_path):
    """No default user: ``app`` with only what a node needs (the documented ACL), ``admin`` for the test."""
    server = start_redis(
        str(tmp_path),
        "--user", "default", "off",
        "--user", APP_USER, "on", f">{APP_PASSWORD}", "resetchannels", "&otp:*", "+@pubsub", "+select",
        "--user", "stranger", "on", ">stranger-password", "resetchannels", "&elsewhere:*", "+@pubsub",
        "--user", ADMIN_USER, "on", f">{ADMIN_PASSWORD}", "~*", "&*", "+@all",
    )  # fmt: skip
    yield server
    server.stop()


@pytest.fixture
def pki(tmp_path) -> PKI:
    return make_pki(tmp_path)


def tls_options(pki: PKI, *, client_certificates: bool) -> tuple[str, ...]:
    return (
        "--tls-cert-file", pki.server_cert, "--tls-key-file", pki.server_key, "--tls-ca-cert-file", pki.ca_file,
        "--tls-auth-clients", "yes" if client_certificates else "no", "--requirepass", PASSWORD,
    )  # fmt: skip


@pytest.fixture
def redis_with_tls(tmp_path, pki):
    """TLS only (no plain port), the server verified by the test's CA, and a password."""
    server = start_redis(str(tmp_path), *tls_options(pki, client_certificates=False), tls=True)
    yield server
    server.stop()


@pytest.fixture
def redis_with_mutual_tls(tmp_path, pki):
    """TLS only, and a client must show a certificate of the test's CA (``tls-auth-clients yes``)."""
    server = start_redis(str(tmp_path), *tls_options(pki, client_certificates=True), tls=True)
    yield server
    server.stop()


@pytest.fixture
def frozen_clock():
    """Time moves only when the test jumps it.

    After 30 real seconds with every task waiting it jumps by itself, so a
    test waiting for an event that never comes fails instead of hanging.
    """
    return trio.testing.MockClock(autojump_threshold=30)


async def admin_command(settings: RedisSettings, *command: str | bytes) -> object:
    connection = await Connection.open(settings)
    try:
        await connection.send(pack(*command))
        return await connection.read()
    finally:
        await connection.aclose()


async def redis_info(settings: RedisSettings, field: str) -> int:
    info = (await admin_command(settings, "INFO", "stats")).decode()
    return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith(f"{field}:")))


async def other_clients(settings: RedisSettings) -> list[dict[str, str]]:
    """CLIENT LIST, parsed, without the connection asking."""
    listing = (await admin_command(settings, "CLIENT", "LIST")).decode()
    clients = [dict(field.split("=", 1) for field in line.split(" ")) for line in listing.splitlines()]
    return [client for client in clients if client["cmd"] != "client|list"]


# ---------------------------------------------------------------- two nodes broadcasting through Redis


async def echo_node(adapter: Redis, to: otp.Pid, ready: trio.Event) -> None:
    """Node B: subscribed to "room", tells ``to`` what it got and broadcasts ("from b", it) on "replies"."""
    async with otp.open_node(shutdown_timeout=1.0):
        await pubsub.start_link(PUBSUB, adapter=adapter)
        await adapter.wait_connected()
        pubsub.subscribe(PUBSUB, "room")
        ready.set()
        while True:
            message = await otp.receive()
            otp.send(to, ("node_b got", message))
            pubsub.broadcast(PUBSUB, "replies", ("from b", message))


async def assert_two_nodes_broadcast_through(where: RedisSettings | str) -> list[Redis]:
    """A broadcast of node A reaches node B through Redis at ``where``, and B's answer comes back; once each."""
    me = otp.current_pid()
    adapters = [Redis(where, secret=SECRET, node_name="node_a"), Redis(where, secret=SECRET, node_name="node_b")]
    ready = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(echo_node, adapters[1], me, ready)
        await ready.wait()
        await pubsub.start_link(PUBSUB, adapter=adapters[0])
        await adapters[0].wait_connected()
        pubsub.subscribe(PUBSUB, "replies")
        pubsub.broadcast(PUBSUB, "room", "hello")
        assert await assert_receive(tuple, timeout=5.0) == ("node_b got", "hello")
        assert await assert_receive(tuple, timeout=5.0) == ("from b", "hello")
        await refute_receive(timeout=0.05)  # no copies
        assert [adapter.statistics().received for adapter in adapters] == [1, 1]
        nursery.cancel_scope.cancel()
    return adapters


async def test_two_nodes_broadcast_through_a_redis_with_a_password_given_in_the_url(redis_with_password):
    url = f"redis://:{quoted(PASSWORD)}@{redis_with_password.host}:{redis_with_password.port}"
    await assert_two_nodes_broadcast_through(url)


async def test_two_nodes_broadcast_as_an_acl_user_with_only_the_rights_the_docs_name(redis_with_acl_users):
    server = redis_with_acl_users
    app = RedisSettings(server.host, server.port, username=APP_USER, password=APP_PASSWORD)
    await assert_two_nodes_broadcast_through(app)


async def test_the_adapters_connections_are_the_acl_users_and_on_the_database_of_the_url(redis_with_acl_users):
    server = redis_with_acl_users
    url = f"redis://{APP_USER}:{quoted(APP_PASSWORD)}@{server.host}:{server.port}/3"
    admin = RedisSettings(server.host, server.port, username=ADMIN_USER, password=ADMIN_PASSWORD)
    adapter = Redis(url, secret=SECRET, node_name="node_a")
    await pubsub.start_link(PUBSUB, adapter=adapter)
    await adapter.wait_connected()
    clients = await other_clients(admin)
    assert sorted((client["user"], client["db"]) for client in clients) == [(APP_USER, "3"), (APP_USER, "3")]


async def test_two_nodes_broadcast_over_tls_with_the_server_verified(redis_with_tls, pki):
    server = redis_with_tls
    settings = RedisSettings(server.host, server.port, password=PASSWORD, tls=True, ca_file=pki.ca_file)
    await assert_two_nodes_broadcast_through(settings)


async def test_two_nodes_broadcast_over_mutual_tls_with_client_certificates(redis_with_mutual_tls, pki):
    server = redis_with_mutual_tls
    settings = RedisSettings(
        server.host, server.port, password=PASSWORD, tls=True,
        ca_file=pki.ca_file, cert_file=pki.client_cert, key_file=pki.client_key,
    )  # fmt: skip
    await assert_two_nodes_broadcast_through(settings)


async def test_two_nodes_broadcast_through_a_rediss_url_with_a_database(redis_with_mutual_tls, pki):
    server = redis_with_mutual_tls
    query = urllib.parse.urlencode({"ca_file": pki.ca_file, "cert_file": pki.client_cert, "key_file": pki.client_key})
    url = f"rediss://:{quoted(PASSWORD)}@{server.host}:{server.port}/5?{query}"
    adapters = await assert_two_nodes_broadcast_through(url)
    assert adapters[0].settings == RedisSettings(
        server.host, server.port, db=5, password=PASSWORD, tls=True,
        ca_file=pki.ca_file, cert_file=pki.client_cert, key_file=pki.client_key,
    )  # fmt: skip


async def test_a_ready_ssl_context_is_used_as_given(redis_with_tls, pki):
    context = ssl.create_default_context(cafile=pki.ca_file)
    settings = RedisSettings(redis_with_tls.host, redis_with_tls.port, password=PASSWORD, tls=True, ssl_context=context)
    assert settings.tls_context() is context
    assert await admin_command(settings, "PING") == b"PONG"


# ---------------------------------------------------------------- many nodes (otp.dist) through an authenticated Redis


class Counter(GenServer):
    async def init(self, start):
        self.count = start

    async def handle_call(self, request, caller):
        self.count += 1
        return self.count


async def test_a_remote_call_between_two_nodes_through_redis_as_an_acl_user(redis_with_acl_users):
    url = f"redis://{APP_USER}:{quoted(APP_PASSWORD)}@{redis_with_acl_users.host}:{redis_with_acl_users.port}"
    ready = trio.Event()

    async def node_b():
        async with otp.open_node(shutdown_timeout=1.0):
            await dist.start("b", redis=url, secret=SECRET)
            await Counter.start_link(0, name="counter")
            ready.set()
            await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(node_b)
        await ready.wait()
        await dist.start("a", redis=url, secret=SECRET)
        assert await GenServer.call(("counter", "b"), "incr", timeout=5.0) == 1
        assert await GenServer.call(("counter", "b"), "incr", timeout=5.0) == 2
        nursery.cancel_scope.cancel()


async def test_dist_takes_the_server_as_redis_or_as_host_and_port_not_both():
    message = r"^dist.start: give the Redis server as redis= or as host and port, not both$"
    with pytest.raises(ValueError, match=message):
        await dist.start("a", host="127.0.0.1", redis="redis://127.0.0.1", secret=SECRET)


# ---------------------------------------------------------------- refused: precise errors, no password in them


async def test_a_wrong_password_is_an_auth_error_naming_user_and_server_not_the_password(redis_with_password):
    server = redis_with_password
    with pytest.raises(RedisAuthError) as info:
        await Connection.open(RedisSettings(server.host, server.port, password="not-" + PASSWORD))
    address = f"127.0.0.1:{server.port}"
    assert str(info.value) == (
        f"authentication failed for user 'default' at {address}: "
        "WRONGPASS invalid username-password pair or user is disabled."
    )
    assert (info.value.user, info.value.address) == ("default", address)


async def test_a_wrong_acl_password_names_the_user(redis_with_acl_users):
    server = redis_with_acl_users
    with pytest.raises(RedisAuthError) as info:
        await Connection.open(f"redis://{APP_USER}:{quoted(PASSWORD)}@{server.host}:{server.port}")
    assert str(info.value) == (
        f"authentication failed for user 'app' at 127.0.0.1:{server.port}: "
        "WRONGPASS invalid username-password pair or user is disabled."
    )
    assert PASSWORD not in repr(info.value) and quoted(PASSWORD) not in repr(info.value)


async def test_no_password_for_a_server_that_wants_one_is_an_auth_error_at_once(redis_with_password):
    server = redis_with_password
    with pytest.raises(RedisAuthError) as info:
        await Connection.open(server.host, server.port)
    assert str(info.value) == (
        f"Redis at 127.0.0.1:{server.port} requires authentication, and no password was given: "
        "NOAUTH Authentication required."
    )


async def test_a_database_redis_does_not_have_is_refused_by_name(redis_with_password):
    server = redis_with_password
    with pytest.raises(RedisReplyError) as info:
        await Connection.open(RedisSettings(server.host, server.port, password=PASSWORD, db=99))
    assert str(info.value) == f"Redis at 127.0.0.1:{server.port} refused SELECT: ERR DB index is out of range"


async def test_a_server_certificate_of_an_untrusted_ca_is_a_tls_error(redis_with_tls, tmp_path):
    server = redis_with_tls
    stranger = make_pki(tmp_path, prefix="other-")  # a CA that did not sign the server's certificate
    settings = RedisSettings(server.host, server.port, password=PASSWORD, tls=True, ca_file=stranger.ca_file)
    with pytest.raises(RedisTLSError) as info:
        await Connection.open(settings)
    cause = info.value.__cause__
    assert isinstance(cause, ssl.SSLCertVerificationError)
    assert cause.verify_code == 19  # X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: the server sends its CA along
    assert str(info.value) == (
        f"TLS with Redis at 127.0.0.1:{server.port} failed: the server's certificate was not accepted: "
        f"{cause.verify_message} (is ca_file the CA that signed it, and is it issued for this host?)"
    )


@pytest.mark.parametrize("client_certificate", ["none", "of another CA"])
async def test_a_server_requiring_a_client_certificate_refuses_none_or_an_untrusted_one(
    redis_with_mutual_tls, pki, tmp_path, client_certificate
):
    server = redis_with_mutual_tls
    settings = RedisSettings(server.host, server.port, password=PASSWORD, tls=True, ca_file=pki.ca_file)
    if client_certificate == "of another CA":
        stranger = make_pki(tmp_path, prefix="other-")
        settings = attrs.evolve(settings, cert_file=stranger.client_cert, key_file=stranger.client_key)
    with pytest.raises(RedisTLSError) as info:
        await Connection.open(settings)
    assert str(info.value) == (
        f"TLS with Redis at 127.0.0.1:{server.port} failed: the server closed the connection before answering; "
        "does it require a client certificate (cert_file and key_file) from a CA it trusts?"
    )


async def test_a_server_that_never_answers_fails_after_connect_timeout(autojump_clock):
    async def hold(stream):
        await trio.sleep_forever()  # accepts, then says nothing: no PONG ever comes

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, hold, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        started = trio.current_time()
        with pytest.raises(RedisError) as info:
            await Connection.open(RedisSettings("127.0.0.1", port, connect_timeout=2.5))
        assert trio.current_time() - started == 2.5
        assert type(info.value) is RedisError
        assert str(info.value) == f"Redis at 127.0.0.1:{port} did not answer within 2.5 s (connect_timeout)"
        nursery.cancel_scope.cancel()


# ---------------------------------------------------------------- refused again and again: backoff, not a busy loop


BACKOFF = (1.0, 4.0)
ATTEMPTS_AT = (0, 1, 3, 7, 11, 15)  # the first at once, then 1, 2, 4 and 4 (the max) seconds apart


@attrs.frozen
class Attempt:
    """A failed attempt to connect, as the telemetry event ``connect_failed`` told it, and when."""

    at: float
    role: str
    failures: int
    retry_in: float
    error: BaseException


@contextlib.contextmanager
def record_failed_attempts():
    me = otp.current_pid()

    def forward(name, measurements, metadata, config):
        attempt = Attempt(trio.current_time(), metadata["role"], measurements["failures"], measurements["retry_in"],
                          metadata["error"])  # fmt: skip
        otp.send(me, attempt)

    otp.telemetry.attach("test_redis_auth", CONNECT_FAILED, forward)
    try:
        yield
    finally:
        otp.telemetry.detach("test_redis_auth")


@contextlib.asynccontextmanager
async def real_time_limit(seconds: float):
    """Fail the block after ``seconds`` of real time: the test's clock stands still, and a busy loop never idles."""
    with trio.CancelScope() as limit:
        async with trio.open_nursery() as nursery:

            async def watchdog():
                await trio.to_thread.run_sync(time.sleep, seconds, abandon_on_cancel=True)
                limit.cancel()

            nursery.start_soon(watchdog)
            yield
            nursery.cancel_scope.cancel()
    if limit.cancelled_caught:
        pytest.fail(f"still not done after {seconds} s of real time")


async def attempts_at_their_times(clock: trio.testing.MockClock, roles: tuple[str, ...]) -> list[Attempt]:
    """Move the clock to each time of ``ATTEMPTS_AT``; there, and only there, each role fails one attempt."""
    attempts = []
    async with real_time_limit(30):
        for number, at in enumerate(ATTEMPTS_AT, start=1):
            clock.jump(at - trio.current_time())
            here = [await assert_receive(Attempt) for _ in roles]
            retry_in = min(BACKOFF[0] * 2 ** (number - 1), BACKOFF[1])
            assert sorted((a.at, a.role, a.failures, a.retry_in) for a in here) == [
                (at, role, number, retry_in) for role in roles
            ]
            attempts += here
            await no_more_attempts_now()
        clock.jump(ATTEMPTS_AT[-1] + BACKOFF[1] - 0.001 - trio.current_time())  # just before the next attempt
        await no_more_attempts_now()
    return attempts


async def no_more_attempts_now() -> None:
    # Once every task waits (the roles on the clock, which stands still), no other attempt came, or is coming.
    await trio.testing.wait_all_tasks_blocked()
    await refute_receive(timeout=0)


async def test_a_wrong_password_is_retried_with_backoff_and_logged_once_per_interval(
    redis_with_password, frozen_clock, caplog
):
    caplog.set_level(logging.WARNING, logger="otp.pubsub.redis")
    server = redis_with_password
    wrong = RedisSettings(server.host, server.port, password="wrong-" + PASSWORD)
    adapter = Redis(wrong, secret=SECRET, node_name="node_a", backoff=BACKOFF, log_interval=10.0)
    with record_failed_attempts():
        await pubsub.start_link(PUBSUB, adapter=adapter)
        attempts = await attempts_at_their_times(frozen_clock, ("publisher", "subscriber"))

    refusal = (
        f"authentication failed for user 'default' at 127.0.0.1:{server.port}: "
        "WRONGPASS invalid username-password pair or user is disabled."
    )
    assert {(type(a.error), str(a.error)) for a in attempts} == {(RedisAuthError, refusal)}
    # Redis saw exactly those attempts (and this question), no more.
    right = RedisSettings(server.host, server.port, password=PASSWORD)
    assert await redis_info(right, "total_connections_received") == 2 * len(ATTEMPTS_AT) + 1
    # The first failure at once, then one line at the first failure past log_interval, counting those held
    # (of both connections: one cause, by connection and error).
    header = f"{adapter!r}: connection to Redis lost or refused, retrying with backoff (by connection and error)"
    first, second = [record.getMessage() for record in caplog.records]
    assert first in {f"{header}: 1 ({role}: {refusal}: 1)" for role in ("publisher", "subscriber")}
    assert second.startswith(f"{header}: 8 (") and second.endswith(")")
    held = dict(detail.rsplit(": ", 1) for detail in second[len(header) + 5 : -1].split(", "))
    assert set(held) == {f"publisher: {refusal}", f"subscriber: {refusal}"}
    assert sum(int(count) for count in held.values()) == 8
    assert PASSWORD not in caplog.text and quoted(PASSWORD) not in caplog.text


async def test_a_subscribe_the_acl_refuses_is_retried_with_backoff(redis_with_acl_users, frozen_clock):
    server = redis_with_acl_users
    stranger = RedisSettings(server.host, server.port, username="stranger", password="stranger-password")
    adapter = Redis(stranger, secret=SECRET, node_name="node_a", backoff=BACKOFF)
    with record_failed_attempts():
        await pubsub.start_link(PUBSUB, adapter=adapter)
        attempts = await attempts_at_their_times(frozen_clock, ("subscriber",))
    assert {str(a.error) for a in attempts} == {
        f"Redis at 127.0.0.1:{server.port} refused SUBSCRIBE otp:{PUBSUB}, otp:{PUBSUB}:node:node_a: "
        "NOPERM this user has no permissions to access one of the channels used as arguments"
    }
    assert adapter.statistics().publisher_connected and not adapter.statistics().subscriber_connected


async def test_a_connection_redis_refuses_to_serve_waits_longer_each_time_and_a_lost_one_comes_back_at_once():
    adapter = Redis(secret=SECRET, node_name="node_a", backoff=(0.5, 1.0))
    retry = adapter._retry["publisher"]
    for error, delay in [
        (RedisReplyError("NOPERM this user has no permissions to run the 'publish' command"), 0.5),
        (RedisReplyError("NOPERM this user has no permissions to run the 'publish' command"), 1.0),
        (RedisReplyError("NOPERM this user has no permissions to run the 'publish' command"), 1.0),
        (RedisError("connection closed by Redis"), 0.0),
        (OSError("connection reset"), 0.0),
    ]:
        adapter._connection_lost("publisher", error)
        assert retry.delay == delay
    assert adapter._retry["subscriber"] == _Backoff(0.5, 1.0, 0.0)


# ---------------------------------------------------------------- settings and URLs (no server)


def test_the_examples_of_the_client_module_hold():
    assert doctest.testmod(_resp).failed == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://", RedisSettings()),
        ("redis://redis.internal", RedisSettings("redis.internal")),
        ("redis://redis.internal:6380/2", RedisSettings("redis.internal", 6380, db=2)),
        ("redis://:pw@h/", RedisSettings("h", password="pw")),
        (f"redis://app:{quoted(PASSWORD)}@h", RedisSettings("h", username="app", password=PASSWORD)),
        ("redis://[::1]:7000", RedisSettings("::1", 7000)),
        ("rediss://h", RedisSettings("h", tls=True)),
        (
            "rediss://u:p@h:6390/1?ca_file=/ca.pem&cert_file=/c.pem&key_file=/k.pem"
            "&check_hostname=false&connect_timeout=2",
            RedisSettings("h", 6390, db=1, username="u", password="p", tls=True, ca_file="/ca.pem",
                          cert_file="/c.pem", key_file="/k.pem", check_hostname=False, connect_timeout=2.0),
        ),
        ("rediss://h?verify=no", RedisSettings("h", tls=True, verify=False)),
    ],
)
def test_a_url_gives_its_settings(url, expected):
    assert RedisSettings.from_url(url) == expected


def test_keywords_override_the_url():
    settings = RedisSettings.from_url("rediss://:pw@h/1", ca_file="/etc/ca.pem", db=2)
    assert settings == RedisSettings("h", db=2, password="pw", tls=True, ca_file="/etc/ca.pem")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://h", "a Redis URL starts with redis://, rediss:// or unix://; got http://"),
        ("h:6379", "a Redis URL starts with redis://, rediss:// or unix://; got h://"),
        (
            f"redis://{quoted(PASSWORD)}@h",
            "the Redis URL has a user but no password: write user:password@host, or :password@host",
        ),
        (f"redis://:{quoted(PASSWORD)}@h:port", "the port of the Redis URL is not a number in 1..65535"),
        (f"redis://:{quoted(PASSWORD)}@h:0", "RedisSettings: port must be 1..65535; got 0"),
        (
            f"redis://:{quoted(PASSWORD)}@h/zero",
            "the path of a Redis URL is the database number (/0, /1, ...); got '/zero'",
        ),
        ("rediss://h?verify=perhaps", "the Redis URL option verify is true or false; got 'perhaps'"),
        ("rediss://h?connect_timeout=soon", "the Redis URL option connect_timeout is a number of seconds; got 'soon'"),
        ("rediss://h?connect_timeout=0", "RedisSettings: connect_timeout must be more than 0; got 0.0"),
        ("rediss://h?verify=1&verify=0", "the Redis URL gives the option 'verify' twice"),
        ("redis://h?ca_file=/ca.pem", "RedisSettings: ca_file only apply with TLS: set tls=True (or use rediss://)"),
        (
            "rediss://h?key_file=/k.pem",
            "RedisSettings: key_file needs cert_file (the client certificate it belongs to)",
        ),
        (
            "rediss://h?ssl_cert_reqs=none",
            "unknown Redis URL option 'ssl_cert_reqs'; the options are ca_file, cert_file, key_file, check_hostname, "
            "verify, connect_timeout (ssl_cert_reqs=none of other clients is verify=false here)",
        ),
    ],
)
def test_a_malformed_url_is_refused_precisely_without_repeating_the_password(url, message):
    with pytest.raises(ValueError) as info:
        RedisSettings.from_url(url)
    assert str(info.value) == message
    assert quoted(PASSWORD) not in str(info.value) and PASSWORD not in str(info.value)


def test_settings_refuse_contradictions():
    with pytest.raises(ValueError, match=r"^RedisSettings: user 'app' has no password; AUTH needs one$"):
        RedisSettings(username="app")
    with pytest.raises(ValueError, match=r"^RedisSettings: ssl_context only apply with TLS"):
        RedisSettings(ssl_context=ssl.create_default_context())
    with pytest.raises(ValueError, match=r"^RedisSettings: give ssl_context or ca_file, verify, not both"):
        RedisSettings(tls=True, ssl_context=ssl.create_default_context(), ca_file="/ca.pem", verify=False)
    with pytest.raises(ValueError, match=r"^a Redis port was given beside settings or a URL"):
        Redis("redis://h", 6380, secret=SECRET)


def test_the_password_is_in_no_repr():
    settings = RedisSettings.from_url(f"rediss://app:{quoted(PASSWORD)}@h:6380/1")
    adapter = Redis(settings, secret=SECRET, node_name="node_a")
    assert repr(settings) == (
        "RedisSettings(host='h', port=6380, db=1, username='app', tls=True, ca_file=None, cert_file=None, "
        "key_file=None, check_hostname=True, verify=True, connect_timeout=10.0, path=None)"
    )
    assert repr(adapter) == "Redis('h', 6380, node_name='node_a')"
    assert settings.password == PASSWORD


def test_host_and_port_still_work_and_a_missing_certificate_file_fails_at_once(tmp_path):
    assert Redis("10.0.0.5", 6380, secret=SECRET).settings == RedisSettings("10.0.0.5", 6380)
    assert Redis(secret=SECRET).settings == RedisSettings("127.0.0.1", 6379)
    with pytest.raises(FileNotFoundError):
        Redis(RedisSettings(tls=True, ca_file=str(tmp_path / "missing.pem")), secret=SECRET)


def test_the_public_names_say_where_to_import_them():
    assert repr(RedisSettings) == "<class 'otp.pubsub.redis.RedisSettings'>"
    assert repr(RedisAuthError) == "<class 'otp.pubsub.redis.RedisAuthError'>"


async def test_a_tls_test_server_is_really_tls_only(redis_with_tls: RedisServer):
    # The TLS tests above would prove nothing if the server also spoke plain text on that port.
    with pytest.raises(RedisError) as info:
        await Connection.open(RedisSettings(redis_with_tls.host, redis_with_tls.port, password=PASSWORD))
    assert str(info.value) == (
        f"Redis at 127.0.0.1:{redis_with_tls.port} closed the connection before answering "
        "(a TLS port? then use rediss:// or tls=True)"
    )
