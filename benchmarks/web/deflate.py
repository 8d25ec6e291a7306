"""C5 ``web-deflate``: what permessage-deflate saves on the wire, and what it costs per socket.

The same two servers for both columns: the demo chat tree (``chat_server``)
and the LiveView counter (``benchmarks.live.server``), both started with
``--compress``: compression is off by default (as in Phoenix, and as the
demo ships), so their sockets are mounted with ``compress=True``, the
transport's :class:`~web.transports.websocket.Deflate` defaults
(``web.transports.websocket``, "Compression": our context kept in a 1 KiB
window, memLevel 1; the client asked for no context). The clients differ:
ours offer permessage-deflate as browsers do; the baseline's do not, so the
servers send the same frames plain.

* **Fan-out**: N sockets join ``quiet:bench`` (no Presence); one shouts a
  chat line R times, 50 ms apart, each round waited until every socket has
  it. Figure: the **bytes on the wire per shout frame received** (frame
  header included), from the bytes each client read; ``fanout_text_bytes``
  is the frame's text, ``fanout_saved_pct`` what compression saved,
  ``fanout_p50_ms`` the round's median (N compressions more per shout).
* **Memory**: the server's RSS growth ÷ N once the N sockets joined (and
  were sent their join replies, compressed when agreed), as ``web-conns``
  measures it: ``server_rss_per_socket``.
* **LiveView**: the counter page joined over ``/live/websocket`` (the join
  reply carries the page's statics), then K clicks, each answered with its
  diff: ``live_join_wire_bytes`` against ``live_join_text_bytes``,
  ``live_click_wire_bytes`` against ``live_click_text_bytes`` (means per click).

Sizes: N = 1,000, R = 20, K = 200 / ``--quick`` N = 50, R = 5, K = 20.
"""

from __future__ import annotations

from time import perf_counter
from urllib.parse import urlencode

import trio

from .._harness import Sample, Workload
from .._harness.servers import HOST, Errors, Server, fitting, quiet_gc_while, server_process, with_timeout
from .._harness.stats import percentile
from .._harness.web_client import PhxClient, ServerClosed, decode, http_get
from ..live.app import CLICK, page_tokens
from .load import SERVERS, close_all, open_joined

TOPIC = "quiet:bench"
PAUSE = 0.05  # seconds between rounds
SETTLE = 1.0  # seconds after the last join before RSS is read
ROUND_TIMEOUT = 60.0
BODY = "round {number}: did everyone see the release notes? the new build is on the usual server"


# ---------------------------------------------------------------- fan-out and memory


class _Readers:
    """Every client's reader: counts the shouts still to arrive in this round, and their text bytes."""

    def __init__(self, errors: Errors) -> None:
        self.errors = errors
        self.left = 0
        self.text_bytes = 0
        self.all_in = trio.Event()

    def next_round(self, subscribers: int) -> None:
        self.left = subscribers
        self.all_in = trio.Event()

    async def read(self, client: PhxClient) -> None:
        try:
            while True:
                text = await client.receive()
                if '"shout"' in text and "phx_reply" not in text:
                    self.text_bytes += len(text.encode())
                    self.left -= 1
                    if self.left == 0:
                        self.all_in.set()
        except ServerClosed as closed:
            self.errors.add(closed)


async def _fanout(srv: Server, n: int, rounds: int, deflate: bool, errors: Errors) -> dict:
    await trio.sleep(0.2)  # the server idle after start-up
    before = srv.rss()
    clients = await open_joined(srv.port, n, lambda i: TOPIC, errors, deflate=deflate)
    readers = _Readers(errors)
    times = []
    async with trio.open_nursery() as nursery:
        for client, _, _ in clients:
            nursery.start_soon(readers.read, client)
        await trio.sleep(SETTLE)
        after = srv.rss()
        wire_before = sum(client.wire_in for client, _, _ in clients)
        shouter, join_ref, topic = clients[0]
        for number in range(rounds):
            readers.next_round(n)
            start = perf_counter()
            await shouter.send_frame(join_ref, shouter.next_ref(), topic, "shout", {"body": BODY.format(number=number)})
            with trio.move_on_after(ROUND_TIMEOUT) as waited:
                await readers.all_in.wait()
            if waited.cancelled_caught:
                raise RuntimeError(f"round {number}: {readers.left} of {n} subscribers never got the shout")
            times.append(perf_counter() - start)
            await trio.sleep(PAUSE)
        # The shouter also read its own push reply: at most a few dozen bytes a round, left in.
        wire = sum(client.wire_in for client, _, _ in clients) - wire_before
        nursery.cancel_scope.cancel()
    await close_all(clients)
    frames = n * rounds
    ordered = sorted(times)
    return {
        "subscribers": n,
        "rounds": rounds,
        "fanout_wire_bytes": wire / frames,
        "fanout_text_bytes": readers.text_bytes / frames,
        "fanout_saved_pct": 100 * (1 - wire / readers.text_bytes),
        "fanout_p50_ms": percentile(ordered, 50) * 1e3,
        "server_rss_per_socket": (after - before) / n,
    }


