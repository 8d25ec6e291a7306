"""A typed user of web: a Channel, a Socket and a LiveView with annotated callbacks, checked and run.

``tests/web/test_web_types.py`` type-checks this file with the project's mypy
configuration and ``--strict``, and runs :func:`main`. Every callback here
annotates its parameters as a user would (a ``TypedDict`` payload,
``dict[str, str]`` params, a message class of its own), narrower than the
base class says, which must not be an override error; each ``assert_type``
pins what the API gives back, which an ``Any`` would not pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict, assert_type

from otp import Pid, PubSub
from web import Endpoint
from web.channel import Channel, ChannelSocket, Error, Ok, Stop
from web.live import LiveRouter, LiveSocket, LiveView, Rendered, UploadEntry, compile_template
from web.socket import Socket
from web.testing import ClientSocket, LiveViewTest, Redirect, connect, element, live, render_click, wait_for_html

PUBSUB = "typing_example_web"
TICKS = "ticks"

# ---------------------------------------------------------------- a channel


class JoinPayload(TypedDict, total=False):
    password: str


class RoomChannel(Channel):
    async def join(self, topic: str, payload: JoinPayload, socket: ChannelSocket) -> Ok | Error:
        if topic == "room:secret" and payload.get("password") != "letmein":
            return Error({"reason": "unauthorized"})
        socket.assigns["room"] = topic.removeprefix("room:")
        return Ok({"room": socket.assigns["room"], "user": socket.assigns["user"]})

    async def handle_in(
        self, event: str, payload: dict[str, Any], socket: ChannelSocket
    ) -> Ok | Error | Stop | None:
        if event == "ping":
            return Ok(payload)
        if event == "shout" and isinstance(payload.get("body"), str):
            socket.broadcast("shout", {"body": payload["body"], "user": socket.assigns["user"]})
            return None
        return Error({"reason": "unknown event"})

    async def handle_info(self, message: str, socket: ChannelSocket) -> Stop | None:
        socket.push("notice", {"text": message})
        return None


class RoomSocket(Socket):
    channels = {"room:*": RoomChannel}

    async def connect(self, params: dict[str, str], connect_info: dict[str, object]) -> dict[str, Any] | None:
        user = params.get("user")
        return {"user": user} if user else None

    def id(self, assigns: dict[str, str]) -> str | None:
        return f"user:{assigns['user']}"


# ---------------------------------------------------------------- a LiveView

COUNTER = compile_template('<p id="count">{@count}</p><button phx-click="inc" phx-value-by="1">+</button>')


class Tick:
    """A message the view gets through PubSub."""

    def __init__(self, by: int) -> None:
        self.by = by


class CounterLive(LiveView):
    async def mount(self, params: dict[str, str], session: dict[str, Any], socket: LiveSocket) -> None:
        socket.assign(count=int(params.get("start", "0")))
        if socket.connected:
            PubSub.subscribe(PUBSUB, TICKS)

    async def handle_params(self, params: dict[str, str], uri: str, socket: LiveSocket) -> None:
        socket.page_title(f"Counter from {params.get('start', '0')}")

    async def handle_event(self, event: str, value: dict[str, str], socket: LiveSocket) -> dict[str, Any] | None:
        if event == "inc":
            socket.update("count", lambda count: count + int(value["by"]))
        return None

    async def handle_info(self, message: Tick, socket: LiveSocket) -> None:
        socket.update("count", lambda count: count + message.by)

    def render(self, assigns: dict[str, Any], changed: set[str] | None) -> Rendered:
        return COUNTER.render(assigns, changed)


def consumed_names(socket: LiveSocket) -> list[str]:
    """What a view's save handler does with finished uploads: the result type follows the function's."""

    def keep(path: Path, entry: UploadEntry) -> str:
        return entry.client_name

    names = socket.consume_uploaded_entries("avatar", keep)
    assert_type(names, list[str])
    return names


ROUTER = LiveRouter(secret="a typed example's secret", routes={"/counter": CounterLive}, pubsub=PUBSUB)


# ---------------------------------------------------------------- running it


async def main() -> tuple[tuple[str, dict[str, Any]], dict[str, Any], str | Redirect, str, list[str], int]:
    """Join the channel and ping it; load the counter, click it, tick it; allow an upload; serve the router."""
    await PubSub.start_link(PUBSUB)

    client = await connect(RoomSocket, {"user": "ann"}, pubsub=PUBSUB)
    assert_type(client, ClientSocket | None)
    assert client is not None
    joined = await client.join("room:lobby")
    assert_type(joined, tuple[str, dict[str, Any]])
    reply = await client.assert_reply(client.push("room:lobby", "ping", {"n": 1}), "ok")

    view = await live(ROUTER, "/counter?start=2")
    assert_type(view, LiveViewTest | Redirect)
    assert isinstance(view, LiveViewTest)
    clicked = await render_click(element(view, "button", "+"))
    assert_type(clicked, str | Redirect)
    PubSub.broadcast(PUBSUB, TICKS, Tick(10))
    ticked = await wait_for_html(view, lambda html: '<p id="count">13</p>' in html)

    socket = LiveSocket(connected=False, view_id="typed")
    socket.allow_upload("avatar", accept=[".png"], max_entries=2)
    names = consumed_names(socket)

    endpoint = await Endpoint.start_link(ROUTER.http(), websocket=ROUTER.websocket())
    assert_type(endpoint, Pid)
    _, port = Endpoint.address(endpoint)
    await Endpoint.stop(endpoint)
    return joined, reply, clicked, ticked, names, port
