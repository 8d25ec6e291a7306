"""LiveView: server-rendered pages updated by diffs over a channel (LIVEVIEW.md).

Work in progress (issue #6). What is here: HEEx-like templates compiled
to Python with change tracking (:func:`compile_template`), the rendered
tree (:mod:`._rendered`), the pure diff engine (:mod:`._diff`), the
:class:`LiveView` behaviour with change-tracked assigns, the LiveView
channel (join with a signed session, events, server-pushed diffs) and the
dead render (:func:`render_page`). A counter (``web/demo/live.py`` serves
it to the official phoenix_live_view client)::

    COUNTER = compile_template('''<div>
      <h1>Count: {@count}</h1>
      <button phx-click="inc">+</button>
    </div>''')

    class Counter(LiveView):
        async def mount(self, params, session, socket):
            socket.assign(count=0)

        async def handle_event(self, event, value, socket):
            if event == "inc":
                socket.update("count", lambda n: n + 1)

        def render(self, assigns, changed):
            return COUNTER.render(assigns, changed)     # only slots reading changed assigns

    class Live(LiveViewChannel):
        views = {"counter": Counter}
        secret = SECRET

    # the dead render, for GET /counter, with its signed session:
    container = await render_page(Counter, "counter", secret=SECRET)
"""

from __future__ import annotations

import secrets

from markupsafe import escape

from web.token import sign

from ._diff import Tracker
from ._rendered import Comprehension, Rendered
from ._server import LIVEVIEW_VERSION, SESSION_SALT, LiveViewChannel
from ._template import Template, TemplateRenderError, TemplateSyntaxError, compile_template, template_from_file, template_next_to
from ._view import LiveSocket, LiveView

__all__ = [
    "LiveView",
    "LiveSocket",
    "LiveViewChannel",
    "Rendered",
    "Comprehension",
    "Tracker",
    "render_page",
    "LIVEVIEW_VERSION",
    "compile_template",
    "template_from_file",
    "template_next_to",
    "Template",
    "TemplateSyntaxError",
    "TemplateRenderError",
]


async def render_page(
    view_cls: type[LiveView], name: str, *, secret: str, params: dict | None = None, session: dict | None = None
) -> str:
    """The dead render: the view mounted without a process, as its container ``<div>``.

    The container carries the view id and the signed session the client
    sends back in its join (LIVEVIEW.md §1.1–1.2).
    """
    view_id = "phx-" + secrets.token_urlsafe(12)
    view = view_cls()
    socket = LiveSocket(connected=False, view_id=view_id)
    await view.mount(dict(params or {}), dict(session or {}), socket)
    await view.handle_params(dict(params or {}), "", socket)
    html = view.render(socket.assigns, None).to_html()
    token = sign(secret, SESSION_SALT, {"id": view_id, "view": name, "session": dict(session or {})})
    return (
        f'<div id="{view_id}" data-phx-main data-phx-session="{escape(token)}" data-phx-static="">'
        f"{html}</div>"
    )
