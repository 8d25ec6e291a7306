"""C4 ``web-churn``: whole socket lifetimes, connect → join → leave → disconnect.

W workers doing whole cycles (connect, ``phx_join`` a room, wait for the
reply, ``phx_leave``, wait for the reply, close handshake) until M cycles
are done. Figure: cycles/s; ``errors`` (refusals, error replies, unexpected
closes, exceptions) must be 0. No baseline: what is measured is our
connection and channel lifecycle. Sizes: M = 2,000, W = 10 / ``--quick``
M = 50, W = 10.

The load generator (``generator``) is the official ``phoenix`` client in
Node over ``ws`` (tests/js/churn_load.mjs: a new ``Socket`` per cycle,
``disconnect`` with 1000) when Node and ``npm ci`` in tests/js are there,
else this package's Python client, as in ``web-pingpong``.
"""

from __future__ import annotations

from time import perf_counter

import trio

from .._harness import Sample, Workload
from .._harness.servers import HOST, Errors, Server
from .._harness.web_client import PhxClient
from .load import official_client, run, run_official


async def _churn_main(srv: Server, cycles: int, workers: int) -> Sample:
    node = official_client()
    if node is None:
        return await _churn_python(srv, cycles, workers)
    result = await run_official(node, "churn_load.mjs", f"ws://{HOST}:{srv.port}/socket", cycles, workers)
    return Sample(
        figure=cycles / result["elapsed_s"],
        extra={
            "workers": workers,
            "generator": "phoenix.js",
            "completed": result["completed"],
            "errors": result["errors"],
            "first_error": result["first_error"],
        },
    )


async def _churn_python(srv: Server, cycles: int, workers: int) -> Sample:
    errors = Errors()
    remaining = [cycles]
    done = [0]

    async def cycle(worker: int) -> None:
        client = await PhxClient.connect(HOST, srv.port, f"w{worker}")
        try:
            topic = f"room:churn{worker}"
            join_ref, answer = await client.join(topic)
            if answer.get("status") != "ok":
                errors.add(answer)
                return
            answer = await client.leave(join_ref, topic)
            if answer != {"status": "ok", "response": {}}:
                errors.add(answer)
                return
            code = await client.close(1000)
            if code != 1000:
                errors.add(f"closed with {code}")
                return
            done[0] += 1
        finally:
            await client.aclose()

    async def worker(index: int) -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            try:
                await cycle(index)
            except Exception as error:  # counted, and the churn goes on
                errors.add(error)

    start = perf_counter()
    async with trio.open_nursery() as nursery:
        for index in range(workers):
            nursery.start_soon(worker, index)
    elapsed = perf_counter() - start
    return Sample(
        figure=cycles / elapsed,
        extra={
            "workers": workers,
            "generator": "python",
            "completed": done[0],
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


def ours_churn(cycles: int, workers: int) -> Sample:
    return run("ours", _churn_main, cycles, workers)


WORKLOAD = Workload(
    id="web-churn",
    name="C4 web churn",
    aliases=("c4", "churn"),
    unit="cycles/s",
    rate=True,
    ours=ours_churn,
    raw=None,
    full_size=2_000,
    quick_size=50,
    full_options={"workers": 10},
    quick_options={"workers": 10},
    size_label="{size:,}/{workers}w",
)
