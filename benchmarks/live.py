"""LiveView benchmarks: event round trips, change-tracked renders and diff sizes, each against its baseline.

Four workloads, run only when named (``python -m benchmarks live-events
live-render live-list live-diff``). WORKLOADS.md fixes the kernel workloads
W1–W8 only; these are this project's own, with the targets of the LiveView
issue. Each reports the target and ``target_met``, measured in the run
itself; a missed target is reported, never asserted.

``live-events`` (L1): click → diff round trips on one real WebSocket
    A server process (``python -m benchmarks.live serve``) runs a counter
    LiveView (:data:`COUNTER`) behind a :class:`~web.live.LiveRouter` on a
    real :class:`~web.endpoint.Endpoint`, with PubSub and a channels
    DynamicSupervisor as the demo has. The client does what the browser
    does: GET ``/counter`` (the dead render: the container id, its
    ``data-phx-session`` and the CSRF meta tag), opens
    ``/live/websocket?_csrf_token=...&vsn=2.0.0``, joins ``lv:<id>``, then
    pushes ``{"type": "click", "event": "inc", ...}`` and waits for each
    reply (``{"diff": {"0": "<n>"}}``, checked) before the next: K round
    trips after 200 unmeasured ones. Figure: events/s; ``p50_ms``,
    ``p99_ms`` of the single round trips.

    Baseline: a bare WebSocket echo, the bare trio + h11 + wsproto server
    of ``web_load.py`` (``python -m benchmarks.web_load serve raw``), which
    answers a ``ping`` push with the reply frame carrying its payload; the
    client pushes it the click's payload. The same client code on both
    sides, so the ratio (echo/s ÷ events/s: the mean event round trip ÷ the
    mean echo round trip) prices what the endpoint, the socket, the channel
    process and the LiveView add to a round trip. Target: ≤ 2.0.

    ``target_met`` comes from the run itself: each run of ours also opens a
    bare echo server and alternates blocks of 500 events and 500 echoes on
    the two sockets, so drift hits both alike; ``echo_p50_ms``,
    ``round_trip_ratio`` (mean event ÷ mean echo round trip, in this run)
    and ``p50_ratio`` come from there. ``diff_bytes`` is the JSON of the
    last reply's diff object.

``live-render`` (L2): a change-tracked re-render of a big view
    A view (:data:`STREAM_VIEW`) with A assigns, each in its own slot, and a
    stream of N rows (``socket.stream("rows", items)``), as a LiveView
    holds it in its socket. Figure: µs per re-render after one assign
    changed: ``view.render(assigns, changed)`` plus
    ``Tracker.diff(rendered)``, the median of R (``render_us``,
    ``diff_us``: the medians of each half). Baseline: the full render, as on
    join: ``view.render(assigns, None)`` with the N pending inserts plus the
    diff from a fresh Tracker (median of F). Target: the re-render ≤ 1% of
    the full render (``percent_of_full``, both measured in the run of
    ours). ``stream_mount_ms``: the time ``socket.stream`` took to insert
    the N rows (setup, not in the figures).

``live-list`` (L3): an unchanged 10,000-row list re-renders for nothing
    The same, with a plain keyed list instead of the stream
    (:data:`LIST_VIEW`: ``:for={row <- @rows} :key={row["id"]}``). The
    re-render after an unrelated assign changed should cost next to
    nothing ("an unchanged list of 10,000 rows costs nothing to
    re-render"); target ≤ 1% of the full render as for L2.

``live-diff`` (L4): diff payload sizes
    Three views driven through the real channel process (``web.testing``:
    the real socket protocol, serializer and :class:`~web.live.LiveViewChannel`,
    without a network), each joined with the session of its dead render.
    Figure: the JSON bytes of the diff object answering a counter click
    (target ≤ 30 B). Also ``stream_insert_bytes`` (one ``stream_insert``
    into the view of L2 holding N rows) and ``component_update_bytes`` (a
    click on one of ``components`` LiveComponents, its ``"c"`` entry).
    Baseline: the bytes of the view's HTML (what re-sending the view would
    cost), given for the other two as ``*_html_bytes``.

Sizes (full / ``--quick``): L1 K=10,000 / 200; L2, L3 N=10,000 rows, A=50
assigns, R=2,000, F=10 / N=200, R=200, F=5; L4 N=10,000 rows, 20
components / N=200.

As everywhere in ``benchmarks``, the baseline column is headed "raw
trio"; what it holds here is said above and in each row's ``baseline_is``.
"""

