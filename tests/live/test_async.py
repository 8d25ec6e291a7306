"""Async work on the wire: assign_async (loading → ok / failed, pushed as a ``diff``), start_async
with handle_async, cancel_async, and workers that end with their view.

The work functions below report to the test process and wait for its go, so every step is a
message, never a sleep.
"""

from _live_wire import PIDS, Tracked, event_reply, join, open_client, push_event

import otp
import otp.testing
from otp import KILL, KILLED
from web._http import Request
from web.live import LiveComponent, compile_template

TEST: dict = {}  # "pid": the test process, that workers report to


def work(name):
    """A work function: tell the test it started, return what the test sends it (raise an exception)."""

    async def run():
        otp.send(TEST["pid"], ("started", name, otp.current_pid()))
        value = await otp.receive()
        if isinstance(value, BaseException):
            raise value
        return value

    return run


async def started(name):
    """Wait for the worker of ``name`` to start; return its pid."""
    message = await otp.testing.assert_receive(lambda m: isinstance(m, tuple) and m[:2] == ("started", name), timeout=1.0)
    return message[2]


PAGE = compile_template(
    """<div><p :if={@profile.loading}>loading</p><p :if={@profile.ok}>{@profile.result}</p><p :if={@profile.failed}>failed: {@profile.failed}</p></div>"""
)


class Profile(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        TEST["view"] = otp.current_pid() if socket.connected else None
        socket.assign_async("profile", work("profile"))

    async def handle_event(self, event, value, socket):
        if event == "reload":
            socket.assign_async("profile", work("profile"))
        elif event == "cancel":
            socket.cancel_async("profile")
        elif event == "crash":
            raise RuntimeError("the view crashed")

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


async def profile_client():
    TEST["pid"] = otp.current_pid()
    router, client = await open_client({"/profile": Profile})
    return router, client


LOADING = {"s": ["<div>", "", "", "</div>"], "0": {"s": ["<p>loading</p>"], "r": 1}, "1": "", "2": "", "r": 1}


async def test_assign_async_renders_loading_then_pushes_the_result_as_a_diff():
    router, client = await profile_client()
    assert (await join(client, "phx-p", "/profile"))["rendered"] == LOADING
    otp.send(await started("profile"), "Ann")
    await client.assert_push("lv:phx-p", "diff", {"0": "", "1": {"s": ["<p>", "</p>"], "0": "Ann", "r": 1}})


async def test_a_failing_function_makes_the_assign_failed():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    otp.send(await started("profile"), ValueError("no such user"))
    await client.assert_push("lv:phx-p", "diff", {"0": "", "2": {"s": ["<p>failed: ", "</p>"], "0": "no such user", "r": 1}})
    # The view lives on.
    assert await event_reply(client, "phx-p", "noop") == {}


async def test_a_worker_killed_from_outside_fails_the_assign():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    otp.exit(await started("profile"), KILL)
    await client.assert_push("lv:phx-p", "diff", {"0": "", "2": {"s": ["<p>failed: ", "</p>"], "0": "killed", "r": 1}})


async def test_assign_async_again_from_an_event_replies_loading_then_pushes():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    otp.send(await started("profile"), "Ann")
    await client.assert_push("lv:phx-p", "diff")
    assert await event_reply(client, "phx-p", "reload") == {"diff": {"0": {"s": ["<p>loading</p>"], "r": 1}, "1": ""}}
    otp.send(await started("profile"), "Bob")
    await client.assert_push("lv:phx-p", "diff", {"0": "", "1": {"s": ["<p>", "</p>"], "0": "Bob", "r": 1}})


async def test_a_new_assign_async_of_the_same_key_replaces_the_running_one():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    first = await started("profile")
    ref = otp.monitor(first)
    assert await event_reply(client, "phx-p", "reload") == {}  # still loading: nothing changed
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)
    otp.send(await started("profile"), "Bob")
    await client.assert_push("lv:phx-p", "diff", {"0": "", "1": {"s": ["<p>", "</p>"], "0": "Bob", "r": 1}})


