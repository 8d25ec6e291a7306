"""What the cluster workloads share: otp nodes on Redis adapters in one OS process, and a fresh Redis.

How the nodes run
    Every node is an ``otp.open_node`` in **one OS process and one event
    loop**, each with the PubSub ``bench`` on a Redis adapter of its own
    (its own ``node_name``, its own two connections). Pids cross between
    nodes as plain objects, so a subscriber on node B can tell the
    benchmark on node A when something arrived with a plain ``otp.send``.
    A's publisher, B's subscriber and every tracker take turns on one CPU
    core, where separate OS processes (separate machines) would work in
    parallel: the figures are lower bounds of what separate processes
    would do (throughput no higher, latency no lower). Redis runs on
    **loopback**, so no network latency is in them either.

Redis
    Each run starts its own ``redis-server`` on a free loopback port and
    stops it after (``redis_server.py``); with ``REDIS_PORT`` set (and
    optionally ``REDIS_HOST``), the runs use that server instead. Starting
    the server, the nodes and the connections is setup, never timed.

The frame
    The baselines send payloads as long as the adapter's frames, so that
    both sides move the same bytes. :func:`frame_bytes` computes that
    length from the frame format ``otp.pubsub.redis`` documents (its
    "Trust boundary" section); ``tests/test_benchmarks.py`` checks it
    against the adapter's own frames.
"""

from __future__ import annotations

import pickle

import trio

import otp
from otp import pubsub

try:  # the extra "redis" (hiredis); without it the other benchmarks must still run
    from otp.pubsub.redis import Redis
except ImportError as error:
    MISSING_EXTRA: ImportError | None = error
else:
    MISSING_EXTRA = None

from .._harness import Sample
from .redis_server import redis_server

__all__ = [
    "PUBSUB",
    "TOPIC",
    "NODES",
    "TIMEOUT",
    "adapter",
    "start_node",
    "connect_a",
    "two_or_more_nodes",
    "in_fresh_redis",
    "tagged",
    "frame_bytes",
    "raw_padding",
]

PUBSUB = "bench"
TOPIC = "bench:topic"
SECRET = b"cluster benchmark secret"
NODES = ("bench-a", "bench-b", "bench-c")
TIMEOUT = 300.0  # seconds: a run that takes longer has lost a message; fail, do not hang

# The frame of otp.pubsub.redis: version byte + HMAC-SHA256 of the body + body,
# the body being the origin's name (one length byte first), the header (kind
# byte, 8-byte incarnation, 8-byte sequence number) and the pickle (protocol 5)
# of (topic, message, dispatcher).
_VERSION_BYTES = 1
_DIGEST_BYTES = 32
_HEADER_BYTES = 1 + 8 + 8


def adapter(host: str, port: int, node: str, **options: object) -> Redis:
    """A Redis adapter for node ``node``, with the benchmarks' secret."""
    return Redis(host, port, secret=SECRET, node_name=node, **options)


def frame_bytes(message: object, node: str = NODES[0], topic: str = TOPIC) -> int:
    """The length of the adapter's frame carrying a broadcast of ``message`` from ``node``."""
    body = 1 + len(node.encode()) + _HEADER_BYTES + len(pickle.dumps((topic, message, pubsub.dispatch), protocol=5))
    return _VERSION_BYTES + _DIGEST_BYTES + body


def raw_padding(message: object) -> bytes:
    """Bytes to add to the baselines' payload for ``message`` so that it is as long as the adapter's frame."""
    bare = pickle.dumps((NODES[0], TOPIC, message, b""))
    return b"x" * max(0, frame_bytes(message) - len(bare))


async def start_node(nursery: trio.Nursery, host: str, port: int, node: str, body, *args) -> None:
    """Run ``body(*args)`` as the root of another otp node with the PubSub on its own adapter.

    Returns once that node's adapter is connected (both connections up, its
    subscription confirmed).
    """
    ready = trio.Event()

    async def node_main() -> None:
        async with otp.open_node(shutdown_timeout=1.0):
            its_adapter = adapter(host, port, node)
            await pubsub.start_link(PUBSUB, adapter=its_adapter)
            await its_adapter.wait_connected()
            ready.set()
            await body(*args)

    nursery.start_soon(node_main, name=f"otp node {node}")
    await ready.wait()


async def connect_a(host: str, port: int, **options: object) -> Redis:
    """Node A's PubSub on its adapter (``options`` for the adapter), once connected."""
    a = adapter(host, port, NODES[0], **options)
    await pubsub.start_link(PUBSUB, adapter=a)
    await a.wait_connected()
    return a


async def two_or_more_nodes(host: str, port: int, main_a, *args) -> object:
    """Run node A, whose root runs ``main_a(nursery, host, port, *args)``; the other nodes are its nursery's tasks."""
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            async with otp.open_node(shutdown_timeout=1.0):
                result = await main_a(nursery, host, port, *args)
            nursery.cancel_scope.cancel()  # the other nodes: A is closed, the run is over
    return result


def in_fresh_redis(main, *args) -> Sample:
    """``trio.run(main, host, port, *args)`` against a Redis of its own."""
    if MISSING_EXTRA is not None:
        raise RuntimeError(f"the cluster benchmarks need the extra 'redis' (pip install trio-otp[redis]): {MISSING_EXTRA}")
    with redis_server() as (host, port):
        return trio.run(main, host, port, *args)


def tagged(tag: str):
    """A receive pattern: the tuples whose first element is ``tag``."""
    return lambda m: m.__class__ is tuple and m[0] == tag
