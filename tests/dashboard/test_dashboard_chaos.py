"""The chaos page: otp.chaos in-process against a live tree of the node, from the form to the report."""

import re

import pytest

import otp
from otp import GenServer, PubSub, Supervisor
from otp.testing import capture_crash_reports
from web.dashboard import Dashboard
from web.dashboard._chaos import form_config
from web.demo.app import chat_children
from web.live import LiveRouter
from web.testing import element, live, render_click, render_submit, wait_for_html

from ._real_live import open_live

SECRET = "dashboard chaos test secret"
PUBSUB = "dash_chaos"


class Worker(GenServer):
    async def init(self, arg):
        return None


async def start():
    await PubSub.start_link(PUBSUB)
    dashboard = Dashboard(path="/dashboard", pubsub=PUBSUB, auth=lambda params, session: True)
    await Supervisor.start_link([dashboard.child_spec()], name="dash_sup")
    return LiveRouter(secret=SECRET, routes=dashboard.routes(), pubsub=PUBSUB)


async def start_app():
    """The tree to run chaos against: three named workers and one more, room for many restarts."""
    children = [Worker.child_spec(None, id=i, name=f"w{i}") for i in range(3)] + [Worker.child_spec(None, id="x")]
    return await Supervisor.start_link(children, name="app", max_restarts=1000, max_seconds=1.0)


def text(html, element_id):
    return re.search(rf'id="{element_id}"[^>]*>(.*?)</', html).group(1)


def result(html) -> dict:
    return dict(re.findall(r'<th>([^<]*)</th><td class="[^"]*">([^<]*)</td>', html))


FORM = {"name": "w*", "kind": "worker", "reason": "kill", "rate": "20", "seconds": "1", "seed": "42"}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("tree", "<0.999999.0>", "tree must be one of this node's supervision trees; got '<0.999999.0>'"),
        ("rate", "1000", "rate must be between 0.1 and 100; got 1000"),
        ("rate", "fast", "rate must be a number; got 'fast'"),
        ("seconds", "600", "seconds must be between 0.1 and 60; got 600"),
        ("kind", "process", "kind must be one of any, worker, supervisor, genserver; got 'process'"),
        ("reason", "normal", "reason must be one of kill, shutdown, chaos; got 'normal'"),
        ("seed", "-1", "seed must be a whole number of at most 18 digits; got '-1'"),
        ("seed", "1" * 19, f"seed must be a whole number of at most 18 digits; got '{'1' * 19}'"),
    ],
)
async def test_each_field_of_the_form_is_checked(field, value, message):
    app = await start_app()
    form = {**FORM, "tree": repr(app), field: value}
    with pytest.raises(ValueError) as error:
        form_config(form, page=otp.current_pid(), sampler=None)
    assert str(error.value) == message


async def test_the_form_s_config_replays_with_its_seed_and_never_targets_the_page_or_the_sampler(autojump_clock):
    app = await start_app()
    sampler = otp.whereis("w2")  # stands in for the sampler: never a target
    tree, config = form_config({**FORM, "tree": repr(app), "name": "", "kind": "any"}, page=otp.current_pid(), sampler=sampler)
    assert (tree, config.seed, config.rate, config.duration, config.spare_restarts) == (app, 42, 20.0, 1.0, 1)
    async with otp.chaos.attach(tree, config) as chaos:
        assert [target.path for target in chaos.targets] == [(0,), (1,), ("x",)]


