"""The dashboard's protection, through the demo's real endpoint (issue #12, item 13).

The demo tree runs here as ``make demo`` runs it: the test is the node's
root process (``otp.run(main)``'s place) and the top supervisor is linked
to it, so a kill that got through would end the test. Pages are loaded over
loopback sockets and driven with web.testing's helpers (``_real_live.py``).
"""

import logging
import socket

import pytest
import trio
from markupsafe import escape

import otp
from otp import PubSub, Supervisor
from otp.lowlevel import current_node
from otp.testing import TelemetryEvent, capture_crash_reports, forward_telemetry
from web import Request
from web.dashboard import Dashboard
from web.dashboard._access import Access
from web.demo.app import chat_children
from web.endpoint import Endpoint
from web.live import LiveRouter, LiveSocket
from web.testing import element, render_click

from ._real_live import HTTPClient, HTTPResponse, dead_render, open_live

TOKEN = "a-dashboard-token-for-tests"
RESTART = ("otp", "supervisor", "restart")  # the telemetry event of a supervisor restarting a child


async def start_demo(**options) -> tuple:
    """The demo's tree under a top supervisor linked to this (root) process: ``(top, port)``."""
    lines = []
    top = await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append, **options))
    return top, int(lines[0].rsplit(":", 1)[1])


def refused(html: str) -> str:
    """The refusal the processes page shows, unescaped ('' if none)."""
    start = html.find('<p id="refused">')
    if start < 0:
        return ""
    text = html[start + len('<p id="refused">'): html.index("</p>", start)]
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


async def push(view, event: str, value: object) -> str:
    """Any ``event`` with any ``value``, as a forged client frame would carry it; the page after the reply."""
    return await view.apply_reply(await view.call("event", {"type": "click", "event": event, "value": value}))


async def kill(view, pid_text) -> str:
    """A forged ``kill`` event, as any client could push it: the refusal shown."""
    return refused(await render_click(view, "kill", {"pid": pid_text}))


async def confirm(view, pid_text) -> str:
    """A forged ``confirm-kill`` event, without the ``kill`` before it."""
    return refused(await render_click(view, "confirm-kill", {"pid": pid_text}))


def page_processes() -> dict:
    """The processes serving the one dashboard page open on the demo's endpoint, by role."""
    [page] = [pid for pid in otp.processes() if otp.process_info(pid).kind == "channel"]
    [socket] = otp.process_info(page).monitors  # its connection's process: it runs the socket
    assert otp.process_info(socket).function == "web._http.serve_connection"
    return {"page": page, "socket": socket}


def endpoint_parts(endpoint) -> dict:
    connections = Endpoint.connection_supervisor(endpoint)
    [acceptor] = [pid for pid in otp.process_info(endpoint).links
                  if otp.process_info(pid).function == "web.endpoint._accept_loop"]
    return {"endpoint": endpoint, "acceptor": acceptor, "connection supervisor": connections}


# ---------------------------------------------------------------- refused kills