from __future__ import annotations

import html
import re
import statistics
import sys
from time import perf_counter, perf_counter_ns
from urllib.parse import urlencode

import h11
import orjson
import trio

from otp import PubSub
from web._http import Request as HTTPRequest
from web.live import LiveComponent, LiveRouter, LiveSocket, LiveView, Tracker, compile_template
from web.live._router import CSRF_SALT
from web.testing import connect
from web.token import sign

from ._harness import Sample, Workload
from ._web_client import PhxClient
from .web_load import HOST, RUN_TIMEOUT, Server, _Errors, _percentile, quiet_gc, quiet_gc_while, server_process
from .web_load import server as web_load_server

SECRET = "live benchmark secret"
PUBSUB = "live_bench"
CHANNELS = "live_bench.channels"
CLICK = {"type": "click", "event": "inc", "value": {"value": ""}}
WARMUP = 200  # L1: round trips of each kind before measuring
BLOCK = 500  # L1: events, then as many echoes, in turn
JOIN_TIMEOUT = 120.0  # L4: seconds for a join (a 10,000-row stream) or an event reply in process
TARGET_EVENT_RATIO = 2.0  # L1: an event round trip at most twice a bare echo's
TARGET_PERCENT = 1.0  # L2, L3: a re-render at most 1% of a full render
TARGET_DIFF_BYTES = 30  # L4: a counter click's diff object


# ============================================================ the views


COUNTER = compile_template(
    """<div>
  <h1>Count: <span id="count">{@count}</span></h1>
  <button id="inc" phx-click="inc">+</button>
</div>""",
    filename="benchmarks/live.py:COUNTER",
)


class Counter(LiveView):
    """The counter of ``web.live``'s docstring."""

    async def mount(self, params, session, socket):
        socket.assign(count=0)

    async def handle_event(self, event, value, socket):
        if event == "inc":
            socket.update("count", lambda n: n + 1)

    def render(self, assigns, changed):
        return COUNTER.render(assigns, changed)


def _assign_names(count: int) -> list[str]:
    return [f"a{i}" for i in range(count)]


def _big_view_source(rows_element: str, assigns: int) -> str:
    header = "".join(f"<p>{{@{name}}}</p>" for name in _assign_names(assigns))
    return f'<div id="bench"><header>{header}</header>\n<ul id="rows"{rows_element}</ul></div>'


STREAM_ROWS = """ phx-update="stream">
<li :for={(dom_id, row) in @streams.rows} id={dom_id}>{row["name"]} <b>{row["n"]}</b></li>
"""
LIST_ROWS = """>
<li :for={row <- @rows} :key={row["id"]} id={row["dom_id"]}>{row["name"]} <b>{row["n"]}</b></li>
"""


def stream_view(assigns: int):
    """The template of L2 (and of L4's stream insert): ``assigns`` slots, then the stream ``rows``."""
    return compile_template(_big_view_source(STREAM_ROWS, assigns), filename="benchmarks/live.py:STREAM_VIEW")


def list_view(assigns: int):
    """The template of L3: ``assigns`` slots, then the keyed list ``@rows``."""
    return compile_template(_big_view_source(LIST_ROWS, assigns), filename="benchmarks/live.py:LIST_VIEW")


STREAM_VIEW = stream_view(50)
LIST_VIEW = list_view(50)


def _row(i: int) -> dict:
    return {"id": i, "dom_id": f"row-{i}", "name": f"row number {i}", "n": str(i * 7)}


class Rows(LiveView):
    """:data:`STREAM_VIEW` as a LiveView: ``?n=`` rows in the stream; ``add`` inserts one more."""

    template = STREAM_VIEW

    async def mount(self, params, session, socket):
        n = int(params.get("n", 10))
        socket.assign(**{name: f"value of {name}" for name in _assign_names(50)}, next=n)
        socket.stream("rows", [_row(i) for i in range(n)])

    async def handle_event(self, event, value, socket):
        if event == "add":
            socket.stream_insert("rows", _row(socket.assigns["next"]))
            socket.assign(next=socket.assigns["next"] + 1)  # read by no slot: not in the diff

    def render(self, assigns, changed):
        return self.template.render(assigns, changed)


