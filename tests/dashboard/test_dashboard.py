"""The dashboard's pages through web.testing's LiveView helpers: a real node, a real sampler, no browser."""

import re

import otp
from otp import GenServer, PubSub, Supervisor
from otp.testing import capture_crash_reports
from otp.tracker import Tracker
from web.dashboard import Dashboard
from web.live import LiveRouter
from web.presence import Presence
from web.channel import Channel, Ok
from web.socket import Socket
from web.testing import Redirect, connect, element, live, render_click, wait_for_html

SECRET = "dashboard test secret"
PUBSUB = "dash"


class Worker(GenServer):
    async def init(self, arg):
        return None


def everyone(params, session):
    """These tests drive the pages in-process (no endpoint, so no Dashboard.http): let every load in."""
    return True


async def start(auth=everyone):
    await PubSub.start_link(PUBSUB)
    await Presence.start_link(pubsub=PUBSUB, name="dash_presence")
    dashboard = Dashboard(path="/dashboard", pubsub=PUBSUB, presence=["dash_presence"], auth=auth)
    await Supervisor.start_link([dashboard.child_spec()], name="dash_sup")
    router = LiveRouter(secret=SECRET, routes=dashboard.routes(), pubsub=PUBSUB)
    return dashboard, router


def tick(dashboard):
    """Make the sampler take a sample now (it does so every second on its own)."""
    otp.send(otp.whereis(dashboard.metrics), "sample")


def shown(pid):
    """A pid as the page's HTML shows it (escaped)."""
    return repr(pid).replace("<", "&lt;").replace(">", "&gt;")


def text(html, element_id):
    return re.search(rf'id="{element_id}"[^>]*>(.*?)<', html).group(1)


async def test_home_shows_the_node_and_a_new_sample_redraws_the_charts():
    dashboard, router = await start()
    view = await live(router, "/dashboard")
    assert text(view.html, "process-count") == str(len(otp.processes()))  # counted at the join, the view included
    tick(dashboard)
    html = await wait_for_html(view, lambda html: '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="0.0,' in html)
    assert 'id="chart-processes"' in html and 'id="chart-restarts"' in html
    assert re.search(r'id="memory">\d+\.\d<', html)


async def test_home_shows_the_collectors_passes_and_charts_the_longest_pause_of_each_second():
    import gc

    from otp import collector

    dashboard, router = await start()
    collector.reset_statistics()
    gc.collect()  # a full pass: counted at once, and charted at the next sample
    view = await live(router, "/dashboard")
    assert int(text(view.html, "gc-passes")) >= 1
    assert float(text(view.html, "gc-max-pause")) <= collector.statistics().max_pause * 1000 + 0.05
    assert re.fullmatch(r"\d+\.\d", text(view.html, "gc-max-pause"))
    tick(dashboard)
    history = await otp.GenServer.call(otp.whereis(dashboard.metrics), "history")
    # The full pass above is in the first sample taken after it (this tick, or the sampler's own if it came first).
    assert history[0].gc_passes >= 1 and history[0].gc_pause_ms > 0
    html = await wait_for_html(view, lambda html: 'id="chart-gc"' in html and "points=" in html.split('id="chart-gc"')[1])
    assert 'id="chart-gc"' in html


async def test_kill_a_process_after_confirming_and_see_its_supervisor_restart_it():
    dashboard, router = await start()
    workers = await Supervisor.start_link([Worker.child_spec(None, id="victim", name="victim")], name="workers")
    victim = otp.whereis("victim")
    view = await live(router, "/dashboard/processes?sort=name")
    row = f"#proc-{repr(victim).strip('<>').replace('.', '-')}"
    html = await render_click(element(view, f"{row} button.kill"))
    assert f"really kill {shown(victim)}?" in html  # asked first
    assert otp.is_alive(victim)
    down = otp.monitor(victim)
    with capture_crash_reports():
        html = await render_click(element(view, f"{row} button.confirm-kill"))
        assert (await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == down)).reason == otp.KILLED
    assert f'id="killed">killed {shown(victim)}<' in html
    [child] = await Supervisor.which_children(workers)  # after the supervisor took the exit signal
    restarted = otp.whereis("victim")
    assert child.pid == restarted and restarted != victim
    tick(dashboard)
    await wait_for_html(view, lambda html: f'<td class="pid">{shown(restarted)}</td>' in html)

    tree = await live(router, "/dashboard/tree")
    row_id = "tree-workers-victim"
    assert re.search(rf'<li id="{row_id}" class="worker"', tree.html)
    assert "1 restarts" in tree.html  # the supervisor "workers" restarted once
    await Supervisor.stop(workers)


async def test_the_tree_highlights_a_restart_as_it_happens():
    dashboard, router = await start()
    await Supervisor.start_link([Worker.child_spec(None, id="w", name="w")], name="app_sup")
    view = await live(router, "/dashboard/tree")
    assert re.search(r'id="tree-app-sup" class="supervisor"', view.html)
    with capture_crash_reports():
        otp.exit(otp.whereis("w"), otp.KILL)
        tick(dashboard)
        html = await wait_for_html(view, lambda html: 'class="supervisor restarted"' in html)
    assert re.search(r'id="tree-app-sup" class="supervisor restarted"', html)


async def test_pubsub_and_presence_pages_list_topics_with_counts():
    dashboard, router = await start()
    otp.pubsub.subscribe(PUBSUB, "room:1")
    await Tracker.track("dash_presence", otp.current_pid(), "room:1", "ann", {})
    view = await live(router, "/dashboard/pubsub")
    assert '<td class="name">room:1</td><td class="count">1</td>' in view.html
    assert '<td class="name">room:1</td><td class="count">1</td><td class="keys">ann</td>' in view.html


async def test_auth_refuses_the_dead_render_and_the_join():
    dashboard, router = await start(auth=lambda params, session: params.get("token") == "letmein")
    assert await live(router, "/dashboard") == Redirect("redirect", "/")
    view = await live(router, "/dashboard?token=letmein")
    assert "Node" in view.html


class EchoChannel(Channel):
    async def join(self, topic, payload, socket):
        return Ok({})


class EchoSocket(Socket):
    channels = {"echo:*": EchoChannel}


async def test_the_pubsub_page_counts_sockets_and_channels():
    dashboard, router = await start()
    client = await connect(EchoSocket, {}, pubsub=PUBSUB)
    assert await client.join("echo:1") == ("ok", {})
    view = await live(router, "/dashboard/pubsub")
    # The test client's socket state runs in the test's own connection process (not a
    # Phoenix socket process), and two channels are joined: echo:1 and this page.
    assert text(view.html, "channel-count") == "2"
