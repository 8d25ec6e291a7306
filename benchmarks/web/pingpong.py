"""C3 ``web-pingpong``: sequential push/reply round trips on a few sockets.

C clients, each joined to its own room, each sending ``ping`` and waiting
for its ``phx_reply`` before the next, K round trips in all (after 20
unmeasured per client). Figure: round trips/s (K ÷ the wall time);
``p50_ms``, ``p99_ms`` of the single round trips. Baseline: the bare server
answering each ping with the same reply frame. Sizes: C = 10, K = 20,000 /
``--quick`` C = 2, K = 500.
"""

from __future__ import annotations

from time import perf_counter

import trio

from .._harness import Sample, Workload
from .._harness.servers import Errors, Server
from .._harness.stats import percentile
from .._harness.web_client import PhxClient
from .load import close_all, open_joined, run

WARMUP = 20  # round trips per client before measuring


async def _pingpong_main(srv: Server, total: int, clients_n: int) -> Sample:
    errors = Errors()
    clients = await open_joined(srv.port, clients_n, lambda i: f"room:p{i}", errors)
    per_client = [total // clients_n + (1 if i < total % clients_n else 0) for i in range(clients_n)]
    latencies: list[float] = []

    async def pinger(client: PhxClient, join_ref: str, topic: str, count: int, measured: bool, go: trio.Event) -> None:
        await go.wait()
        clock, send, reply, next_ref = perf_counter, client.send_frame, client.reply, client.next_ref
        mine = []
        for number in range(count):
            ref = next_ref()
            payload = {"n": number}
            start = clock()
            await send(join_ref, ref, topic, "ping", payload)
            frame = await reply(ref)
            mine.append(clock() - start)
            if frame[4] != {"status": "ok", "response": payload}:
                errors.add(frame)
        if measured:
            latencies.extend(mine)

    for measured in (False, True):
        go = trio.Event()
        async with trio.open_nursery() as nursery:
            for (client, join_ref, topic), count in zip(clients, per_client):
                nursery.start_soon(pinger, client, join_ref, topic, count if measured else WARMUP, measured, go)
            await trio.sleep(0.05)
            start = perf_counter()
            go.set()
        elapsed = perf_counter() - start
    await close_all(clients)
    ordered = sorted(latencies)
    return Sample(
        figure=total / elapsed,
        extra={
            "clients": clients_n,
            "p50_ms": percentile(ordered, 50) * 1e3,
            "p99_ms": percentile(ordered, 99) * 1e3,
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


def ours_pingpong(total: int, clients: int) -> Sample:
    return run("ours", _pingpong_main, total, clients)


def raw_pingpong(total: int, clients: int) -> Sample:
    return run("raw", _pingpong_main, total, clients)


WORKLOAD = Workload(
    id="web-pingpong",
    name="C3 web pingpong",
    aliases=("c3", "pingpong-web"),
    unit="round trips/s",
    rate=True,
    ours=ours_pingpong,
    raw=raw_pingpong,
    full_size=20_000,
    quick_size=500,
    full_options={"clients": 10},
    quick_options={"clients": 2},
    size_label="{size:,}/{clients}",
)
