"""The broker (otp.pubsub.broker) itself, in the test's node: every command's answer as Redis gives it,
order, subscribers that do not read, malformed input, its socket file.

(tests/pubsub/test_broker_adapter.py runs the Redis adapter's tests through it.)
"""

from __future__ import annotations

import doctest
import socket

import pytest
import trio
import trio.testing

import otp
from otp import StartError
from otp.pubsub import broker as broker_module
from otp.pubsub._resp import Connection, RedisAuthError, RedisError, RedisReplyError, pack
from otp.pubsub.broker import Broker, BrokerStatistics
from otp.testing import assert_down, capture_crash_reports


async def start(**options) -> str:
    """A broker on a free loopback port; its URL."""
    return Broker.url(await Broker.start_link(host="127.0.0.1", **options))


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("redis://").rsplit(":", 1)
    return host, int(port)


async def command(connection: Connection, *args):
    await connection.send(pack(*args))
    return await connection.read()


async def subscriber(url: str, *channels: bytes) -> Connection:
    connection = await Connection.open(url)
    await connection.send(pack(b"SUBSCRIBE", *channels))
    for number, channel in enumerate(channels, 1):
        assert await connection.read() == [b"subscribe", channel, number]
    return connection


def test_the_examples_hold():
    assert doctest.testmod(broker_module).failed == 0


async def test_publish_reaches_each_subscriber_of_the_channel_and_answers_how_many():
    url = await start()
    first, second, other = await subscriber(url, b"ch"), await subscriber(url, b"ch"), await subscriber(url, b"other")
    publisher = await Connection.open(url)
    assert await command(publisher, b"PUBLISH", b"ch", b"hello") == 2
    for connection in (first, second):
        assert await connection.read() == [b"message", b"ch", b"hello"]
    assert await command(publisher, b"PUBLISH", b"other", b"\x00binary\r\n") == 1
    assert await other.read() == [b"message", b"other", b"\x00binary\r\n"]
    assert await command(publisher, b"PUBLISH", b"nobody", b"x") == 0
    assert await command(publisher, b"PUBSUB", b"NUMSUB", b"ch", b"other", b"nobody") == [b"ch", 2, b"other", 1, b"nobody", 0]
    assert sorted(await command(publisher, b"PUBSUB", b"CHANNELS")) == [b"ch", b"other"]


async def test_unsubscribe_confirms_each_channel_and_leaves_subscribed_mode():
    url = await start()
    connection = await subscriber(url, b"a", b"b")
    assert await command(connection, b"PING") == [b"pong", b""]  # the answer of a subscribed connection
    await connection.send(pack(b"UNSUBSCRIBE"))
    assert [await connection.read(), await connection.read()] == [[b"unsubscribe", b"a", 1], [b"unsubscribe", b"b", 0]]
    assert await command(connection, b"UNSUBSCRIBE") == [b"unsubscribe", None, 0]
    assert await command(connection, b"PUBLISH", b"a", b"x") == 0  # a command of normal mode again


async def test_a_subscribed_connection_takes_only_the_subscribed_mode_commands():
    url = await start()
    connection = await subscriber(url, b"a")
    with pytest.raises(RedisReplyError) as refused:
        await command(connection, b"PUBLISH", b"a", b"x")
    assert str(refused.value) == (
        "ERR Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
        "are allowed in this context"
    )


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        ((b"PING",), b"PONG"),
        ((b"ping", b"hi"), b"hi"),
        ((b"SELECT", b"15"), b"OK"),
        ((b"SELECT", b"16"), RedisReplyError("ERR DB index is out of range")),
        ((b"SELECT", b"x"), RedisReplyError("ERR DB index is out of range")),
        ((b"PUBLISH", b"a"), RedisReplyError("ERR wrong number of arguments for 'publish' command")),
        ((b"SUBSCRIBE",), RedisReplyError("ERR wrong number of arguments for 'subscribe' command")),
        ((b"GET", b"key"), RedisReplyError("ERR unknown command 'get', with args beginning with: 'key'")),
        ((b"PUBSUB", b"SHARDNUMSUB"), RedisReplyError(
            "ERR unknown subcommand or wrong number of arguments for 'SHARDNUMSUB'. Try PUBSUB HELP.")),
        ((b"AUTH", b"pw"), RedisReplyError(
            "ERR AUTH <password> called without any password configured for the default user. "
            "Are you sure your configuration is correct?")),
    ],
)
async def test_each_command_is_answered_as_redis_answers_it(args, answer):
    connection = await Connection.open(await start())
    if isinstance(answer, Exception):
        with pytest.raises(RedisReplyError) as refused:
            await command(connection, *args)
        assert str(refused.value) == str(answer)
        assert await command(connection, b"PING") == b"PONG"  # the connection goes on
    else:
        assert await command(connection, *args) == answer


