"""Lifecycle hooks on the wire (web.live._hooks): attach_hook on each stage, halting, a halting hook's reply to a
JS hook, detach_hook, hooks of a component's socket, and the errors that say what is wrong."""

import pytest
from _live_wire import PIDS, SECRET, Tracked, event_reply, join, open_client, push_event

import otp
from otp import PubSub
from otp.testing import capture_crash_reports
from web._http import Request
from web.live import HALT, Halt, LiveComponent, LiveRoute, LiveRouter, LiveSession, LiveSocket, compile_template
from web.testing import connect
from web.token import sign

SEEN: list = []  # what the hooks and callbacks saw, in order

PAGE = compile_template("<div><p>{@tab}</p><b>{@count}</b><i>{@renders}</i></div>")


async def active_tab(params, url, socket):
    SEEN.append(("hook", "params", params.get("tab")))
    socket.assign(tab=params.get("tab", "home"))
    return HALT if params.get("tab") == "secret" else None


async def attach_all(params, session, socket):
    """An on_mount hook of the live session: attaches a hook on every stage."""
    socket.attach_hook("tab", "handle_params", active_tab)
    socket.attach_hook("keys", "handle_event", on_event)
    socket.attach_hook("pings", "handle_info", on_info)
    socket.attach_hook("renders", "after_render", on_render)


def on_event(event, value, socket):  # a sync hook is fine too
    SEEN.append(("hook", "event", event))
    if event == "blocked":
        return HALT
    if event == "ask":
        return Halt(reply={"answer": 42})
    if event == "bad":
        return "yes"
    return None


async def on_info(message, socket):
    SEEN.append(("hook", "info", message))
    if message == "ping":
        socket.update("count", lambda n: n + 100)
        return HALT
    return None


def on_render(socket):
    SEEN.append(("hook", "after_render", socket.assigns["count"]))
    socket.assign(renders=socket.assigns["renders"] + 1)  # shows at the next render
    if socket.assigns["count"] == 3:
        socket.push_event("three", {})


