"""The processes page's detail of one process: a GenServer's status and state from otp.sys, and its last messages.

Through web.testing's LiveView helpers, on a real node with a real sampler,
as the other dashboard tests (tests/dashboard/test_dashboard.py).
"""

import html as html_text
import re

import otp
from otp import GenServer, PubSub, Supervisor
from otp.testing import wait_all_tasks_blocked
from web.dashboard import Dashboard
from web.dashboard._pages import ProcessesPage
from web.live import LiveRouter
from web.testing import element, live, render_click, wait_for_html

SECRET = "dashboard process test secret"
PUBSUB = "dash_process"


class Counter(GenServer):
    vsn = "2.1"

    async def init(self, start):
        self.count = start

    async def handle_call(self, request, caller):
        self.count += 1
        return self.count


def everyone(params, session):
    return True


async def start():
    await PubSub.start_link(PUBSUB)
    dashboard = Dashboard(path="/dashboard", pubsub=PUBSUB, auth=everyone)
    await Supervisor.start_link([dashboard.child_spec()], name="dash_process_sup")
    router = LiveRouter(secret=SECRET, routes=dashboard.routes(), pubsub=PUBSUB)
    return dashboard, router


def tick(dashboard):
    otp.send(otp.whereis(dashboard.metrics), "sample")


def row(pid):
    return f"#proc-{repr(pid).strip('<>').replace('.', '-')}"


def fact(html, label):
    return html_text.unescape(re.search(rf'<td class="fact-{label}">(.*?)</td>', html, re.DOTALL).group(1))


def events(html):
    return [html_text.unescape(text) for text in re.findall(r'<li class="event [a-z]+">(.*?)</li>', html)]


async def test_inspecting_a_genserver_shows_its_status_and_state_and_logs_its_messages_while_shown():
    dashboard, router = await start()
    pid = await Counter.start_link(41, name="counted")
    me = otp.current_pid()
    view = await live(router, "/dashboard/processes?sort=name")
    html = await render_click(element(view, f"{row(pid)} button.inspect"))

    assert re.search(rf'id="inspected-pid">{re.escape(html_text.escape(repr(pid)))}<', html)
    assert [fact(html, label) for label in ("class", "name", "status", "vsn", "mailbox", "state")] == [
        f"{__name__}.Counter", "counted", "running", "'2.1'", "0", "{'count': 41}"
    ]
    assert 'id="no-events"' in html and events(html) == []
    status = await otp.sys.get_status(pid)
    assert status.log_size == 20  # the page turned the server's log on

    assert await GenServer.call(pid, "incr") == 42
    tick(dashboard)
    html = await wait_for_html(view, lambda html: "replied 42" in html)
    assert events(html) == [f"replied 42 to {me!r}", f"got call 'incr' from {me!r}"]  # newest first
    assert fact(html, "state") == "{'count': 42}"

    await render_click(element(view, "button.close-detail"))
    assert (await otp.sys.get_status(pid)).log_size is None  # off again once the page stops showing it
    assert 'id="process"' not in view.html


async def test_a_log_that_was_on_already_stays_on_and_leaving_the_page_turns_the_pages_off():
    dashboard, router = await start()
    already = await Counter.start_link(0)
    await otp.sys.log(already, 5)
    watched = await Counter.start_link(0)

    view = await live(router, f"/dashboard/processes?pid={repr(watched)}")
    assert (await otp.sys.get_status(watched)).log_size == 20
    await render_click(element(view, f"{row(already)} button.inspect"))
    assert (await otp.sys.get_status(watched)).log_size is None  # the page moved on
    assert (await otp.sys.get_status(already)).log_size == 5  # not the page's to change

    await render_click(element(view, f"{row(watched)} button.inspect"))
    await view.client.leave(view.topic)
    await wait_all_tasks_blocked()  # the view has ended and run its terminate
    assert (await otp.sys.get_status(watched)).log_size is None
    assert (await otp.sys.get_status(already)).log_size == 5


async def test_a_process_that_is_no_genserver_a_dead_one_and_a_forged_pid_get_a_sentence():
    dashboard, router = await start()

    async def plain():
        await otp.receive(lambda m: m == "end")

    pid = otp.spawn(plain)
    await wait_all_tasks_blocked()
    view = await live(router, "/dashboard/processes")
    html = await render_click(element(view, f"{row(pid)} button.inspect"))
    assert re.search(r'id="process-note">a plain process, not a GenServer: it has no state to show<', html)
    assert 'id="process-status"' not in html

    otp.send(pid, "end")
    await wait_all_tasks_blocked()
    tick(dashboard)
    html = await wait_for_html(view, lambda html: "has exited" in html)
    assert re.search(rf'id="process-note">{re.escape(html_text.escape(repr(pid)))} has exited<', html)

    await render_click(element(view, "button.close-detail"))
    for forged in [{"pid": "<0.999999.0>"}, {"pid": ["not", "text"]}, "no dict at all"]:
        html = await view.apply_reply(await view.call("event", {"type": "click", "event": "inspect", "value": forged}))
        assert 'id="process"' not in html
    assert 'id="refused">refused: no pid given<' in html
    html = await view.apply_reply(await view.call("event", {"type": "click", "event": "inspect", "value": {"pid": "<0.999999.0>"}}))
    assert 'id="refused">refused: no process &lt;0.999999.0&gt; on this node (it may have ended)<' in html


async def test_a_busy_server_makes_the_detail_say_so_without_holding_the_page(monkeypatch):
    monkeypatch.setattr(ProcessesPage, "sys_timeout", 0.05)  # (real time: the page's timeout)
    dashboard, router = await start()

    class Busy(GenServer):
        async def handle_call(self, request, caller):
            await otp.receive(lambda m: m == "go")
            return "done"

    pid = await Busy.start_link()
    otp.spawn(GenServer.call, pid, "work")
    await wait_all_tasks_blocked()
    view = await live(router, "/dashboard/processes")
    html = await render_click(element(view, f"{row(pid)} button.inspect"))
    assert re.search(r'id="process-note">busy: no answer within 0.05 s<', html)
    otp.send(pid, "go")
