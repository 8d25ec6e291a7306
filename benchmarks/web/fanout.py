"""C2 ``web-fanout``: one broadcast to N subscribers of one topic.

N sockets joined to one topic (``quiet:bench``: without Presence, see
``chat_server.py``); one of them shouts; the time from the shout until
every subscriber (the shouter too) has the ``shout`` frame. R measured
rounds after 2 warm-up ones, 50 ms apart. Figure: the p50 in ms;
``p99_ms`` and ``max_ms`` too. Baseline: the bare server writing the
broadcast frame to every socket that joined the topic. Opening and joining
the sockets is setup, not timed. Sizes: N = 10,000, R = 20 / ``--quick``
N = 50, R = 5.
"""

from __future__ import annotations

from time import perf_counter

import trio

from .._harness import Sample, Workload
from .._harness.servers import Errors, Server, fitting
from .._harness.stats import percentile
from .._harness.web_client import PhxClient, ServerClosed
from .load import close_all, open_joined, run

TOPIC = "quiet:bench"
WARMUP = 2
PAUSE = 0.05  # seconds between rounds
ROUND_TIMEOUT = 60.0  # seconds: a broadcast that has not reached everyone by then is lost


async def _fanout_main(srv: Server, n: int, rounds: int) -> Sample:
    n = fitting(n)
    errors = Errors()
    clients = await open_joined(srv.port, n, lambda i: TOPIC, errors)
    state = {"left": 0, "last": 0.0}
    all_in = [trio.Event()]

    async def read(client: PhxClient) -> None:
        try:
            while True:
                text = await client.receive()
                if '"shout"' in text and "phx_reply" not in text:
                    state["left"] -= 1
                    if state["left"] == 0:
                        state["last"] = perf_counter()
                        all_in[0].set()
        except ServerClosed as closed:
            errors.add(closed)

    times = []
    async with trio.open_nursery() as nursery:
        for client, _, _ in clients:
            nursery.start_soon(read, client)
        await trio.sleep(0.2)  # every reader waiting
        shouter, join_ref, topic = clients[0]
        for number in range(WARMUP + rounds):
            all_in[0] = trio.Event()
            state["left"] = n
            start = perf_counter()
            await shouter.send_frame(join_ref, shouter.next_ref(), topic, "shout", {"body": f"round {number}"})
            with trio.move_on_after(ROUND_TIMEOUT) as waited:
                await all_in[0].wait()
            if waited.cancelled_caught:
                raise RuntimeError(
                    f"round {number}: {state['left']} of {n} subscribers never got the shout "
                    f"({errors.count} errors, first {errors.first}); server stderr:\n{srv.log_text()[-2000:]}"
                )
            if number >= WARMUP:
                times.append(state["last"] - start)
            await trio.sleep(PAUSE)
        nursery.cancel_scope.cancel()
    await close_all(clients)
    ordered = sorted(times)
    return Sample(
        figure=percentile(ordered, 50) * 1e3,
        extra={
            "subscribers": n,
            "rounds": rounds,
            "p99_ms": percentile(ordered, 99) * 1e3,
            "max_ms": ordered[-1] * 1e3,
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


def ours_fanout(n: int, rounds: int) -> Sample:
    return run("ours", _fanout_main, n, rounds)


def raw_fanout(n: int, rounds: int) -> Sample:
    return run("raw", _fanout_main, n, rounds)


WORKLOAD = Workload(
    id="web-fanout",
    name="C2 web fanout",
    aliases=("c2", "fanout-web"),
    unit="ms p50",
    rate=False,
    ours=ours_fanout,
    raw=raw_fanout,
    full_size=10_000,
    quick_size=50,
    full_options={"rounds": 20},
    quick_options={"rounds": 5},
    size_label="{size:,}x{rounds}",
)
