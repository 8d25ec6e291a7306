"""web.playground: a one-file LiveView app served in one line, reloaded live when its file changes.

The app is a file written to ``tmp_path``; the playground runs under the
test's own supervisor (``web.playground.children``), over real HTTP and
WebSockets; the command line runs in a child process, and an open page
follows an edit in Chromium. Every wait is for an event: a line printed, a
``reload`` broadcast on the playground's topic, a page's text.
"""

import json
import logging
import subprocess
import sys

import pytest
import trio
from _clients import HTTPClient, WSClient
from _node_tools import JS, require_node

import web
import web.playground
from otp import PubSub, Supervisor
from otp.testing import assert_receive
from web._message import Broadcast
from web.playground import RELOAD_TOPIC, Playground, load_view
from web.testing import element, live, render_click

COUNTER = '''
import web
from web.live import LiveView, compile_template

PAGE = compile_template("""<h1 id="title">{@title}</h1>
<span id="count">{@count}</span> <button id="inc" phx-click="inc">+</button>""")

class CounterLive(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(count=0, title=TITLE)

    async def handle_event(self, event, value, socket):
        socket.update("count", lambda n: n + STEP)

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)
'''


def app_source(title="Counter", step=1, tail=""):
    return f"TITLE = {title!r}\nSTEP = {step}\n" + COUNTER + tail


def write_app(path, **options):
    path.write_text(app_source(**options))
    return path


async def start(file, **options):
    lines = []
    await Supervisor.start_link(web.playground.children(file, port=0, on_listening=lines.append, **options))
    return int(lines[0].rsplit(":", 1)[1])


async def subscribe_to_reloads():
    PubSub.subscribe("playground.pubsub", RELOAD_TOPIC)


def broadcast(event):
    return lambda m: isinstance(m, Broadcast) and m.event == event


async def get(port, target="/"):
    client = await HTTPClient.open(port)
    try:
        return await client.request("GET", target)
    finally:
        await client.aclose()


# ---------------------------------------------------------------- serving


async def test_the_page_is_served_over_http_with_the_clients_and_the_reload_script(tmp_path):
    port = await start(write_app(tmp_path / "app.py"))
    page = await get(port)
    assert page.status == 200
    body = page.body.decode()
    assert '<h1 id="title">Counter</h1>' in body and '<span id="count">0</span>' in body
    assert '<script src="/phoenix.min.js"></script>' in body
    assert 'new Phoenix.Socket("/playground/socket")' in body and "version !== 1" in body
    assert (await get(port, "/phoenix_live_view.min.js")).status == 200
    assert (await get(port, "/nowhere")).status == 404


async def test_the_view_works_through_web_testing(tmp_path):
    await start(write_app(tmp_path / "app.py"))
    view = await live(await Playground.router("playground"), "/")
    assert '<span id="count">1</span>' in await render_click(element(view, "#inc"))


async def test_the_reload_channel_answers_the_apps_version(tmp_path):
    port = await start(write_app(tmp_path / "app.py"))
    client = await WSClient.connect(port, "/playground/socket/websocket?vsn=2.0.0")
    await client.send_text(json.dumps(["1", "1", RELOAD_TOPIC, "phx_join", {}]))
    assert json.loads(await client.receive()) == ["1", "1", RELOAD_TOPIC, "phx_reply", {"status": "ok", "response": {"version": 1}}]


# ---------------------------------------------------------------- live reload


async def test_editing_the_file_changes_what_a_new_render_shows_and_tells_open_pages(tmp_path):
    file = write_app(tmp_path / "app.py")
    port = await start(file)
    await subscribe_to_reloads()
    write_app(file, title="Counter, edited", step=10)
    reload = await assert_receive(broadcast("reload"), timeout=10)
    assert reload == Broadcast(RELOAD_TOPIC, "reload", {"version": 2})
    assert await Playground.version("playground") == 2
    body = (await get(port)).body.decode()
    assert '<h1 id="title">Counter, edited</h1>' in body and "version !== 2" in body
    view = await live(await Playground.router("playground"), "/")
    assert '<span id="count">10</span>' in await render_click(element(view, "#inc"))


async def test_a_file_that_does_not_load_keeps_the_last_version_and_says_why(tmp_path, caplog):
    file = write_app(tmp_path / "app.py")
    port = await start(file)
    await subscribe_to_reloads()
    with caplog.at_level(logging.WARNING, logger="web.playground"):
        file.write_text(app_source() + "\ndef broken(:\n")
        failed = await assert_receive(broadcast("reload_failed"), timeout=10)
    assert failed.payload["error"].startswith("SyntaxError: ")
    [record] = [r for r in caplog.records if r.name == "web.playground"]
    assert record.getMessage().startswith(f"{file} did not load (SyntaxError: ")
    assert record.getMessage().endswith("; still serving the last version")
    assert record.exc_info is not None
    assert '<h1 id="title">Counter</h1>' in (await get(port)).body.decode()
    assert await Playground.version("playground") == 1
    write_app(file, title="Fixed")
    assert await assert_receive(broadcast("reload"), timeout=10) == Broadcast(RELOAD_TOPIC, "reload", {"version": 2})
    assert '<h1 id="title">Fixed</h1>' in (await get(port)).body.decode()


