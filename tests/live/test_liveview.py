"""The LiveView channel: join with a signed session, full render, events answered with diffs, pushed diffs."""

import re

import otp
import otp.testing
from otp import PubSub
from web._http import Request
from web.live import LiveRouter, LiveView, Rendered
from web.testing import connect
from web.token import sign

SECRET = "liveview test secret"
STATICS = ("<div><h1>Count: ", '</h1><button phx-click="inc">+</button></div>')


class Counter(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(count=int(params.get("start", 0)), user=session.get("user"))

    async def handle_event(self, event, value, socket):
        if event == "inc":
            socket.update("count", lambda n: n + 1)
        elif event == "noop":
            pass
        elif event == "hook":
            socket.push_event("highlight", {"id": "a"})
            return {"answered": True}
        elif event == "crash":
            raise RuntimeError("handle_event crashed")

    async def handle_info(self, message, socket):
        socket.assign(count=message)

    def render(self, assigns, changed):
        count = str(assigns["count"]) if changed is None or "count" in changed else None
        return Rendered(STATICS, (count,), fingerprint=1, root=True)


def router(pubsub):
    return LiveRouter(secret=SECRET, routes={"/counter": Counter, "/signup": SignUp, "/items": Items}, pubsub=pubsub)


async def setup(pubsub="live_test"):
    await PubSub.start_link(pubsub)
    client = await connect(router(pubsub).socket_cls, {"_csrf_token": csrf_token()}, pubsub=pubsub)
    return client


def csrf_token():
    return sign(SECRET, "csrf", "a visitor")


def session_token(view_id, route="/counter", session=None):
    return sign(SECRET, "liveview session", {"id": view_id, "route": route, "live_session": "default", "session": session or {}})


def join_payload(view_id, route="/counter", query=""):
    return {"session": session_token(view_id, route), "url": f"http://x{route}{query}", "params": {}}


async def dead_render(path):
    response = await router("unused").render(Request("GET", path.split("?")[0], {}, {}, ("127.0.0.1", 1), b"", path.partition("?")[2]))
    return response.body.decode() if isinstance(response.body, bytes) else response.body


async def test_the_dead_render_is_a_container_with_the_view_id_session_and_html():
    html = await dead_render("/counter?start=5")
    assert '<meta name="csrf-token" content="' in html
    match = re.search(r'<div id="(phx-[\w-]+)" data-phx-main data-phx-session="([^"]+)" data-phx-static="[^"]+">(.*?)</div></div>', html)
    assert match, html
    assert match.group(3) == "<div><h1>Count: 5</h1><button phx-click=\"inc\">+</button>"


async def test_join_with_the_dead_render_s_session_gets_the_full_render():
    html = await dead_render("/counter")
    view_id, token = re.search(r'id="([^"]+)" data-phx-main data-phx-session="([^"]+)"', html).groups()
    client = await setup()
    status, response = await client.join(f"lv:{view_id}", {"url": "http://x/counter", "params": {"_mounts": 0}, "session": token, "static": None})
    assert (status, response) == ("ok", {"rendered": {"s": list(STATICS), "0": "0", "r": 1}, "liveview_version": "1.2.12"})


async def test_an_event_is_answered_with_only_the_changed_slot_and_a_noop_with_an_empty_reply():
    client = await setup()
    await client.join("lv:phx-1", join_payload("phx-1"))
    ref = client.push("lv:phx-1", "event", {"type": "click", "event": "inc", "value": {"value": ""}})
    await client.assert_reply(ref, "ok", {"diff": {"0": "1"}})
    ref = client.push("lv:phx-1", "event", {"type": "click", "event": "noop", "value": {}})
    await client.assert_reply(ref, "ok", {})


async def test_a_hook_event_reply_and_push_event_ride_in_the_diff():
    client = await setup()
    await client.join("lv:phx-1", join_payload("phx-1"))
    ref = client.push("lv:phx-1", "event", {"type": "hook", "event": "hook", "value": {}})
    await client.assert_reply(ref, "ok", {"diff": {"r": {"answered": True}, "e": [["highlight", {"id": "a"}]]}})


async def test_a_handle_info_change_is_pushed_as_a_diff():
    client = await setup()
    await client.join("lv:phx-1", join_payload("phx-1"))
    view = next(p for p in otp.processes() if otp.process_info(p).function == "web._channel_server.run_channel")
    otp.send(view, 42)
    await client.assert_push("lv:phx-1", "diff", {"0": "42"})


async def test_a_bad_or_foreign_session_is_stale_so_the_client_reloads():
    client = await setup()
    cases = [
        {"session": "forged.token"},
        {},
        {"session": session_token("phx-other")},  # signed for another view id
        {"session": session_token("phx-1", route="/nope"), "url": "http://x/nope"},  # a route that no longer exists
        {"session": session_token("phx-1", route="/items"), "url": "http://x/counter"},  # the URL is not the session's view
        {"session": sign("another secret", "liveview session", {"id": "phx-1", "route": "/counter"}), "url": "http://x/counter"},
    ]
    for payload in cases:
        assert await client.join("lv:phx-1", payload) == ("error", {"reason": "stale"})


async def test_a_crash_in_handle_event_is_phx_error_and_the_rejoin_mounts_afresh():
    client = await setup()
    await client.join("lv:phx-1", join_payload("phx-1"))
    ref = client.push("lv:phx-1", "event", {"type": "click", "event": "inc", "value": {}})
    await client.assert_reply(ref, "ok", {"diff": {"0": "1"}})
    with otp.testing.capture_crash_reports() as reports:
        client.push("lv:phx-1", "event", {"type": "click", "event": "crash", "value": {}})
        await client.assert_push("lv:phx-1", "phx_error", {"reason": "channel_crash"})
    assert "handle_event crashed" in reports[0].getMessage()
    status, response = await client.join("lv:phx-1", {**join_payload("phx-1"), "params": {"_mounts": 1}})
    assert response["rendered"]["0"] == "0"  # a fresh mount, a full render


class SignUp(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(error="", name="")

    async def handle_event(self, event, value, socket):
        name = value["user"]["name"]
        if event == "validate":
            socket.assign(error="" if name else "required", target=value["_target"])
        elif event == "save":
            socket.assign(name=name)

    def render(self, assigns, changed):
        return Rendered(("<p>", "</p><b>", "</b>"), (assigns["error"], assigns["name"]), fingerprint=7)


async def test_form_events_are_decoded_like_plug_with_the_target():
    client = await setup("form_test")
    await client.join("lv:phx-f", join_payload("phx-f", "/signup"))
    ref = client.push("lv:phx-f", "event", {"type": "form", "event": "validate", "value": "user%5Bname%5D=", "meta": {"_target": "user[name]"}})
    await client.assert_reply(ref, "ok", {"diff": {"0": "required"}})  # "" was already there
    ref = client.push("lv:phx-f", "event", {"type": "form", "event": "save", "value": "user%5Bname%5D=Ann"})
    await client.assert_reply(ref, "ok", {"diff": {"1": "Ann"}})


class Items(LiveView):
    async def handle_params(self, params, uri, socket):
        socket.assign(page=params.get("page", "1"))

    async def handle_event(self, event, value, socket):
        if event == "next":
            socket.push_patch(f"/items?page={int(socket.assigns['page']) + 1}")
        elif event == "go":
            socket.push_navigate("/other", replace=True)
        elif event == "out":
            socket.redirect("https://example.com/")

    def render(self, assigns, changed):
        return Rendered(("<p>page ", "</p>"), (assigns["page"],), fingerprint=9)


async def items_client():
    client = await setup("items_test")
    status, response = await client.join("lv:phx-i", join_payload("phx-i", "/items", "?page=3"))
    assert response["rendered"]["0"] == "3"  # handle_params got the URL's params
    return client


async def test_push_patch_runs_handle_params_and_pushes_live_patch_before_the_reply():
    client = await items_client()
    ref = client.push("lv:phx-i", "event", {"type": "click", "event": "next", "value": {}})
    assert await client.next_frame() == [client.join_refs["lv:phx-i"], None, "lv:phx-i", "live_patch", {"to": "/items?page=4", "kind": "push"}]
    await client.assert_reply(ref, "ok", {"diff": {"0": "4"}})


async def test_a_client_live_patch_runs_handle_params():
    client = await items_client()
    ref = client.push("lv:phx-i", "live_patch", {"url": "http://x/items?page=9"})
    await client.assert_reply(ref, "ok", {"diff": {"0": "9"}})


async def test_push_navigate_and_redirect_reply_then_close_the_view():
    for event, key, value in [
        ("go", "live_redirect", {"to": "/other", "kind": "replace"}),
        ("out", "redirect", {"to": "https://example.com/"}),
    ]:
        client = await items_client()
        join_ref = client.join_refs["lv:phx-i"]
        ref = client.push("lv:phx-i", "event", {"type": "click", "event": event, "value": {}})
        await client.assert_reply(ref, "ok", {key: value})
        assert await client.next_frame() == [join_ref, join_ref, "lv:phx-i", "phx_close", {}]
        await otp.Supervisor.stop(otp.whereis("items_test.supervisor"))


async def test_a_stale_join_leaves_no_process_behind():
    from otp.testing import TelemetryEvent, forward_telemetry
    from web._channel_server import run_channel

    client = await setup()
    before = set(otp.processes())
    with forward_telemetry(("otp", "process", "exit")):
        assert await client.join("lv:phx-1", {"session": "forged.token", "url": "http://x/counter"}) == (
            "error", {"reason": "stale"})
        exit_event = await otp.receive(
            lambda m: isinstance(m, TelemetryEvent) and m.metadata["function"] is run_channel, timeout=5
        )
    assert exit_event.metadata["reason"] is otp.NORMAL
    assert set(otp.processes()) == before  # the refused view's process is gone, nothing else was left
