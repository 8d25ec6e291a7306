pytest_plugins = ["pytester"]

import pytest


@pytest.fixture
def redis_server(tmp_path):
    """A fresh real redis-server on a free loopback port, stopped after the test."""
    from _redis import start_redis

    server = start_redis(str(tmp_path))
    yield server
    server.stop()
