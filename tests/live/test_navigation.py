"""Navigation on the wire (docs/protocol/liveview.md, "Navigation"; checklist 18–21): push_patch,
push_navigate and redirect from mount, events and messages; client live_patch; live navigation
joins within and across live sessions; flash; on_mount hooks; temporary assigns."""

from _live_wire import PIDS, SECRET, Tracked, event_reply, join, join_payload, open_client, push_event

import otp
import otp.testing
from web._http import Request
from web.live import HALT, LiveComponent, compile_template
from web.live._server import FLASH_SALT
from web.token import verify

PAGE = compile_template("<div><p>{@flash.get('info', '')}</p><b>page {@page}</b></div>")


class Items(Tracked):
    async def handle_params(self, params, uri, socket):
        socket.assign(page=params.get("page", "1"))

    async def handle_event(self, event, value, socket):
        if event == "next":
            socket.push_patch(f"/items?page={int(socket.assigns['page']) + 1}", replace=value.get("replace", False))
        elif event == "go":
            socket.push_navigate(value["to"], replace=value.get("replace", False))
        elif event == "out":
            socket.redirect(value["to"])
        elif event == "flash":
            socket.put_flash("info", value["message"])
        elif event == "flash_and_go":
            socket.put_flash("info", "saved")
            socket.push_navigate("/other")
        elif event == "flash_and_out":
            socket.put_flash("info", "bye")
            socket.redirect("/login")
        elif event == "event_and_go":
            socket.push_event("leaving", {"n": 1})
            socket.push_navigate("/other")
        elif event == "patch_away":
            socket.push_patch("/other")
        elif event == "crash":
            raise RuntimeError("handle_event crashed")

    async def handle_info(self, message, socket):
        if message == "go":
            socket.push_navigate("/other")
        elif message == "out":
            socket.redirect("https://example.com/")
        elif message == "patch":
            socket.push_patch("/items?page=7")
        elif message == "crash":
            raise RuntimeError("handle_info crashed")

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


OTHER = compile_template("<section><p>{@flash.get('info', '')}</p>other</section>")


class Other(Tracked):
    async def handle_event(self, event, value, socket):
        if event == "clear":
            socket.clear_flash()

    def render(self, assigns, changed):
        return OTHER.render(assigns, changed)


class Admin(Tracked):
    def render(self, assigns, changed):
        return OTHER.render(assigns, changed)


class PatchOnMount(Tracked):
    async def handle_params(self, params, uri, socket):
        if "page" not in params:
            socket.push_patch("/canonical?page=1", replace=True)
        socket.assign(page=params.get("page", "none"))

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


class NavigateOnMount(Tracked):
    async def mount(self, params, session, socket):
        socket.put_flash("info", "moved")
        socket.push_event("bye", {})
        socket.push_navigate("/other")

    def render(self, assigns, changed):
        return OTHER.render(assigns, changed)


class RedirectOnMount(Tracked):
    async def mount(self, params, session, socket):
        socket.redirect("/login")

    def render(self, assigns, changed):
        return OTHER.render(assigns, changed)


class Looping(Tracked):
    async def handle_params(self, params, uri, socket):
        socket.push_patch(f"/loop?n={int(params.get('n', 0)) + 1}")
        socket.assign(page=params.get("n", "0"))

    async def handle_event(self, event, value, socket):
        socket.push_patch("/loop?n=100")

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


# ---------------------------------------------------------------- on_mount hooks


async def require_user(params, session, socket):
    if session.get("user") is None:
        socket.redirect("/login")
        return HALT
    socket.assign(user=session["user"])


async def require_admin(params, session, socket):
    if session.get("user") != "root":
        socket.put_flash("error", "admins only")
        socket.push_navigate("/other")
        return HALT


async def halt_silently(params, session, socket):
    return HALT


MOUNTED: list = []


class Guarded(Tracked):
    on_mount = [require_user]

    async def mount(self, params, session, socket):
        MOUNTED.append("Guarded")
        socket.assign(page=socket.assigns["user"])

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


class AdminOnly(Guarded):
    on_mount = [require_user, require_admin]


class Silent(Guarded):
    on_mount = [halt_silently]