# ---------------------------------------------------------------- LiveView


async def _live(live: Server, clicks: int, deflate: bool, errors: Errors) -> dict:
    status, page = await http_get(HOST, live.port, "/counter")
    if status != 200:
        raise RuntimeError(f"GET /counter answered {status}")
    view_id, session, csrf = page_tokens(page)
    target = "/live/websocket?" + urlencode({"_csrf_token": csrf, "vsn": "2.0.0"})
    client = await PhxClient.open(HOST, live.port, target, deflate=deflate)
    topic = f"lv:{view_id}"
    payload = {"url": f"http://{HOST}:{live.port}/counter", "params": {"_csrf_token": csrf}, "session": session, "static": None}
    join_text = await _push(client, "1", "1", topic, "phx_join", payload)
    join_wire = client.wire_in
    click_text = 0
    for number in range(clicks):
        text = await _push(client, "1", str(number + 2), topic, "event", CLICK)
        if decode(text)[4]["response"] != {"diff": {"0": str(number + 1)}}:
            errors.add(text)
        click_text += len(text.encode())
    click_wire = client.wire_in - join_wire
    await client.aclose()
    return {
        "clicks": clicks,
        "live_join_wire_bytes": join_wire,
        "live_join_text_bytes": len(join_text.encode()),
        "live_click_wire_bytes": click_wire / clicks,
        "live_click_text_bytes": click_text / clicks,
    }


async def _push(client: PhxClient, join_ref: str, ref: str, topic: str, event: str, payload: object) -> str:
    """Push; return the text of its reply (nothing else comes on this socket meanwhile)."""
    await client.send_frame(join_ref, ref, topic, event, payload)
    while True:
        text = await client.receive()
        if "phx_reply" in text and decode(text)[1] == ref:
            return text


# ---------------------------------------------------------------- the run


async def _deflate_main(chat: Server, live: Server, n: int, rounds: int, clicks: int, deflate: bool) -> Sample:
    errors = Errors()
    fanout = await _fanout(chat, fitting(n), rounds, deflate, errors)
    liveview = await _live(live, clicks, deflate, errors)
    return Sample(
        figure=fanout["fanout_wire_bytes"],
        extra={
            **fanout,
            **liveview,
            "compressed": deflate,
            "baseline_is": "the same servers, clients that do not offer permessage-deflate",
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


# Both servers with compression on (it is off by default): what this workload measures.
CHAT_SERVER = [SERVERS["ours"], "--compress"]
LIVE_SERVER = ["benchmarks.live.server", "--compress"]


def _run(n: int, rounds: int, clicks: int, deflate: bool) -> Sample:
    chat_server = server_process(CHAT_SERVER, "the chat server (--compress)")
    with quiet_gc_while(), chat_server as chat, server_process(LIVE_SERVER, "the LiveView server (--compress)") as live:
        sample = trio.run(with_timeout, _deflate_main, chat, live, n, rounds, clicks, deflate)
        lines = chat.log_lines() + live.log_lines()
    return Sample(figure=sample.figure, extra={**sample.extra, "server_log_lines": lines})


def ours_deflate(n: int, rounds: int = 20, clicks: int = 200) -> Sample:
    return _run(n, rounds, clicks, deflate=True)


def plain_deflate(n: int, rounds: int = 20, clicks: int = 200) -> Sample:
    return _run(n, rounds, clicks, deflate=False)


WORKLOAD = Workload(
    id="web-deflate",
    name="C5 web deflate",
    aliases=("c5", "deflate", "compression"),
    unit="B/frame",
    rate=False,
    ours=ours_deflate,
    raw=plain_deflate,
    full_size=1_000,
    quick_size=50,
    full_options={"rounds": 20, "clicks": 200},
    quick_options={"rounds": 5, "clicks": 20},
    size_label="{size:,} socks",
)