CARD = compile_template(
    """<div id={"card-" + str(@id)} class="card">
  <b>{@title}</b> liked <span>{@likes}</span> times
  <button phx-click="like" phx-target={@myself}>like</button>
</div>""",
    filename="benchmarks/live.py:CARD",
)


class Card(LiveComponent):
    async def mount(self, socket):
        socket.assign(likes=0)

    async def handle_event(self, event, value, socket):
        if event == "like":
            socket.update("likes", lambda n: n + 1)

    def render(self, assigns, changed):
        return CARD.render(assigns, changed)


CARDS = compile_template(
    """<div id="cards">
  <.live_component :for={i <- @cards} module={Card} id={i} title={"card " + str(i)} />
</div>""",
    filename="benchmarks/live.py:CARDS",
    namespace={"Card": Card},
)


class Cards(LiveView):
    """``?n=`` :class:`Card` components."""

    async def mount(self, params, session, socket):
        socket.assign(cards=list(range(int(params.get("n", 3)))))

    def render(self, assigns, changed):
        return CARDS.render(assigns, changed)


def router(pubsub: str = PUBSUB, channel_supervisor: object = None) -> LiveRouter:
    return LiveRouter(
        secret=SECRET,
        routes={"/counter": Counter, "/rows": Rows, "/cards": Cards},
        pubsub=pubsub,
        channel_supervisor=channel_supervisor,
    )


# ============================================================ L1: the server process


def _serve() -> None:
    import logging

    import otp
    from otp import DynamicSupervisor, PubSub
    from web.endpoint import Endpoint

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        await PubSub.start_link(PUBSUB)
        await DynamicSupervisor.start_link(name=CHANNELS)
        live = router(PUBSUB, CHANNELS)
        # Lifted, as web_load does for C3: a person does not click 200 times a second, this client does.
        live.socket_cls.rate_limit = (1e12, 1e12)
        endpoint = await Endpoint.start_link(live.http(), host=HOST, port=0, websocket=live.websocket())
        host, port = Endpoint.address(endpoint)
        quiet_gc()  # as web_load's servers do
        print(f"listening on http://{host}:{port}", flush=True)
        await otp.receive(lambda m: False)  # until killed

    otp.run(main)


def live_server():
    """Start ``python -m benchmarks.live serve``; yield once it listens; kill it after."""
    return server_process(["benchmarks.live", "serve"], "the LiveView server")


# ============================================================ L1: the client


async def http_get(host: str, port: int, target: str) -> tuple[int, str]:
    """One ``GET`` (``Connection: close``); the status and the body."""
    conn = h11.Connection(h11.CLIENT)
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        request = h11.Request(method="GET", target=target, headers=[("host", f"{host}:{port}"), ("connection", "close")])
        await stream.send_all(conn.send(request) + conn.send(h11.EndOfMessage()))
        status, body = 0, []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return status, b"".join(body).decode()


_CONTAINER = re.compile(r'<div id="([^"]+)" data-phx-main data-phx-session="([^"]+)"')
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def page_tokens(page: str) -> tuple[str, str, str]:
    """``(view id, signed session, CSRF token)`` from a dead render."""
    container, csrf = _CONTAINER.search(page), _CSRF.search(page)
    if container is None or csrf is None:
        raise RuntimeError(f"not a LiveView page (no container or no CSRF meta tag): {page[:300]!r}")
    return html.unescape(container.group(1)), html.unescape(container.group(2)), html.unescape(csrf.group(1))


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


async def open_echo(port: int, errors: _Errors) -> tuple[PhxClient, str, str]:
    client = await PhxClient.connect(HOST, port, "echo")
    topic = "room:echo"
    join_ref, answer = await client.join(topic)
    if answer.get("status") != "ok":
        errors.add(answer)
    return client, join_ref, topic


