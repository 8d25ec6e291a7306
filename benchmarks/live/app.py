"""The LiveView app every LiveView benchmark drives: its views, its router, and reading its pages.

Three views behind one :class:`~web.live.LiveRouter` (:func:`router`):

* ``/counter``: :class:`Counter`, the counter of ``web.live``'s docstring
  (:data:`COUNTER`); a click on ``inc`` sends ``{"0": "<n>"}``.
* ``/rows?n=N``: :class:`Rows`, :data:`STREAM_VIEW` (50 assigns, each in
  its own slot, then the stream ``rows``) holding N rows; ``add`` inserts one.
* ``/cards?n=N``: :class:`Cards`, N :class:`Card` LiveComponents; ``like``
  on one updates its ``"c"`` entry only.

:func:`stream_view` and :func:`list_view` build the big templates of L2 and
L3 at any number of assigns; :func:`page_tokens` reads what a browser reads
from a dead render (the container id, its signed session, the CSRF token).
"""

from __future__ import annotations

import html
import re

from web.live import LiveComponent, LiveRouter, LiveView, compile_template

__all__ = [
    "SECRET",
    "PUBSUB",
    "CHANNELS",
    "CLICK",
    "COUNTER",
    "Counter",
    "STREAM_VIEW",
    "LIST_VIEW",
    "stream_view",
    "list_view",
    "assign_names",
    "row",
    "Rows",
    "Card",
    "Cards",
    "router",
    "page_tokens",
]

SECRET = "live benchmark secret"
PUBSUB = "live_bench"
CHANNELS = "live_bench.channels"
CLICK = {"type": "click", "event": "inc", "value": {"value": ""}}  # the counter's click, as the client pushes it


COUNTER = compile_template(
    """<div>
  <h1>Count: <span id="count">{@count}</span></h1>
  <button id="inc" phx-click="inc">+</button>
</div>""",
    filename="benchmarks/live/app.py:COUNTER",
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


def assign_names(count: int) -> list[str]:
    """``a0``, ``a1``...: the assigns of the big views, ``a{i}`` in slot i."""
    return [f"a{i}" for i in range(count)]


def _big_view_source(rows_element: str, assigns: int) -> str:
    header = "".join(f"<p>{{@{name}}}</p>" for name in assign_names(assigns))
    return f'<div id="bench"><header>{header}</header>\n<ul id="rows"{rows_element}</ul></div>'


STREAM_ROWS = """ phx-update="stream">
<li :for={(dom_id, row) in @streams.rows} id={dom_id}>{row["name"]} <b>{row["n"]}</b></li>
"""
LIST_ROWS = """>
<li :for={row <- @rows} :key={row["id"]} id={row["dom_id"]}>{row["name"]} <b>{row["n"]}</b></li>
"""


def stream_view(assigns: int):
    """The template of L2 (and of L4's stream insert): ``assigns`` slots, then the stream ``rows``."""
    return compile_template(_big_view_source(STREAM_ROWS, assigns), filename="benchmarks/live/app.py:STREAM_VIEW")


def list_view(assigns: int):
    """The template of L3: ``assigns`` slots, then the keyed list ``@rows``."""
    return compile_template(_big_view_source(LIST_ROWS, assigns), filename="benchmarks/live/app.py:LIST_VIEW")


STREAM_VIEW = stream_view(50)
LIST_VIEW = list_view(50)


def row(i: int) -> dict:
    """Row ``i`` of the big views."""
    return {"id": i, "dom_id": f"row-{i}", "name": f"row number {i}", "n": str(i * 7)}


class Rows(LiveView):
    """:data:`STREAM_VIEW` as a LiveView: ``?n=`` rows in the stream; ``add`` inserts one more."""

    template = STREAM_VIEW

    async def mount(self, params, session, socket):
        n = int(params.get("n", 10))
        socket.assign(**{name: f"value of {name}" for name in assign_names(50)}, next=n)
        socket.stream("rows", [row(i) for i in range(n)])

    async def handle_event(self, event, value, socket):
        if event == "add":
            socket.stream_insert("rows", row(socket.assigns["next"]))
            socket.assign(next=socket.assigns["next"] + 1)  # read by no slot: not in the diff

    def render(self, assigns, changed):
        return self.template.render(assigns, changed)


CARD = compile_template(
    """<div id={"card-" + str(@id)} class="card">
  <b>{@title}</b> liked <span>{@likes}</span> times
  <button phx-click="like" phx-target={@myself}>like</button>
</div>""",
    filename="benchmarks/live/app.py:CARD",
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
    filename="benchmarks/live/app.py:CARDS",
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


_CONTAINER = re.compile(r'<div id="([^"]+)" data-phx-main data-phx-session="([^"]+)"')
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def page_tokens(page: str) -> tuple[str, str, str]:
    """``(view id, signed session, CSRF token)`` from a dead render."""
    container, csrf = _CONTAINER.search(page), _CSRF.search(page)
    if container is None or csrf is None:
        raise RuntimeError(f"not a LiveView page (no container or no CSRF meta tag): {page[:300]!r}")
    return html.unescape(container.group(1)), html.unescape(container.group(2)), html.unescape(csrf.group(1))