async def test_a_run_from_the_page_charts_its_progress_and_reports_an_intact_tree(autojump_clock):
    router = await start()
    app = await start_app()
    view = await live(router, "/dashboard/chaos")
    assert f'<option value="{repr(app)}"'.replace("<0", "&lt;0").replace(">\"", "&gt;\"") in view.html
    with capture_crash_reports():
        html = await render_submit(element(view, "#chaos-form"), value={**FORM, "tree": repr(app), "seconds": "2.5"})
        assert text(html, "chaos-seed") == "seed <b>42"
        assert 'id="chaos-stop"' in html and "disabled" in html.split('id="chaos-start"')[1].split(">")[0]
        html = await wait_for_html(view, lambda html: 'id="chaos-result"' in html, timeout=10)
    assert text(html, "chaos-replay") == (
        "ChaosConfig(seed=42, rate=20, duration=2.5, targets=Targets(name='w*', kind='worker'), "
        "reasons={otp.KILL: 1}, spare_restarts=1)"
    )
    assert result(html) == {
        "kills": "50", "kills: kill": "50", "missed": "0", "spared": "0", "restarts": "50", "tree_intact": "True",
        "seconds": "2.50", "seed": "42",
    }
    assert text(html, "chaos-status") == "done"
    # A point a second and one for the last half second: three on each chart, all 20 kills and restarts a second.
    assert re.search(r'id="chart-chaos-kills".*?<b class="latest">20</b>', html, re.S)
    assert re.search(r'id="chart-chaos-restarts".*?<b class="latest">20</b>', html, re.S)
    assert re.search(r'id="chart-chaos-kills".*?points="([^"]*)"', html, re.S).group(1).count(",") == 3
    assert len(await Supervisor.which_children(app)) == 4


async def test_the_stop_button_ends_the_run_early_with_its_report(autojump_clock):
    router = await start()
    app = await start_app()
    view = await live(router, "/dashboard/chaos")
    with capture_crash_reports():
        await render_submit(element(view, "#chaos-form"), value={**FORM, "tree": repr(app), "seconds": "60"})
        await wait_for_html(view, lambda html: text(html, "chaos-status").startswith("1.0 s · 20 kills"))
        await render_click(element(view, "#chaos-stop"))
        html = await wait_for_html(view, lambda html: 'id="chaos-result"' in html)
    assert result(html)["tree_intact"] == "True" and int(result(html)["kills"]) < 60 * 20
    assert 'id="chaos-stop"' not in html


async def test_a_tree_gone_before_the_run_starts_is_answered_on_the_page(autojump_clock):
    router = await start()
    app = await start_app()
    view = await live(router, "/dashboard/chaos")
    otp.unlink(app)
    await Supervisor.stop(app)
    html = await render_submit(element(view, "#chaos-form"), value={**FORM, "tree": repr(app)})
    assert text(html, "chaos-error") == (
        f"tree must be one of this node's supervision trees; got '{repr(app)}'".replace("<", "&lt;").replace(">", "&gt;")
    )
    assert text(html, "chaos-status") == "idle"


async def test_a_run_against_the_tree_serving_the_page_spares_it_and_its_supervisors_intensity():
    """The demo's tree, served over a real endpoint: the page, the endpoint and the sampler are in it."""
    lines = []
    top = await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    port = int(lines[0].rsplit(":", 1)[1])
    endpoint_parts = {pid for pid in otp.processes() if (info := otp.process_info(pid)) and info.kind == "endpoint"}
    view = await open_live(port, "/dashboard/chaos")
    # Every named process of the tree may be struck (the unnamed metrics exporter is left out: killed,
    # it cannot start again while its old telemetry handlers are attached, a defect of web.metrics).
    form = {**FORM, "tree": repr(top), "name": "*", "kind": "any", "rate": "100", "seconds": "0.5"}
    with capture_crash_reports():
        await render_submit(element(view, "#chaos-form"), value=form)
        html = await wait_for_html(view, lambda html: 'id="chaos-result"' in html, timeout=10)
    # The top supervisor allows 3 restarts in 5 s: two kills leave it one to spare, the rest are spared.
    rows = result(html)
    assert (rows["kills"], rows["spared"], rows["missed"], rows["restarts"], rows["tree_intact"]) == ("2", "48", "0", "2", "True")
    assert otp.is_alive(top)
    assert endpoint_parts <= set(otp.processes())  # the endpoint serving the page is untouched
    assert 'id="chaos-status">done<' in await render_click(view, "stop", {})  # the page still answers
