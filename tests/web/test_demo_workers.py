"""The demo as it ships: two workers (web.workers) on one port, its whole contract across them.

The demo runs with ``options={"direct_ports": True}``: besides the shared
port, each worker listens on a port of its own, so a test puts each client
on the worker it wants (on the shared port the kernel picks). Then:

* the chat of docs/demo/chat.md with the official `phoenix` client
  (tests/js/chat_client.mjs), alice on worker 1 and bob on worker 2: the
  same answers as on one node (tests/web/test_js_client.py), presence,
  shouts and typing crossing between the workers;
* the chat page in two Chromium tabs, one per worker;
* the LiveView pages in Chromium, the chat's two users on two workers; and
  a page rendered by one worker and joined through the other;
* the shared port reaches both workers;
* a long-poll session opened on one worker is joined, polled and posted
  through the other; the official client over long-poll on the shared
  port, its requests spread across both workers;
* the dashboard of either worker lists both nodes, and shows the other's
  facts (read there) when it is selected.
"""

from __future__ import annotations

import re
import socket

import orjson
import pytest
from _node_tools import run_js
from dashboard._real_live import HTTPClient, RealSocket, WSClient, _page_tokens, open_live
from test_longpoll import LongPollClient, session_of

import otp
from otp import Supervisor
from otp.program import Program
from otp.testing import assert_receive, capture_crash_reports
from web import workers
from web.testing import LiveViewTest, element, render_change, render_click, wait_for_html
from web.testing._live import Page
from web.workers import relay_to_stderr

pytestmark = pytest.mark.slow

DEMO = "web.demo.app:worker_children"


async def demo_on_two_workers() -> tuple[int, list[int]]:
    """Start the demo on two workers; the shared port and each worker's own port (worker 1's first)."""
    _, port, direct = await start_demo_on_two_workers()
    return port, direct


async def start_demo_on_two_workers() -> tuple[otp.Pid, int, list[int]]:
    """:func:`demo_on_two_workers`, and the tree (its first element)."""
    me = otp.current_pid()

    def on_output(label: str, line: str, stream: str) -> None:
        if line.startswith("direct listening on http://"):
            otp.send(me, ("direct", label, int(line.rsplit(":", 1)[1])))
        else:
            relay_to_stderr(label, line, stream)

    tree = await workers.start_link(DEMO, workers=2, port=0, options={"direct_ports": True}, on_output=on_output)
    direct = dict([(await assert_receive(lambda m: m[0] == "direct", timeout=5))[1:] for _ in range(2)])
    return tree, workers.address(tree)[1], [direct["worker-1"], direct["worker-2"]]


def node(index: int) -> str:
    return f"worker-{index}@{socket.gethostname()}"


async def node_serving(client: HTTPClient) -> str:
    """The node the connection of ``client`` reached: the dashboard's home page names it."""
    response = await client.request("GET", "/dashboard")
    return re.search(r"<h1>Node <code>([^<]+)</code></h1>", response.body.decode()).group(1)


# ---------------------------------------------------------------- the channels chat, with the official client

SCENARIOS = {
    "basic": {
        "joined": {"status": "ok", "response": {"room": "lobby", "user": "alice"}},
        "ping": {"status": "ok", "response": {"n": 1, "nested": {"ok": True}}},
        "users": ["alice"],
        "heard": {"body": "hello", "user": "alice"},
        "invalid": {"status": "error", "response": {"reason": "invalid body"}},
        "count": {"status": "ok", "response": {"members": 1}},
        "unknown": {"status": "error", "response": {"reason": "unknown event"}},
    },
    "refused": {"errored": True, "connected": False},
    "secret": {
        "refused": {"status": "error", "response": {"reason": "unauthorized"}},
        "accepted": {"status": "ok", "response": {"room": "secret", "user": "alice"}},
    },
    "crash_rejoin": {
        "reason": {"reason": "channel_crash"},
        "state": "joined",
        "stillUp": {"status": "ok", "response": {"alive": True}},
        "afterRejoin": {"status": "ok", "response": {"again": True}},
    },
    # alice on worker 1, bob on worker 2: presence, typing, shouts and leaves cross between them.
    "two_clients": {
        "seenByBob": ["alice", "bob"],
        "typed": {"user": "alice"},
        "heard": {"body": "hi bob", "user": "alice"},
        "afterLeave": ["bob"],
    },
    "close_and_unmatched": {
        "unmatched": {"status": "error", "response": {"reason": "unmatched topic"}},
        "afterClose": ["bob"],
        "leftWithin1s": True,
    },
}


