"""LiveView's telemetry events: mount and handle_event spans, render with its diff size (Phoenix LiveView's names)."""

import orjson

import otp
from otp import PubSub
from otp.testing import TelemetryEvent, forward_telemetry
from web.live import LiveRouter, LiveView, compile_template
from web.testing import element, live, render_click

PAGE = compile_template('<div><span id="n">{@n}</span><button id="inc" phx-click="inc">+</button></div>')


class Counter(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(n=0)

    async def handle_event(self, event, value, socket):
        socket.update("n", lambda n: n + 1)

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


def live_view(*parts):
    return ("web", "live_view", *parts)


async def next_event(name):
    return await otp.receive(lambda m: isinstance(m, TelemetryEvent) and m.name == name)


async def test_mount_event_and_render_are_measured():
    await PubSub.start_link("tele")
    router = LiveRouter(secret="s", routes={"/c": Counter}, pubsub="tele")
    names = [live_view("mount", "start"), live_view("mount", "stop"), live_view("handle_event", "stop"), live_view("render", "stop")]
    with forward_telemetry(*names):
        view = await live(router, "/c")
        start = await next_event(live_view("mount", "start"))
        stop = await next_event(live_view("mount", "stop"))
        assert start.metadata["view"] is Counter and stop.metadata["url"].endswith("/c")
        assert stop.measurements["duration"] > 0
        join_render = await next_event(live_view("render", "stop"))
        assert join_render.metadata["full"] is True and join_render.measurements["diff_bytes"] > 0

        await render_click(element(view, "#inc"))
        handled = await next_event(live_view("handle_event", "stop"))
        assert (handled.metadata["view"], handled.metadata["event"]) == (Counter, "inc")
        render = await next_event(live_view("render", "stop"))
        assert render.metadata["full"] is False
        assert render.measurements["diff_bytes"] == len(orjson.dumps({"0": "1"}))