ROUTES = {
    "/items": Items, "/other": Other, "/admin": (Admin, "admin"), "/canonical": PatchOnMount,
    "/navigate": NavigateOnMount, "/redirect": RedirectOnMount, "/loop": Looping,
    "/guarded": Guarded, "/admin_only": AdminOnly, "/silent": Silent,
}


async def nav_client():
    MOUNTED.clear()
    router, client = await open_client(ROUTES)
    return router, client


async def items_client(query="?page=3"):
    router, client = await nav_client()
    rendered = (await join(client, "phx-i", "/items", query))["rendered"]
    assert rendered["1"] == (query.removeprefix("?page=") or "1")
    return client


def flash_of(token):
    return verify(SECRET, FLASH_SALT, token)


# ---------------------------------------------------------------- push_patch


async def test_push_patch_from_an_event_pushes_live_patch_then_replies_with_the_diff():
    client = await items_client()
    join_ref = client.join_refs["lv:phx-i"]
    ref = push_event(client, "phx-i", "next")
    assert await client.next_frame() == [join_ref, None, "lv:phx-i", "live_patch", {"to": "/items?page=4", "kind": "push"}]
    await client.assert_reply(ref, "ok", {"diff": {"1": "4"}})
    ref = push_event(client, "phx-i", "next", {"replace": True})
    assert await client.next_frame() == [join_ref, None, "lv:phx-i", "live_patch", {"to": "/items?page=5", "kind": "replace"}]
    await client.assert_reply(ref, "ok", {"diff": {"1": "5"}})


async def test_push_patch_from_handle_info_pushes_live_patch_then_the_diff():
    client = await items_client()
    otp.send(PIDS["phx-i"], "patch")
    await client.assert_push("lv:phx-i", "live_patch", {"to": "/items?page=7", "kind": "push"})
    assert (await client.next_frame())[3:] == ["diff", {"1": "7"}]


async def test_push_patch_from_handle_params_on_mount_is_in_the_join_reply():
    router, client = await nav_client()
    status, response = await client.join("lv:phx-p", join_payload("phx-p", "/canonical"))
    assert (status, response) == ("ok", {
        "live_patch": {"to": "/canonical?page=1", "kind": "replace"},
        "rendered": {"s": ["<div><p>", "</p><b>page ", "</b></div>"], "0": "", "1": "1", "r": 1},
        "liveview_version": "1.2.12",
    })


async def test_a_push_patch_loop_crashes_the_view_with_a_clear_report():
    router, client = await nav_client()
    with otp.testing.capture_crash_reports() as reports:
        assert await client.join("lv:phx-l", join_payload("phx-l", "/loop", "?n=0")) == ("error", {"reason": "join crashed"})
    assert any("more than 20 consecutive push_patch" in r.getMessage() for r in reports)


async def test_a_client_live_patch_to_the_same_view_runs_handle_params():
    client = await items_client()
    ref = client.push("lv:phx-i", "live_patch", {"url": "http://x/items?page=9"})
    await client.assert_reply(ref, "ok", {"diff": {"1": "9"}})
    ref = client.push("lv:phx-i", "live_patch", {"url": "http://x/items?page=9"})
    await client.assert_reply(ref, "ok", {})


async def test_a_client_live_patch_to_another_view_is_a_link_redirect():
    client = await items_client()
    for url in ["http://x/other", "http://x/admin", "http://x/nowhere"]:
        ref = client.push("lv:phx-i", "live_patch", {"url": url})
        await client.assert_reply(ref, "ok", {"link_redirect": True})
    assert await event_reply(client, "phx-i", "next") == {"diff": {"1": "4"}}  # still there


# ---------------------------------------------------------------- push_navigate / redirect


async def test_push_navigate_and_redirect_from_an_event_reply_then_close():
    for event, value, key, target in [
        ("go", {"to": "/other"}, "live_redirect", {"to": "/other", "kind": "push"}),
        ("go", {"to": "/other", "replace": True}, "live_redirect", {"to": "/other", "kind": "replace"}),
        ("out", {"to": "https://example.com/"}, "redirect", {"to": "https://example.com/"}),
    ]:
        client = await items_client()
        join_ref = client.join_refs["lv:phx-i"]
        ref = push_event(client, "phx-i", event, value)
        await client.assert_reply(ref, "ok", {key: target})
        assert await client.next_frame() == [join_ref, join_ref, "lv:phx-i", "phx_close", {}]
        await otp.Supervisor.stop(otp.whereis("live_wire.supervisor"))


