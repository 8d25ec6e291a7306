"""LiveComponents on the wire (docs/protocol/liveview.md, "Components"; checklist 11, 12, 13): cids from 1, never
reused; the ``"c"`` table with ``"r": 1`` roots; ``phx-target`` events; send_update; destruction."""

from _live_wire import PIDS, Tracked, check_statics, event_reply, join, merge, open_client, push_event, render_html

import otp
import otp.testing
from web.live import LiveComponent, compile_template, send_update

CARD = compile_template(
    '<div id={@id} class="card"><b>{@title}</b> <span>{@likes}</span><button phx-click="like" phx-target={@myself}>like</button></div>'
)
CARD_S = ["<div", ' class="card"><b>', "</b> <span>", '</span><button phx-click="like"', ">like</button></div>"]
UPDATES: list = []  # (id, assigns) of every Card.update, in order


def card(id, title, likes, cid):
    return {"s": CARD_S, "0": f' id="{id}"', "1": title, "2": str(likes), "3": f' phx-target="{cid}"', "r": 1}


class Card(LiveComponent):
    async def mount(self, socket):
        socket.assign(likes=0)

    async def update(self, assigns, socket):
        UPDATES.append((assigns["id"], dict(assigns)))
        socket.assign(**assigns)

    async def handle_event(self, event, value, socket):
        if event == "like":
            socket.update("likes", lambda n: n + 1)
        elif event == "noop":
            pass
        elif event == "reply":
            socket.push_event("liked", {"id": socket.assigns["id"]})
            return {"likes": socket.assigns["likes"]}
        elif event == "crash":
            raise RuntimeError("the card crashed")

    def render(self, assigns, changed):
        return CARD.render(assigns, changed)


PAGE = compile_template(
    '<div><h1>{@title}</h1><p :for={id <- @cards}><.live_component module={Card} id={id} title={@title} /></p></div>',
    namespace={"Card": Card},
)
PAGE_S = ["<div><h1>", "</h1>", "</div>"]


