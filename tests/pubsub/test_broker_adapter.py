"""The Redis adapter through the broker (otp.pubsub.broker) instead of Redis: the shared adapter suite and
every multi-node test of test_redis.py, unchanged, over TCP and over a Unix socket.

The ``redis_server`` fixture those tests take is a broker process here
(tests/pubsub/_broker.py), killed and restarted where they kill and
restart Redis.
"""

import pytest

from ._broker import start_broker
from .test_redis import *  # noqa: F401,F403  (the suite, and the multi-node tests)


@pytest.fixture(params=["tcp", "unix"])
def redis_server(request, tmp_path):
    server = start_broker(path=str(tmp_path / "bus.sock") if request.param == "unix" else None)
    yield server
    server.stop()