async def test_the_root_supervisor_and_the_root_process_are_refused_and_the_tree_stays(caplog):
    top, port = await start_demo()
    view = await open_live(port, "/dashboard/processes")
    before = await Supervisor.which_children(top)
    root = otp.current_pid()
    assert root == current_node().root.pid
    with capture_crash_reports() as reports:
        assert await kill(view, repr(top)) == f"refused: {top!r} is a root supervisor of the node; nothing would restart it"
        assert await confirm(view, repr(top)) == f"refused: nothing to confirm for {repr(top)!r}; press its kill button first"
        assert await kill(view, repr(root)) == f"refused: {root!r} is the node's root process; killing it would stop the node"
        html = await render_click(view, "kill", {"pid": repr(top)})
    assert "really kill" not in html  # no confirmation offered for a refused pid
    assert otp.is_alive(top) and await Supervisor.which_children(top) == before
    assert reports == [] and [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_the_endpoint_and_the_page_s_own_processes_are_refused(caplog):
    top, port = await start_demo()
    view = await open_live(port, "/dashboard/processes")
    children = {child.id: child.pid for child in await Supervisor.which_children(top)}
    serving = page_processes()
    parts = endpoint_parts(children["endpoint"])
    channels = otp.whereis("chat.channels")
    sampler = otp.whereis("web.dashboard.metrics")
    expected = {
        parts["endpoint"]: f"refused: {parts['endpoint']!r} is part of the endpoint serving this page",
        parts["acceptor"]: f"refused: {parts['acceptor']!r} is part of the endpoint serving this page",
        parts["connection supervisor"]: f"refused: {parts['connection supervisor']!r} is part of the endpoint serving this page",
        serving["socket"]: f"refused: {serving['socket']!r} serves this page (its own process or socket)",
        serving["page"]: f"refused: {serving['page']!r} serves this page (its own process or socket)",
        channels: f"refused: {channels!r} (chat.channels) supervises what serves this page",
        sampler: f"refused: {sampler!r} (web.dashboard.metrics) is the dashboard's sampler",
    }
    alive_before = sorted(otp.processes())
    with capture_crash_reports() as reports:
        shown = {pid: await kill(view, repr(pid)) for pid in expected}
    assert shown == expected
    assert all(otp.is_alive(pid) for pid in expected)
    assert set(alive_before) <= set(otp.processes())  # nothing ended (new ones: none expected either)
    assert reports == [] and [r for r in caplog.records if r.levelno >= logging.WARNING] == []


NOT_A_PID = "refused: {} is not a pid like <0.42.0>"
UNASKED = "refused: nothing to confirm for {}; press its kill button first"
NO_PID = "refused: no pid given"


@pytest.mark.parametrize(
    ("value", "kill_answer", "confirm_answer"),
    [
        ({"pid": "abc"}, NOT_A_PID.format("'abc'"), UNASKED.format("'abc'")),
        ({"pid": "<0.1>"}, NOT_A_PID.format("'<0.1>'"), UNASKED.format("'<0.1>'")),
        ({"pid": "<0.1.1>"}, NOT_A_PID.format("'<0.1.1>'"), UNASKED.format("'<0.1.1>'")),
        ({"pid": " <0.1.0>"}, NOT_A_PID.format("' <0.1.0>'"), UNASKED.format("' <0.1.0>'")),
        ({"pid": "<" + "9" * 500 + ".0>"}, NOT_A_PID.format("'<" + "9" * 39 + "'"), UNASKED.format("'<" + "9" * 39 + "'")),
        ({"pid": "<3.1.0>"}, "refused: <3.1.0> is a process of another node; this page kills only its own node's",
         UNASKED.format("'<3.1.0>'")),
        ({"pid": "<0.999999999.0>"}, "refused: no process <0.999999999.0> on this node (it may have ended)",
         UNASKED.format("'<0.999999999.0>'")),
        ({"pid": ""}, NO_PID, NO_PID),
        ({"pid": 7}, NO_PID, NO_PID),
        ({"pid": ["<0.1.0>"]}, NO_PID, NO_PID),
        ({}, NO_PID, NO_PID),
        ("<0.1.0>", NO_PID, NO_PID),  # not even an object
        (None, NO_PID, NO_PID),
    ],
)
async def test_a_forged_kill_with_any_pid_text_is_answered_and_the_view_lives_on(value, kill_answer, confirm_answer, caplog):
    top, port = await start_demo()
    view = await open_live(port, "/dashboard/processes")
    with capture_crash_reports() as reports:
        assert refused(await push(view, "kill", value)) == kill_answer
        assert refused(await push(view, "confirm-kill", value)) == confirm_answer
    html = await render_click(view, "sort", {"by": "name"})  # the view still answers
    assert '<b id="sort-by">name</b>' in html
    assert reports == [] and [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_the_demo_clock_is_killed_after_confirming_and_restarted():
    top, port = await start_demo()
    clock = otp.whereis("demo.clock")
    view = await open_live(port, "/dashboard/processes?sort=name")
    row = f"#proc-{repr(clock).strip('<>').replace('.', '-')}"
    html = await render_click(element(view, f"{row} button.kill"))
    assert f"really kill {escape(repr(clock))}?" in html and refused(html) == ""
    with capture_crash_reports() as reports, forward_telemetry(RESTART):
        html = await render_click(element(view, f"{row} button.confirm-kill"))
        event = await otp.receive(TelemetryEvent, timeout=5.0)
    assert f'<p id="killed">killed {escape(repr(clock))}</p>' in html and refused(html) == ""
    assert (event.metadata["child_id"], event.metadata["child_pid"], event.metadata["reason"]) == ("demo.clock", clock, otp.KILLED)
    [restarted] = [child.pid for child in await Supervisor.which_children(top) if child.id == "demo.clock"]
    assert restarted == otp.whereis("demo.clock") != clock and otp.is_alive(restarted)
    # The supervisor reports the kill; the clock has no crash report (it was killed, it did not fail).
    assert [report.getMessage() for report in reports] == [
        f"Supervisor {top!r}: child 'demo.clock' {clock!r} exited with killed; restarting",
    ]


# ---------------------------------------------------------------- who may load it


def non_loopback_address() -> str | None:
    """This machine's address on a real interface (no packet is sent), or None if it has none."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only picks the source address
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


async def get_from(address: str, port: int, target: str) -> HTTPResponse:
    """GET ``target`` on a connection made from (and to) ``address``: the server sees that address."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    await sock.bind((address, 0))
    await sock.connect((address, port))
    client = HTTPClient(trio.SocketStream(sock))
    try:
        return await client.request("GET", target)
    finally:
        await client.aclose()


REMOTE_REFUSAL = (
    "403 Forbidden: the dashboard is served to this machine only (127.0.0.1, ::1), and this request came from {}; "
    "give the dashboard a token to open it to other machines\n"
)


async def test_without_a_token_another_machine_gets_403_and_this_one_the_page():
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    lines = []
    await Supervisor.start_link(chat_children("0.0.0.0", 0, on_listening=lines.append))
    port = int(lines[0].rsplit(":", 1)[1])
    response = await get_from(address, port, "/dashboard/processes")
    assert (response.status, response.body.decode()) == (403, REMOTE_REFUSAL.format(address))
    assert (await get_from(address, port, "/live/counter")).status == 200  # the rest of the demo is public
    assert (await dead_render(port, "/dashboard/processes")).status == 200  # from 127.0.0.1


def test_the_access_rule_reads_the_peer_address():
    access = Access(owner=None, path="/dashboard", token=None)
    for peer, status in [(("10.1.2.3", 5000), 403), (("::1", 5000), None), (("127.0.0.1", 1), None),
                         (("::ffff:127.0.0.1", 1), None), (("::ffff:10.0.0.1", 1), 403), ((), 403)]:
        refusal = access.refusal(Request("GET", "/dashboard", {}, {}, peer))
        assert (refusal.status if refusal else None) == status, peer


async def test_with_a_token_a_client_needs_it_then_keeps_it_in_a_cookie():
    top, port = await start_demo(dashboard_token=TOKEN)
    missing = await dead_render(port, "/dashboard")
    assert (missing.status, missing.body) == (
        403, b"403 Forbidden: this page needs the dashboard token: open it once with ?token=<the token>\n"
    )
    wrong = await dead_render(port, "/dashboard?token=not-the-token-at-all")
    assert (wrong.status, wrong.body) == (403, b"403 Forbidden: the dashboard token is wrong\n")
    given = await dead_render(port, f"/dashboard/processes?sort=name&token={TOKEN}")
    assert (given.status, given.headers["location"]) == (303, "/dashboard/processes?sort=name")
    cookie = given.headers["set-cookie"]
    assert cookie == f"dashboard_token={TOKEN}; Path=/dashboard; HttpOnly; SameSite=Strict"
    view = await open_live(port, "/dashboard/processes?sort=name", headers=[("cookie", cookie.split(";")[0])])
    assert '<b id="sort-by">name</b>' in view.html
    assert (await dead_render(port, "/live/counter")).status == 200  # only the dashboard needs it


async def test_a_live_navigation_from_a_public_page_cannot_reach_the_dashboard():
    """A join is no HTTP request: the dashboard's own live session keeps a public page's session out."""
    top, port = await start_demo(dashboard_token=TOKEN)
    counter = await open_live(port, "/live/counter")  # public: anyone gets its signed session
    await counter._leave()  # then joins again with "redirect", as the client's live navigation does
    payload = {
        "redirect": f"http://127.0.0.1:{port}/dashboard/processes", "params": counter._join_params(0),
        "session": counter._session_token, "static": counter._static_token, "sticky": False,
    }
    assert await counter.client.join(counter.topic, payload) == ("error", {"reason": "unauthorized"})


async def test_a_dashboard_served_without_its_check_and_without_auth_fails_closed():
    await PubSub.start_link("unguarded")
    dashboard = Dashboard(path="/dashboard", pubsub="unguarded")
    router = LiveRouter(secret="s" * 32, routes=dashboard.routes(), pubsub="unguarded")
    response = await router.render(Request("GET", "/dashboard/processes", {}, {"host": "localhost"}, ("127.0.0.1", 1)))
    assert (response.status, response.body) == (
        403, b"403 the dashboard at /dashboard is not protected: serve it through Dashboard.http(handler) "
             b"(this machine only, or a token) or give Dashboard(auth=...)",
    )


def test_a_token_must_be_long_and_cookie_safe():
    with pytest.raises(ValueError, match="16 to 256 characters"):
        Dashboard(pubsub="p", token="short")
    with pytest.raises(ValueError, match="16 to 256 characters"):
        Dashboard(pubsub="p", token="sixteen chars; with a semicolon")



# ---------------------------------------------------------------- forged events on the other pages


async def test_forged_toggles_on_the_tree_page_are_ignored_and_a_real_one_works():
    top, port = await start_demo()
    view = await open_live(port, "/dashboard/tree")
    before = view.html
    with capture_crash_reports() as reports:
        for value in ["tree", None, 7, ["x"], {"key": ["x"]}, {"key": "invented"}]:
            assert await push(view, "toggle", value) == before  # nothing changed, and the view answers
        key = f"{top!r}/endpoint"  # not a supervisor row: the endpoint is a worker child of the top
        assert await push(view, "toggle", {"key": key}) == before
        [endpoint] = [child.pid for child in await Supervisor.which_children(top) if child.id == "endpoint"]
        connections = Endpoint.connection_supervisor(endpoint)
        row = "tree-" + "".join(c if c.isalnum() else "-" for c in repr(connections))  # a root: its key is its pid
        html = await render_click(element(view, f"#{row} button.toggle"))
    assert html.count("▸") == 1 and f'phx-value-key="{escape(repr(connections))}">▸</button>' in html
    assert reports == []


async def test_invented_tree_keys_never_enter_the_page_s_state():
    """The collapsed set is kept per page: only keys of supervisor rows on the page may enter it."""
    await PubSub.start_link("tree_state")
    dashboard = Dashboard(pubsub="tree_state", auth=lambda params, session: True)
    tree_page, _ = dashboard.routes()["/dashboard/tree"]
    page, socket = tree_page(), LiveSocket(connected=False, view_id="tree")
    await page.mount({}, {}, socket)
    for n in range(100):
        await page.handle_event("toggle", {"key": f"invented-{n}"}, socket)
    assert socket.assigns["collapsed"] == frozenset()


async def test_a_forged_chaos_start_without_the_form_is_answered_and_starts_nothing():
    top, port = await start_demo()
    view = await open_live(port, "/dashboard/chaos")
    processes = len(otp.processes())
    with capture_crash_reports() as reports:
        html = await push(view, "start", "not the form")
        assert '<p id="chaos-error">start needs the form\'s fields; got str</p>' in html
        html = await push(view, "start", {"seconds": "1", "seed": "²"})  # a digit to isdigit(), not to int()
    assert "<p id=\"chaos-error\">seed must be a whole number of at most 18 digits; got '²'</p>" in html
    assert len(otp.processes()) == processes and 'id="chaos-status">idle<' in html
    assert reports == []
