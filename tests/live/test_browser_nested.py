"""Nested and sticky LiveViews, live_title's prefix and suffix, and an external upload to a real S3-compatible
server (moto's), in headless Chromium with the official phoenix_live_view client (1.2.12).

tests/js/browser_nested.mjs drives the pages served here and reports what they showed; every fact is
asserted below, and the uploaded object is read back from the store.
"""

import functools

import pytest
import trio
from _live_wire import SECRET
from _node_tools import run_js
from _s3_server import s3_server

import otp
from otp import PubSub
from otp.testing import capture_crash_reports
from web import Endpoint
from web.live import LiveRoute, LiveRouter, LiveView, compile_template, default_layout, live_render

pytestmark = pytest.mark.slow

CLOCK = compile_template(
    """<div id="clock-box"><span id="ticks">{@ticks}</span><button id="tick" phx-click="tick">tick</button>"""
    """<button id="crash-clock" phx-click="crash">crash</button></div>"""
)


class Clock(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(ticks=0)

    async def handle_event(self, event, value, socket):
        if event == "crash":
            raise RuntimeError("the clock broke (on purpose)")
        socket.update("ticks", lambda n: n + 1)

    def render(self, assigns, changed):
        return CLOCK.render(assigns, changed)


PLAYER = compile_template("""<div id="player-box"><span id="plays">plays: {@plays}</span><button id="play" phx-click="play">play</button></div>""")


class Player(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(plays=0)

    async def handle_event(self, event, value, socket):
        socket.update("plays", lambda n: n + 1)

    def render(self, assigns, changed):
        return PLAYER.render(assigns, changed)


NAMES = {"live_render": live_render, "Clock": Clock, "Player": Player}
DASHBOARD = compile_template(
    """<main><h1 id="page">dashboard</h1><span id="count">{@count}</span>"""
    """<button id="inc" phx-click="inc">+</button><button id="rename" phx-click="rename">rename</button>"""
    """<.link id="to-settings" navigate="/settings">settings</.link>"""
    """{live_render(Clock, id="clock")}{live_render(Player, id="player", sticky=True)}</main>""",
    namespace=NAMES,
)


class Dashboard(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(count=0)

    async def handle_event(self, event, value, socket):
        if event == "rename":
            socket.page_title("Renamed")
        else:
            socket.update("count", lambda n: n + 1)

    def render(self, assigns, changed):
        return DASHBOARD.render(assigns, changed)


SETTINGS = compile_template(
    """<main><h1 id="page">settings</h1>{live_render(Player, id="player", sticky=True)}</main>""", namespace=NAMES
)


class Settings(LiveView):
    def render(self, assigns, changed):
        return SETTINGS.render(assigns, changed)


PHOTOS = compile_template(
    """<form id="photo-form" phx-change="validate" phx-submit="save"><.live_file_input upload={@uploads.photo} />"""
    """<span :for={e <- @uploads.photo.entries} class="progress">{e.progress}</span>"""
    """<button type="submit">save</button><p id="saved">{@saved}</p></form>"""
)
STORE: dict = {}


def presign(entry, socket):
    key = f"photos/{entry.client_name}"
    return {"uploader": "S3", "key": key, "url": STORE["s3"].presign(key)}


class Photos(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(saved="")
        socket.allow_upload("photo", accept=[".png"], external=presign)

    async def handle_event(self, event, value, socket):
        if event == "save":
            keys = socket.consume_uploaded_entries("photo", lambda meta, entry: meta["key"])
            socket.assign(saved=",".join(keys))

    def render(self, assigns, changed):
        return PHOTOS.render(assigns, changed)


# The page's S3 uploader: PUT each file to its presigned URL, reporting progress (the client's `uploaders` option).
UPLOADERS = """<script>
window.Uploaders = {
  S3(entries, onViewError) {
    entries.forEach((entry) => {
      const xhr = new XMLHttpRequest();
      onViewError(() => xhr.abort());
      xhr.onload = () => (xhr.status === 200 ? entry.progress(100) : entry.error());
      xhr.onerror = () => entry.error();
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) {
          const percent = Math.round((event.loaded / event.total) * 100);
          if (percent < 100) entry.progress(percent);
        }
      });
      xhr.open("PUT", entry.meta.url, true);
      xhr.setRequestHeader("content-type", entry.file.type);
      xhr.send(entry.file);
    });
  },
};
</script>"""

LAYOUT = functools.partial(
    default_layout, title_prefix="App · ", title_suffix=" · Test", head=UPLOADERS,
    live_socket_options={"uploaders": "window.Uploaders"},
)


async def test_nested_sticky_titles_and_an_external_upload_in_a_real_browser():
    await PubSub.start_link("nested_browser")
    router = LiveRouter(
        secret=SECRET, pubsub="nested_browser", layout=LAYOUT,
        routes={"/dash": Dashboard, "/settings": Settings, "/photos": LiveRoute(Photos)},
    )
    endpoint = await Endpoint.start_link(router.http(), websocket=router.websocket())
    host, port = Endpoint.address(endpoint)
    with s3_server() as s3, capture_crash_reports() as reports:
        STORE["s3"] = s3
        result = await run_js("browser_nested.mjs", f"http://{host}:{port}", chromium=True, package="playwright-core")
        stored = await trio.to_thread.run_sync(s3.object, "photos/cat.png")
    stderr = result.pop("stderr")
    assert result == {
        "ok": True,
        "results": {
            "nested": {
                "deadTitle": "App · Dashboard · Test",
                "childParent": ["", "dashboard-id"],  # the dead render's empty session, then its parent's id
                "ticks": "2",
                "parentCount": "0",
                "renamed": "App · Renamed · Test",
                "clockRecovered": "0",
                "parentAfterCrash": "1",
            },
            "sticky": {
                "plays": "plays: 1",
                "navigated": "/settings",
                "title": "App · Settings · Test",
                "sameElement": True,
                "playsAfter": "plays: 1",
                "playsLater": "plays: 2",
                "clockGone": True,
            },
            "upload": {"saved": "photos/cat.png", "progress": "100"},
        },
        "errors": [],
    }, stderr
    assert stored == (b"\x89PNG fake bytes", "image/png")
    assert [str(report.exc_info[1]) for report in reports] == ["the clock broke (on purpose)"]
    otp.exit(endpoint, otp.KILL)
