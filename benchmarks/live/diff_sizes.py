"""L4 ``live-diff``: the bytes a diff costs on the wire, against re-sending the view's HTML.

Three views of ``app.py`` driven through the real channel process
(``web.testing``: the real socket protocol, serializer and
:class:`~web.live.LiveViewChannel`, without a network), each joined with the
session of its dead render, as a browser does (the socket's CSRF token comes
from the first dead render's meta tag, too). Figure: the JSON bytes of the
diff object answering a counter click (target ≤ 30 B). Also
``stream_insert_bytes`` (one ``stream_insert`` into the view of L2 holding
N rows) and ``component_update_bytes`` (a click on one of ``components``
LiveComponents, its ``"c"`` entry). Baseline: the bytes of the view's HTML
(what re-sending the view would cost), given for the other two as
``*_html_bytes``. Sizes: N = 10,000 rows, 20 components / ``--quick``
N = 200.
"""

from __future__ import annotations

import re

import orjson
import trio

import otp
from otp import PubSub
from web import Request
from web.live import LiveRouter
from web.testing import connect

from .._harness import Sample, Workload
from .._harness.servers import HOST
from .app import CLICK, PUBSUB, page_tokens, router

JOIN_TIMEOUT = 120.0  # seconds for a join (a 10,000-row stream) or an event reply in process
TARGET_DIFF_BYTES = 30  # a counter click's diff object


async def _dead_render(live: LiveRouter, path: str) -> str:
    target, _, query = path.partition("?")
    response = await live.render(Request("GET", target, {}, {}, (HOST, 1), b"", query))
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def _view_html_bytes(page: str) -> int:
    """The bytes of the view's HTML: the inside of the container of ``default_layout``."""
    start = re.search(r'data-phx-static="[^"]*">', page).end()
    return len(page[start : page.index("</div>\n<script", start)].encode())


async def _join(client, path: str, page: str) -> str:
    """Join the view of the dead render ``page`` of ``path`` on ``client``; return its topic."""
    view_id, session, _ = page_tokens(page)
    topic = f"lv:{view_id}"
    payload = {"url": f"http://{HOST}{path}", "params": {}, "session": session, "static": None}
    status, response = await client.join(topic, payload, timeout=JOIN_TIMEOUT)
    if status != "ok":
        raise RuntimeError(f"joining {path} answered {status} {response!r}")
    return topic


async def _reply_diff(client, topic: str, payload: dict) -> dict:
    ref = client.push(topic, "event", payload)
    reply = await client.assert_reply(ref, timeout=JOIN_TIMEOUT)
    if reply["status"] != "ok" or "diff" not in reply["response"]:
        raise RuntimeError(f"{payload!r} on {topic} answered {reply!r}")
    return reply["response"]["diff"]


async def _event_diff(client, live: LiveRouter, path: str, payload: dict) -> tuple[dict, int]:
    """Dead render ``path``, join it, send ``payload``: the diff of the reply and the view's HTML bytes."""
    page = await _dead_render(live, path)
    topic = await _join(client, path, page)
    return await _reply_diff(client, topic, payload), _view_html_bytes(page)


def _json_bytes(value: object) -> int:
    return len(orjson.dumps(value))  # the serializer's JSON (orjson, compact)


async def _diff_sizes(rows: int, components: int) -> dict:
    await PubSub.start_link(PUBSUB)
    live = router()
    # No HTTP upgrade here, but the socket's connect still checks the CSRF
    # token: take it from a dead render's meta tag, as the browser does.
    _, _, csrf = page_tokens(await _dead_render(live, "/counter"))
    client = await connect(live.socket_cls, {"_csrf_token": csrf}, pubsub=PUBSUB)
    counter, counter_html = await _event_diff(client, live, "/counter", CLICK)
    add = {"type": "click", "event": "add", "value": {"value": ""}}
    inserted, rows_html = await _event_diff(client, live, f"/rows?n={rows}", add)
    like = {"type": "click", "event": "like", "value": {"value": ""}, "cid": 1}
    liked, cards_html = await _event_diff(client, live, f"/cards?n={components}", like)
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


WORKLOAD = Workload(
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
