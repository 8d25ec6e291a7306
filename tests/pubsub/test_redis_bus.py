"""Whether this node hears the bus (issue #17): the Redis adapter's silence_counts_from, against a real redis-server.

The adapter's own frames come back to its subscriber through Redis; while
they do, another node's silence says something about it. The faults are
Redis's own: a subscriber cut (``CLIENT KILL TYPE pubsub``), Redis stopped
with the connections open (``SIGSTOP``). (``tests/multinode/test_faults.py``
runs nodes through a Redis restart and Redis refusing clients.)
"""

import logging
import signal

import pytest
import trio

from otp import pubsub
from otp.pubsub._resp import Connection, pack
from otp.pubsub.redis import BUS_BACK, Redis
from otp.testing import TelemetryEvent, assert_receive, forward_telemetry

SECRET = b"bus test secret, shared"
PUBSUB = "bus"
HEARTBEAT = 0.1  # the adapter's: its own frames come back at least this often; none for 0.2 s and it is cut off

pytestmark = pytest.mark.slow


async def command(redis_server, *words) -> object:
    connection = await Connection.open(redis_server.host, redis_server.port)
    try:
        await connection.send(pack(*words))
        return await connection.read()
    finally:
        await connection.aclose()


async def start(redis_server, **options) -> Redis:
    adapter = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name="here", heartbeat=HEARTBEAT, **options)
    await pubsub.start_link(PUBSUB, adapter=adapter)
    return adapter


async def test_silence_counts_from_the_first_frame_of_ours_that_came_back(redis_server):
    with forward_telemetry(BUS_BACK):
        adapter = await start(redis_server)
        assert adapter.silence_counts_from() is None  # nothing came back yet: we hear nobody
        back = await assert_receive(TelemetryEvent, timeout=5.0)
    assert back.metadata == {"pubsub": PUBSUB, "node_name": "here"}
    assert adapter.silence_counts_from() == back.measurements["silence_counts_from"] <= trio.current_time()


async def test_after_a_connection_was_down_silence_counts_from_its_return_plus_the_backoff_limit(redis_server):
    with forward_telemetry(BUS_BACK):
        adapter = await start(redis_server, backoff=(0.05, 0.5))
        await assert_receive(TelemetryEvent, timeout=5.0)
        assert await command(redis_server, "CLIENT", "KILL", "TYPE", "pubsub") == 1
        await adapter.wait_connected(False)
        assert adapter.silence_counts_from() is None  # our subscriber is down: the others' silence says nothing
        back = await assert_receive(TelemetryEvent, timeout=5.0)
        echoed_at = trio.current_time()
    # The others' subscribers may come back up to backoff[1] after ours.
    assert adapter.silence_counts_from() == back.measurements["silence_counts_from"]
    assert echoed_at < back.measurements["silence_counts_from"] <= echoed_at + 0.5


async def test_redis_stopped_with_the_connections_open_is_a_bus_lost_then_back_at_once(redis_server):
    with forward_telemetry(BUS_BACK):
        adapter = await start(redis_server)
        await assert_receive(TelemetryEvent, timeout=5.0)
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            await trio.sleep(0.5)  # the fault itself: Redis stopped this long, our connections open
            assert adapter.statistics().subscriber_connected and adapter.statistics().publisher_connected
            assert adapter.silence_counts_from() is None  # but nothing of ours came back for 2 × heartbeat
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        back = await assert_receive(TelemetryEvent, timeout=5.0)
        echoed_at = trio.current_time()
    # No connection of anyone's was down: the others' frames waited in Redis with ours, and come now.
    assert adapter.silence_counts_from() == back.measurements["silence_counts_from"] <= echoed_at


async def test_the_logger_is_named_by_whoever_runs_the_adapter(redis_server, caplog):
    caplog.set_level(logging.WARNING)
    adapter = await start(redis_server, logger="my_app.bus")
    await adapter.wait_connected()
    assert await command(redis_server, "CLIENT", "KILL", "TYPE", "pubsub") == 1
    await adapter.wait_connected(False)
    await adapter.wait_connected()
    [record] = [r for r in caplog.records if "connection to Redis lost or refused" in r.getMessage()]
    assert record.name == "my_app.bus"
    assert record.getMessage().startswith(f"Redis('127.0.0.1', {redis_server.port}, node_name='here', pubsub='bus'): ")
