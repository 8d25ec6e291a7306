"""The exact JSON of the conformance checklist (docs/protocol/liveview.md, "Conformance checklist"), item by item:
3 join reply · 6 event replies · 8 new templates · 9 statics in scope · 10 keyed comprehensions ·
11/12 components · 13 destruction · 15 push_event · 16 hook replies · 17 titles · 25 streams · 26 uploads.

Every diff the server sends in these tests is also merged the way the client merges it and
rendered, and the result compared with the HTML the view's state renders to directly.
"""

import re
from pathlib import Path

from _live_wire import (
    PIDS, SECRET, Tracked, check_statics, event_reply, join_payload, merge, open_client, render_html,
)

import otp
from web._http import Request
from web.live import LiveComponent, compile_template
from web.live._upload import UPLOAD_SALT
from web.token import verify

BADGE_A = compile_template('<em class="a">{@text}</em>')
BADGE_B = compile_template("<strong>{@text}!</strong>")


def badge(assigns):
    return (BADGE_A if assigns["kind"] == "a" else BADGE_B).render(assigns)


SHAPES = compile_template(
    """<main><h1>{@title}</h1><p :if={@show}>hello {@name}</p><.badge kind={@kind} text={@name} /><ul><li :for={item <- @items} :key={item["id"]} id={"i-%s" % item["id"]}>{item["label"]}</li></ul></main>""",
    components={"badge": badge},
)
ROOT_S = ["<main><h1>", "</h1>", "", "<ul>", "</ul></main>"]
P_S = ["<p>hello ", "</p>"]
LI_S = ["<li", ">", "</li>"]


MOUNTS: dict = {}  # connected? -> (mount params, connect params)


def item(id, label):
    return {"id": id, "label": label}


def li(id, label):
    return {"0": f' id="i-{id}"', "1": label}


