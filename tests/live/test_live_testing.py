"""web.testing's LiveView helpers (Phoenix.LiveViewTest): the client model, then the helpers end to end.

First the pure model of the JS client (web/testing/_client_model.py) against the exact
JSON shapes of docs/protocol/liveview.md, "Rendered diffs": merges, keyed moves, components, streams, and
the DOM rules of streams. Then the join render against the dead render
(checklist item 5). Then ``live()`` and the ``render_*`` helpers driving
small views through the real socket, frame for frame.
"""

import doctest
import re
from pathlib import Path

import orjson
import pytest
from _node_tools import run_js
from selectolax.lexbor import LexborHTMLParser

import otp
import web.testing._client_model
import web.testing._results
from otp import PubSub
from web._http import Request, Response
from web.endpoint import Endpoint
from web.live import JS, LiveComponent, LiveRouter, LiveView, compile_template
from web.testing._client_model import DiffError, PageDom, RenderedTree, extract, form_body, unused_key
from web.testing import (
    Redirect,
    UploadError,
    assert_patch,
    assert_push_event,
    assert_redirect,
    connect,
    element,
    file_input,
    follow_redirect,
    has_element,
    live,
    page_title,
    render,
    render_change,
    render_click,
    render_hook,
    render_patch,
    render_submit,
    render_upload,
)
from web.token import sign

SECRET = "live testing secret"


def tree_of(rendered: dict, view_id: str = "phx-1") -> RenderedTree:
    return RenderedTree(view_id, extract(rendered).diff)


def html_of(tree: RenderedTree) -> str:
    return tree.to_html()[0]


def merge(tree: RenderedTree, diff: dict) -> None:
    tree.merge(extract(diff).diff)


# ---------------------------------------------------------------- the model: merge rules ("Merge rules")


def test_the_model_s_docstrings_hold():
    assert doctest.testmod(web.testing._client_model).failed == 0
    assert doctest.testmod(web.testing._results).failed == 0


def test_the_counter_of_section_9_joins_and_merges_a_diff():
    joined = {"0": "0", "s": 0, "r": 1, "p": {"0": ["<div>\n  <h1>Count: ", "</h1>\n  <button phx-click=\"inc\">+</button>\n</div>"]}}
    extracted = extract(joined)
    assert extracted.reply == 1  # at the top level "r" is the reply slot ("Top-level keys"): taken out
    tree = RenderedTree("phx-1", extracted.diff)
    assert html_of(tree) == '<div>\n  <h1>Count: 0</h1>\n  <button phx-click="inc">+</button>\n</div>'
    merge(tree, {"0": "1"})
    assert html_of(tree) == '<div>\n  <h1>Count: 1</h1>\n  <button phx-click="inc">+</button>\n</div>'


def test_inline_statics_without_a_table_are_accepted():
    tree = tree_of({"0": "0", "s": ["<p>", "</p>"]})
    assert html_of(tree) == "<p>0</p>"