async def test_push_navigate_and_redirect_from_handle_info_push_then_close():
    for message, event, payload in [("go", "live_redirect", {"to": "/other", "kind": "push"}), ("out", "redirect", {"to": "https://example.com/"})]:
        client = await items_client()
        join_ref = client.join_refs["lv:phx-i"]
        otp.send(PIDS["phx-i"], message)
        assert await client.next_frame() == [join_ref, None, "lv:phx-i", event, payload]
        assert await client.next_frame() == [join_ref, join_ref, "lv:phx-i", "phx_close", {}]
        await otp.Supervisor.stop(otp.whereis("live_wire.supervisor"))


async def test_pending_events_go_out_with_the_navigation():
    client = await items_client()
    ref = push_event(client, "phx-i", "event_and_go")
    await client.assert_reply(ref, "ok", {"diff": {"e": [["leaving", {"n": 1}]]}, "live_redirect": {"to": "/other", "kind": "push"}})


async def test_the_flash_rides_with_push_navigate_and_shows_in_the_next_view():
    client = await items_client()
    ref = push_event(client, "phx-i", "flash_and_go")
    reply = await client.assert_reply(ref, "ok")
    navigation = reply["response"]["live_redirect"]
    assert {k: v for k, v in navigation.items() if k != "flash"} == {"to": "/other", "kind": "push"}
    assert flash_of(navigation["flash"]) == {"info": "saved"}
    await client.assert_push("lv:phx-i", "phx_close", {})
    # The client joins the same id with redirect and the flash token.
    payload = join_payload("phx-i", "/items", "?page=3", flash=navigation["flash"])
    payload["redirect"] = "http://x/other"
    del payload["url"]
    status, response = await client.join("lv:phx-i", payload)
    # (with its default title: a page load of /other shows the same one)
    assert (status, response["rendered"]) == (
        "ok", {"s": ["<section><p>", "</p>other</section>"], "0": "saved", "r": 1, "t": "Other"}
    )
    # lv:clear-flash clears it.
    assert await event_reply(client, "phx-i", "lv:clear-flash", {"key": "info"}) == {"diff": {"0": ""}}


async def test_the_flash_rides_with_redirect():
    client = await items_client()
    reply = await client.assert_reply(push_event(client, "phx-i", "flash_and_out"), "ok")
    assert reply["response"]["redirect"]["to"] == "/login"
    assert flash_of(reply["response"]["redirect"]["flash"]) == {"info": "bye"}


async def test_a_forged_or_absent_flash_token_is_ignored():
    router, client = await nav_client()
    rendered = (await join(client, "phx-o", "/other", flash="forged"))["rendered"]
    assert rendered["0"] == ""


async def test_put_flash_and_lv_clear_flash():
    client = await items_client()
    assert await event_reply(client, "phx-i", "flash", {"message": "hi"}) == {"diff": {"0": "hi"}}
    assert await event_reply(client, "phx-i", "lv:clear-flash", {"key": "info"}) == {"diff": {"0": ""}}
    assert await event_reply(client, "phx-i", "flash", {"message": "again"}) == {"diff": {"0": "again"}}
    assert await event_reply(client, "phx-i", "lv:clear-flash", {}) == {"diff": {"0": ""}}
    assert await event_reply(client, "phx-i", "lv:clear-flash", {}) == {}


# ---------------------------------------------------------------- navigation during mount


async def test_push_navigate_from_mount_is_a_join_error_with_live_redirect_and_events():
    router, client = await nav_client()
    status, response = await client.join("lv:phx-n", join_payload("phx-n", "/navigate"))
    assert status == "error"
    assert flash_of(response["live_redirect"].pop("flash")) == {"info": "moved"}
    assert response == {"live_redirect": {"to": "/other", "kind": "push"}, "events": [["bye", {}]]}


async def test_redirect_from_mount_is_a_join_error_with_redirect():
    router, client = await nav_client()
    status, response = await client.join("lv:phx-r", join_payload("phx-r", "/redirect"))
    assert (status, response) == ("error", {"redirect": {"to": "/login"}})


