"""L1 ``live-events``: click → diff round trips on one real WebSocket, against a bare echo.

A server process (``server.py``) runs the counter LiveView. The client does
what the browser does: GET ``/counter`` (the dead render: the container
id, its ``data-phx-session`` and the CSRF meta tag), opens
``/live/websocket?_csrf_token=...&vsn=2.0.0``, joins ``lv:<id>``, then
pushes ``{"type": "click", "event": "inc", ...}`` and waits for each reply
(``{"diff": {"0": "<n>"}}``, checked) before the next: K round trips after
200 unmeasured ones. Figure: events/s; ``p50_ms``, ``p99_ms`` of the
single round trips.

Baseline: a bare WebSocket echo, the web benchmarks' bare trio + h11 +
wsproto server (``benchmarks/web/raw_server.py``), which answers a ``ping``
push with the reply frame carrying its payload; the client pushes it the
click's payload. The same client code on both sides, so the ratio (echo/s
÷ events/s: the mean event round trip ÷ the mean echo round trip) prices
what the endpoint, the socket, the channel process and the LiveView add to
a round trip. Target: ≤ 2.0.

``target_met`` comes from the run itself: each run of ours also opens a
bare echo server and alternates blocks of 500 events and 500 echoes on the
two sockets, so drift hits both alike; ``echo_p50_ms``,
``round_trip_ratio`` (mean event ÷ mean echo round trip, in this run) and
``p50_ratio`` come from there. ``diff_bytes`` is the JSON of the last
reply's diff object. Sizes: K = 10,000 / ``--quick`` 200.
"""

from __future__ import annotations

from time import perf_counter
from urllib.parse import urlencode

import orjson
import trio

from .._harness import Sample, Workload
from .._harness.servers import HOST, Errors, Server, quiet_gc_while, server_process, with_timeout
from .._harness.stats import percentile
from .._harness.web_client import PhxClient, http_get
from ..web.load import server as web_server
from .app import CLICK, page_tokens

WARMUP = 200  # round trips of each kind before measuring
BLOCK = 500  # events, then as many echoes, in turn
TARGET_EVENT_RATIO = 2.0  # an event round trip at most twice a bare echo's


def live_server():
    """Start ``python -m benchmarks.live.server``; yield it once it listens (by name: see ``web/load.py``)."""
    return server_process(["benchmarks.live.server"], "the LiveView server")


async def open_counter(port: int) -> tuple[PhxClient, str, str]:
    """The browser's steps: dead render, socket, join ``lv:<id>``; return (client, join_ref, topic)."""
    status, page = await http_get(HOST, port, "/counter")
    if status != 200:
        raise RuntimeError(f"GET /counter answered {status}: {page[:300]!r}")
    view_id, session, csrf = page_tokens(page)
    client = await PhxClient.open(HOST, port, "/live/websocket?" + urlencode({"_csrf_token": csrf, "vsn": "2.0.0"}))
    topic = f"lv:{view_id}"
    payload = {"url": f"http://{HOST}:{port}/counter", "params": {"_csrf_token": csrf}, "session": session, "static": None}
    join_ref, answer = await client.join(topic, payload)
    if answer.get("status") != "ok" or "rendered" not in answer.get("response", {}):
        raise RuntimeError(f"joining {topic} answered {answer!r}")
    return client, join_ref, topic


async def open_echo(port: int, errors: Errors) -> tuple[PhxClient, str, str]:
    client = await PhxClient.connect(HOST, port, "echo")
    topic = "room:echo"
    join_ref, answer = await client.join(topic)
    if answer.get("status") != "ok":
        errors.add(answer)
    return client, join_ref, topic


