"""C3 ``web-pingpong``: sequential push/reply round trips on a few sockets.

C clients, each joined to its own room, each sending ``ping`` and waiting
for its ``phx_reply`` before the next, K round trips in all (after 20
unmeasured per client). Figure: round trips/s (K ÷ the wall time);
``p50_ms``, ``p99_ms`` of the single round trips. Baseline: the bare server
answering each ping with the same reply frame. Sizes: C = 10, K = 20,000 /
``--quick`` C = 2, K = 500.

The load generator (``generator``) is the official ``phoenix`` client in
Node over ``ws`` (tests/js/pingpong_load.mjs), as a Node app or the
black-box load tests drive the server, when Node and ``npm ci`` in
tests/js are there (``make test`` installs them); else this package's
Python client (:mod:`benchmarks._harness.web_client`). The Python client
costs about twice the CPU per round trip: on this 2-core machine type it
tops out near 8,000 round trips/s whatever the server, so only the Node
figures say what the server can do.

Figures (this 2-core machine type, generator included, the demo as
shipped: two workers; issue #13's target is 17,700/s, 0.8 × Phoenix 1.7's
22,169/s):

=================================  ====================  =================  ==============
server                             round trips/s         p50 / p99 (ms)     generator
=================================  ====================  =================  ==============
ours, permessage-deflate agreed    9,475-12,643          0.70-1.0 / 2.4     phoenix.js
ours, compression off (default)    23,888-24,437         0.37 / 1.07-1.14   phoenix.js
ours                               8,013                 1.09 / 4.5         Python
=================================  ====================  =================  ==============
"""

from __future__ import annotations

from time import perf_counter

import trio

from .._harness import Sample, Workload
from .._harness.servers import HOST, Errors, Server
from .._harness.stats import percentile
from .._harness.web_client import PhxClient
from .load import close_all, official_client, open_joined, run, run_official

WARMUP = 20  # round trips per client before measuring


async def _pingpong_main(srv: Server, total: int, clients_n: int) -> Sample:
    node = official_client()
    if node is not None:
        return await _pingpong_official(node, srv, total, clients_n)
    return await _pingpong_python(srv, total, clients_n)


async def _pingpong_official(node: str, srv: Server, total: int, clients_n: int) -> Sample:
    """The round trips driven by the official client in Node (tests/js/pingpong_load.mjs)."""
    result = await run_official(node, "pingpong_load.mjs", f"ws://{HOST}:{srv.port}/socket", clients_n, total, WARMUP)
    if result["round_trips"] != total:
        raise RuntimeError(f"the official client made {result['round_trips']} round trips of {total}")
    return Sample(
        figure=total / result["elapsed_s"],
        extra={
            "clients": clients_n,
            "generator": "phoenix.js",
            "p50_ms": result["p50_ms"],
            "p99_ms": result["p99_ms"],
            "errors": result["errors"],
            "first_error": result["first_error"],
        },
    )


async def _pingpong_python(srv: Server, total: int, clients_n: int) -> Sample:
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
            for (client, join_ref, topic), count in zip(clients, per_client, strict=True):
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
            "generator": "python",
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