class Shapes(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        MOUNTS[socket.connected] = (params, socket.connect_params)
        socket.assign(title="T", show=True, name="Ann", kind="a", items=[item(1, "one"), item(2, "two")])

    async def handle_event(self, event, value, socket):
        if event == "assign":
            socket.assign(**value)
        elif event == "items":
            socket.assign(items=[item(i, label) for i, label in value["items"]])
        elif event == "events":
            socket.push_event("first", {"n": 1})
            socket.push_event("second", {"n": 2}, dispatch_before=True)
            socket.push_event("third", {"n": 3})
        elif event == "reply":
            return {"answer": 42}
        elif event == "title":
            socket.page_title(value["title"])
        elif event == "everything":
            socket.assign(title="all").page_title("All").push_event("ping", {})
            return {"done": True}

    async def handle_info(self, message, socket):
        socket.push_event("tick", {"n": message})

    def render(self, assigns, changed):
        return SHAPES.render(assigns, changed)


class Client:
    """A test client that also keeps the merged tree, as the JS client does."""

    def __init__(self, client, tree):
        self.client, self.tree = client, tree

    async def event(self, event, value=None, **options):
        response = await event_reply(self.client, "phx-d", event, value, **options)
        if "diff" in response:
            self.apply(response["diff"])
        return response

    def apply(self, diff):
        check_statics(diff)
        self.tree = merge(self.tree, {k: v for k, v in diff.items() if k not in ("e", "t", "r", "c")})

    def html(self):
        return render_html(self.tree)


async def shapes_client():
    router, client = await open_client({"/shapes": Shapes, "/stream": Songs, "/cards": Cards, "/upload": Upload})
    status, response = await client.join("lv:phx-d", join_payload("phx-d", "/shapes"))
    return router, client, status, response


def html_of(**assigns):
    base = dict(title="T", show=True, name="Ann", kind="a", items=[item(1, "one"), item(2, "two")])
    base.update(assigns)
    return SHAPES.render(base).to_html()


# ---------------------------------------------------------------- 3, 5


async def test_3_the_join_reply_is_ok_with_a_full_render_and_the_version():
    router, client, status, response = await shapes_client()
    assert (status, response) == ("ok", {
        "rendered": {
            "s": ROOT_S,
            "0": "T",
            "1": {"s": P_S, "0": "Ann", "r": 1},
            "2": {"s": ['<em class="a">', "</em>"], "0": "Ann", "r": 1},
            "3": {"s": LI_S, "k": {"0": li(1, "one"), "1": li(2, "two"), "kc": 2}},
            "r": 1,
        },
        "liveview_version": "1.2.12",
    })
    check_statics(response["rendered"])


async def test_5_the_join_render_is_the_dead_render_and_mount_gets_the_same_params():
    router, client, status, response = await shapes_client()
    page = await router.render(Request("GET", "/shapes", {}, {}, ("127.0.0.1", 1), b"", "a=1"))
    body = page.body.decode() if isinstance(page.body, bytes) else page.body
    view_id, token, inner = re.search(r'<div id="([^"]+)" data-phx-main data-phx-session="([^"]+)" data-phx-static="[^"]+">(.*)</div>', body, re.S).groups()
    await client.leave("lv:phx-d")
    status, response = await client.join(
        f"lv:{view_id}", {"url": "http://x/shapes?a=1", "params": {"_csrf_token": "t", "_mounts": 0}, "session": token, "static": None}
    )
    assert status == "ok"
    assert render_html(response["rendered"]) == inner
    # The client's connect params are not mount params (they would make the two renders differ).
    assert MOUNTS == {False: ({"a": "1"}, None), True: ({"a": "1"}, {"_csrf_token": "t", "_mounts": 0})}


# ---------------------------------------------------------------- 6, 8


async def test_6_an_event_gets_one_reply_with_only_the_changed_dynamics_or_nothing():
    router, client, status, response = await shapes_client()
    c = Client(client, response["rendered"])
    assert await c.event("assign", {"title": "U"}) == {"diff": {"0": "U"}}
    assert await c.event("assign", {"title": "U"}) == {}
    assert await c.event("assign", {"name": "Bob"}) == {"diff": {"1": {"0": "Bob"}, "2": {"0": "Bob"}}}
    assert await c.event("unknown-to-the-view") == {}
    await client.refute_frame()  # exactly one reply each
    assert c.html() == html_of(title="U", name="Bob")


async def test_8_a_slot_that_switches_template_is_sent_with_its_new_statics():
    router, client, status, response = await shapes_client()
    c = Client(client, response["rendered"])
    assert await c.event("assign", {"show": False}) == {"diff": {"1": ""}}
    # Back from a string to a template: "s" again.
    assert await c.event("assign", {"show": True}) == {"diff": {"1": {"s": P_S, "0": "Ann", "r": 1}}}
    # Another function component template in the same slot.
    assert await c.event("assign", {"kind": "b"}) == {"diff": {"2": {"s": ["<strong>", "!</strong>"], "0": "Ann", "r": 1}}}
    assert await c.event("assign", {"kind": "a", "name": "Cy"}) == {
        "diff": {"1": {"0": "Cy"}, "2": {"s": ['<em class="a">', "</em>"], "0": "Cy", "r": 1}}
    }
    assert c.html() == html_of(name="Cy")


# ---------------------------------------------------------------- 10


async def test_10_keyed_comprehensions_use_object_integer_and_pair_forms_with_km():
    router, client, status, response = await shapes_client()
    c = Client(client, response["rendered"])
    steps = [
        # a new entry in front: the old ones moved, unchanged (integers) and km.
        ([[3, "three"], [1, "one"], [2, "two"]], {"k": {"0": li(3, "three"), "1": 0, "2": 1, "kc": 3, "km": True}}),
        # one changed in place: an object diff, no km.
        ([[3, "three"], [1, "ONE"], [2, "two"]], {"k": {"1": {"1": "ONE"}, "kc": 3}}),
        # moved and changed: [old, diff].
        ([[1, "one!"], [3, "three"]], {"k": {"0": [1, {"1": "one!"}], "1": 0, "kc": 2, "km": True}}),
        # the same list: nothing at all.
        ([[1, "one!"], [3, "three"]], None),
        # a removal at the end: just kc.
        ([[1, "one!"]], {"k": {"kc": 1}}),
        ([], {"k": {"kc": 0}}),
        ([[4, "four"]], {"k": {"0": li(4, "four"), "kc": 1}}),
    ]
    for items, expected in steps:
        reply = await c.event("items", {"items": items})
        assert reply == ({} if expected is None else {"diff": {"3": expected}}), items
        assert c.html() == html_of(items=[item(i, label) for i, label in items])


# ---------------------------------------------------------------- 15, 16, 17


async def test_15_push_event_payloads_arrive_in_e_in_order_with_dispatch_before_flagged():
    router, client, status, response = await shapes_client()
    assert await event_reply(client, "phx-d", "events") == {
        "diff": {"e": [["first", {"n": 1}], ["second", {"n": 2}, True], ["third", {"n": 3}]]}
    }
    otp.send(PIDS["phx-d"], 7)
    await client.assert_push("lv:phx-d", "diff", {"e": [["tick", {"n": 7}]]})


async def test_16_a_hook_reply_is_sent_under_r():
    router, client, status, response = await shapes_client()
    assert await event_reply(client, "phx-d", "reply", {}, type="hook") == {"diff": {"r": {"answer": 42}}}


async def test_17_a_title_change_sends_t():
    router, client, status, response = await shapes_client()
    assert await event_reply(client, "phx-d", "title", {"title": "Inbox (3)"}) == {"diff": {"t": "Inbox (3)"}}
    assert await event_reply(client, "phx-d", "assign", {"title": "x"}) == {"diff": {"0": "x"}}  # sent once
    # The same title set again: the page already shows it, nothing to send.
    assert await event_reply(client, "phx-d", "title", {"title": "Inbox (3)"}) == {}


async def test_everything_at_once_in_one_diff():
    router, client, status, response = await shapes_client()
    assert await event_reply(client, "phx-d", "everything", {}, type="hook") == {
        "diff": {"0": "all", "e": [["ping", {}]], "t": "All", "r": {"done": True}}
    }


# ---------------------------------------------------------------- 11, 12, 13


ITEM = compile_template('<li id={"card-" + @id}>{@label}</li>')


class Card(LiveComponent):
    async def handle_event(self, event, value, socket):
        socket.assign(label=value["label"])

    def render(self, assigns, changed):
        return ITEM.render(assigns, changed)


CARDS_LOOP = compile_template(
    '<ul><div :for={id <- @ids}><.live_component module={Card} id={id} label={id.upper()} /></div></ul>', namespace={"Card": Card}
)


class Cards(Tracked):
    async def mount(self, params, session, socket):
        socket.assign(ids=["a", "b"])

    async def handle_event(self, event, value, socket):
        socket.assign(ids=value["ids"])

    def render(self, assigns, changed):
        return CARDS_LOOP.render(assigns, changed)


def card(id):
    return {"s": ["<li", ">", "</li>"], "0": f' id="card-{id}"', "1": id.upper(), "r": 1}


async def test_11_12_13_components_cids_roots_and_destruction():
    router, client = await open_client({"/cards": Cards})
    status, response = await client.join("lv:phx-c", join_payload("phx-c", "/cards"))
    rendered = response["rendered"]
    assert rendered == {
        "s": ["<ul>", "</ul>"],
        "0": {"s": ["<div>", "</div>"], "k": {"0": {"0": 1}, "1": {"0": 2}, "kc": 2}},
        "r": 1,
        "c": {"1": card("a"), "2": card("b")},
    }
    check_statics(rendered)
    assert await event_reply(client, "phx-c", "label", {"label": "x"}, cid=2) == {"diff": {"c": {"2": {"1": "x"}}}}
    assert await event_reply(client, "phx-c", "ids", {"ids": ["b"]}) == {"diff": {"0": {"k": {"0": {"0": 2}, "kc": 1}}, "c": {"2": {"1": "B"}}}}
    await client.assert_reply(client.push("lv:phx-c", "cids_will_destroy", {"cids": [1]}), "ok", {})
    await client.assert_reply(client.push("lv:phx-c", "cids_destroyed", {"cids": [1]}), "ok", {"cids": [1]})
    diff = (await event_reply(client, "phx-c", "ids", {"ids": ["b", "a"]}))["diff"]
    check_statics(diff)
    assert diff == {"0": {"k": {"1": {"0": 3}, "kc": 2}}, "c": {"3": card("a")}}


# ---------------------------------------------------------------- 25


SONGS = compile_template('<ul id="s" phx-update="stream"><li :for={(dom_id, s) <- @streams.songs} id={dom_id}>{s["t"]}</li></ul>')


class Songs(Tracked):
    async def mount(self, params, session, socket):
        socket.stream("songs", [{"id": 1, "t": "a"}])

    async def handle_event(self, event, value, socket):
        if event == "add":
            socket.stream_insert("songs", {"id": value["id"], "t": value["t"]}, at=0, limit=10)
        elif event == "delete":
            socket.stream_delete_by_dom_id("songs", value["dom_id"])
        elif event == "reset":
            socket.stream("songs", [], reset=True)

    def render(self, assigns, changed):
        return SONGS.render(assigns, changed)


async def test_25_streams_send_ref_inserts_deletes_and_reset_and_only_new_items():
    router, client = await open_client({"/stream": Songs})
    status, response = await client.join("lv:phx-s", join_payload("phx-s", "/stream"))
    assert response["rendered"] == {
        "s": ['<ul id="s" phx-update="stream">', "</ul>"],
        "0": {"s": LI_S, "k": {"0": {"0": ' id="songs-1"', "1": "a"}, "kc": 1}, "stream": ["0", [["songs-1", -1, None, None]], []]},
        "r": 1,
    }
    assert await event_reply(client, "phx-s", "add", {"id": 2, "t": "b"}) == {
        "diff": {"0": {"k": {"0": {"0": ' id="songs-2"', "1": "b"}, "kc": 1}, "stream": ["0", [["songs-2", 0, 10, None]], []]}}
    }
    assert await event_reply(client, "phx-s", "delete", {"dom_id": "songs-1"}) == {"diff": {"0": {"k": {"kc": 0}, "stream": ["0", [], ["songs-1"]]}}}
    assert await event_reply(client, "phx-s", "reset") == {"diff": {"0": {"k": {"kc": 0}, "stream": ["0", [], [], True]}}}


# ---------------------------------------------------------------- 26


UPLOAD = compile_template("<form><.live_file_input upload={@uploads.doc} /></form>")


class Upload(Tracked):
    async def mount(self, params, session, socket):
        socket.allow_upload("doc", max_file_size=6, chunk_size=3)

    def render(self, assigns, changed):
        return UPLOAD.render(assigns, changed)


async def test_26_uploads_tokens_chunks_limit_and_progress():
    router, client = await open_client({"/upload": Upload})
    status, response = await client.join("lv:phx-u", join_payload("phx-u", "/upload"))
    upload_ref = re.search(r'data-phx-upload-ref="([^"]+)"', render_html(response["rendered"])).group(1)
    entry = {"path": "doc", "ref": "0", "name": "a.txt", "relative_path": "", "size": 6, "type": "text/plain", "last_modified": 1}
    ref = client.push("lv:phx-u", "allow_upload", {"ref": upload_ref, "entries": [entry]})
    reply = await client.assert_reply(ref, "ok")
    token = reply["response"]["entries"]["0"]
    assert reply["response"] == {
        "ref": upload_ref,
        "config": {"max_file_size": 6, "max_entries": 1, "chunk_size": 3, "chunk_timeout": 10000},
        "entries": {"0": token},
        "errors": {},
        "diff": {"0": {"4": ' data-phx-active-refs="0"', "6": ' data-phx-preflighted-refs="0"'}},
    }
    assert await client.join("lvu:0", {"token": token}) == ("ok", {})
    for chunk in (b"abc", b"def"):
        await client.assert_reply(client.push_binary("lvu:0", "chunk", chunk), "ok", {})
    await client.assert_reply(client.push_binary("lvu:0", "chunk", b"g"), "error", {"reason": "file_size_limit_exceeded", "limit": 6})
    assert not Path(verify(SECRET, UPLOAD_SALT, token)["path"]).exists()
    ref = client.push("lv:phx-u", "progress", {"event": None, "ref": upload_ref, "entry_ref": "0", "progress": 100})
    await client.assert_reply(ref, "ok", {"diff": {"0": {"5": ' data-phx-done-refs="0"'}}})
