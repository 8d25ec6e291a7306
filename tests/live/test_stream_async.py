"""stream_configure and stream_async on the wire (docs/protocol/liveview.md, "Streams"): one naming rule set before
a stream exists, and items loaded beside the view, streamed when they arrive, with their loading state in an assign.

The work functions report to the test process and wait for its go: every step is a message, never a sleep.
"""

import pytest
from _live_wire import Tracked, event_reply, join, open_client
from markupsafe import escape

import otp
import otp.testing
from otp import Shutdown
from web.live import AsyncResult, LiveSocket, compile_template

TEST: dict = {}


def work(name):
    """Tell the test it started; return (or raise) what the test sends."""

    async def run():
        otp.send(TEST["pid"], ("started", name, otp.current_pid()))
        value = await otp.receive()
        if isinstance(value, BaseException):
            raise value
        return value

    return run


async def started(name):
    message = await otp.testing.assert_receive(lambda m: isinstance(m, tuple) and m[:2] == ("started", name), timeout=1.0)
    return message[2]


PAGE = compile_template(
    """<div><p>{"loading" if @songs.loading else ("failed: " + repr(@songs.failed)) if @songs.failed else "ok"}</p>"""
    """<ul id="songs" phx-update="stream"><li :for={(dom_id, song) <- @streams.songs} id={dom_id}>{song["title"]}</li></ul></div>"""
)


class Songs(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.stream_configure("songs", dom_id=lambda song: f"song-{song['slug']}")
        socket.stream_async("songs", work("songs"))

    async def handle_event(self, event, value, socket):
        if event == "more":
            socket.stream_async("songs", work("more"))
        elif event == "cancel":
            socket.cancel_async("songs")

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


def song(slug, title):
    return {"slug": slug, "title": title}


def entries(*pairs, at=-1, reset=False):
    """The comprehension a render of these stream inserts sends."""
    keyed = {str(i): {"0": f' id="song-{slug}"', "1": title} for i, (slug, title) in enumerate(pairs)}
    stream = ["0", [[f"song-{slug}", at, None, None] for slug, _ in pairs], []]
    if reset:
        stream.append(True)
    return {"k": {**keyed, "kc": len(pairs)}, "stream": stream}


async def test_stream_async_streams_what_the_function_returns_named_by_stream_configure():
    TEST["pid"] = otp.current_pid()
    _, client = await open_client({"/songs": Songs})
    rendered = (await join(client, "phx-s", "/songs"))["rendered"]
    assert rendered["0"] == "loading"
    assert rendered["1"] == {"s": ["<li", ">", "</li>"], "k": {"kc": 0}, "stream": ["0", [], []]}  # there, empty, while loading
    worker = await started("songs")
    otp.send(worker, [song("a", "Alpha"), song("b", "Beta")])
    diff = await client.assert_push("lv:phx-s", "diff")
    assert diff[4] == {"0": "ok", "1": entries(("a", "Alpha"), ("b", "Beta"))}


async def test_stream_async_takes_stream_options_and_keeps_the_outcome_while_loading_again():
    TEST["pid"] = otp.current_pid()
    _, client = await open_client({"/songs": Songs})
    await join(client, "phx-s", "/songs")
    otp.send(await started("songs"), [song("a", "Alpha")])
    await client.assert_push("lv:phx-s", "diff")
    assert await event_reply(client, "phx-s", "more") == {"diff": {"0": "loading"}}
    otp.send(await started("more"), ([song("z", "Zed")], {"at": 0, "reset": True}))
    diff = await client.assert_push("lv:phx-s", "diff")
    assert diff[4] == {"0": "ok", "1": entries(("z", "Zed"), at=0, reset=True)}


@pytest.mark.parametrize(
    "outcome, failure",
    [
        (LookupError("no such album"), LookupError("no such album")),
        ("not a list", TypeError("stream_async('songs') must return the items (a list) or (items, options); got 'not a list'")),
        (([], {"sort": True}), TypeError("stream_async('songs') returned options ['sort']; a stream takes at, reset, limit")),
    ],
)
async def test_a_stream_async_that_fails_leaves_the_stream_and_fails_the_assign(outcome, failure):
    TEST["pid"] = otp.current_pid()
    _, client = await open_client({"/songs": Songs})
    await join(client, "phx-s", "/songs")
    otp.send(await started("songs"), outcome)
    diff = await client.assert_push("lv:phx-s", "diff")
    assert diff[4] == {"0": str(escape("failed: " + repr(failure)))}  # and no stream operation went out


async def test_cancel_async_of_a_stream_async_stops_the_work_and_fails_the_assign():
    TEST["pid"] = otp.current_pid()
    _, client = await open_client({"/songs": Songs})
    await join(client, "phx-s", "/songs")
    worker = await started("songs")
    ref = otp.monitor(worker)
    failed = str(escape("failed: " + repr(Shutdown("cancel"))))
    assert await event_reply(client, "phx-s", "cancel") == {"diff": {"0": failed}}
    await otp.testing.assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == ref, timeout=1.0)


def test_stream_configure_after_the_stream_exists_is_refused():
    socket = LiveSocket(connected=False, view_id="v")
    socket.stream("songs", [])
    with pytest.raises(ValueError, match=r"stream 'songs' exists already: call stream_configure\('songs', ...\) before stream\('songs', ...\)"):
        socket.stream_configure("songs", dom_id=lambda song: song["slug"])


def test_stream_async_on_the_dead_render_starts_nothing_and_shows_loading():
    socket = LiveSocket(connected=False, view_id="v")
    socket.stream_async("songs", lambda: [])
    assert socket.async_requests == [] and socket.assigns["songs"] == AsyncResult(loading=True)
    assert socket.assigns["streams"].songs.inserts == []