class _Side:
    """One socket's round trips: a click (ours) or a ping echoing it (the bare server)."""

    def __init__(self, opened: tuple, event: str, expect, errors: _Errors) -> None:
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
    errors = _Errors()
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
            "p50_ms": _percentile(events, 50) * 1e3,
            "p99_ms": _percentile(events, 99) * 1e3,
            "echo_p50_ms": _percentile(echoes, 50) * 1e3,
            "echo_p99_ms": _percentile(echoes, 99) * 1e3,
            "round_trip_ratio": ratio,
            "p50_ratio": _percentile(events, 50) / _percentile(echoes, 50),
            "target_ratio": TARGET_EVENT_RATIO,
            "target_met": ratio <= TARGET_EVENT_RATIO,
            "diff_bytes": len(orjson.dumps(ours.last[4]["response"]["diff"])),
            "baseline_is": "bare trio+h11+wsproto echo (web_load raw server)",
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


async def _echo_main(echo: Server, total: int) -> Sample:
    errors = _Errors()
    bare = _Side(await open_echo(echo.port, errors), "ping", _echo_reply, errors)
    await bare.run(WARMUP, measured=False)
    await bare.run(total, measured=True)
    await bare.client.aclose()
    return Sample(figure=total / bare.elapsed, extra={"errors": errors.count, "first_error": errors.first})


async def _with_timeout(main, *args) -> Sample:
    with trio.fail_after(RUN_TIMEOUT):
        return await main(*args)


def ours_events(total: int) -> Sample:
    with quiet_gc_while(), live_server() as live, web_load_server("raw") as echo:
        sample = trio.run(_with_timeout, _events_main, live, echo, total)
        lines = live.log_lines() + echo.log_lines()
    return Sample(figure=sample.figure, extra={**sample.extra, "server_log_lines": lines})


def raw_events(total: int) -> Sample:
    with quiet_gc_while(), web_load_server("raw") as echo:
        sample = trio.run(_with_timeout, _echo_main, echo, total)
        lines = echo.log_lines()
    return Sample(figure=sample.figure, extra={**sample.extra, "server_log_lines": lines})


# ============================================================ L2, L3: renders


class _BigView(LiveView):
    def __init__(self, template) -> None:
        self.template = template

    def render(self, assigns, changed):
        return self.template.render(assigns, changed)


def _big_socket(rows: int, assigns: int, stream: bool) -> tuple[LiveSocket, float]:
    """A connected view's socket holding the rows; and the seconds ``socket.stream`` took (0 for a list)."""
    socket = LiveSocket(connected=True, view_id="phx-bench")
    socket.assign(**{name: f"value of {name}" for name in _assign_names(assigns)})
    items = [_row(i) for i in range(rows)]
    if not stream:
        socket.assign(rows=items)
        return socket, 0.0
    start = perf_counter()
    socket.stream("rows", items)
    return socket, perf_counter() - start


def _full_renders(view: _BigView, socket: LiveSocket, reps: int) -> tuple[list[float], list[float], int]:
    """Full renders as on join (the stream's inserts stay pending): render and diff seconds, diff bytes."""
    renders, diffs = [], []
    for _ in range(reps):
        start = perf_counter_ns()
        rendered = view.render(socket.assigns, None)
        middle = perf_counter_ns()
        diff = Tracker().diff(rendered)
        end = perf_counter_ns()
        renders.append((middle - start) / 1e9)
        diffs.append((end - middle) / 1e9)
    return renders, diffs, len(orjson.dumps(diff))


def _re_renders(view: _BigView, socket: LiveSocket, name: str, reps: int) -> tuple[list[float], list[float], int]:
    """After a first full render, ``name`` changes each time: render and diff seconds, the last diff's bytes."""
    tracker = Tracker()
    tracker.diff(view.render(socket.assigns, None))
    socket.after_render()  # the stream's rows went out: nothing pending
    renders, diffs = [], []
    for number in range(reps):
        socket.assign(**{name: f"changed {number}"})
        changed = set(socket.changed)
        start = perf_counter_ns()
        rendered = view.render(socket.assigns, changed)
        middle = perf_counter_ns()
        diff = tracker.diff(rendered)
        end = perf_counter_ns()
        socket.after_render()
        renders.append((middle - start) / 1e9)
        diffs.append((end - middle) / 1e9)
    if diff != {str(int(name[1:])): f"changed {reps - 1}"}:  # a{i} is slot i: only it was sent
        raise AssertionError(f"the re-render after @{name} changed sent {diff!r}")
    return renders, diffs, len(orjson.dumps(diff))