async def test_cancel_async_kills_the_worker_and_fails_the_assign():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    worker = await started("profile")
    ref = otp.monitor(worker)
    assert await event_reply(client, "phx-p", "cancel") == {
        "diff": {"0": "", "2": {"s": ["<p>failed: ", "</p>"], "0": "{shutdown,&#39;cancel&#39;}", "r": 1}}
    }
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)
    await client.refute_frame()


async def test_nothing_runs_on_the_dead_render():
    router, client = await profile_client()
    response = await router.render(Request("GET", "/profile", {}, {}, ("127.0.0.1", 1), b"", ""))
    assert "<p>loading</p>" in response.body.decode()
    await otp.testing.refute_receive(lambda m: isinstance(m, tuple) and m[0] == "started")


async def test_leaving_kills_the_view_s_workers():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    ref = otp.monitor(await started("profile"))
    await client.leave("lv:phx-p")
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)


async def test_a_crashed_view_s_workers_are_killed():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    ref = otp.monitor(await started("profile"))
    with otp.testing.capture_crash_reports():
        push_event(client, "phx-p", "crash")
        await client.assert_push("lv:phx-p", "phx_error", {"reason": "channel_crash"})
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)


async def test_a_killed_view_s_workers_end_too():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    worker = await started("profile")
    ref = otp.monitor(worker)
    with otp.testing.capture_crash_reports():
        otp.exit(PIDS["phx-p"], KILL)
        await client.assert_push("lv:phx-p", "phx_error", {"reason": "channel_crash"})
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)


async def test_the_socket_closing_kills_the_view_s_workers():
    router, client = await profile_client()
    await join(client, "phx-p", "/profile")
    ref = otp.monitor(await started("profile"))
    await client.close()
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)


# ---------------------------------------------------------------- several keys


MANY = compile_template("<p>{@a.ok and @a.result}|{@b.ok and @b.result}|{@a.failed and 'failed'}</p>")


class Many(Tracked):
    async def mount(self, params, session, socket):
        socket.assign_async(["a", "b"], work("ab"))

    def render(self, assigns, changed):
        return MANY.render(assigns, changed)


async def test_assign_async_of_several_keys_takes_a_dict():
    TEST["pid"] = otp.current_pid()
    router, client = await open_client({"/many": Many})
    assert (await join(client, "phx-m", "/many"))["rendered"] == {"s": ["<p>", "|", "|", "</p>"], "0": "", "1": "", "2": "", "r": 1}
    otp.send(await started("ab"), {"a": "A", "b": "B"})
    await client.assert_push("lv:phx-m", "diff", {"0": "A", "1": "B"})


async def test_assign_async_of_several_keys_fails_them_all_without_a_dict():
    TEST["pid"] = otp.current_pid()
    router, client = await open_client({"/many": Many})
    await join(client, "phx-m", "/many")
    otp.send(await started("ab"), "not a dict")
    await client.assert_push("lv:phx-m", "diff", {"2": "failed"})


# ---------------------------------------------------------------- start_async / handle_async


OUTCOME = compile_template("<p>{@outcome}</p>")


class Starter(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(outcome="none")

    async def handle_event(self, event, value, socket):
        if event == "start":
            socket.start_async(value["name"], work(value["name"]))
        elif event == "cancel":
            socket.cancel_async(value["name"])

    async def handle_async(self, name, outcome, socket):
        kind, value = outcome
        if value == "crash":
            raise RuntimeError("handle_async crashed")
        socket.assign(outcome=f"{name}:{kind}:{value}")

    def render(self, assigns, changed):
        return OUTCOME.render(assigns, changed)


async def starter_client():
    TEST["pid"] = otp.current_pid()
    router, client = await open_client({"/start": Starter})
    await join(client, "phx-s", "/start")
    return client


async def test_start_async_hands_ok_and_exit_to_handle_async():
    client = await starter_client()
    assert await event_reply(client, "phx-s", "start", {"name": "job"}) == {}
    otp.send(await started("job"), 42)
    await client.assert_push("lv:phx-s", "diff", {"0": "job:ok:42"})
    await event_reply(client, "phx-s", "start", {"name": "job"})
    otp.send(await started("job"), LookupError("gone"))
    await client.assert_push("lv:phx-s", "diff", {"0": "job:exit:gone"})


async def test_start_async_twice_under_one_name_keeps_only_the_second():
    client = await starter_client()
    await event_reply(client, "phx-s", "start", {"name": "job"})
    first = await started("job")
    ref = otp.monitor(first)
    await event_reply(client, "phx-s", "start", {"name": "job"})
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)
    otp.send(await started("job"), "second")
    await client.assert_push("lv:phx-s", "diff", {"0": "job:ok:second"})