async def test_the_chat_contract_holds_with_each_client_on_another_worker():
    _, direct = await demo_on_two_workers()
    urls = ",".join(f"ws://127.0.0.1:{port}/socket" for port in direct)
    for scenario, expected in SCENARIOS.items():
        output = await run_js("chat_client.mjs", scenario, urls)
        assert output["ok"], f"{scenario}: {output.get('error', '')}\n{output['stderr']}"
        assert output["result"] == expected, scenario


async def test_the_chat_page_in_two_tabs_on_two_workers(tmp_path):
    _, direct = await demo_on_two_workers()
    bases = ",".join(f"http://127.0.0.1:{port}" for port in direct)
    result = await run_js("browser_chat.mjs", bases, chromium=True, package="playwright-core")
    stderr = result.pop("stderr")
    assert result == {"ok": True, "online": "online: alice, bob", "bobSaw": True}, stderr


async def test_the_liveview_pages_work_with_their_users_on_two_workers():
    _, direct = await demo_on_two_workers()
    bases = ",".join(f"http://127.0.0.1:{port}" for port in direct)
    with capture_crash_reports():  # (the counter's crash scenario)
        result = await run_js("browser_demo_live.mjs", bases, "chat", "counter", "navigation", chromium=True,
                              package="playwright-core")
    stderr = result.pop("stderr")
    assert result["ok"] and result["errors"] == [], stderr
    assert result["results"]["chat"] == {
        "onlineBoth": ["ann", "bob"],
        "tooLong": "a message is at most 200 characters (201 now)",
        "typing": "ann typing…",
        "received": "ann: hello bob",
        "shown": "ann: hello bob",
        "inputCleared": True,
        "order": ["ann: hello bob", "bob: hi ann"],
        "onlineAfter": ["ann"],
    }, stderr


async def test_a_page_rendered_by_one_worker_is_joined_through_the_other():
    _, (first, second) = await demo_on_two_workers()
    client = await HTTPClient.open(first)
    response = await client.request("GET", "/live/counter")
    await client.aclose()
    view_id, session, static, csrf, title = _page_tokens(response.body.decode())
    ws = await WSClient.connect(second, f"/live/websocket?_csrf_token={csrf}&vsn=2.0.0")
    page = Page(router=None, session=None, timeout=5.0, client=RealSocket(ws), csrf=csrf)
    url = f"http://127.0.0.1:{second}/live/counter"
    view = LiveViewTest(page, view_id, session, static, url, title)
    view = await view._join({"url": url, "params": view._join_params(0), "session": session, "static": static,
                             "sticky": False})
    assert '<span id="count">1</span>' in await render_click(element(view, "#inc"))


async def test_the_shared_port_reaches_both_workers():
    port, _ = await demo_on_two_workers()
    reached = set()
    for _ in range(200):
        client = await HTTPClient.open(port)
        reached.add(await node_serving(client))
        await client.aclose()
        if len(reached) == 2:
            break
    assert reached == {node(1), node(2)}


# ---------------------------------------------------------------- /metrics answers for the cluster