async def test_with_a_password_nothing_but_auth_is_answered_before_it():
    url = await start(password="s3cret")
    raw = Connection(await trio.open_tcp_stream(*address(url)))
    with pytest.raises(RedisReplyError, match="^NOAUTH Authentication required.$"):
        await command(raw, b"SUBSCRIBE", b"a")
    with pytest.raises(RedisReplyError, match="^WRONGPASS invalid username-password pair or user is disabled.$"):
        await command(raw, b"AUTH", b"wrong")
    assert await command(raw, b"AUTH", b"anyone", b"s3cret") == b"OK"
    assert await command(raw, b"PING") == b"PONG"
    host, port = address(url)
    assert await command(await Connection.open(f"redis://:s3cret@{host}:{port}"), b"PING") == b"PONG"
    with pytest.raises(RedisAuthError):
        await Connection.open(f"redis://:nope@{host}:{port}")


async def test_quit_answers_ok_then_closes():
    connection = await Connection.open(await start())
    assert await command(connection, b"QUIT") == b"OK"
    with pytest.raises(RedisError, match="connection closed"):
        await connection.read()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"PING\r\n", "ERR Protocol error: Protocol error, got \"P\" as reply type byte"),
        (b":12\r\n", "ERR Protocol error: expected an array of bulk strings, got a int"),
        (b"*0\r\n", "ERR Protocol error: expected an array of bulk strings, got an empty array"),
    ],
)
async def test_malformed_input_is_answered_then_closed_and_only_that_client_goes(data, error, caplog):
    url = await start()
    bystander = await subscriber(url, b"ch")
    with capture_crash_reports() as reports:
        stream = await trio.open_tcp_stream(*address(url))
        await stream.send_all(data)
        answer = b""
        while chunk := await stream.receive_some(4096):
            answer += chunk
    assert answer == b"-" + error.encode() + b"\r\n"  # then the end of the stream
    assert reports == []
    publisher = await Connection.open(url)
    assert await command(publisher, b"PUBLISH", b"ch", b"still here") == 1
    assert await bystander.read() == [b"message", b"ch", b"still here"]
    lines = [r for r in caplog.records if r.name == "otp.pubsub.broker"]
    assert [r.levelname for r in lines] == ["WARNING"] and "closed the connection of 127.0.0.1:" in lines[0].getMessage()


async def test_a_command_larger_than_max_input_closes_that_connection():
    url = await start(max_input=1024)
    connection = await Connection.open(url)
    with pytest.raises(RedisReplyError, match=r"^ERR Protocol error: a command longer than 1024 bytes \(max_input\)$"):
        await command(connection, b"PUBLISH", b"ch", b"x" * 2000)


async def test_a_subscriber_that_does_not_read_is_disconnected_and_the_others_get_everything(caplog):
    pid = await Broker.start_link(host="127.0.0.1", hard_limit=256 << 10)
    url = Broker.url(pid)
    reader = await subscriber(url, b"ch")
    # The one that does not read: it subscribes, and then reads nothing ever again.
    sleeper_socket = trio.socket.socket()
    sleeper_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sleeper_socket.connect(address(url))
    sleeper = Connection(trio.SocketStream(sleeper_socket))
    await sleeper.send(pack(b"SUBSCRIBE", b"ch"))
    assert await sleeper.read() == [b"subscribe", b"ch", 1]
    publisher = await Connection.open(url)
    message = b"m" * (64 << 10)
    receivers = []
    async with trio.open_nursery() as nursery:

        async def read_all(count_box: list) -> None:
            while True:
                assert await reader.read() == [b"message", b"ch", message]
                count_box.append(1)

        got: list = []
        nursery.start_soon(read_all, got)
        for _ in range(400):  # 25 MiB: more than any socket buffer between them
            receivers.append(await command(publisher, b"PUBLISH", b"ch", message))
            if receivers[-1] == 1:
                break
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert receivers[-1] == 1 and set(receivers[:-1]) == {2}  # cut off once, by the publish that went over
    assert len(got) == len(receivers)  # the reader got every message
    assert Broker.statistics(pid) == BrokerStatistics(
        clients=2, subscribers=1, channels=1, published=len(receivers), delivered=2 * len(receivers) - 1,
        disconnected=1, protocol_errors=0,
    )
    [line] = [r.getMessage() for r in caplog.records if r.name == "otp.pubsub.broker"]
    assert line.startswith(f"broker at {url}: disconnected subscriber 127.0.0.1:") and line.endswith(
        "(over hard_limit 262144)"
    )


