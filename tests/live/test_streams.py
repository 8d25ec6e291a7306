"""Streams on the wire (docs/protocol/liveview.md, "Streams"; checklist 25): each item is sent once, as its own entry,
with ``"stream": [ref, [[dom_id, at, limit, update_only], ...], deletes(, true)]``."""

from _live_wire import PIDS, Tracked, check_statics, event_reply, join, open_client, render_html

import otp
from web.live import LiveComponent, compile_template

PAGE = compile_template(
    """<div>
  <ul id="songs" phx-update="stream"><li :for={(dom_id, song) <- @streams.songs} id={dom_id}>{song["title"]}</li></ul>
  <p>{@note}</p>
</div>"""
)
CONTAINER = ['<div>\n  <ul id="songs" phx-update="stream">', "</ul>\n  <p>", "</p>\n</div>"]
ENTRY = ["<li", ">", "</li>"]


def song(id, title):
    return {"id": id, "title": title}


def entry(id, title):
    return {"0": f' id="songs-{id}"', "1": title}


class Songs(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(note="")
        socket.stream("songs", [song(1, "A"), song(2, "B")])

    async def handle_event(self, event, value, socket):
        if event == "add":
            socket.stream_insert("songs", song(value["id"], value["title"]), at=int(value.get("at", -1)))
        elif event == "add_limited":
            socket.stream_insert("songs", song(value["id"], value["title"]), at=0, limit=-2)
        elif event == "update_only":
            socket.stream_insert("songs", song(value["id"], value["title"]), update_only=True)
        elif event == "delete":
            socket.stream_delete("songs", song(value["id"], ""))
        elif event == "delete_dom_id":
            socket.stream_delete_by_dom_id("songs", value["dom_id"])
        elif event == "reset":
            socket.stream("songs", [song(9, "Z")], reset=True)
        elif event == "clear":
            socket.stream("songs", [], reset=True)
        elif event == "note":
            socket.assign(note=value["note"])
        elif event == "many":
            socket.stream("songs", [song(5, "E"), song(6, "F")], at=0, limit=3)
        elif event == "insert_then_delete":
            socket.stream_insert("songs", song(7, "G"))
            socket.stream_delete("songs", song(7, "G"))

    async def handle_info(self, message, socket):
        socket.stream_insert("songs", message)

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


async def songs_client():
    router, client = await open_client({"/songs": Songs})
    return client


async def test_the_join_render_sends_every_initial_item_with_the_stream_operations():
    client = await songs_client()
    response = await join(client, "phx-s", "/songs")
    assert response["rendered"] == {
        "s": CONTAINER,
        "0": {
            "s": ENTRY,
            "k": {"0": entry(1, "A"), "1": entry(2, "B"), "kc": 2},
            "stream": ["0", [["songs-1", -1, None, None], ["songs-2", -1, None, None]], []],
        },
        "1": "",
        "r": 1,
    }
    check_statics(response["rendered"])
    assert render_html(response["rendered"]) == (
        '<div>\n  <ul id="songs" phx-update="stream"><li id="songs-1">A</li><li id="songs-2">B</li></ul>\n  <p></p>\n</div>'
    )


async def test_an_insert_sends_only_the_new_item_and_nothing_is_resent_later():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    assert await event_reply(client, "phx-s", "add", {"id": 3, "title": "C"}) == {
        "diff": {"0": {"k": {"0": entry(3, "C"), "kc": 1}, "stream": ["0", [["songs-3", -1, None, None]], []]}}
    }
    # Another assign changes: the stream is not re-sent.
    assert await event_reply(client, "phx-s", "note", {"note": "hi"}) == {"diff": {"1": "hi"}}
    # Nothing pending: an empty reply.
    assert await event_reply(client, "phx-s", "note", {"note": "hi"}) == {}


async def test_prepend_and_insert_at_an_index():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    assert await event_reply(client, "phx-s", "add", {"id": 3, "title": "C", "at": 0}) == {
        "diff": {"0": {"k": {"0": entry(3, "C"), "kc": 1}, "stream": ["0", [["songs-3", 0, None, None]], []]}}
    }
    assert await event_reply(client, "phx-s", "add", {"id": 4, "title": "D", "at": 1}) == {
        "diff": {"0": {"k": {"0": entry(4, "D"), "kc": 1}, "stream": ["0", [["songs-4", 1, None, None]], []]}}
    }


async def test_limit_rides_with_each_insert():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    assert await event_reply(client, "phx-s", "add_limited", {"id": 3, "title": "C"}) == {
        "diff": {"0": {"k": {"0": entry(3, "C"), "kc": 1}, "stream": ["0", [["songs-3", 0, -2, None]], []]}}
    }
    assert await event_reply(client, "phx-s", "many") == {
        "diff": {
            "0": {
                "k": {"0": entry(5, "E"), "1": entry(6, "F"), "kc": 2},
                "stream": ["0", [["songs-5", 0, 3, None], ["songs-6", 0, 3, None]], []],
            }
        }
    }


async def test_update_only_is_flagged():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    assert await event_reply(client, "phx-s", "update_only", {"id": 1, "title": "A2"}) == {
        "diff": {"0": {"k": {"0": entry(1, "A2"), "kc": 1}, "stream": ["0", [["songs-1", -1, None, True]], []]}}
    }


async def test_delete_sends_the_dom_id_and_no_entry():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    assert await event_reply(client, "phx-s", "delete", {"id": 1}) == {
        "diff": {"0": {"k": {"kc": 0}, "stream": ["0", [], ["songs-1"]]}}
    }
    assert await event_reply(client, "phx-s", "delete_dom_id", {"dom_id": "songs-2"}) == {
        "diff": {"0": {"k": {"kc": 0}, "stream": ["0", [], ["songs-2"]]}}
    }


async def test_insert_then_delete_before_a_render_is_just_a_delete():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    assert await event_reply(client, "phx-s", "insert_then_delete") == {
        "diff": {"0": {"k": {"kc": 0}, "stream": ["0", [], ["songs-7"]]}}
    }


async def test_reset_clears_the_container_then_inserts():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    assert await event_reply(client, "phx-s", "reset") == {
        "diff": {"0": {"k": {"0": entry(9, "Z"), "kc": 1}, "stream": ["0", [["songs-9", -1, None, None]], [], True]}}
    }
    # The reset flag is sent once.
    assert await event_reply(client, "phx-s", "add", {"id": 10, "title": "Y"}) == {
        "diff": {"0": {"k": {"0": entry(10, "Y"), "kc": 1}, "stream": ["0", [["songs-10", -1, None, None]], []]}}
    }
    assert await event_reply(client, "phx-s", "clear") == {"diff": {"0": {"k": {"kc": 0}, "stream": ["0", [], [], True]}}}


async def test_an_insert_from_handle_info_is_pushed_once():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    otp.send(PIDS["phx-s"], song(3, "C"))
    await client.assert_push(
        "lv:phx-s", "diff", {"0": {"k": {"0": entry(3, "C"), "kc": 1}, "stream": ["0", [["songs-3", -1, None, None]], []]}}
    )
    assert await event_reply(client, "phx-s", "note", {"note": "x"}) == {"diff": {"1": "x"}}


async def test_the_same_item_twice_before_a_render_is_sent_once_with_the_later_values():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    otp.send(PIDS["phx-s"], song(3, "C"))
    otp.send(PIDS["phx-s"], song(3, "C2"))
    first = await client.assert_push("lv:phx-s", "diff")
    # The two inserts may be rendered apart or together; either way each diff is self-contained.
    if first[4]["0"]["k"]["0"]["1"] == "C":
        await client.assert_push(
            "lv:phx-s", "diff", {"0": {"k": {"0": entry(3, "C2"), "kc": 1}, "stream": ["0", [["songs-3", -1, None, None]], []]}}
        )
    else:
        assert first[4] == {"0": {"k": {"0": entry(3, "C2"), "kc": 1}, "stream": ["0", [["songs-3", -1, None, None]], []]}}


async def test_a_rejoin_sends_the_stream_again_from_mount():
    client = await songs_client()
    await join(client, "phx-s", "/songs")
    await event_reply(client, "phx-s", "add", {"id": 3, "title": "C"})
    await client.leave("lv:phx-s")
    response = await join(client, "phx-s", "/songs")
    assert response["rendered"]["0"]["stream"] == ["0", [["songs-1", -1, None, None], ["songs-2", -1, None, None]], []]


# ---------------------------------------------------------------- several streams, custom dom ids


TWO = compile_template(
    """<div><ul id="a" phx-update="stream"><li :for={(id, x) <- @streams.a} id={id}>{x}</li></ul><ol id="b" phx-update="stream"><li :for={(id, x) <- @streams.b} id={id}>{x}</li></ol></div>"""
)


class TwoStreams(Tracked):
    async def mount(self, params, session, socket):
        socket.stream("a", ["x"], dom_id=lambda item: f"a-{item}")
        socket.stream("b", [], dom_id=lambda item: f"b-{item}")

    async def handle_event(self, event, value, socket):
        socket.stream_insert(event, value["item"])

    def render(self, assigns, changed):
        return TWO.render(assigns, changed)


async def test_each_stream_has_its_own_ref_and_an_empty_stream_is_still_sent():
    router, client = await open_client({"/two": TwoStreams})
    response = await join(client, "phx-t", "/two")
    assert response["rendered"] == {
        "s": ['<div><ul id="a" phx-update="stream">', '</ul><ol id="b" phx-update="stream">', "</ol></div>"],
        "0": {"s": ENTRY, "k": {"0": {"0": ' id="a-x"', "1": "x"}, "kc": 1}, "stream": ["0", [["a-x", -1, None, None]], []]},
        "1": {"s": ENTRY, "k": {"kc": 0}, "stream": ["1", [], []]},
        "r": 1,
    }
    assert await event_reply(client, "phx-t", "b", {"item": "y"}) == {
        "diff": {"1": {"k": {"0": {"0": ' id="b-y"', "1": "y"}, "kc": 1}, "stream": ["1", [["b-y", -1, None, None]], []]}}
    }


# ---------------------------------------------------------------- a stream inside a component


CARD = compile_template(
    """<div id={@id}><ul id={@id + "-items"} phx-update="stream"><li :for={(id, x) <- @streams.items} id={id}>{x}</li></ul></div>"""
)


class StreamCard(LiveComponent):
    async def mount(self, socket):
        socket.stream("items", ["x"], dom_id=lambda item: f"{socket.assigns['myself']}-item-{item}")

    async def handle_event(self, event, value, socket):
        socket.stream_insert("items", value["item"])

    def render(self, assigns, changed):
        return CARD.render(assigns, changed)


HOST = compile_template(
    """<div><ul id="v" phx-update="stream"><li :for={(id, x) <- @streams.v} id={id}>{x}</li></ul><.live_component module={StreamCard} id="card" /></div>""",
    namespace={"StreamCard": StreamCard},
)


class StreamHost(Tracked):
    async def mount(self, params, session, socket):
        socket.stream("v", ["x"], dom_id=lambda item: f"v-{item}")

    def render(self, assigns, changed):
        return HOST.render(assigns, changed)


async def test_a_component_s_stream_ref_is_prefixed_with_its_cid():
    # The client finds a stream's children by ref on reset (data-phx-stream="<ref>"): the
    # view's stream "0" and the component's first stream must not share a ref.
    router, client = await open_client({"/host": StreamHost})
    response = await join(client, "phx-h", "/host")
    rendered = response["rendered"]
    assert rendered["0"]["stream"] == ["0", [["v-x", -1, None, None]], []]
    assert rendered["1"] == 1
    assert rendered["c"]["1"]["2"]["stream"] == ["1-0", [["1-item-x", -1, None, None]], []]
    assert await event_reply(client, "phx-h", "add", {"item": "y"}, cid=1) == {
        "diff": {"c": {"1": {"2": {"k": {"0": {"0": ' id="1-item-y"', "1": "y"}, "kc": 1}, "stream": ["1-0", [["1-item-y", -1, None, None]], []]}}}}
    }
