"""The demo's LiveView pages, as docs/demo/live.md says, driven by the official client.

=====================  ==================================================================
page                   what it shows
=====================  ==================================================================
``/live/counter``      ``#count`` with ``#inc`` / ``#dec``; ``#crash`` makes the view
                       raise and the page recovers by itself with a fresh mount
``/live/chat?user=u``  messages as a stream (``#messages``), the online list from
                       Presence (``#online``), who is typing, validation of the
                       message box (``#body-error`` past 200 characters)
``/live/upload``       a file upload with progress; the server consumes it and shows
                       ``#uploaded``; too large a file shows ``.upload-error``
``/live/async``        ``#panel`` says ``loading`` until ``assign_async`` says ``ready``
=====================  ==================================================================

All four are served by one :class:`~web.live.LiveRouter` on the chat demo's
endpoint: the dead render over HTTP, then ``/live/websocket``.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import secrets
import time

import attrs
import trio

import otp
from otp import pubsub
from otp.tracker import Tracker
from web.live import JS, LiveComponent, LiveRouter, LiveView, compile_template, default_layout, upload_error_message

__all__ = ["CounterLive", "ChatLive", "UploadLive", "AsyncLive", "live_router", "SECRET"]

SECRET = os.environ.get("LIVE_DEMO_SECRET") or secrets.token_urlsafe(32)
CHAT_TOPIC = "live:lobby"
MAX_MESSAGE = 200
TYPING_SHOWN_FOR = 3.0  # seconds a "typing" notice stays up
ASYNC_DELAY = 0.5  # seconds the async panel takes to load
_STEP = re.compile(r"[0-9]{1,6}")  # the counter's ?step=

_NAV = """<nav><a href="/live/counter">counter</a> · <a href="/live/chat?user=guest">chat</a> ·
<a href="/live/upload">upload</a> · <a href="/live/async">async</a> · <a href="/">channels chat</a> ·
<a href="/dashboard">dashboard</a></nav>"""


_STYLE = """
  <style>
    body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; }
    .phx-error { opacity: .5; } .upload-error, #body-error { color: #b00; }
    #messages { border: 1px solid #ccc; min-height: 6rem; padding: .5rem; }
  </style>"""

# The demo's page around a LiveView container: the default one, with a little style and links.
layout = functools.partial(default_layout, head=_STYLE, before="\n" + _NAV)


# ---------------------------------------------------------------- /live/counter

LIKES = compile_template(
    """<div id="likes" class="likes">
  <button id="like" phx-click="like" phx-target={@myself}>like</button>
  <span id="like-count">{@likes}</span> likes for {@subject}
</div>""",
    filename="web/demo/live.py:LikeButton",
)


class LikeButton(LiveComponent):
    """A stateful component: its own count, its own events (``phx-target={@myself}``)."""

    async def mount(self, socket):
        socket.assign(likes=0)

    async def handle_event(self, event, value, socket):
        if event == "like":
            socket.update("likes", lambda n: n + 1)

    def render(self, assigns, changed):
        return LIKES.render(assigns, changed)


COUNTER = compile_template(
    """<div class="counter">
  <h1>Count: <span id="count">{@count}</span></h1>
  <button id="dec" phx-click="dec">-</button>
  <button id="inc" phx-click="inc">+{@step if @step != 1 else ""}</button>
  <.link id="by-two" patch="/live/counter?step=2">count by two</.link>
  <.link id="to-async" navigate="/live/async">the async page</.link>
  <.live_component module={LikeButton} id="likes" subject="this counter" />
  <button id="crash" phx-click="crash">crash the view</button>
  <button id="flash" phx-click={JS().push("flash").show(to="#flash-info")}>flash</button>
  <p :if={@flash.get("info")} id="flash-info" phx-click="lv:clear-flash" phx-value-key="info">{@flash["info"]}</p>
</div>""",
    filename="web/demo/live.py:CounterLive",
    namespace={"JS": JS, "LikeButton": LikeButton},
)


class CounterLive(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(count=0)
        socket.page_title("Counter")

    async def handle_params(self, params, uri, socket):
        # The URL is the client's: only a small decimal is a step ("²" is a digit int() refuses).
        step = params.get("step", "1")
        socket.assign(step=int(step) if _STEP.fullmatch(step) else 1)

    async def handle_event(self, event, value, socket):
        step = socket.assigns["step"]
        if event == "inc":
            socket.update("count", lambda n: n + step)
        elif event == "dec":
            socket.update("count", lambda n: n - step)
        elif event == "flash":
            socket.put_flash("info", f"the count is {socket.assigns['count']}")
        elif event == "crash":
            raise RuntimeError("crash requested from the page")

    def render(self, assigns, changed):
        return COUNTER.render(assigns, changed)


# ---------------------------------------------------------------- /live/chat


@attrs.frozen
class ChatMessage:
    id: str  # unique across workers: each worker numbers its own, after its own prefix
    user: str
    body: str


@attrs.frozen
class Typing:
    user: str


@attrs.frozen
class StoppedTyping:
    """A view to itself, ``TYPING_SHOWN_FOR`` after a ``Typing``: stop showing that user as typing."""

    user: str


_message_ids = itertools.count(1)
_MESSAGE_PREFIX = secrets.token_hex(4)  # this OS process's: two workers never make the same id (the DOM id)

CHAT = compile_template(
    """<div class="chat">
  <h1>LiveView chat, as {@user}</h1>
  <ul id="online"><li :for={name in @online} :key={name} class="user">{name}</li></ul>
  <div id="messages" phx-update="stream">
    <div :for={(dom_id, message) in @streams.messages} id={dom_id} class="message"><b class="author">{message.user}</b>: <span class="body">{message.body}</span></div>
  </div>
  <p id="typing">{", ".join(sorted(@typing))}{" typing…" if @typing else ""}</p>
  <form id="message-form" phx-submit="send" phx-change="validate">
    <input type="text" name="body" value={@body} autocomplete="off" placeholder="say something">
    <button type="submit">send</button>
    <p :if={@error} id="body-error">{@error}</p>
  </form>