async def test_every_subscriber_sees_the_same_order_and_each_publishers_own_order():
    url = await start()
    subscribers = [await subscriber(url, b"ch") for _ in range(2)]
    publishers = [await Connection.open(url) for _ in range(3)]

    async def publish(number: int, publisher: Connection) -> None:
        for n in range(100):
            await publisher.send(pack(b"PUBLISH", b"ch", b"%d:%d" % (number, n)))
            await trio.lowlevel.checkpoint()
        for _ in range(100):
            assert await publisher.read() == 2

    async with trio.open_nursery() as nursery:
        for number, publisher in enumerate(publishers):
            nursery.start_soon(publish, number, publisher)
    seen = [[(await connection.read())[2] for _ in range(300)] for connection in subscribers]
    assert seen[0] == seen[1]
    for number in range(3):
        mine = [message for message in seen[0] if message.startswith(b"%d:" % number)]
        assert mine == [b"%d:%d" % (number, n) for n in range(100)]


async def test_on_a_unix_socket_a_stale_file_is_replaced_a_live_one_refused_and_stopping_removes_it(tmp_path):
    path = tmp_path / "bus.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # bound, never listening: what a killed broker leaves
    stale.close()
    broker = await Broker.start_link(path=path)
    assert Broker.url(broker) == f"unix://{path}"
    assert await command(await Connection.open(Broker.url(broker)), b"PING") == b"PONG"
    with capture_crash_reports():
        with pytest.raises(StartError) as taken:
            await Broker.start_link(path=path)
    assert str(taken.value.reason) == f"broker: a server is listening on {path} already"
    ref = otp.monitor(broker)
    await Broker.stop(broker)
    await assert_down(ref, otp.NORMAL)
    assert not path.exists()
    (tmp_path / "file").write_text("not a socket")
    with capture_crash_reports():
        with pytest.raises(StartError) as refused:
            await Broker.start_link(path=tmp_path / "file")
    assert isinstance(refused.value.reason, FileExistsError)
    assert (tmp_path / "file").read_text() == "not a socket"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "Broker: give path= (a Unix socket) or host= (TCP), one of them"),
        ({"path": "/tmp/x", "host": "127.0.0.1"}, "Broker: give path= (a Unix socket) or host= (TCP), one of them"),
        ({"host": "127.0.0.1", "hard_limit": 0}, "Broker: hard_limit must be a positive number; got 0"),
    ],
)
async def test_malformed_options_are_refused_precisely(options, message):
    with pytest.raises(ValueError) as refused:
        await Broker.start_link(**options)
    assert str(refused.value) == message


async def test_reading_a_pid_that_is_no_broker_says_so():
    with pytest.raises(LookupError, match="is not a running broker"):
        Broker.url("nobody")



async def test_a_subscriber_that_goes_away_while_messages_are_written_to_it_ends_without_a_crash_report():
    pid = await Broker.start_link(host="127.0.0.1")
    url = Broker.url(pid)
    leaver_socket = trio.socket.socket()
    leaver_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await leaver_socket.connect(address(url))
    leaver = Connection(trio.SocketStream(leaver_socket))
    await leaver.send(pack(b"SUBSCRIBE", b"ch"))
    assert await leaver.read() == [b"subscribe", b"ch", 1]
    publisher = await Connection.open(url)
    with capture_crash_reports() as reports:
        for _ in range(64):  # 4 MiB it does not read: the broker is still writing when it leaves
            assert await command(publisher, b"PUBLISH", b"ch", b"x" * 65536) == 1
        leaver_socket.close()
        while await command(publisher, b"PUBLISH", b"ch", b"x") != 0:
            pass  # until the broker has seen it go
        await trio.testing.wait_all_tasks_blocked()
    assert reports == []
    assert Broker.statistics(pid).clients == 1