async def test_the_dead_render_of_a_redirecting_mount_is_a_302():
    router, client = await nav_client()
    response = await router.render(Request("GET", "/redirect", {}, {}, ("127.0.0.1", 1), b"", ""))
    assert (response.status, response.headers["location"]) == (302, "/login")


# ---------------------------------------------------------------- live navigation joins


async def test_a_live_navigation_join_within_the_live_session_mounts_under_the_same_id():
    client = await items_client()
    await client.leave("lv:phx-i")
    payload = join_payload("phx-i", "/items")
    payload["redirect"] = "http://x/other"
    del payload["url"]
    status, response = await client.join("lv:phx-i", payload)
    assert (status, response) == (
        "ok",
        {
            "container": ["div", {}],  # the new view's container: the client reshapes the element it keeps
            "rendered": {"s": ["<section><p>", "</p>other</section>"], "0": "", "r": 1, "t": "Other"},
            "liveview_version": "1.2.12",
        },
    )  # (its default title, as a page load of /other shows)
    assert otp.is_alive(PIDS["phx-i"])


async def test_a_live_navigation_join_into_another_live_session_or_nowhere_is_unauthorized():
    client = await items_client()
    await client.leave("lv:phx-i")
    for url in ["http://x/admin", "http://x/nowhere"]:
        payload = join_payload("phx-i", "/items")
        payload["redirect"] = url
        del payload["url"]
        assert await client.join("lv:phx-i", payload) == ("error", {"reason": "unauthorized"})


async def test_a_live_navigation_join_out_of_another_live_session_is_unauthorized_too():
    router, client = await nav_client()
    payload = join_payload("phx-a", "/admin", live_session="admin")
    assert (await client.join("lv:phx-a", payload))[0] == "ok"
    await client.leave("lv:phx-a")
    payload["redirect"] = "http://x/other"
    del payload["url"]
    assert await client.join("lv:phx-a", payload) == ("error", {"reason": "unauthorized"})


# ---------------------------------------------------------------- on_mount


async def test_an_on_mount_hook_assigns_before_mount():
    router, client = await nav_client()
    rendered = (await join(client, "phx-g", "/guarded", session={"user": "ann"}))["rendered"]
    assert rendered["1"] == "ann"
    assert MOUNTED == ["Guarded"]


async def test_an_on_mount_hook_that_redirects_and_halts_stops_the_mount():
    router, client = await nav_client()
    assert await client.join("lv:phx-g", join_payload("phx-g", "/guarded")) == ("error", {"redirect": {"to": "/login"}})
    assert MOUNTED == []
    response = await router.render(Request("GET", "/guarded", {}, {}, ("127.0.0.1", 1), b"", ""))
    assert (response.status, response.headers["location"]) == (302, "/login")
    assert MOUNTED == []


async def test_hooks_run_in_order_and_the_second_one_halts_with_push_navigate():
    router, client = await nav_client()
    status, response = await client.join("lv:phx-g", join_payload("phx-g", "/admin_only", session={"user": "ann"}))
    assert status == "error"
    assert flash_of(response["live_redirect"].pop("flash")) == {"error": "admins only"}
    assert response == {"live_redirect": {"to": "/other", "kind": "push"}}
    assert MOUNTED == []
    assert (await join(client, "phx-h", "/admin_only", session={"user": "root"}))["rendered"]["1"] == "root"


async def test_a_hook_that_halts_without_navigating_makes_the_join_stale():
    router, client = await nav_client()
    assert await client.join("lv:phx-s", join_payload("phx-s", "/silent")) == ("error", {"reason": "stale"})
    assert MOUNTED == []


# ---------------------------------------------------------------- navigation from a component


GO = compile_template('<button phx-click="go" phx-target={@myself}>go</button>')


class GoButton(LiveComponent):
    async def handle_event(self, event, value, socket):
        socket.push_navigate("/other")

    def render(self, assigns, changed):
        return GO.render(assigns, changed)


WITH_BUTTON = compile_template('<div><.live_component module={GoButton} id="go" /></div>', namespace={"GoButton": GoButton})


class WithButton(Tracked):
    def render(self, assigns, changed):
        return WITH_BUTTON.render(assigns, changed)