def _median_us(values: list[float]) -> float:
    return statistics.median(values) * 1e6


def _ours_render(rows: int, assigns: int, reps: int, full_reps: int, stream: bool) -> Sample:
    template = stream_view(assigns) if stream else list_view(assigns)
    view = _BigView(template)
    socket, mount_s = _big_socket(rows, assigns, stream)
    # The full renders first: they need the stream's inserts pending, the first re-render clears them.
    full_render, full_diff, full_bytes = _full_renders(view, socket, full_reps)
    render, diff, diff_bytes = _re_renders(view, socket, f"a{assigns // 2}", reps)
    figure = _median_us([r + d for r, d in zip(render, diff)])
    full = _median_us([r + d for r, d in zip(full_render, full_diff)])
    percent = 100 * figure / full
    extra = {
        "rows": rows,
        "assigns": assigns,
        "render_us": _median_us(render),
        "diff_us": _median_us(diff),
        "diff_bytes": diff_bytes,
        "full_ms": full / 1e3,
        "full_render_ms": _median_us(full_render) / 1e3,
        "full_diff_ms": _median_us(full_diff) / 1e3,
        "full_diff_bytes": full_bytes,
        "percent_of_full": percent,
        "target_percent": TARGET_PERCENT,
        "target_met": percent <= TARGET_PERCENT,
    }
    if stream:
        extra["stream_mount_ms"] = mount_s * 1e3
    extra["baseline_is"] = "full render + diff (as on join)"
    return Sample(figure=figure, extra=extra)


def _raw_render(rows: int, assigns: int, full_reps: int, stream: bool) -> Sample:
    template = stream_view(assigns) if stream else list_view(assigns)
    socket, _ = _big_socket(rows, assigns, stream)
    render, diff, _ = _full_renders(_BigView(template), socket, full_reps)
    return Sample(figure=_median_us([r + d for r, d in zip(render, diff)]))


def ours_stream_render(rows: int, assigns: int, reps: int, full_reps: int) -> Sample:
    return _ours_render(rows, assigns, reps, full_reps, stream=True)


def raw_stream_render(rows: int, assigns: int, reps: int, full_reps: int) -> Sample:
    return _raw_render(rows, assigns, full_reps, stream=True)


def ours_list_render(rows: int, assigns: int, reps: int, full_reps: int) -> Sample:
    return _ours_render(rows, assigns, reps, full_reps, stream=False)


def raw_list_render(rows: int, assigns: int, reps: int, full_reps: int) -> Sample:
    return _raw_render(rows, assigns, full_reps, stream=False)


# ============================================================ L4: diff sizes


async def _dead_render(live: LiveRouter, path: str) -> str:
    target, _, query = path.partition("?")
    response = await live.render(HTTPRequest("GET", target, {}, {}, (HOST, 1), b"", query))
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def _view_html_bytes(page: str) -> int:
    """The bytes of the view's HTML: the inside of the container of ``default_layout``."""
    start = re.search(r'data-phx-static="[^"]*">', page).end()
    return len(page[start : page.index("</div>\n<script", start)].encode())


async def _joined(client, live: LiveRouter, path: str) -> tuple[str, int]:
    """Dead render ``path``, join its view on ``client``; return the topic and the view's HTML bytes."""
    page = await _dead_render(live, path)
    view_id, session, _ = page_tokens(page)
    topic = f"lv:{view_id}"
    payload = {"url": f"http://{HOST}{path}", "params": {}, "session": session, "static": None}
    status, response = await client.join(topic, payload, timeout=JOIN_TIMEOUT)
    if status != "ok":
        raise RuntimeError(f"joining {path} answered {status} {response!r}")
    return topic, _view_html_bytes(page)


