"""C1 ``web-conns``: hold N joined sockets; what each costs the server in memory.

N WebSockets (``/socket/websocket?vsn=2.0.0&user=uN``), each joined to a
room of its own (``room:cN``: with Presence, as the demo tracks every
joiner). Figure: the server's RSS growth ÷ N, in bytes per connection
(the VmRSS of its whole process tree, the parent and every worker, read
from ``/proc`` once the server is up, and again 1 s after the last join
reply, the pushes after the joins drained). Baseline: the bare server holding the same N joined sockets.

The joins are the work here, so they are timed too (``connect_s``). Sizes:
N = 10,000 / ``--quick`` 100, lowered to what the descriptors allow
(``connections`` says how many were held).
"""

from __future__ import annotations

from time import perf_counter

import trio

from .._harness import Sample, Workload
from .._harness.servers import Errors, Server, fitting
from .load import close_all, drain, open_joined, run

SETTLE = 1.0  # seconds after the last join before RSS is read


async def _conns_main(srv: Server, n: int) -> Sample:
    n = fitting(n)
    errors = Errors()
    await trio.sleep(0.2)  # the server idle after start-up
    before = srv.rss()
    start = perf_counter()
    clients = await open_joined(srv.port, n, lambda i: f"room:c{i}", errors)
    connect_s = perf_counter() - start
    # Drain what the server pushed after the joins (presence_state, presence_diff),
    # so that the server's outboxes are empty when RSS is read.
    async with trio.open_nursery() as nursery:
        for client, _, _ in clients:
            nursery.start_soon(drain, client)
        await trio.sleep(SETTLE)
        after = srv.rss()
        nursery.cancel_scope.cancel()
    # Still alive and answering: one round trip on the last socket.
    client, join_ref, topic = clients[-1]
    answer = await client.call(join_ref, topic, "ping", {"alive": True})
    if answer != {"status": "ok", "response": {"alive": True}}:
        errors.add(answer)
    await close_all(clients)
    return Sample(
        figure=(after - before) / n,
        extra={
            "connections": n,
            "server_rss_before": before,
            "server_rss_after": after,
            "connect_s": connect_s,
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


def ours_conns(n: int) -> Sample:
    return run("ours", _conns_main, n)


def raw_conns(n: int) -> Sample:
    return run("raw", _conns_main, n)


WORKLOAD = Workload(
    id="web-conns",
    name="C1 web conns",
    aliases=("c1", "conns", "web-connections"),
    unit="B/conn",
    rate=False,
    ours=ours_conns,
    raw=raw_conns,
    full_size=10_000,
    quick_size=100,
    size_label="{size:,} socks",
)