async def test_metrics_from_either_worker_hold_both_workers_figures_each_labelled_with_its_node():
    _, direct = await demo_on_two_workers()
    for port in direct:
        client = await HTTPClient.open(port)
        response = await client.request("GET", "/metrics")
        await client.aclose()
        assert response.status == 200, response
        text = response.body.decode()
        for index in (1, 2):
            assert re.search(rf'^otp_gc_max_pause_seconds{{node="{re.escape(node(index))}"}} \S+$', text, re.M), text
        assert re.search(r"^web_metrics_nodes_missing_total 0\.0$", text, re.M), text


# ---------------------------------------------------------------- long-poll across workers


async def test_a_long_poll_session_opened_on_one_worker_is_joined_polled_and_posted_through_the_other():
    _, (first, second) = await demo_on_two_workers()
    on_first = LongPollClient(first)
    opened = await on_first.open()
    assert opened == {"status": 410, "token": opened["token"], "messages": []}
    session = session_of(on_first.token, signed_with_secret=False)  # [id, node, relay]: the demo's secret is its own
    assert session[1] == node(1)
    on_second = LongPollClient(second)
    on_second.token = on_first.token

    join = await on_second.join()
    answer = await on_second.get()
    assert answer["status"] == 200 and session_of(answer["token"], signed_with_secret=False) == session
    on_second.pending += [orjson.loads(message) for message in answer["messages"]]
    joined = SCENARIOS["basic"]["joined"]
    assert await on_second.frame_where(lambda f: f[1] == join) == [join, join, "room:lobby", "phx_reply", joined]
    ping = {"n": 1, "nested": {"ok": True}}
    for pushed_through, polled_through, ref in [(on_first, on_second, "2"), (on_second, on_first, "3")]:
        assert await pushed_through.post([join, ref, "room:lobby", "ping", ping]) == {"status": 200}
        reply = await polled_through.frame_where(lambda f, ref=ref: f[1] == ref)
        assert reply == [join, ref, "room:lobby", "phx_reply", SCENARIOS["basic"]["ping"]]


async def test_the_official_client_over_long_poll_on_the_shared_port_of_two_workers():
    # Each client polls on one connection and posts on another, each to the worker the kernel picks:
    # both on one worker for a client, half the time. So three clients, one after the other; not those of
    # two_clients and close_and_unmatched, which see who is present: a long-poll client that disconnects
    # between two polls is present for 1.5 windows more (tests/web/test_longpoll_js.py).
    port, _ = await demo_on_two_workers()
    for scenario in ("basic", "secret", "crash_rejoin"):
        output = await run_js("chat_client.mjs", scenario, f"ws://127.0.0.1:{port}/socket", "longpoll")
        assert output["ok"], f"{scenario}: {output.get('error', '')}\n{output['stderr']}"
        assert output["result"] == SCENARIOS[scenario], scenario


# ---------------------------------------------------------------- the dashboard shows the cluster


async def test_the_dashboard_lists_both_workers_and_shows_the_selected_ones_facts_read_there():
    tree, _, (first, _) = await start_demo_on_two_workers()
    os_pids = {child.id: await Program.os_pid(child.pid) for child in await Supervisor.which_children(tree)
               if str(child.id).startswith("worker-")}
    view = await open_live(first, "/dashboard")  # served by worker 1
    html = await wait_for_html(view, lambda html: "2 nodes in the cluster" in html, timeout=10)
    assert re.findall(r'<option value="([^"]+)"', html) == [node(1), node(2)]
    assert f'<b id="os-pid">{os_pids["worker-1"]}</b>' in html
    html = await render_change(element(view, "#node-select"), value={"node": node(2)})
    assert f"<h1>Node <code>{node(2)}</code></h1>" in html
    assert f'<b id="os-pid">{os_pids["worker-2"]}</b>' in html  # read in worker 2, by its sampler
    html = await wait_for_html(view, lambda html: 'id="chart-processes"' in html and "<svg" in html, timeout=5)
    html = await render_change(element(view, "#node-select"), value={"node": "nonode@forged"})
    assert f"<h1>Node <code>{node(2)}</code></h1>" in html  # a forged name selects nothing