</div>""",
    filename="web/demo/live.py:ChatLive",
)


class ChatLive(LiveView):
    """Messages through PubSub into a stream; the online list from the Presence tracker."""

    presence = "chat_presence"
    pubsub = "chat"

    async def mount(self, params, session, socket):
        user = str(params.get("user") or "guest")[:32]
        socket.assign(user=user, body="", error=None, typing=frozenset(), online=[])
        socket.stream("messages", [])
        socket.page_title(f"Chat ({user})")
        if socket.connected:
            pubsub.subscribe(self.pubsub, CHAT_TOPIC)
            await Tracker.track(self.presence, otp.current_pid(), CHAT_TOPIC, user, {"online_at": int(time.time())})
        socket.assign(online=self.online())

    def online(self) -> list[str]:
        try:
            return sorted({str(key) for key, _ in Tracker.list(self.presence, CHAT_TOPIC)})
        except Exception:
            return []  # no tracker running (a page rendered without the chat tree)

    async def handle_event(self, event, value, socket):
        body = value.get("body", "") if isinstance(value, dict) else ""
        if not isinstance(body, str):  # a hook or a forged click can send any JSON
            body = ""
        error = f"a message is at most {MAX_MESSAGE} characters ({len(body)} now)" if len(body) > MAX_MESSAGE else None
        if event == "validate":
            socket.assign(body=body, error=error)
            if body:
                pubsub.broadcast_from(self.pubsub, otp.current_pid(), CHAT_TOPIC, Typing(socket.assigns["user"]))
        elif event == "send":
            if error is None and body.strip():
                message = ChatMessage(f"{_MESSAGE_PREFIX}-{next(_message_ids)}", socket.assigns["user"], body)
                pubsub.broadcast(self.pubsub, CHAT_TOPIC, message)
                socket.assign(body="", error=None)
            else:
                socket.assign(body=body, error=error or "type a message first")

    async def handle_info(self, message, socket):
        if isinstance(message, ChatMessage):
            socket.stream_insert("messages", message)
            socket.assign(typing=socket.assigns["typing"] - {message.user})
        elif isinstance(message, Typing):
            socket.assign(typing=socket.assigns["typing"] | {message.user})
            otp.send_after(otp.current_pid(), StoppedTyping(message.user), TYPING_SHOWN_FOR)
        elif isinstance(message, StoppedTyping):
            socket.assign(typing=socket.assigns["typing"] - {message.user})
        elif getattr(message, "event", None) == "presence_diff":
            socket.assign(online=self.online())

    def render(self, assigns, changed):
        return CHAT.render(assigns, changed)


# ---------------------------------------------------------------- /live/upload

UPLOAD = compile_template(
    """<div class="upload">
  <h1>Upload a file</h1>
  <form id="upload-form" phx-change="validate" phx-submit="save">
    <.live_file_input upload={@uploads.file} />
    <div :for={entry in @uploads.file.entries} class="entry">
      <span class="name">{entry.client_name}</span>
      <progress value={entry.progress} max="100">{entry.progress}%</progress>
      <span class="percent">{entry.progress}%</span>
      <p :for={error in entry.errors} class="upload-error">{upload_error_message(error)}</p>
    </div>
    <p :for={error in @uploads.file.errors} class="upload-error">{upload_error_message(error)}</p>
    <button type="submit">upload</button>
  </form>
  <p :if={@uploaded} id="uploaded">{@uploaded[0]} ({@uploaded[1]} bytes)</p>
</div>""",
    filename="web/demo/live.py:UploadLive",
    namespace={"upload_error_message": upload_error_message},
)


class UploadLive(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(uploaded=None)
        socket.allow_upload("file", accept="any", max_entries=1, max_file_size=1_000_000, auto_upload=True)

    async def handle_event(self, event, value, socket):
        if event == "save":
            saved = socket.consume_uploaded_entries("file", lambda path, entry: (entry.client_name, path.stat().st_size))
            if saved:
                socket.assign(uploaded=saved[0])

    def render(self, assigns, changed):
        return UPLOAD.render(assigns, changed)


# ---------------------------------------------------------------- /live/async

ASYNC = compile_template(
    """<div class="async">
  <h1>An async panel</h1>
  <div id="panel">{"loading" if @data.loading else (@data.result if @data.ok else "failed")}</div>
</div>""",
    filename="web/demo/live.py:AsyncLive",
)


async def load_panel() -> str:
    await trio.sleep(ASYNC_DELAY)  # stands for a slow query
    return "ready"


class AsyncLive(LiveView):
    async def mount(self, params, session, socket):
        socket.assign_async("data", load_panel)
        socket.page_title("Async")

    def render(self, assigns, changed):
        return ASYNC.render(assigns, changed)


def live_router(
    *, pubsub: str, channel_supervisor: otp.Destination | None, dashboard=None, secret: str | None = None
) -> LiveRouter:
    """The four pages (and the dashboard's) on one router: navigation between them stays live.

    ``secret`` signs the pages' sessions (default :data:`SECRET`); with
    workers, every worker must have the same (``web.demo.app``).
    """
    pages = {"/live/counter": CounterLive, "/live/chat": ChatLive, "/live/upload": UploadLive, "/live/async": AsyncLive}
    return LiveRouter(
        secret=secret or SECRET,
        routes={**pages, **(dashboard.routes() if dashboard is not None else {})},
        pubsub=pubsub,
        channel_supervisor=channel_supervisor,
        layout=layout,
    )