async def _reply_diff(client, topic: str, payload: dict) -> dict:
    ref = client.push(topic, "event", payload)
    reply = await client.assert_reply(ref, timeout=JOIN_TIMEOUT)
    if reply["status"] != "ok" or "diff" not in reply["response"]:
        raise RuntimeError(f"{payload!r} on {topic} answered {reply!r}")
    return reply["response"]["diff"]


def _json_bytes(value: object) -> int:
    return len(orjson.dumps(value))  # the serializer's JSON (orjson, compact)


async def _diff_sizes(rows: int, components: int) -> dict:
    await PubSub.start_link(PUBSUB)
    live = router()
    # No HTTP upgrade here, but the socket's connect still checks the CSRF token.
    client = await connect(live.socket_cls, {"_csrf_token": sign(SECRET, CSRF_SALT, "bench")}, pubsub=PUBSUB)

    topic, counter_html = await _joined(client, live, "/counter")
    counter = await _reply_diff(client, topic, CLICK)
    topic, rows_html = await _joined(client, live, f"/rows?n={rows}")
    inserted = await _reply_diff(client, topic, {"type": "click", "event": "add", "value": {"value": ""}})
    topic, cards_html = await _joined(client, live, f"/cards?n={components}")
    liked = await _reply_diff(client, topic, {"type": "click", "event": "like", "value": {"value": ""}, "cid": 1})
    await client.close()
    return {
        "counter_bytes": _json_bytes(counter),
        "counter_html_bytes": counter_html,
        "stream_insert_bytes": _json_bytes(inserted),
        "stream_view_html_bytes": rows_html,
        "component_update_bytes": _json_bytes(liked),
        "component_view_html_bytes": cards_html,
    }


def _in_node(main, *args):
    import otp

    result = []

    async def run() -> None:
        result.append(await main(*args))

    otp.run(run)
    return result[0]


def ours_diff(rows: int, components: int) -> Sample:
    sizes = _in_node(_diff_sizes, rows, components)
    figure = sizes.pop("counter_bytes")
    del sizes["counter_html_bytes"]  # the baseline
    return Sample(
        figure=float(figure),
        extra={
            "rows": rows,
            "components": components,
            "target_bytes": TARGET_DIFF_BYTES,
            "target_met": figure <= TARGET_DIFF_BYTES,
            **sizes,
            "baseline_is": "the view's HTML",
        },
    )


async def _counter_html() -> int:
    return _view_html_bytes(await _dead_render(router(), "/counter"))


def raw_diff(rows: int, components: int) -> Sample:
    return Sample(figure=float(trio.run(_counter_html)))


# ============================================================ the workloads

LIVE_EVENTS = Workload(
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

_RENDER_SIZES = {
    "full_size": 10_000,
    "quick_size": 200,
    "full_options": {"assigns": 50, "reps": 2_000, "full_reps": 10},
    "quick_options": {"assigns": 50, "reps": 200, "full_reps": 5},
    "size_label": "{size:,}r/{assigns}a",
}

LIVE_RENDER = Workload(
    id="live-render",
    name="L2 live render",
    aliases=("l2", "render"),
    unit="us/re-render",
    rate=False,
    ours=ours_stream_render,
    raw=raw_stream_render,
    **_RENDER_SIZES,
)

LIVE_LIST = Workload(
    id="live-list",
    name="L3 live list",
    aliases=("l3", "list"),
    unit="us/re-render",
    rate=False,
    ours=ours_list_render,
    raw=raw_list_render,
    **_RENDER_SIZES,
)

LIVE_DIFF = Workload(
    id="live-diff",
    name="L4 live diff",
    aliases=("l4", "diff", "diff-size"),
    unit="B/diff",
    rate=False,
    ours=ours_diff,
    raw=raw_diff,
    full_size=10_000,
    quick_size=200,
    full_options={"components": 20},
    quick_options={"components": 20},
    size_label="{size:,}r/{components}c",
)

WORKLOADS = (LIVE_EVENTS, LIVE_RENDER, LIVE_LIST, LIVE_DIFF)


if __name__ == "__main__":
    if sys.argv[1:] != ["serve"]:
        sys.exit("usage: python -m benchmarks.live serve")
    try:
        _serve()
    except KeyboardInterrupt:
        pass
