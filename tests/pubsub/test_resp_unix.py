"""Redis over a Unix domain socket (``unix://`` URLs, ``RedisSettings(path=...)``): parsing, and a real redis-server."""

import pytest
import trio

import otp
from otp import pubsub
from otp.pubsub._resp import Connection, RedisAuthError, RedisSettings, pack
from otp.pubsub.redis import Redis
from otp.testing import assert_receive


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("unix:///run/redis.sock", RedisSettings(path="/run/redis.sock")),
        ("unix:///tmp/my%20bus.sock?db=3", RedisSettings(path="/tmp/my bus.sock", db=3)),
        ("unix://:pw@/run/redis.sock", RedisSettings(path="/run/redis.sock", password="pw")),
        ("unix://app:pw@/run/redis.sock?connect_timeout=2", RedisSettings(path="/run/redis.sock", username="app",
                                                                         password="pw", connect_timeout=2.0)),
    ],
)
def test_a_unix_url_gives_its_settings(url, expected):
    assert RedisSettings.from_url(url) == expected
    assert RedisSettings.from_url(url).address == expected.path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("unix://host/run/redis.sock", "a unix:// URL names no host: write unix:///path/to/socket (three slashes)"),
        ("unix://", "a unix:// URL needs the socket's path: unix:///path/to/socket"),
        ("unix:///s?db=two", "the unix:// URL option db is a database number (0, 1, ...); got 'two'"),
        ("unix:///s?ca_file=/ca.pem", "unknown unix:// URL option 'ca_file'; the options are db, connect_timeout"),
        ("unix://secret@/s", "the Redis URL has a user but no password: write user:password@host, or :password@host"),
    ],
)
def test_a_malformed_unix_url_is_refused_precisely(url, message):
    with pytest.raises(ValueError) as refused:
        RedisSettings.from_url(url)
    assert str(refused.value) == message


def test_a_unix_socket_takes_no_tls():
    with pytest.raises(ValueError, match="^RedisSettings: a Unix socket \\(path\\) is local and takes no TLS: drop tls$"):
        RedisSettings(path="/run/redis.sock", tls=True)


@pytest.fixture
def redis_on_a_unix_socket(tmp_path):
    from _redis import start_redis

    path = tmp_path / "redis.sock"
    server = start_redis(str(tmp_path), "--unixsocket", str(path), "--unixsocketperm", "700", "--requirepass", "pw")
    yield f"unix://:pw@{path}"
    server.stop()


async def test_a_connection_to_redis_over_its_unix_socket_authenticates_and_selects(redis_on_a_unix_socket):
    connection = await Connection.open(redis_on_a_unix_socket + "?db=2")
    await connection.send(pack(b"CLIENT", b"INFO"))
    info = (await connection.read()).decode()
    assert " db=2 " in info and " laddr=" in info and "/redis.sock" in info
    with pytest.raises(RedisAuthError, match="at /.*/redis.sock"):
        await Connection.open(redis_on_a_unix_socket.replace(":pw@", ":wrong@"))


async def test_the_adapter_carries_broadcasts_between_nodes_over_a_unix_socket(redis_on_a_unix_socket):
    me = otp.current_pid()
    ready = trio.Event()

    async def node_b():
        async with otp.open_node(shutdown_timeout=1.0):
            adapter = Redis(redis_on_a_unix_socket, secret=b"a secret of the two", node_name="b")
            await pubsub.start_link("multi", adapter=adapter)
            await adapter.wait_connected()
            pubsub.subscribe("multi", "room")
            ready.set()
            otp.send(me, ("b got", await otp.receive()))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(node_b)
        await ready.wait()
        adapter = Redis(redis_on_a_unix_socket, secret=b"a secret of the two", node_name="a")
        await pubsub.start_link("multi", adapter=adapter)
        await adapter.wait_connected()
        pubsub.broadcast("multi", "room", "over the socket")
        assert await assert_receive(tuple, timeout=5) == ("b got", "over the socket")