class Cards(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(title="T", cards=["a", "b"])

    async def handle_event(self, event, value, socket):
        if event == "title":
            socket.assign(title=value["title"])
        elif event == "cards":
            socket.assign(cards=value["cards"])
        elif event == "send_update":
            send_update(Card, value["id"], title=value["title"])
        elif event == "crash":
            raise RuntimeError("the view crashed")

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


async def cards_client():
    UPDATES.clear()
    router, client = await open_client({"/cards": Cards})
    return client


def cards_diff(*cids):
    return {"k": {**{str(i): {"0": cid} for i, cid in enumerate(cids)}, "kc": len(cids)}}


async def test_the_join_render_has_cids_from_1_and_a_c_table_with_root_flags():
    client = await cards_client()
    rendered = (await join(client, "phx-c", "/cards"))["rendered"]
    assert rendered == {
        "s": PAGE_S,
        "0": "T",
        "1": {"s": ["<p>", "</p>"], **cards_diff(1, 2)},
        "r": 1,
        "c": {"1": card("a", "T", 0, 1), "2": card("b", "T", 0, 2)},
    }
    check_statics(rendered)
    assert render_html(rendered, rendered["c"]) == (
        '<div><h1>T</h1><p><div id="a" class="card"><b>T</b> <span>0</span><button phx-click="like" phx-target="1">like</button></div></p>'
        '<p><div id="b" class="card"><b>T</b> <span>0</span><button phx-click="like" phx-target="2">like</button></div></p></div>'
    )


async def test_a_targeted_event_goes_to_the_component_and_replies_with_its_diff_only():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    assert await event_reply(client, "phx-c", "like", {"value": ""}, cid=2) == {"diff": {"c": {"2": {"2": "1"}}}}
    assert await event_reply(client, "phx-c", "like", {}, cid=2) == {"diff": {"c": {"2": {"2": "2"}}}}
    assert await event_reply(client, "phx-c", "noop", {}, cid=1) == {}


async def test_a_component_s_reply_and_events_ride_in_the_view_diff():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    await event_reply(client, "phx-c", "like", {}, cid=1)
    assert await event_reply(client, "phx-c", "reply", {}, type="hook", cid=1) == {
        "diff": {"r": {"likes": 1}, "e": [["liked", {"id": "a"}]]}
    }


async def test_a_view_change_updates_the_components_that_read_it():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    UPDATES.clear()
    assert await event_reply(client, "phx-c", "title", {"title": "U"}) == {
        "diff": {"0": "U", "c": {"1": {"1": "U"}, "2": {"1": "U"}}}
    }
    assert [id for id, _ in UPDATES] == ["a", "b"]
    # The same value again: the view's render skips the components entirely.
    UPDATES.clear()
    assert await event_reply(client, "phx-c", "title", {"title": "U"}) == {}
    assert UPDATES == []


async def test_new_components_get_new_cids_and_a_deleted_component_s_cid_is_never_reused():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    assert await event_reply(client, "phx-c", "cards", {"cards": ["b"]}) == {"diff": {"1": cards_diff(2)}}
    assert await client.assert_reply(client.push("lv:phx-c", "cids_will_destroy", {"cids": [1]}), "ok", {})
    assert await client.assert_reply(client.push("lv:phx-c", "cids_destroyed", {"cids": [1]}), "ok", {"cids": [1]})
    # "a" again is a new component: a new cid (3, not 1), mounted afresh, rendered in full.
    assert await event_reply(client, "phx-c", "cards", {"cards": ["b", "a", "c"]}) == {
        "diff": {"1": {"k": {"1": {"0": 3}, "2": {"0": 4}, "kc": 3}}, "c": {"3": card("a", "T", 0, 3), "4": card("c", "T", 0, 4)}}
    }


async def test_cids_destroyed_deletes_only_what_was_not_rendered_again_meanwhile():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    await event_reply(client, "phx-c", "like", {}, cid=1)
    await event_reply(client, "phx-c", "cards", {"cards": []})
    await client.assert_reply(client.push("lv:phx-c", "cids_will_destroy", {"cids": [1, 2]}), "ok", {})
    # "a" comes back before the client confirmed: it is revived and sent whole (the client dropped it),
    # with its state kept (likes 1).
    assert await event_reply(client, "phx-c", "cards", {"cards": ["a"]}) == {
        "diff": {"1": cards_diff(1), "c": {"1": card("a", "T", 1, 1)}}
    }
    await client.assert_reply(client.push("lv:phx-c", "cids_destroyed", {"cids": [1, 2]}), "ok", {"cids": [2]})
    # 1 lives on and answers events; 2 is gone: an event for it is answered with nothing.
    assert await event_reply(client, "phx-c", "like", {}, cid=1) == {"diff": {"c": {"1": {"2": "2"}}}}
    assert await event_reply(client, "phx-c", "like", {}, cid=2) == {}


async def test_cids_destroyed_without_will_destroy_or_for_unknown_cids_deletes_nothing():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    await client.assert_reply(client.push("lv:phx-c", "cids_destroyed", {"cids": [1, 99]}), "ok", {"cids": []})
    await client.assert_reply(client.push("lv:phx-c", "cids_will_destroy", {"cids": [99]}), "ok", {})
    assert await event_reply(client, "phx-c", "like", {}, cid=1) == {"diff": {"c": {"1": {"2": "1"}}}}


async def test_send_update_from_the_view_re_renders_just_that_component():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    # The event itself changes nothing; the update arrives as a message, then a diff push.
    assert await event_reply(client, "phx-c", "send_update", {"id": "b", "title": "X"}) == {}
    await client.assert_push("lv:phx-c", "diff", {"c": {"2": {"1": "X"}}})


async def test_send_update_from_another_process():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    send_update(Card, "a", pid=PIDS["phx-c"], likes=5)
    await client.assert_push("lv:phx-c", "diff", {"c": {"1": {"2": "5"}}})
    assert UPDATES[-1] == ("a", {"id": "a", "likes": 5})
    # Unknown component: ignored; the view still works.
    send_update(Card, "nope", pid=PIDS["phx-c"], likes=1)
    assert await event_reply(client, "phx-c", "like", {}, cid=1) == {"diff": {"c": {"1": {"2": "6"}}}}


async def test_the_merged_render_matches_the_state_after_a_series_of_diffs():
    client = await cards_client()
    tree = (await join(client, "phx-c", "/cards"))["rendered"]
    components = tree.pop("c")
    for event, value, cid in [("like", {}, 2), ("title", {"title": "V"}, None), ("cards", {"cards": ["b", "d"]}, None)]:
        diff = (await event_reply(client, "phx-c", event, value, cid=cid))["diff"]
        check_statics(diff)
        for key, change in diff.pop("c", {}).items():
            components[key] = merge(components.get(key, {}), change)
        tree = merge(tree, diff)
    assert render_html(tree, components) == (
        '<div><h1>V</h1><p><div id="b" class="card"><b>V</b> <span>1</span><button phx-click="like" phx-target="2">like</button></div></p>'
        '<p><div id="d" class="card"><b>V</b> <span>0</span><button phx-click="like" phx-target="3">like</button></div></p></div>'
    )


# ---------------------------------------------------------------- nesting, root rule


INNER = compile_template("<i>{@n}</i>")


class Inner(LiveComponent):
    def render(self, assigns, changed):
        return INNER.render(assigns, changed)


OUTER = compile_template('<section><.live_component module={Inner} id="in" n={@n} /></section>', namespace={"Inner": Inner})


class Outer(LiveComponent):
    async def handle_event(self, event, value, socket):
        socket.update("n", lambda n: n + 1)

    def render(self, assigns, changed):
        return OUTER.render(assigns, changed)


NEST = compile_template('<div><.live_component module={Outer} id="out" n={0} /></div>', namespace={"Outer": Outer})


class Nest(Tracked):
    def render(self, assigns, changed):
        return NEST.render(assigns, changed)


async def test_a_component_inside_a_component_gets_the_next_cid_and_both_are_in_c():
    router, client = await open_client({"/nest": Nest})
    rendered = (await join(client, "phx-n", "/nest"))["rendered"]
    assert rendered == {
        "s": ["<div>", "</div>"],
        "0": 1,
        "r": 1,
        "c": {"1": {"s": ["<section>", "</section>"], "0": 2, "r": 1}, "2": {"s": ["<i>", "</i>"], "0": "0", "r": 1}},
    }
    # The outer component's event updates the inner one through its render.
    assert await event_reply(client, "phx-n", "inc", {}, cid=1) == {"diff": {"c": {"2": {"0": "1"}}}}


TWO_ROOTS = compile_template("<b>one</b><b>two</b>")


class TwoRoots(LiveComponent):
    def render(self, assigns, changed):
        return TWO_ROOTS.render(assigns, changed)


BAD = compile_template('<div><.live_component :if={@bad} module={TwoRoots} id="x" /></div>', namespace={"TwoRoots": TwoRoots})


class BadHost(Tracked):
    async def mount(self, params, session, socket):
        socket.assign(bad=False)

    async def handle_event(self, event, value, socket):
        socket.assign(bad=True)

    def render(self, assigns, changed):
        return BAD.render(assigns, changed)


async def test_a_component_without_a_single_root_element_crashes_its_view():
    router, client = await open_client({"/bad": BadHost})
    await join(client, "phx-b", "/bad")
    with otp.testing.capture_crash_reports() as reports:
        push_event(client, "phx-b", "go")
        await client.assert_push("lv:phx-b", "phx_error", {"reason": "channel_crash"})
    assert "exactly one root" in reports[0].getMessage()


# ---------------------------------------------------------------- crashes


async def test_a_crash_in_a_component_s_handle_event_is_phx_error_and_other_views_keep_working():
    client = await cards_client()
    await join(client, "phx-c", "/cards")
    await join(client, "phx-d", "/cards")
    with otp.testing.capture_crash_reports() as reports:
        push_event(client, "phx-c", "crash", cid=1)
        await client.assert_push("lv:phx-c", "phx_error", {"reason": "channel_crash"})
    message = reports[0].getMessage()
    assert "the card crashed" in message
    assert "view: Cards" in message and "event: crash" in message and "component: Card id='a' cid=1" in message
    # The socket and the other view are unaffected; the crashed one rejoins afresh.
    assert await event_reply(client, "phx-d", "like", {}, cid=1) == {"diff": {"c": {"1": {"2": "1"}}}}
    rendered = (await join(client, "phx-c", "/cards", params={"_mounts": 1}))["rendered"]
    assert sorted(rendered["c"]) == ["1", "2"]  # a fresh process: cids start at 1 again