async def test_push_navigate_from_a_component_navigates_the_view():
    router, client = await open_client({"/button": WithButton, "/other": Other})
    await join(client, "phx-b", "/button")
    await client.assert_reply(push_event(client, "phx-b", "go", cid=1), "ok", {"live_redirect": {"to": "/other", "kind": "push"}})
    await client.assert_push("lv:phx-b", "phx_close", {})


# ---------------------------------------------------------------- temporary assigns


LOG = compile_template('<div><ul id="log"><li :for={line <- @lines}>{line}</li></ul><b>{@count}</b></div>')


class Log(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(lines=["a", "b"], count=2).temporary_assigns(lines=[])

    async def handle_event(self, event, value, socket):
        socket.assign(lines=[value["line"]]).update("count", lambda n: n + 1)

    async def handle_info(self, message, socket):
        socket.assign(probe=repr(socket.assigns["lines"]))

    def render(self, assigns, changed):
        return LOG.render(assigns, changed)


async def test_temporary_assigns_are_rendered_once_then_reset_without_a_diff():
    router, client = await open_client({"/log": Log})
    rendered = (await join(client, "phx-t", "/log"))["rendered"]
    assert rendered["0"] == {"s": ["<li>", "</li>"], "k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}}
    assert await event_reply(client, "phx-t", "add", {"line": "c"}) == {"diff": {"0": {"k": {"0": {"0": "c"}, "kc": 1}}, "1": "3"}}
    # After the render the view holds [] again, and that reset is not a change sent to the page.
    otp.send(PIDS["phx-t"], "probe")
    await client.refute_frame()


# ---------------------------------------------------------------- crashes


async def test_a_crash_in_handle_info_is_phx_error_naming_the_view_and_the_message():
    router, client = await nav_client()
    await join(client, "phx-i", "/items")
    await join(client, "phx-o", "/other")
    with otp.testing.capture_crash_reports() as reports:
        otp.send(PIDS["phx-i"], "crash")
        await client.assert_push("lv:phx-i", "phx_error", {"reason": "channel_crash"})
    message = reports[0].getMessage()
    assert "handle_info crashed" in message and "view: Items" in message and "message: crash" in message
    assert await event_reply(client, "phx-o", "clear") == {}
    assert (await join(client, "phx-i", "/items", "?page=2", params={"_mounts": 1}))["rendered"]["1"] == "2"


async def test_a_crash_in_handle_event_is_phx_error_naming_the_view_and_the_event():
    router, client = await nav_client()
    await join(client, "phx-i", "/items")
    await join(client, "phx-o", "/other")
    with otp.testing.capture_crash_reports() as reports:
        ref = push_event(client, "phx-i", "crash")
        await client.assert_push("lv:phx-i", "phx_error", {"reason": "channel_crash"})
    message = reports[0].getMessage()
    assert "handle_event crashed" in message and "view: Items" in message and "event: crash" in message
    await client.refute_frame()  # the crashing push never gets a reply
    assert ref  # (the client does not reload for it: the view rejoins)
    assert await event_reply(client, "phx-o", "clear") == {}
    client.heartbeat()
    assert (await client.next_frame())[2:4] == ["phoenix", "phx_reply"]


async def test_push_patch_to_another_view_s_url_is_an_error_naming_the_fix():
    client = await items_client()
    with otp.testing.capture_crash_reports() as reports:
        push_event(client, "phx-i", "patch_away")
        await client.assert_push("lv:phx-i", "phx_error", {"reason": "channel_crash"})
    assert "Items cannot push_patch to '/other'" in reports[0].getMessage()
    assert "use push_navigate" in reports[0].getMessage()


# ---------------------------------------------------------------- <.link>


LINKS = compile_template(
    '<nav><.link navigate="/other">other</.link><.link patch="/items?page=2" replace>two</.link><.link href="/x" class="c">x</.link></nav>'
)


def test_link_renders_the_attributes_the_client_follows():
    assert LINKS.render({}).to_html() == (
        '<nav><a href="/other" data-phx-link="redirect" data-phx-link-state="push">other</a>'
        '<a href="/items?page=2" data-phx-link="patch" data-phx-link-state="replace">two</a>'
        '<a href="/x" class="c">x</a></nav>'
    )