class _Side:
    """One socket's round trips: a click (ours) or a ping echoing it (the bare server)."""

    def __init__(self, opened: tuple, event: str, expect, errors: Errors) -> None:
        self.client, self.join_ref, self.topic = opened
        self.event, self.expect, self.errors = event, expect, errors
        self.latencies: list[float] = []
        self.elapsed = 0.0
        self.last: list | None = None

    async def run(self, count: int, measured: bool) -> None:
        clock, client, join_ref, topic, event = perf_counter, self.client, self.join_ref, self.topic, self.event
        send, reply, next_ref = client.send_frame, client.reply, client.next_ref
        latencies = self.latencies if measured else []
        start = clock()
        for _ in range(count):
            ref = next_ref()
            sent = clock()
            await send(join_ref, ref, topic, event, CLICK)
            frame = await reply(ref)
            latencies.append(clock() - sent)
            if frame[4] != self.expect():
                self.errors.add(frame)
        if measured:
            self.elapsed += clock() - start
        self.last = frame


def _counter_replies():
    """Each click's expected reply: the counter's slot, one more each time."""
    count = [0]

    def expect() -> dict:
        count[0] += 1
        return {"status": "ok", "response": {"diff": {"0": str(count[0])}}}

    return expect


def _echo_reply() -> dict:
    return {"status": "ok", "response": CLICK}


async def _events_main(live: Server, echo: Server, total: int) -> Sample:
    errors = Errors()
    ours = _Side(await open_counter(live.port), "event", _counter_replies(), errors)
    bare = _Side(await open_echo(echo.port, errors), "ping", _echo_reply, errors)
    for side in (ours, bare):
        await side.run(WARMUP, measured=False)
    done = 0
    while done < total:
        block = min(BLOCK, total - done)
        await ours.run(block, measured=True)
        await bare.run(block, measured=True)
        done += block
    for side in (ours, bare):
        await side.client.aclose()
    events, echoes = sorted(ours.latencies), sorted(bare.latencies)
    ratio = ours.elapsed / bare.elapsed
    return Sample(
        figure=total / ours.elapsed,
        extra={
            "events": total,
            "p50_ms": percentile(events, 50) * 1e3,
            "p99_ms": percentile(events, 99) * 1e3,
            "echo_p50_ms": percentile(echoes, 50) * 1e3,
            "echo_p99_ms": percentile(echoes, 99) * 1e3,
            "round_trip_ratio": ratio,
            "p50_ratio": percentile(events, 50) / percentile(echoes, 50),
            "target_ratio": TARGET_EVENT_RATIO,
            "target_met": ratio <= TARGET_EVENT_RATIO,
            "diff_bytes": len(orjson.dumps(ours.last[4]["response"]["diff"])),
            "baseline_is": "bare trio+h11+wsproto echo (the web benchmarks' raw server)",
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


async def _echo_main(echo: Server, total: int) -> Sample:
    errors = Errors()
    bare = _Side(await open_echo(echo.port, errors), "ping", _echo_reply, errors)
    await bare.run(WARMUP, measured=False)
    await bare.run(total, measured=True)
    await bare.client.aclose()
    return Sample(figure=total / bare.elapsed, extra={"errors": errors.count, "first_error": errors.first})


def ours_events(total: int) -> Sample:
    with quiet_gc_while(), live_server() as live, web_server("raw") as echo:
        sample = trio.run(with_timeout, _events_main, live, echo, total)
        lines = live.log_lines() + echo.log_lines()
    return Sample(figure=sample.figure, extra={**sample.extra, "server_log_lines": lines})


def raw_events(total: int) -> Sample:
    with quiet_gc_while(), web_server("raw") as echo:
        sample = trio.run(with_timeout, _echo_main, echo, total)
        lines = echo.log_lines()
    return Sample(figure=sample.figure, extra={**sample.extra, "server_log_lines": lines})


WORKLOAD = Workload(
    id="live-events",
    name="L1 live events",
    aliases=("l1", "events"),
    unit="events/s",
    rate=True,
    ours=ours_events,
    raw=raw_events,
    full_size=10_000,
    quick_size=200,
)
