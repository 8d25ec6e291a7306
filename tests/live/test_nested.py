"""Nested LiveViews on the wire (docs/protocol/liveview.md, "Nested views"): live_render on the dead render and
once connected, the child's own join and process, its end with its parent, sticky views across live navigation,
and the join reply's container."""

import re

import pytest
from _live_wire import PIDS, SECRET, Tracked, event_reply, join, join_payload, open_client, render_html

import otp
from otp import Down, Shutdown
from otp.testing import capture_crash_reports
from web._http import Request
from web.live import LiveRoute, LiveRouter, compile_template, live_render
from web.live._nested import INCARNATION
from web.live._server import SESSION_SALT
from web.token import sign, verify

MOUNTS: list = []  # (view id, params, session, parent_id) of every connected child mount

CLOCK = compile_template('<p id="clock-face">{@tz}: {@ticks}</p>')


class Clock(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        if socket.connected:
            MOUNTS.append((socket.id, params, session, socket.parent_id))
        socket.assign(tz=session.get("tz", "?"), ticks=0)

    async def handle_event(self, event, value, socket):
        if event == "tick":
            socket.update("ticks", lambda n: n + 1)
        elif event == "crash":
            raise RuntimeError("the clock broke")
        elif event == "patch":
            socket.push_patch("/parent?tab=clock")
        elif event == "go":
            socket.push_navigate("/other")

    def render(self, assigns, changed):
        return CLOCK.render(assigns, changed)


PLAYER = compile_template('<audio id="player-state">{@track}</audio>')


class Player(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(track="none")

    async def handle_event(self, event, value, socket):
        if event == "play":
            socket.assign(track=value["track"])
        elif event == "go":
            socket.push_navigate("/other")

    def render(self, assigns, changed):
        return PLAYER.render(assigns, changed)


PARENT = compile_template(
    '<main><h1>{@title} {@tab}</h1>{live_render(Clock, id="clock", session={"tz": "UTC"})}'
    '{live_render(Player, id="player", sticky=True)}</main>',
    namespace={"live_render": live_render, "Clock": Clock, "Player": Player},
)


class Parent(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(title="Parent", tab="")

    async def handle_params(self, params, url, socket):
        socket.assign(tab=params.get("tab", ""))

    async def handle_event(self, event, value, socket):
        if event == "rename":
            socket.assign(title=value["title"])
        elif event == "go":
            socket.push_navigate("/other")

    def render(self, assigns, changed):
        return PARENT.render(assigns, changed)


OTHER = compile_template(
    '<section>other{live_render(Player, id="player", sticky=True)}</section>',
    namespace={"live_render": live_render, "Player": Player},
)


class Other(Tracked):
    def render(self, assigns, changed):
        return OTHER.render(assigns, changed)


ROUTES = {"/parent": Parent, "/other": Other, "/wide": LiveRoute(Other, container=("section", {"class": "wide"}))}


async def dead_render(router, path: str) -> str:
    response = await router.render(Request("GET", path, {}, {"host": "x"}, ("127.0.0.1", 1), b"", ""), session={"user": "ann"})
    assert response.status == 200, response
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def attributes(html: str, element_id: str) -> dict[str, str]:
    """The attributes of the element with ``id`` (a bare attribute is "")."""
    tag = re.search(rf'<\w+ id="{element_id}"([^>]*)>', html)
    assert tag, html
    return {name: value for name, value in re.findall(r'([\w-]+)(?:="([^"]*)")?', tag.group(1))}


async def joined_parent(client, **options) -> dict:
    """Join the parent at /parent and return its render's HTML pieces (the child containers)."""
    response = await join(client, "phx-p", "/parent", session={"user": "ann"}, **options)
    return response["rendered"]


def child_payload(rendered: dict, child_id: str, *, sticky: bool = False) -> dict:
    """The join payload the client sends for a child: its container's session, no URL."""
    token = attributes(render_html(rendered), child_id)["data-phx-session"]
    return {"params": {"_csrf_token": "t", "_mounts": 0, "_mount_attempts": 0}, "session": token, "static": None, "sticky": sticky}


# ---------------------------------------------------------------- the dead render


async def test_the_dead_render_nests_each_child_in_a_container_naming_its_parent_or_sticky():
    router = LiveRouter(secret=SECRET, routes=ROUTES, pubsub="unused")
    html = await dead_render(router, "/parent")
    main = re.search(r'<div id="(phx-[\w-]+)" data-phx-main', html).group(1)
    clock = attributes(html, "clock")
    assert clock["data-phx-session"] == ""  # joined once the parent's connected render gives it one
    assert clock["data-phx-parent-id"] == main
    assert verify(SECRET, "liveview static", clock["data-phx-static"]) == {"id": "clock", "flash": {}}
    assert '<div id="clock"' in html and '><p id="clock-face">UTC: 0</p></div>' in html
    player = attributes(html, "player")
    assert "data-phx-parent-id" not in player and player["data-phx-sticky"] == ""
    session = verify(SECRET, SESSION_SALT, player["data-phx-session"])
    assert session == {
        "id": "player", "view": "test_nested:Player", "live_session": "default", "session": {"user": "ann"}, "sticky": True,
    }  # a sticky child is a root to the client: joined at once, with no parent to name
    assert '><audio id="player-state">none</audio></div></main>' in html


async def test_a_child_that_redirects_on_the_dead_render_redirects_the_page():
    class Gate(Tracked):
        async def mount(self, params, session, socket):
            socket.redirect("/login")

        def render(self, assigns, changed):
            return CLOCK.render({"tz": "", "ticks": 0})

    page = compile_template('<main>{live_render(Gate, id="gate")}</main>', namespace={"live_render": live_render, "Gate": Gate})

    class Host(Tracked):
        def render(self, assigns, changed):
            return page.render(assigns, changed)

    router = LiveRouter(secret=SECRET, routes={"/host": Host}, pubsub="unused")
    response = await router.render(Request("GET", "/host", {}, {}, ("127.0.0.1", 1), b"", ""))
    assert (response.status, response.headers["location"]) == (302, "/login")


# ---------------------------------------------------------------- the connected parent and its child


async def test_the_parent_s_render_holds_the_child_s_empty_container_with_a_session_naming_it():
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    clock = attributes(render_html(rendered), "clock")
    assert clock["data-phx-parent-id"] == "phx-p" and clock["data-phx-static"] == ""
    session = verify(SECRET, SESSION_SALT, clock["data-phx-session"])
    parent = PIDS["phx-p"]
    assert session == {
        "id": "clock", "view": "test_nested:Clock", "live_session": "default", "session": {"user": "ann", "tz": "UTC"},
        "sticky": False, "parent": {"id": "phx-p", "pid": parent.number, "root": parent.number, "run": INCARNATION},
    }
    assert rendered["2"] == {"s": [rendered["2"]["s"][0]]} and rendered["2"]["s"][0].endswith("></div>")
    # (empty, and no slot: the child's own join renders it, the parent's re-renders leave it)


async def test_a_child_joins_on_its_own_topic_with_no_url_and_mounts_in_its_own_process():
    MOUNTS.clear()
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    status, response = await client.join("lv:clock", child_payload(rendered, "clock"))
    assert (status, response) == (
        "ok", {"rendered": {"s": ['<p id="clock-face">', ": ", "</p>"], "0": "UTC", "1": "0", "r": 1}, "liveview_version": "1.2.12"}
    )
    assert MOUNTS == [("clock", {}, {"user": "ann", "tz": "UTC"}, "phx-p")]  # no URL: no params; its parent's id
    assert PIDS["clock"] != PIDS["phx-p"]
    # Its events are its own: the parent sees none of them.
    assert await event_reply(client, "clock", "tick") == {"diff": {"1": "1"}}
    assert await event_reply(client, "phx-p", "rename", {"title": "Home"}) == {"diff": {"0": "Home"}}


async def test_a_parent_re_render_leaves_the_child_s_container_alone():
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    await client.join("lv:clock", child_payload(rendered, "clock"))
    child = PIDS["clock"]
    diff = (await event_reply(client, "phx-p", "rename", {"title": "Again"}))["diff"]
    assert diff == {"0": "Again"}  # the containers (slots 2 and 3) are not sent again
    assert otp.is_alive(child)


async def test_the_parent_s_end_ends_the_child_which_the_client_hears_as_phx_close():
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    await client.join("lv:clock", child_payload(rendered, "clock"))
    child = PIDS["clock"]
    ref = otp.monitor(child)
    await client.leave("lv:phx-p")
    down = await otp.receive(lambda m: isinstance(m, Down) and m.ref == ref)
    assert down.reason == Shutdown("parent_exited")
    await client.assert_push("lv:clock", "phx_close", {})


async def test_a_child_crash_is_the_child_s_alone_and_it_joins_again():
    MOUNTS.clear()
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    payload = child_payload(rendered, "clock")
    await client.join("lv:clock", payload)
    parent = PIDS["phx-p"]
    with capture_crash_reports() as reports:
        client.push("lv:clock", "event", {"type": "click", "event": "crash", "value": {}})
        await client.assert_push("lv:clock", "phx_error", {"reason": "channel_crash"})
    assert len(reports) == 1 and str(reports[0].exc_info[1]) == "the clock broke"
    assert otp.is_alive(parent)
    assert await event_reply(client, "phx-p", "rename", {"title": "Still here"}) == {"diff": {"0": "Still here"}}
    status, response = await client.join("lv:clock", {**payload, "params": {**payload["params"], "_mounts": 1}})
    assert status == "ok" and response["rendered"]["1"] == "0"  # a fresh mount
    assert len(MOUNTS) == 2


async def test_a_child_s_push_patch_patches_the_page_s_root_view():
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    await client.join("lv:clock", child_payload(rendered, "clock"))
    assert await event_reply(client, "clock", "patch") == {}
    await client.assert_push("lv:phx-p", "live_patch", {"to": "/parent?tab=clock", "kind": "push"})
    await client.assert_push("lv:phx-p", "diff", {"1": "clock"})  # the root's handle_params ran


async def test_a_child_s_push_navigate_navigates_and_ends_it():
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    await client.join("lv:clock", child_payload(rendered, "clock"))
    assert await event_reply(client, "clock", "go") == {"live_redirect": {"to": "/other", "kind": "push"}}
    await client.assert_push("lv:clock", "phx_close", {})


# ---------------------------------------------------------------- refused joins


async def test_a_child_join_whose_parent_is_gone_or_of_another_run_or_view_is_stale():
    router, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    payload = child_payload(rendered, "clock")
    session = verify(SECRET, SESSION_SALT, payload["session"])
    for changed in (
        {"parent": {**session["parent"], "run": "an earlier run"}},  # pid numbers start again after a restart
        {"parent": {**session["parent"], "pid": otp.spawn(lambda: None).number}},  # no longer alive
        {"view": "test_nested:NoSuchView"},  # no render of this server placed it
    ):
        forged = {**payload, "session": sign(SECRET, SESSION_SALT, {**session, **changed})}
        assert await client.join("lv:clock", forged) == ("error", {"reason": "stale"})
    await client.leave("lv:phx-p")
    assert await client.join("lv:clock", payload) == ("error", {"reason": "stale"})  # its parent left


def test_live_render_outside_a_render_or_with_a_wrong_argument_says_what_to_do():
    with pytest.raises(RuntimeError, match="while a LiveView renders"):
        live_render(Clock, id="clock")
    bad = compile_template("<p>{live_render(@view, id=@id, session=@session)}</p>", namespace={"live_render": live_render})
    router = LiveRouter(secret=SECRET, routes={}, pubsub="unused")
    from web.live._nested import Nest, current_nest

    token = current_nest.set(Nest(router, "phx-p", {}, "default"))
    try:
        for view, id, session, error in [
            (dict, "x", None, "needs a LiveView subclass; got <class 'dict'>"),
            (Clock, "", None, "needs an id: a non-empty string unique on the page; got ''"),
            (Clock, "x", {1: "a"}, "session must be a dict with string keys"),
        ]:
            with pytest.raises(Exception, match=re.escape(error)):
                bad.render({"view": view, "id": id, "session": session})
    finally:
        current_nest.reset(token)


# ---------------------------------------------------------------- sticky views


async def test_a_sticky_child_survives_its_page_s_live_navigation():
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    assert (await client.join("lv:player", child_payload(rendered, "player", sticky=True)))[0] == "ok"
    player = PIDS["player"]
    await event_reply(client, "player", "play", {"track": "intro"})
    # The page navigates live: its main view ends, the sticky one plays on.
    assert await event_reply(client, "phx-p", "go") == {"live_redirect": {"to": "/other", "kind": "push"}}
    await client.assert_push("lv:phx-p", "phx_close", {})
    navigate = join_payload("phx-p", "/parent", session={"user": "ann"})
    navigate["redirect"] = "http://x/other"
    del navigate["url"]
    status, response = await client.join("lv:phx-p", navigate)
    assert status == "ok" and 'id="player"' in render_html(response["rendered"])
    assert PIDS["player"] == player and otp.is_alive(player)
    assert await event_reply(client, "player", "play", {"track": "outro"}) == {"diff": {"0": "outro"}}


async def test_a_sticky_view_s_own_live_navigation_leaves_it_running():
    _, client = await open_client(ROUTES)
    rendered = await joined_parent(client)
    await client.join("lv:player", child_payload(rendered, "player", sticky=True))
    assert await event_reply(client, "player", "go") == {"live_redirect": {"to": "/other", "kind": "push"}}
    assert await event_reply(client, "player", "play", {"track": "next"}) == {"diff": {"0": "next"}}


# ---------------------------------------------------------------- containers


async def test_a_route_s_container_is_its_dead_render_s_element_and_a_live_navigation_s_join_reply():
    router = LiveRouter(secret=SECRET, routes=ROUTES, pubsub="unused")
    html = await dead_render(router, "/wide")
    assert re.search(r'<section id="phx-[\w-]+" data-phx-main data-phx-session="[^"]+" data-phx-static="[^"]+" class="wide">', html)
    _, client = await open_client(ROUTES)
    await joined_parent(client)
    await client.leave("lv:phx-p")
    for to, container in [("/wide", ["section", {"class": "wide"}]), ("/other", ["div", {}])]:
        navigate = join_payload("phx-p", "/parent", session={"user": "ann"})
        navigate["redirect"] = f"http://x{to}"
        del navigate["url"]
        status, response = await client.join("lv:phx-p", navigate)
        assert (status, response["container"]) == ("ok", container)
        await client.leave("lv:phx-p")


# ---------------------------------------------------------------- web.testing


async def test_web_testing_finds_and_joins_the_children_as_the_client_does():
    from web.testing import find_live_child, live, live_children, render, render_hook

    router = LiveRouter(secret=SECRET, routes=ROUTES, pubsub="nested_testing", session=lambda request: {"user": "ann"})
    await otp.PubSub.start_link("nested_testing")
    view = await live(router, "/parent")
    assert '<div id="clock"' in view.html and 'data-phx-parent-id="' + view.id + '"' in view.html
    clock = await find_live_child(view, "clock")
    assert clock.html == '<p id="clock-face">UTC: 0</p>'
    assert await find_live_child(view, "clock") is clock  # joined once
    assert [child.id for child in await live_children(view)] == ["clock"]  # (the sticky player has no parent)
    player = await find_live_child(view, "player")
    assert player.html == '<audio id="player-state">none</audio>'
    assert await render_hook(clock, "tick", {}) == '<p id="clock-face">UTC: 1</p>'  # its events are its own
    assert "<h1>Parent </h1>" in await render(view)
    with pytest.raises(AssertionError, match=r"has no nested view 'radio'; the nested views on the page: \['clock', 'player'\]$"):
        await find_live_child(view, "radio")


async def test_one_id_placed_twice_in_a_render_is_refused():
    twice = compile_template(
        '<main>{live_render(Clock, id="clock")}{live_render(Clock, id="clock")}</main>',
        namespace={"live_render": live_render, "Clock": Clock},
    )

    class Twice(Tracked):
        def render(self, assigns, changed):
            return twice.render(assigns, changed)

    router = LiveRouter(secret=SECRET, routes={"/twice": Twice}, pubsub="unused")
    with pytest.raises(Exception, match="live_render: the id 'clock' is placed twice in one render; each nested view needs its own id"):
        await router.render(Request("GET", "/twice", {}, {}, ("127.0.0.1", 1), b"", ""))


async def test_a_live_patch_sent_to_a_child_is_refused_and_the_child_goes_on():
    # A child has no URL (only the page's main view gets live_patch from the official client).
    routes = {**ROUTES, "/clock": Clock}  # (even when its view is also routed)
    _, client = await open_client(routes)
    rendered = await joined_parent(client)
    await client.join("lv:clock", child_payload(rendered, "clock"))
    ref = client.push("lv:clock", "live_patch", {"url": "http://x/clock"})
    await client.assert_reply(ref, "error", {"reason": "a nested view has no URL: live_patch is for the page's main view"})
    assert await event_reply(client, "clock", "tick") == {"diff": {"1": "1"}}