def test_the_keyed_example_of_section_3_4_inserts_x_in_front():
    tree = tree_of({"0": {"s": 0, "k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}}, "s": 1,
                    "p": {"0": ["<li>", "</li>"], "1": ["<ul>", "</ul>"]}})
    assert html_of(tree) == "<ul><li>a</li><li>b</li></ul>"
    merge(tree, {"0": {"k": {"0": {"0": "x"}, "1": 0, "2": 1, "kc": 3, "km": True}}})
    assert html_of(tree) == "<ul><li>x</li><li>a</li><li>b</li></ul>"


def test_keyed_moves_with_a_diff_a_diff_in_place_and_a_shorter_count():
    tree = tree_of({"0": {"s": ["<li>", "</li>"], "k": {"0": {"0": "a"}, "1": {"0": "b"}, "2": {"0": "c"}, "kc": 3}},
                    "s": ["<ul>", "</ul>"]})
    merge(tree, {"0": {"k": {"0": [2, {"0": "C"}], "1": 0, "kc": 2, "km": True}}})
    assert html_of(tree) == "<ul><li>C</li><li>a</li></ul>"
    merge(tree, {"0": {"k": {"1": {"0": "A"}, "kc": 2}}})  # positions not mentioned keep their entry
    assert html_of(tree) == "<ul><li>C</li><li>A</li></ul>"
    merge(tree, {"0": {"k": {"kc": 0}}})
    assert html_of(tree) == "<ul></ul>"


def test_a_move_without_km_is_refused_as_the_1_2_12_client_would_throw():
    tree = tree_of({"0": {"s": ["<li>", "</li>"], "k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}}, "s": ["<ul>", "</ul>"]})
    with pytest.raises(DiffError, match='lacks "km": true'):
        merge(tree, {"0": {"k": {"0": 1, "1": 0, "kc": 2}}})


def test_a_slot_with_s_is_replaced_whole_and_without_s_merged():
    tree = tree_of({"0": {"s": ["<b>", "</b>"], "0": "x"}, "1": "y", "s": ["<p>", " ", "</p>"]})
    merge(tree, {"0": {"0": "X"}})
    assert html_of(tree) == "<p><b>X</b> y</p>"
    merge(tree, {"0": {"s": ["<i>", "-", "</i>"], "0": "1", "1": "2"}})
    assert html_of(tree) == "<p><i>1-2</i> y</p>"
    merge(tree, {"0": "plain"})  # a template that became a string
    assert html_of(tree) == "<p>plain y</p>"
    merge(tree, {"s": ["<div>", "</div>"], "0": "new root"})
    assert html_of(tree) == "<div>new root</div>"


def test_each_diff_has_its_own_template_table():
    tree = tree_of({"0": {"s": 0, "0": "a"}, "1": "", "s": 1, "p": {"0": ["<b>", "</b>"], "1": ["<p>", "", "</p>"]}})
    assert html_of(tree) == "<p><b>a</b></p>"  # rendering resolves the indexes (the client renders every merge)
    merge(tree, {"1": {"s": 0, "0": "b"}, "p": {"0": ["<i>", "</i>"]}})  # index 0 of this message
    assert html_of(tree) == "<p><b>a</b><i>b</i></p>"


def test_a_missing_slot_or_template_index_is_an_error():
    with pytest.raises(DiffError, match="slot 1"):
        html_of(tree_of({"0": "a", "s": ["<p>", "", "</p>"]}))
    with pytest.raises(DiffError, match="no template 3"):
        html_of(tree_of({"0": "a", "s": 3, "p": {"0": ["<p>", "</p>"]}}))


def test_the_richer_example_of_section_9_with_a_component_a_title_and_an_event():
    extracted = extract({
        "0": {"s": 0, "k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}},
        "1": 1,
        "s": 1, "r": 1,
        "p": {"0": ["<li>", "</li>"], "1": ["<div><ul>", "</ul>", "</div>"]},
        "c": {"1": {"0": "hello", "s": ["<span id=\"greeting\">", "</span>"], "r": 1}},
        "t": "Items",
        "e": [["highlight", {"id": "a"}]],
    })
    assert (extracted.title, extracted.events) == ("Items", [["highlight", {"id": "a"}]])
    tree = RenderedTree("phx-7", extracted.diff)
    assert html_of(tree) == (
        '<div><ul><li>a</li><li>b</li></ul><span data-phx-component="1" data-phx-view="phx-7" id="greeting">hello</span></div>'
    )
    assert tree.to_html(component_attrs=False)[0] == '<div><ul><li>a</li><li>b</li></ul><span id="greeting">hello</span></div>'


def test_components_share_statics_by_positive_and_negative_references():
    tree = tree_of({"0": 1, "1": 2, "s": ["<div>", "", "</div>"], "c": {
        "1": {"0": "a", "s": ['<p class="x">', "</p>"], "r": 1},
        "2": {"0": "b", "s": 1},  # statics of cid 1 in this same "c"
    }})
    assert html_of(tree) == (
        '<div><p data-phx-component="1" data-phx-view="phx-1" class="x">a</p>'
        '<p data-phx-component="2" data-phx-view="phx-1" class="x">b</p></div>'
    )
    merge(tree, {"1": 3, "c": {"3": {"0": "c", "s": -1}}})  # statics of cid 1 as the client has it
    merge(tree, {"c": {"1": {"0": "A"}}})  # a diff of only a component
    assert html_of(tree) == (
        '<div><p data-phx-component="1" data-phx-view="phx-1" class="x">A</p>'
        '<p data-phx-component="3" data-phx-view="phx-1" class="x">c</p></div>'
    )
    assert sorted(tree.components) == [1, 2, 3]
    tree.prune([2])  # the cids_destroyed reply
    assert sorted(tree.components) == [1, 3]


def test_a_component_reference_the_client_cannot_resolve_is_an_error():
    with pytest.raises(DiffError, match="component 5, which is not in the same 'c'"):
        tree_of({"0": 1, "s": ["", ""], "c": {"1": {"0": "a", "s": 5}}})
    with pytest.raises(DiffError, match="component 9, which the client does not have"):
        html_of(tree_of({"0": 9, "s": ["", ""]}))


def test_the_component_attributes_go_after_the_tag_name_past_leading_comments():
    assert web.testing._client_model.modify_root("<!-- x -->\n<li id=\"a\">1</li><!-- y -->", {"data-phx-component": 4, "data-phx-view": "v"}) == (
        '<!-- x -->\n<li data-phx-component="4" data-phx-view="v" id="a">1</li><!-- y -->'
    )


# ---------------------------------------------------------------- the model: streams ("Streams")

STREAM_JOIN = {
    "0": {"s": ['<li id="', '">', "</li>"], "k": {"0": {"0": "items-1", "1": "a"}, "1": {"0": "items-2", "1": "b"}, "kc": 2},
          "stream": ["0", [["items-1", -1, None, None], ["items-2", -1, None, None]], []]},
    "s": ['<ul id="items" phx-update="stream">', "</ul>"],
}


def stream_diff(inserts: list, deletes=(), reset=False, entries=()):
    keyed = {str(i): {"0": dom_id, "1": text} for i, (dom_id, text) in enumerate(entries)}
    stream = ["0", inserts, list(deletes)] + ([True] if reset else [])
    return {"0": {"k": {**keyed, "kc": len(entries)}, "stream": stream}}


def test_a_stream_s_entries_are_rendered_once_then_the_dom_keeps_them():
    tree = tree_of(STREAM_JOIN)
    html, streams = tree.to_html()
    assert html == '<ul id="items" phx-update="stream"><li id="items-1">a</li><li id="items-2">b</li></ul>'
    assert streams == [["0", [["items-1", -1, None, None], ["items-2", -1, None, None]], []]]
    assert tree.to_html() == ('<ul id="items" phx-update="stream"></ul>', [])
    page = PageDom()
    page.patch(html, streams)
    assert page.patch(*tree.to_html()) == html  # a render without stream operations keeps the children
    merge(tree, stream_diff([["items-3", 0, None, None]], entries=[("items-3", "c")]))
    assert page.patch(*tree.to_html()) == (
        '<ul id="items" phx-update="stream"><li id="items-3">c</li><li id="items-1">a</li><li id="items-2">b</li></ul>'
    )


def patched(page: PageDom, inserts: list, deletes=(), reset=False, entries=(), template=""):
    html = '<ul id="s" phx-update="stream">' + template + "".join(f'<li id="{i}">{t}</li>' for i, t in entries) + "</ul>"
    stream = ["0", inserts, list(deletes)] + ([True] if reset else [])
    return re.findall(r'<li id="([^"]+)">([^<]*)', page.patch(html, [stream]))


def test_stream_inserts_at_the_end_the_front_an_index_and_updates_in_place():
    page = PageDom()
    assert patched(page, [["a", -1, None, None], ["b", -1, None, None]], entries=[("a", "1"), ("b", "2")]) == [("a", "1"), ("b", "2")]
    assert patched(page, [["c", 0, None, None]], entries=[("c", "3")]) == [("c", "3"), ("a", "1"), ("b", "2")]
    assert patched(page, [["d", 1, None, None]], entries=[("d", "4")]) == [("c", "3"), ("d", "4"), ("a", "1"), ("b", "2")]
    assert patched(page, [["e", 9, None, None]], entries=[("e", "5")])[-1] == ("e", "5")  # past the end: appended
    # An existing dom id is updated where it is, whatever "at" says.
    assert patched(page, [["a", 0, None, None]], entries=[("a", "one")])[2] == ("a", "one")


def test_stream_limits_prune_from_the_other_end():
    page = PageDom()
    patched(page, [[i, -1, None, None] for i in "abc"], entries=[(i, i) for i in "abc"])
    assert patched(page, [["d", -1, -3, None]], entries=[("d", "d")]) == [("b", "b"), ("c", "c"), ("d", "d")]
    assert patched(page, [["e", 0, 2, None]], entries=[("e", "e")]) == [("e", "e"), ("b", "b")]


def test_update_only_never_adds_and_deletes_and_resets_remove():
    page = PageDom()
    patched(page, [[i, -1, None, None] for i in "abc"], entries=[(i, i) for i in "abc"])
    assert patched(page, [["z", -1, None, True]], entries=[("z", "z")]) == [("a", "a"), ("b", "b"), ("c", "c")]
    assert patched(page, [["b", -1, None, True]], entries=[("b", "B")]) == [("a", "a"), ("b", "B"), ("c", "c")]
    assert patched(page, [], deletes=["a", "nope"]) == [("b", "B"), ("c", "c")]
    assert patched(page, [["x", -1, None, None]], reset=True, entries=[("x", "x")]) == [("x", "x")]
    # Deleted and inserted again in one patch: it comes back, at its insert's place.
    assert patched(page, [["x", 0, None, None]], deletes=["x"], entries=[("x", "X")]) == [("x", "X")]


def test_appends_go_before_the_template_s_own_trailing_children():
    # dom_patch.ts addChild: at -1 inserts before the first child that no stream inserted.
    page = PageDom()
    html = page.patch('<ul id="s" phx-update="stream"><li id="empty">none</li><li id="a">a</li></ul>', [["0", [["a", -1, None, None]], []]])
    assert html == '<ul id="s" phx-update="stream"><li id="a">a</li><li id="empty">none</li></ul>'


def test_a_stream_container_needs_an_id_and_ignored_content_is_kept():
    with pytest.raises(DiffError, match="needs an id"):
        PageDom().patch('<ul phx-update="stream"></ul>', [])
    page = PageDom()
    page.patch('<div id="map" phx-update="ignore">server</div>', [])
    assert page.patch('<div id="map" phx-update="ignore">changed</div><p>1</p>', []) == '<div id="map" phx-update="ignore">server</div><p>1</p>'


# ---------------------------------------------------------------- the model: event payloads ("event")


def test_a_form_body_is_the_dom_s_values_with_unused_markers_like_the_client_s():
    form = LexborHTMLParser(
        '<form><input name="user[name]" value="Ann"><input type="hidden" name="user[role]" value="member">'
        '<input type="checkbox" name="user[agree]" value="yes"><input type="checkbox" name="news" checked>'
        '<select name="user[plan]"><option value="free">Free</option><option value="pro" selected>Pro</option></select>'
        '<select name="tags[]" multiple><option selected>a b</option><option>c</option><option selected value="d">D</option></select>'
        '<textarea name="user[bio]">hi there</textarea><input name="off" value="x" disabled>'
        '<fieldset disabled><input name="fs" value="y"></fieldset><button name="go" value="1">go</button></form>',
        is_fragment=True,
    ).css_first("form")
    assert form_body(form, {"user[name]", "news", "tags[]", "user[bio]"}, overrides=[("user[name]", "Bo Bé")]) == (
        "user%5Bname%5D=Bo+B%C3%A9&user%5Brole%5D=member&news=on&user%5B_unused_plan%5D=&user%5Bplan%5D=pro"
        "&tags%5B%5D=a+b&tags%5B%5D=d&user%5Bbio%5D=hi+there"
    )
    assert unused_key("tags[]") == "_unused_tags[]"
    assert unused_key("a[b][c]") == "a[b][_unused_c]"


# ---------------------------------------------------------------- views for the end-to-end tests

SEEN: list = []  # (view, event, value) of every handle_event, in order
PIDS: dict = {}  # view class name -> the pid of its connected process


class Tracked(LiveView):
    async def mount(self, params, session, socket):
        if socket.connected:
            PIDS[type(self).__name__] = otp.current_pid()


COUNTER = compile_template(
    """<div>
  <h1>Count: <span id="count">{@count}</span></h1>
  <p id="flash">{@flash.get("info", "")}</p>
  <button id="inc" phx-click="inc" phx-value-by="1">+1</button>
  <button id="add" phx-click={JS().push("inc", value={"by": 5})}>+5</button>
  <a id="reset" phx-click="reset" phx-value-to="0">reset</a>
</div>""",
    namespace={"JS": JS},
)


class Counter(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(count=int(params.get("start", 0)), user=session.get("user"))
        socket.page_title("Counter")

    async def handle_event(self, event, value, socket):
        SEEN.append(("Counter", event, value))
        if event == "inc":
            socket.update("count", lambda n: n + int(value["by"]))
        elif event == "reset":
            socket.assign(count=int(value["to"]))
        elif event == "hook":
            socket.push_event("highlight", {"id": "count"})
            socket.page_title(f"Counted {socket.assigns['count']}")
            return {"count": socket.assigns["count"]}

    async def handle_info(self, message, socket):
        socket.assign(count=message)

    def render(self, assigns, changed):
        return COUNTER.render(assigns, changed)


SIGNUP = compile_template(
    """<form id="signup" phx-change="validate" phx-submit="save" phx-value-step="1">
  <input type="text" name="user[name]" value={@name} />
  <input type="hidden" name="user[role]" value="member" />
  <input type="checkbox" name="user[agree]" value="yes" />
  <select name="user[plan]"><option value="free">Free</option><option value="pro" selected>Pro</option></select>
  <input id="nick" type="text" name="nick" phx-change="nick" value="" />
  <p :if={@error} class="error">{@error}</p>
  <button type="submit">Save</button>
</form>
<p id="saved">{@saved}</p>"""
)


class SignUp(Tracked):
    async def mount(self, params, session, socket):
        socket.assign(name="", error="", saved="")

    async def handle_event(self, event, value, socket):
        SEEN.append(("SignUp", event, value))
        if event == "validate":
            name = value["user"]["name"]
            socket.assign(name=name, error="" if name else "name is required")
        elif event == "save":
            socket.assign(saved=f"{value['user']['name']} ({value['user']['plan']})")

    def render(self, assigns, changed):
        return SIGNUP.render(assigns, changed)


CARD = compile_template(
    """<div id={@id} class="card"><b>{@title}</b> <span class="likes">{@likes}</span>
  <button class="like" phx-click="like" phx-target={@myself}>like</button>
  <button class="like-b" phx-click="like" phx-target="#card-b">like b</button>
  <button class="parent" phx-click="like">parent</button>
</div>"""
)


class Card(LiveComponent):
    async def mount(self, socket):
        socket.assign(likes=0)

    async def handle_event(self, event, value, socket):
        SEEN.append((socket.assigns["id"], event, value))
        socket.update("likes", lambda n: n + 1)

    def render(self, assigns, changed):
        return CARD.render(assigns, changed)


CARDS = compile_template(
    """<div><p id="parent-likes">{@likes}</p>
  <section :for={id in @cards}><.live_component module={Card} id={id} title={id.upper()} /></section>
</div>""",
    namespace={"Card": Card},
)


class Cards(Tracked):
    async def mount(self, params, session, socket):
        socket.assign(likes=0, cards=["card-a", "card-b"])

    async def handle_event(self, event, value, socket):
        SEEN.append(("Cards", event, value))
        if event == "like":
            socket.update("likes", lambda n: n + 1)
        elif event == "cards":
            socket.assign(cards=value["cards"])

    def render(self, assigns, changed):
        return CARDS.render(assigns, changed)


ITEMS = compile_template(
    """<ul id="items" phx-update="stream"><li :for={(dom_id, item) in @streams.items} id={dom_id}>{item["name"]}</li></ul>"""
)


def stream_event(event: str, value: dict, socket) -> None:
    item = {"id": value.get("id"), "name": value.get("name")}
    if event == "insert":
        socket.stream_insert("items", item, at=value.get("at", -1), limit=value.get("limit"), update_only=value.get("update_only", False))
    elif event == "delete":
        socket.stream_delete_by_dom_id("items", f"items-{value['id']}")
    elif event == "reset":
        socket.stream("items", [item], reset=True)


class Items(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.stream("items", [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])

    async def handle_event(self, event, value, socket):
        stream_event(event, value, socket)

    async def handle_info(self, message, socket):
        socket.stream_insert("items", message, at=0)

    def render(self, assigns, changed):
        return ITEMS.render(assigns, changed)


PAGES = compile_template(
    """<p id="page">page {@page}</p>
<.link id="seven" patch="/pages?page=7">seven</.link>
<.link id="to-counter" navigate="/counter">counter</.link>
<.link id="home" href="/">home</.link>"""
)


class Pages(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)

    async def handle_params(self, params, uri, socket):
        socket.assign(page=params.get("page", "1"))

    async def handle_event(self, event, value, socket):
        if event == "next":
            socket.push_patch(f"/pages?page={int(socket.assigns['page']) + 1}")
        elif event == "go":
            socket.put_flash("info", "welcome")
            socket.push_navigate("/counter", replace=True)
        elif event == "admin":
            socket.push_navigate("/admin")
        elif event == "out":
            socket.redirect("https://example.com/")

    async def handle_info(self, message, socket):
        socket.push_patch(f"/pages?page={message}")

    def render(self, assigns, changed):
        return PAGES.render(assigns, changed)


class Admin(LiveView):
    def render(self, assigns, changed):
        return compile_template("<h1>admin</h1>").render(assigns, changed)


class Old(LiveView):
    async def mount(self, params, session, socket):
        socket.redirect("/counter")

    def render(self, assigns, changed):
        return compile_template("<p>old</p>").render(assigns, changed)


UPLOAD = compile_template(
    """<form id="upload-form" phx-change="validate" phx-submit="save">
  <.live_file_input upload={@uploads.avatar} />
  <p :for={entry in @uploads.avatar.entries} id={"entry-" + entry.ref}>{entry.client_name} {entry.progress}% {",".join(entry.errors)}</p>
  <button type="submit">Save</button>
</form>
<p id="saved">{@saved}</p>"""
)
PROGRESS: list = []  # (upload name, entry ref, progress) from the progress callback


def on_progress(name, entry, socket):
    PROGRESS.append((name, entry.ref, entry.progress))


class Avatar(Tracked):
    async def mount(self, params, session, socket):
        socket.assign(saved="")
        socket.allow_upload("avatar", accept=[".png"], max_entries=2, max_file_size=10, chunk_size=4, progress=on_progress)

    async def handle_event(self, event, value, socket):
        SEEN.append(("Avatar", event, value))
        if event == "save":
            saved = socket.consume_uploaded_entries("avatar", lambda path, entry: f"{entry.client_name}={path.read_bytes().decode()}")
            socket.assign(saved=",".join(saved))

    def render(self, assigns, changed):
        return UPLOAD.render(assigns, changed)


ROUTES = {
    "/counter": Counter, "/signup": SignUp, "/cards": Cards, "/items": Items, "/pages": Pages,
    "/old": Old, "/avatar": Avatar, "/admin": (Admin, "admin"),
}


async def start(pubsub: str = "live_testing") -> LiveRouter:
    SEEN.clear()
    PIDS.clear()
    PROGRESS.clear()
    await PubSub.start_link(pubsub)
    return LiveRouter(secret=SECRET, routes=ROUTES, pubsub=pubsub)


# ---------------------------------------------------------------- checklist 5: the join render is the dead render


@pytest.mark.parametrize("path", ["/counter?start=3", "/signup", "/cards", "/items", "/pages?page=2", "/avatar"])
async def test_the_join_render_equals_the_dead_render(path):
    router = await start()
    route, query = path.partition("?")[::2]
    response = await router.render(Request("GET", route, {}, {}, ("127.0.0.1", 1), b"", query))
    page = response.body.decode()
    view_id, token = re.search(r'<div id="([^"]+)" data-phx-main data-phx-session="([^"]+)"', page).groups()
    client = await connect(router.socket_cls, {"_csrf_token": sign(SECRET, "csrf", "a visitor")}, pubsub="live_testing")
    status, reply = await client.join(f"lv:{view_id}", {"url": f"http://localhost{path}", "params": {}, "session": token, "static": None})
    assert status == "ok"
    html, _ = RenderedTree(view_id, extract(reply["rendered"]).diff).to_html(component_attrs=False)
    # Each mount names its uploads afresh (as Phoenix's do): the one difference allowed.
    html, page = (re.sub(r"phx-upload-\d+-[0-9a-f]+", "UPLOAD-REF", text) for text in (html, page))
    assert re.search(r'data-phx-static="[^"]+">', page)
    assert f'">{html}</div>\n<script src="/phoenix.min.js">' in page


# ---------------------------------------------------------------- live(), clicks, elements


async def test_live_mounts_the_view_and_a_click_sends_the_client_s_payload():
    router = await start()
    view = await live(router, "/counter?start=3", session={"user": "ann"})
    assert '<span id="count">3</span>' in view.html
    assert view.url == "http://localhost/counter?start=3"
    html = await render_click(element(view, "#inc"))
    assert '<span id="count">4</span>' in html
    html = await render_click(element(view, "#add"), value={"extra": True})  # JS.push's value, then the test's
    assert '<span id="count">9</span>' in html
    assert '<span id="count">0</span>' in await render_click(element(view, "#reset"))
    assert '<span id="count">2</span>' in await render_click(view, "inc", {"by": 2})
    assert SEEN == [
        ("Counter", "inc", {"by": "1", "value": ""}),  # a <button>: phx-value-*, and its value ""
        ("Counter", "inc", {"value": "", "by": 5, "extra": True}),
        ("Counter", "reset", {"to": "0"}),  # an <a> has no value property
        ("Counter", "inc", {"by": 2}),
    ]


async def test_render_shows_what_handle_info_pushed_and_render_of_an_element_its_html():
    router = await start()
    view = await live(router, "/counter")
    otp.send(PIDS["Counter"], 42)
    assert '<span id="count">42</span>' in await render(view)
    assert await render(element(view, "#count")) == '<span id="count">42</span>'
    assert await render(element(view, "button", "+5")) == (
        '<button id="add" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;,&quot;value&quot;:{&quot;by&quot;:5}}]]">+5</button>'
    )


async def test_element_fails_clearly_on_no_match_or_several():
    router = await start()
    view = await live(router, "/counter")
    with pytest.raises(AssertionError, match=r"selector '#nope' did not return any element within:\n\n<div>"):
        await render_click(element(view, "#nope"))
    with pytest.raises(AssertionError, match="selector 'button' returned 2 elements and therefore cannot be the target"):
        await render_click(element(view, "button"))
    with pytest.raises(AssertionError, match=r"selector 'button' did not match text filter '-1', got:\n\n<button id=\"inc\""):
        await render(element(view, "button", "-1"))
    with pytest.raises(AssertionError, match="has no phx-click attribute and is not a link"):
        await render_click(element(view, "#count"))
    assert await has_element(element(view, "button", re.compile(r"^\+5$")))
    assert await has_element(view, "button")  # several: still there
    assert not await has_element(view, "#count", "7")
    with pytest.raises(TypeError, match="pass value="):
        await render_click(element(view, "#inc"), {"by": 9})


async def test_render_hook_the_hook_reply_push_events_and_the_title():
    router = await start()
    view = await live(router, "/counter?start=5")
    assert await page_title(view) == "Counter"
    await render_hook(view, "hook", {"from": "a hook"})
    assert view.reply == {"count": 5}
    assert await assert_push_event(view, "highlight", {"id": "count"}) == {"id": "count"}
    assert await page_title(view) == "Counted 5"
    assert SEEN == [("Counter", "hook", {"from": "a hook"})]
    with pytest.raises(AssertionError, match="expected .* to push event 'highlight'"):
        await assert_push_event(view, "highlight", timeout=0.05)


# ---------------------------------------------------------------- forms


async def test_render_change_sends_the_form_with_the_typed_value_and_unused_markers():
    router = await start()
    view = await live(router, "/signup")
    html = await render_change(element(view, "#signup"), value={"user": {"name": ""}})
    assert '<p class="error">name is required</p>' in html
    html = await render_change(element(view, "#signup"), value={"user": {"name": "Ann"}})
    assert 'class="error"' not in html
    assert '<input type="text" name="user[name]" value="Ann">' in html
    assert SEEN == [
        ("SignUp", "validate", {
            "user": {"name": "", "role": "member", "_unused_plan": "", "plan": "pro"},
            "_unused_nick": "", "nick": "", "step": "1", "_target": ["user", "name"],
        }),
        ("SignUp", "validate", {
            "user": {"name": "Ann", "role": "member", "_unused_plan": "", "plan": "pro"},
            "_unused_nick": "", "nick": "", "step": "1", "_target": ["user", "name"],
        }),
    ]


async def test_an_input_with_its_own_phx_change_sends_only_itself():
    router = await start()
    view = await live(router, "/signup")
    await render_change(element(view, "#nick"), value={"nick": "annie"})
    assert SEEN == [("SignUp", "nick", {"nick": "annie", "step": "1", "_target": ["nick"]})]


async def test_render_submit_sends_every_field_as_submitted():
    router = await start()
    view = await live(router, "/signup")
    await render_change(element(view, "#signup"), value={"user": {"name": "Ann"}})
    html = await render_submit(element(view, "#signup"), value={"user": {"plan": "free", "agree": "yes"}})
    assert '<p id="saved">Ann (free)</p>' in html
    assert SEEN[-1] == ("SignUp", "save", {"user": {"name": "Ann", "role": "member", "plan": "free", "agree": "yes"}, "nick": "", "step": "1"})


async def test_form_events_to_the_view_itself():
    router = await start()
    view = await live(router, "/signup")
    assert '<p class="error">name is required</p>' in await render_change(view, "validate", {"user": {"name": ""}})
    assert '<p id="saved">Bo (pro)</p>' in await render_submit(view, "save", {"user": {"name": "Bo", "plan": "pro"}})
    assert SEEN == [
        ("SignUp", "validate", {"user": {"name": ""}, "_target": ["user", "name"]}),
        ("SignUp", "save", {"user": {"name": "Bo", "plan": "pro"}}),
    ]


# ---------------------------------------------------------------- components


async def test_phx_target_sends_the_event_to_the_component_and_the_page_marks_component_roots():
    router = await start()
    view = await live(router, "/cards")
    assert f'<div data-phx-component="1" data-phx-view="{view.id}" id="card-a" class="card"><b>CARD-A</b>' in view.html
    await render_click(element(view, "#card-a button.like"))  # phx-target={@myself}
    await render_click(element(view, "#card-a button.like-b"))  # a selector: the component it is in
    html = await render_click(element(view, "#card-b button.parent"))  # no phx-target: the view
    assert await render(element(view, "#card-a span.likes")) == '<span class="likes">1</span>'
    assert await render(element(view, "#card-b span.likes")) == '<span class="likes">1</span>'
    assert '<p id="parent-likes">1</p>' in html
    assert SEEN == [("card-a", "like", {"value": ""}), ("card-b", "like", {"value": ""}), ("Cards", "like", {"value": ""})]


async def test_components_that_leave_the_page_are_destroyed_and_cids_are_never_reused():
    router = await start()
    view = await live(router, "/cards")
    await render_click(view, "cards", {"cards": ["card-a"]})
    # The client's two steps: cids_will_destroy, then cids_destroyed; each render syncs one reply further.
    await render(view)
    await render(view)
    assert sorted(view.tree.components) == [1]
    html = await render_click(view, "cards", {"cards": ["card-a", "card-b"]})
    assert f'<div data-phx-component="3" data-phx-view="{view.id}" id="card-b"' in html


async def test_a_new_root_template_resends_the_components():
    # When the view's root template changes, the client replaces its whole tree,
    # component table included (rendered.js mergeDiff): every component goes out in full.
    await PubSub.start_link("switch")
    router = LiveRouter(secret=SECRET, routes={"/switch": Switch}, pubsub="switch")
    view = await live(router, "/switch")
    assert '<section id="b"><div data-phx-component="1"' in await render_click(view, "switch")


SWITCH_A = compile_template('<div id="a"><.live_component module={Card} id="card-a" title={@which} /></div>', namespace={"Card": Card})
SWITCH_B = compile_template('<section id="b"><.live_component module={Card} id="card-a" title={@which} /></section>', namespace={"Card": Card})


class Switch(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(which="a")

    async def handle_event(self, event, value, socket):
        socket.assign(which="b")

    def render(self, assigns, changed):
        return (SWITCH_A if assigns["which"] == "a" else SWITCH_B).render(assigns, changed)


# ---------------------------------------------------------------- streams


def items(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<li id="items-(\d+)">([^<]*)</li>', html)


async def test_streams_keep_their_children_in_the_page_between_renders():
    router = await start()
    view = await live(router, "/items")
    assert view.html == '<ul id="items" phx-update="stream"><li id="items-1">a</li><li id="items-2">b</li></ul>'
    assert items(await render_click(view, "insert", {"id": 3, "name": "c"})) == [("1", "a"), ("2", "b"), ("3", "c")]
    assert items(await render_click(view, "insert", {"id": 4, "name": "d", "at": 0})) == [("4", "d"), ("1", "a"), ("2", "b"), ("3", "c")]
    assert items(await render_click(view, "insert", {"id": 5, "name": "e", "at": 1})) == [
        ("4", "d"), ("5", "e"), ("1", "a"), ("2", "b"), ("3", "c")]
    assert items(await render_click(view, "insert", {"id": 1, "name": "A"})) == [  # an update stays in place
        ("4", "d"), ("5", "e"), ("1", "A"), ("2", "b"), ("3", "c")]
    assert items(await render_click(view, "delete", {"id": 2})) == [("4", "d"), ("5", "e"), ("1", "A"), ("3", "c")]
    assert items(await render_click(view, "insert", {"id": 6, "name": "f", "at": 0, "limit": 3})) == [("6", "f"), ("4", "d"), ("5", "e")]
    assert items(await render_click(view, "insert", {"id": 7, "name": "g", "update_only": True})) == [("6", "f"), ("4", "d"), ("5", "e")]
    assert items(await render_click(view, "insert", {"id": 4, "name": "D", "update_only": True})) == [("6", "f"), ("4", "D"), ("5", "e")]
    otp.send(PIDS["Items"], {"id": 8, "name": "h"})
    assert items(await render(view)) == [("8", "h"), ("6", "f"), ("4", "D"), ("5", "e")]
    assert items(await render_click(view, "reset", {"id": 9, "name": "z"})) == [("9", "z")]


# ---------------------------------------------------------------- navigation


async def test_push_patch_from_an_event_and_from_handle_info_and_a_patch_link():
    router = await start()
    view = await live(router, "/pages")
    assert '<p id="page">page 2</p>' in await render_click(view, "next")
    assert await assert_patch(view) == "/pages?page=2"
    assert view.url == "http://localhost/pages?page=2"
    otp.send(PIDS["Pages"], 5)
    assert await assert_patch(view, "/pages?page=5") == "/pages?page=5"
    assert '<p id="page">page 5</p>' in await render(view)
    assert '<p id="page">page 7</p>' in await render_click(element(view, "#seven"))
    assert await assert_patch(view, "/pages?page=7") == "/pages?page=7"
    assert '<p id="page">page 3</p>' in await render_patch(view, "/pages?page=3")
    with pytest.raises(AssertionError, match="to patch to '/pages\\?page=9'; it patched to '/pages\\?page=3'"):
        await assert_patch(view, "/pages?page=9")
    with pytest.raises(AssertionError, match="to patch within 0.05 s; it did not"):
        await assert_patch(view, timeout=0.05)


async def test_push_navigate_returns_a_live_redirect_that_follows_on_the_same_socket_with_the_flash():
    router = await start()
    view = await live(router, "/pages")
    redirect = await render_click(view, "go")
    assert redirect == Redirect("live_redirect", "/counter", {"info": "welcome"}, replace=True)
    assert await assert_redirect(view, "/counter") == redirect
    with pytest.raises(AssertionError, match="no longer runs: it navigated to /counter"):
        await render_click(view, "next")
    counter = await follow_redirect(redirect)
    assert (counter.client, counter.id) == (view.client, view.id)  # same socket, same container
    assert '<p id="flash">welcome</p>' in counter.html
    assert '<span id="count">1</span>' in await render_click(element(counter, "#inc"))


async def test_links_navigate_and_redirect_without_a_server_round_trip():
    router = await start()
    view = await live(router, "/pages")
    assert await render_click(element(view, "#to-counter")) == Redirect("live_redirect", "/counter")
    assert await render_click(element(view, "#home")) == Redirect("redirect", "/")
    counter = await follow_redirect(await assert_redirect(view, "/counter"))
    assert '<span id="count">0</span>' in counter.html


async def test_a_redirect_out_of_the_live_session_or_the_site_is_a_full_page_load():
    router = await start()
    view = await live(router, "/pages")
    admin = await follow_redirect(await render_click(view, "admin"))  # refused on the socket: unauthorized
    assert admin.html == "<h1>admin</h1>"
    assert admin.client is not view.client
    view = await live(router, "/pages")
    redirect = await render_click(view, "out")
    assert redirect == Redirect("redirect", "https://example.com/")
    with pytest.raises(ValueError, match="no LiveView route of the router matches it"):
        await follow_redirect(redirect)


async def test_live_returns_the_mount_s_redirect():
    router = await start()
    redirect = await live(router, "/old")
    assert redirect == Redirect("redirect", "/counter")
    counter = await follow_redirect(redirect)
    assert '<span id="count">0</span>' in counter.html
    with pytest.raises(ValueError, match="no route of the router matches '/nowhere'"):
        await live(router, "/nowhere")


# ---------------------------------------------------------------- uploads


async def test_an_upload_in_two_halves_then_the_submit_consumes_it():
    router = await start()
    view = await live(router, "/avatar")
    avatar = file_input(view, "#upload-form", "avatar", [{"name": "a.png", "content": b"12345678"}])
    html = await render_upload(avatar, "a.png", 50)
    assert '<p id="entry-0">a.png 50% </p>' in html
    html = await render_upload(avatar, "a.png")
    assert '<p id="entry-0">a.png 100% </p>' in html
    assert 'data-phx-done-refs="0" data-phx-preflighted-refs="0"' in html
    html = await render_submit(element(view, "#upload-form"))
    assert '<p id="saved">a.png=12345678</p>' in html
    assert PROGRESS == [("avatar", "0", 50), ("avatar", "0", 100)]
    assert SEEN == [("Avatar", "validate", {"_target": ["avatar"]}), ("Avatar", "save", {})]


async def test_a_file_over_max_file_size_is_refused_at_the_preflight():
    router = await start()
    view = await live(router, "/avatar")
    avatar = file_input(view, "#upload-form", "avatar", [{"name": "big.png", "content": b"x" * 11, "type": "image/png"}])
    assert await render_upload(avatar, "big.png") == UploadError([("big.png", "too_large")])
    assert '<p id="entry-0">big.png 0% too_large</p>' in view.html
    assert PROGRESS == []


async def test_a_file_larger_than_it_said_is_stopped_by_the_upload_channel():
    router = await start()
    view = await live(router, "/avatar")
    # It said 7 bytes: its second chunk (4 + 4) goes past them. (A liar whose chunks end right
    # at the size it said finds the channel closed after them: the file is whole.)
    avatar = file_input(view, "#upload-form", "avatar", [{"name": "liar.png", "content": b"x" * 12, "size": 7}])
    assert await render_upload(avatar, "liar.png") == UploadError([("liar.png", "file_size_limit_exceeded")])
    assert '<p id="entry-0">liar.png 33% file_size_limit_exceeded</p>' in view.html
    assert PROGRESS == [("avatar", "0", 33), ("avatar", "0", 33)]  # the last: the error


# ---------------------------------------------------------------- against the real client, in Chromium

NODE_MODULES = Path(__file__).resolve().parent.parent / "js" / "node_modules"
SCRIPTS = {
    "/phoenix.min.js": NODE_MODULES / "phoenix" / "priv" / "static" / "phoenix.min.js",
    "/phoenix_live_view.min.js": NODE_MODULES / "phoenix_live_view" / "priv" / "static" / "phoenix_live_view.min.js",
}
PROBE_STEPS = [  # stream operations, clicked in the page
    ("insert", {"id": 3, "name": "c"}),
    ("insert", {"id": 4, "name": "d", "at": 0}),
    ("insert", {"id": 5, "name": "e", "at": 1}),
    ("insert", {"id": 1, "name": "A"}),
    ("delete", {"id": 2}),
    ("insert", {"id": 6, "name": "f", "at": 0, "limit": 3}),
    ("insert", {"id": 7, "name": "g", "update_only": True}),
    ("insert", {"id": 4, "name": "D", "update_only": True}),
    ("insert", {"id": 10, "name": "j", "at": 2}),
    ("insert", {"id": 11, "name": "k", "at": -1, "limit": -3}),
    ("reset", {"id": 9, "name": "z"}),
    ("insert", {"id": 12, "name": "l"}),
    ("insert", {"id": 13, "name": "m", "at": 1}),
    ("insert", {"id": 14, "name": "n", "at": 0, "limit": 2}),
]
PROBE = compile_template(
    """<p id="n">{@n}</p>
<ul id="items" phx-update="stream"><li id="empty">none</li><li :for={(dom_id, item) in @streams.items} id={dom_id}>{item["name"]}</li></ul>
<button :for={(i, (event, value)) in enumerate(steps, 1)} id={f"step-{i}"} phx-click={JS().push(event, value=value)}>{i}</button>
<form id="probe-form" phx-change="validate" phx-submit="save">
  <input id="name" type="text" name="user[name]" value={@name} />
  <input type="hidden" name="user[role]" value="member" />
  <input id="agree" type="checkbox" name="user[agree]" value="yes" checked={@agree} />
  <select name="user[plan]"><option value="free">Free</option><option value="pro" selected>Pro</option></select>
  <textarea name="user[bio]">hi</textarea>
  <button id="save" type="submit">Save</button>
</form>
<a id="tap-a" phx-click="tap" phx-value-x="1">a</a>
<ul><li id="tap-li" phx-click="tap">li</li></ul>
<button id="tap-button" phx-click="tap" phx-value-kind="b" value="v">b</button>""",
    namespace={"JS": JS, "steps": PROBE_STEPS, "enumerate": enumerate},
)


class Probe(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(n=0, name="", agree=False)
        socket.stream("items", [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])

    async def handle_event(self, event, value, socket):
        SEEN.append((event, value))
        socket.update("n", lambda n: n + 1)
        stream_event(event, value, socket)
        if event == "validate":
            socket.assign(name=value["user"]["name"], agree=value["user"].get("agree") == "yes")

    def render(self, assigns, changed):
        return PROBE.render(assigns, changed)


async def client_scripts(request: Request) -> Response:
    """The two official clients, from the npm packages the JS tests install."""
    script = SCRIPTS.get(request.path)
    if script is None or not script.is_file():
        return Response(404, {"content-type": "text/plain"}, b"not found")
    return Response(200, {"content-type": "text/javascript"}, script.read_bytes())


@pytest.mark.slow
async def test_the_page_and_the_payloads_match_the_real_client_in_chromium():
    # Each action as the browser does it, and as a test does it with web.testing.
    actions = [({"click": f"#step-{i}"}, lambda view, i=i: render_click(element(view, f"#step-{i}"))) for i in range(1, len(PROBE_STEPS) + 1)]
    actions += [
        ({"fill": ["#name", "Ann"]}, lambda view: render_change(element(view, "#probe-form"), value={"user": {"name": "Ann"}})),
        ({"check": "#agree"}, lambda view: render_change(element(view, "#probe-form"), value={"user": {"agree": "yes"}})),
        ({"click": "#save"}, lambda view: render_submit(element(view, "#probe-form"))),
        ({"click": "#tap-a"}, lambda view: render_click(element(view, "#tap-a"))),
        ({"click": "#tap-li"}, lambda view: render_click(element(view, "#tap-li"))),
        ({"click": "#tap-button"}, lambda view: render_click(element(view, "#tap-button"))),
    ]
    await PubSub.start_link("probe")
    router = LiveRouter(secret=SECRET, routes={"/probe": Probe}, pubsub="probe")
    endpoint = await Endpoint.start_link(router.http(client_scripts), host="127.0.0.1", port=0, websocket=[router.websocket()])
    host, port = Endpoint.address(endpoint)
    SEEN.clear()
    browser = await run_js("live_testing_probe.mjs", f"http://{host}:{port}/probe", orjson.dumps([js for js, _ in actions]).decode(),
                           chromium=True, package="playwright-core")
    browser_events, SEEN[:] = list(SEEN), []
    view = await live(router, "/probe")
    ours = [children_of_items(view.html)]
    for _, act in actions:
        ours.append(children_of_items(await act(view)))
    assert (browser["errors"], browser["pages"]) == ([], ours)
    assert browser_events == SEEN
    assert SEEN[-6:] == [  # what the payloads were, for the record
        ("validate", {"user": {"name": "Ann", "role": "member", "_unused_plan": "", "plan": "pro", "_unused_bio": "", "bio": "hi"},
                      "_target": ["user", "name"]}),
        ("validate", {"user": {"name": "Ann", "role": "member", "agree": "yes", "_unused_plan": "", "plan": "pro",
                               "_unused_bio": "", "bio": "hi"}, "_target": ["user", "agree"]}),
        ("save", {"user": {"name": "Ann", "role": "member", "agree": "yes", "plan": "pro", "bio": "hi"}}),
        ("tap", {"x": "1"}),
        ("tap", {"value": 0}),  # an <li>'s value property is a number
        ("tap", {"kind": "b", "value": "v"}),
    ]


def children_of_items(html: str) -> list[list[str]]:
    inner = re.search(r'<ul id="items" phx-update="stream">(.*?)</ul>', html).group(1)
    return [list(pair) for pair in re.findall(r'<li id="([^"]+)">([^<]*)</li>', inner)]


async def test_the_routers_http_handler_serves_the_official_client_scripts_from_the_package():
    from web._http import Request
    from web.live import LiveRouter

    handler = LiveRouter(secret="s" * 32, routes={}, pubsub="p").http()
    for path, npm in SCRIPTS.items():
        response = await handler(Request("GET", path, {}, {}, ("127.0.0.1", 1)))
        assert response.status == 200 and response.headers["content-type"] == "text/javascript; charset=utf-8"
        if npm.exists():  # the locked npm package's own build: what make vendor copied
            assert response.body == npm.read_bytes()
    assert (await handler(Request("GET", "/other.js", {}, {}, ("127.0.0.1", 1)))).status == 404