async def test_cancel_async_of_start_async_kills_the_worker_and_drops_its_result():
    client = await starter_client()
    await event_reply(client, "phx-s", "start", {"name": "job"})
    ref = otp.monitor(await started("job"))
    assert await event_reply(client, "phx-s", "cancel", {"name": "job"}) == {}
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)
    await client.refute_frame()
    # Cancelling what is not running is harmless.
    assert await event_reply(client, "phx-s", "cancel", {"name": "job"}) == {}


async def test_several_named_jobs_run_side_by_side():
    client = await starter_client()
    await event_reply(client, "phx-s", "start", {"name": "one"})
    await event_reply(client, "phx-s", "start", {"name": "two"})
    one, two = await started("one"), await started("two")
    otp.send(two, 2)
    await client.assert_push("lv:phx-s", "diff", {"0": "two:ok:2"})
    otp.send(one, 1)
    await client.assert_push("lv:phx-s", "diff", {"0": "one:ok:1"})


async def test_a_crash_in_handle_async_is_phx_error_naming_the_view_and_the_socket_keeps_working():
    client = await starter_client()
    await join(client, "phx-other", "/start")
    await event_reply(client, "phx-s", "start", {"name": "job"})
    worker = await started("job")
    with otp.testing.capture_crash_reports() as reports:
        otp.send(worker, "crash")
        await client.assert_push("lv:phx-s", "phx_error", {"reason": "channel_crash"})
    message = reports[0].getMessage()
    assert "handle_async crashed" in message and "view: Starter" in message and "message: AsyncDone(name=(None, 'job')" in message
    assert await event_reply(client, "phx-other", "start", {"name": "x"}) == {}
    otp.send(await started("x"), "fine")
    await client.assert_push("lv:phx-other", "diff", {"0": "x:ok:fine"})


# ---------------------------------------------------------------- in a component


BOX = compile_template("<div>{@data.loading and 'loading' or @data.result}</div>")


class Box(LiveComponent):
    async def mount(self, socket):
        socket.assign_async("data", work("box"))

    def render(self, assigns, changed):
        return BOX.render(assigns, changed)


HOST = compile_template('<main><.live_component module={Box} id="box" /></main>', namespace={"Box": Box})


class BoxHost(Tracked):
    def render(self, assigns, changed):
        return HOST.render(assigns, changed)


async def test_assign_async_in_a_component_assigns_into_that_component():
    TEST["pid"] = otp.current_pid()
    router, client = await open_client({"/box": BoxHost})
    rendered = (await join(client, "phx-b", "/box"))["rendered"]
    assert rendered["c"] == {"1": {"s": ["<div>", "</div>"], "0": "loading", "r": 1}}
    otp.send(await started("box"), "done")
    await client.assert_push("lv:phx-b", "diff", {"c": {"1": {"0": "done"}}})


TOGGLE = compile_template('<main><.live_component :if={@show} module={Box} id="box" /></main>', namespace={"Box": Box})


class Toggle(Tracked):
    async def mount(self, params, session, socket):
        socket.assign(show=True)

    async def handle_event(self, event, value, socket):
        socket.assign(show=False)

    def render(self, assigns, changed):
        return TOGGLE.render(assigns, changed)


async def test_a_destroyed_component_s_async_work_is_killed():
    TEST["pid"] = otp.current_pid()
    router, client = await open_client({"/toggle": Toggle})
    await join(client, "phx-t", "/toggle")
    ref = otp.monitor(await started("box"))
    assert await event_reply(client, "phx-t", "hide") == {"diff": {"0": ""}}
    await client.assert_reply(client.push("lv:phx-t", "cids_will_destroy", {"cids": [1]}), "ok", {})
    await client.assert_reply(client.push("lv:phx-t", "cids_destroyed", {"cids": [1]}), "ok", {"cids": [1]})
    await otp.testing.assert_down(ref, KILLED, timeout=1.0)