async def test_without_the_watch_extra_the_app_is_served_without_live_reload(tmp_path, monkeypatch, caplog):
    monkeypatch.delitem(sys.modules, "otp.watcher")  # imported again, without watchfiles (restored after)
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    with caplog.at_level(logging.WARNING, logger="web.playground"):
        port = await start(write_app(tmp_path / "app.py"))
    assert [r.getMessage() for r in caplog.records if r.name == "web.playground"] == [
        "live reload is off: otp.watcher needs the watchfiles package: pip install 'trio-otp[watch]'"
    ]
    assert (await get(port)).status == 200


async def test_a_bare_playground_line_in_the_file_does_nothing_while_it_loads(tmp_path):
    file = write_app(tmp_path / "app.py", tail="\nweb.playground(CounterLive)\n")
    assert load_view(file).__name__ == "CounterLive"  # returned: no server started


# ---------------------------------------------------------------- what is served, and bad input


def test_load_view_finds_the_one_liveview_or_says_which_to_name(tmp_path):
    file = write_app(tmp_path / "app.py")
    assert load_view(file).__module__ == "__playground__"
    two = tmp_path / "two.py"
    two.write_text(app_source() + "\nclass OtherLive(CounterLive):\n    pass\n")
    with pytest.raises(ValueError) as raised:
        load_view(two)
    assert str(raised.value) == (
        f"{two} defines 2 LiveViews (CounterLive, OtherLive): say which to serve, python -m web.playground {two} --view NAME"
    )
    assert load_view(two, "OtherLive").__name__ == "OtherLive"
    with pytest.raises(ValueError, match=r"defines no LiveView named 'Nope' \(it defines: CounterLive, OtherLive\)"):
        load_view(two, "Nope")
    none = tmp_path / "none.py"
    none.write_text("from web.live import LiveView\n")  # imported, not defined here
    with pytest.raises(ValueError, match="defines no LiveView subclass"):
        load_view(none)


def test_playground_refuses_what_is_not_a_liveview():
    with pytest.raises(TypeError, match="web.playground serves a LiveView class or the path of a .py file defining one; got 42"):
        web.playground.children(42)


def test_web_playground_is_callable_and_the_module_too():
    import importlib

    assert web.playground is importlib.import_module("web.playground")
    assert callable(web.playground)


# ---------------------------------------------------------------- the command line


async def _serve_in_a_child(argv, cwd):
    process = await trio.lowlevel.open_process(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = b""
    with trio.fail_after(30):
        while not line.endswith(b"\n"):
            chunk = await process.stdout.receive_some(1)
            assert chunk, (await process.stderr.receive_some(65536)).decode()
            line += chunk
    return process, line.decode().strip()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["python -m web.playground app.py", "python app.py"])
async def test_the_command_line_serves_the_file(tmp_path, how):
    if how == "python app.py":
        write_app(tmp_path / "app.py", tail='\nif __name__ == "__main__":\n    web.playground(CounterLive, port=0)\n')
        argv = [sys.executable, "app.py"]
    else:
        write_app(tmp_path / "app.py", tail="\nweb.playground(CounterLive)  # does nothing under -m\n")
        argv = [sys.executable, "-m", "web.playground", "app.py", "--port", "0"]
    process, line = await _serve_in_a_child(argv, tmp_path)
    try:
        assert line.startswith("listening on http://127.0.0.1:")
        page = await get(int(line.rsplit(":", 1)[1]))
        assert page.status == 200 and '<span id="count">0</span>' in page.body.decode()
    finally:
        process.terminate()
        await process.wait()


async def test_the_command_line_says_what_is_wrong_with_the_file(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    done = await trio.run_process(
        [sys.executable, "-m", "web.playground", "empty.py"], cwd=tmp_path, capture_stderr=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.decode().endswith(
        "error: empty.py defines no LiveView subclass: say which to serve, python -m web.playground empty.py --view NAME\n"
    )


# ---------------------------------------------------------------- Chromium


@pytest.mark.slow
async def test_an_open_page_in_chromium_follows_an_edit_of_the_file(tmp_path):
    file = write_app(tmp_path / "app.py")
    port = await start(file)
    node = require_node(chromium=True, package="playwright-core")
    browser = await trio.lowlevel.open_process(
        [node, str(JS / "browser_playground.mjs"), f"http://127.0.0.1:{port}"],
        cwd=JS, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    try:
        output = LineReader(browser.stdout)
        assert await output.line() == "ready 1"  # connected, one click counted
        write_app(file, title="Counter, edited", step=10)
        result = json.loads(await output.line())
        assert await browser.wait() == 0
    finally:
        if browser.returncode is None:
            browser.kill()
    assert result == {"ok": True, "title": "Counter, edited", "count": "0", "afterClick": "10", "errors": []}


class LineReader:
    def __init__(self, stream):
        self.stream, self.buffer = stream, b""

    async def line(self) -> str:
        while b"\n" not in self.buffer:
            chunk = await self.stream.receive_some(4096)
            assert chunk, f"the browser script ended early: {self.buffer!r}"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()