class Tabs(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(count=0, renders=0, tab="")

    async def handle_params(self, params, url, socket):
        SEEN.append(("view", "params", params.get("tab")))

    async def handle_event(self, event, value, socket):
        SEEN.append(("view", "event", event))
        if event == "inc":
            socket.update("count", lambda n: n + 1)
        elif event == "patch":
            socket.push_patch(f"/tabs?tab={value['tab']}")
        elif event == "detach":
            socket.detach_hook("keys", "handle_event")
        return None

    async def handle_info(self, message, socket):
        SEEN.append(("view", "info", message))
        socket.update("count", lambda n: n + 1)

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


SESSIONS = {"hooked": LiveSession(on_mount=[attach_all])}
ROUTES = {"/tabs": LiveRoute(Tabs, live_session="hooked")}


async def test_a_live_session_s_on_mount_hook_attaches_hooks_that_run_on_the_dead_render():
    SEEN.clear()
    router = LiveRouter(secret=SECRET, routes=ROUTES, pubsub="unused", live_sessions=SESSIONS)
    response = await router.render(Request("GET", "/tabs", {"tab": "news"}, {}, ("127.0.0.1", 1), b"", "tab=news"))
    assert "<p>news</p>" in response.body.decode()
    assert SEEN[:2] == [("hook", "params", "news"), ("view", "params", "news")]


async def joined(query: str = ""):
    """A client joined to /tabs, whose live session's on_mount attaches the hooks."""
    SEEN.clear()
    await PubSub.start_link("hooks_live")
    router = LiveRouter(secret=SECRET, routes=ROUTES, pubsub="hooks_live", live_sessions=SESSIONS)
    client = await connect(router.socket_cls, {"_csrf_token": sign(SECRET, "csrf", "a visitor")}, pubsub="hooks_live")
    await join(client, "phx-t", "/tabs", query, live_session="hooked")
    return client


async def test_hooks_attached_by_a_live_session_s_on_mount_run_on_the_join_and_on_a_patch():
    client = await joined("?tab=news")
    assert SEEN[:2] == [("hook", "params", "news"), ("view", "params", "news")]
    SEEN.clear()
    await event_reply(client, "phx-t", "patch", {"tab": "secret"})
    # The hook halted: the view's handle_params did not run, the hook's assign shows.
    assert [s for s in SEEN if s[1] == "params"] == [("hook", "params", "secret")]


async def test_a_handle_event_hook_runs_first_halts_or_replies_to_the_js_hook():
    client = await joined()
    SEEN.clear()
    assert await event_reply(client, "phx-t", "inc") == {"diff": {"1": "1"}}
    assert SEEN[:2] == [("hook", "event", "inc"), ("view", "event", "inc")]
    SEEN.clear()
    assert await event_reply(client, "phx-t", "blocked") == {}
    assert SEEN == [("hook", "event", "blocked")]  # halted: the view never saw it, nothing rendered
    reply = await event_reply(client, "phx-t", "ask", type="hook")
    assert reply == {"diff": {"r": {"answer": 42}}}  # the reply of the hook that halted
    SEEN.clear()
    await event_reply(client, "phx-t", "detach")
    await event_reply(client, "phx-t", "blocked")
    assert SEEN == [("hook", "event", "detach"), ("view", "event", "detach"), ("view", "event", "blocked")]


async def test_a_handle_info_hook_may_take_a_message_for_itself():
    client = await joined()
    view = PIDS["phx-t"]
    SEEN.clear()
    otp.send(view, "ping")
    await client.assert_push("lv:phx-t", "diff", {"1": "100"})
    otp.send(view, "other")
    await client.assert_push("lv:phx-t", "diff", {"1": "101"})
    assert [s for s in SEEN if s[1] == "info"] == [("hook", "info", "ping"), ("hook", "info", "other"), ("view", "info", "other")]


async def test_an_after_render_hook_runs_after_each_render_and_its_push_event_goes_with_it():
    client = await joined()
    await event_reply(client, "phx-t", "inc")
    await event_reply(client, "phx-t", "inc")
    reply = await event_reply(client, "phx-t", "inc")
    assert reply == {"diff": {"1": "3", "e": [["three", {}]]}}  # (what it assigned is not rendered: no render loop)
    assert await event_reply(client, "phx-t", "noop") == {}
    assert [s for s in SEEN if s[1] == "after_render"] == [("hook", "after_render", n) for n in (0, 1, 2, 3)]


async def test_a_hook_that_returns_something_else_crashes_the_view_with_a_report_naming_it():
    client = await joined()
    with capture_crash_reports() as reports:
        push_event(client, "phx-t", "bad")
        await client.assert_push("lv:phx-t", "phx_error", {"reason": "channel_crash"})
    assert len(reports) == 1
    assert str(reports[0].exc_info[1]) == "the handle_event hook 'keys' returned 'yes'; a hook returns None (go on) or HALT (stop here)"


def test_attach_hook_refuses_an_unknown_stage_a_name_twice_and_a_component_s_view_stages():
    socket = LiveSocket(connected=True, view_id="v")
    with pytest.raises(ValueError, match="no lifecycle stage 'handle_click' here; expected one of: handle_params, handle_event, handle_info, handle_async, after_render"):
        socket.attach_hook("x", "handle_click", print)
    socket.attach_hook("x", "handle_event", print)
    with pytest.raises(ValueError, match=r"a hook 'x' is already attached on 'handle_event': detach_hook\('x', 'handle_event'\) first"):
        socket.attach_hook("x", "handle_event", print)
    with pytest.raises(TypeError, match=r"attach_hook\('y', 'handle_event', ...\) needs a function; got 3"):
        socket.attach_hook("y", "handle_event", 3)
    component = LiveSocket(connected=True, view_id="v", myself=1)
    with pytest.raises(ValueError, match="no lifecycle stage 'handle_info' here; expected one of: handle_event, handle_async, after_render"):
        component.attach_hook("x", "handle_info", print)


# ---------------------------------------------------------------- a component's hooks

CARD = compile_template('<span id="card">{@likes}</span>')


class Card(LiveComponent):
    async def mount(self, socket):
        socket.assign(likes=0)
        socket.attach_hook("double", "handle_event", double_likes)

    async def handle_event(self, event, value, socket):
        socket.update("likes", lambda n: n + 1)

    def render(self, assigns, changed):
        return CARD.render(assigns, changed)


async def double_likes(event, value, socket):
    if event == "double":
        socket.update("likes", lambda n: n * 2 + 2)
        return HALT
    return None


HOST = compile_template('<div><.live_component module={Card} id="c1" /></div>', namespace={"Card": Card})


class Host(Tracked):
    def render(self, assigns, changed):
        return HOST.render(assigns, changed)


async def test_a_component_s_handle_event_hook_runs_before_its_handle_event():
    _, client = await open_client({"/host": Host})
    await join(client, "phx-h", "/host")
    assert await event_reply(client, "phx-h", "like", cid=1) == {"diff": {"c": {"1": {"0": "1"}}}}
    assert await event_reply(client, "phx-h", "double", cid=1) == {"diff": {"c": {"1": {"0": "4"}}}}


# ---------------------------------------------------------------- handle_async

RESULT = compile_template("<p>{@result}</p>")


async def cached_only(name, outcome, socket):
    if name == "cached":
        socket.assign(result=f"hook: {outcome[1]}")
        return HALT
    return None


class Loader(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(result="")
        socket.attach_hook("cache", "handle_async", cached_only)
        socket.start_async("cached", lambda: "from cache")

    async def handle_event(self, event, value, socket):
        socket.start_async("fresh", lambda: "from the database")

    async def handle_async(self, name, outcome, socket):
        socket.assign(result=f"view: {outcome[1]}")

    def render(self, assigns, changed):
        return RESULT.render(assigns, changed)


async def test_a_handle_async_hook_may_take_an_async_result_for_itself():
    _, client = await open_client({"/load": Loader})
    await join(client, "phx-l", "/load")
    await client.assert_push("lv:phx-l", "diff", {"0": "hook: from cache"})
    await event_reply(client, "phx-l", "fresh")
    await client.assert_push("lv:phx-l", "diff", {"0": "view: from the database"})
