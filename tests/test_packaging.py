"""The package as users get it: a wheel, installed with ``[web]`` into a fresh venv outside the checkout.

The wheel is built from this checkout (``pip wheel --no-deps``), installed
with its dependencies from the package registry into a venv in a temporary
folder, and run from there, where the checkout cannot be imported:

- ``python -m web.demo chat``: the chat page, both official client scripts
  (package data, served by the LiveView router and the demo), a LiveView page
  and the dashboard must be served, byte for byte what the checkout ships;
- the README's LiveView example (its ``Counter`` view), served with the
  README's own serving line, works in headless Chromium with the official
  client: the page connects and each click updates the count;
- a chaos run started from the demo's dashboard page, over its real
  HTTP and WebSocket, runs in the demo's node against its live tree (the
  wheel has no ``benchmarks`` package and no source tree to run one from).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import pytest
from _node_tools import run_js
from dashboard._real_live import open_live

import otp

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        cwd=out,
    )
    [built] = out.glob("trio_otp-*.whl")
    return built


def test_the_wheel_carries_the_client_scripts_the_demo_page_and_the_license(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ["web/static/phoenix.min.js", "web/static/phoenix_live_view.min.js", "web/demo/static/index.html",
                 "otp/py.typed", "web/py.typed"]:
        assert name in names
    assert f"trio_otp-{otp.__version__}.dist-info/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"trio_otp-{otp.__version__}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata.splitlines()


def test_the_sdist_carries_the_client_scripts_the_demo_page_the_license_and_the_changelog(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(ROOT)],
        check=True, cwd=tmp_path, capture_output=True,
    )
    [sdist] = tmp_path.glob("trio_otp-*.tar.gz")
    top = f"trio_otp-{otp.__version__}"
    names = set(tarfile.open(sdist).getnames())
    for name in ["web/static/phoenix.min.js", "web/static/phoenix_live_view.min.js", "web/demo/static/index.html",
                 "otp/py.typed", "web/py.typed", "LICENSE", "CHANGELOG.md"]:
        assert f"{top}/{name}" in names, name


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The python of a fresh venv, outside the checkout, with the wheel and its ``[web]`` extra."""
    place = tmp_path_factory.mktemp("installed")
    venv = place / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{wheel}[web]"], check=True, cwd=place)
    version = subprocess.run(
        [str(python), "-c", "import otp, web; print(otp.__file__, otp.__version__, web.__version__)"],
        check=True, capture_output=True, text=True, cwd=place, env=OUTSIDE_ENV,
    ).stdout.split()
    assert version[0].startswith(str(venv)) and version[1:] == [otp.__version__, otp.__version__]
    return python


OUTSIDE_ENV = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.mark.slow
def test_an_installed_wheel_serves_the_demo_its_scripts_liveview_and_dashboard(installed, tmp_path):
    demo = subprocess.Popen(
        [str(installed), "-u", "-m", "web.demo", "chat", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=OUTSIDE_ENV,
    )
    try:
        base = listening_address(demo)
        assert b"<script src=\"/phoenix.min.js\"></script>" in fetch(base + "/")
        for script in ["phoenix.min.js", "phoenix_live_view.min.js"]:
            assert fetch(f"{base}/{script}") == (ROOT / "web" / "static" / script).read_bytes()
        assert b'data-phx-main' in fetch(base + "/live/counter")
        assert b"<title>" in fetch(base + "/dashboard")  # this machine: admitted without a token
    finally:
        demo.kill()
        demo.wait()
        demo.stdout.close()
        demo.stderr.close()


@pytest.mark.slow
async def test_the_readmes_liveview_example_served_from_the_wheel_works_in_chromium(installed, tmp_path):
    app = tmp_path / "counter_app.py"
    app.write_text(readme_counter_app())
    server = subprocess.Popen(
        [str(installed), "-u", str(app)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=OUTSIDE_ENV,
    )
    try:
        base = listening_address(server)
        for script in ["phoenix.min.js", "phoenix_live_view.min.js"]:
            assert fetch(f"{base}/{script}") == (ROOT / "web" / "static" / script).read_bytes()
        result = await run_js("browser_counter.mjs", base, chromium=True, package="playwright-core")
    finally:
        server.kill()
        server.wait()
        server.stdout.close()
        server.stderr.close()
    stderr = result.pop("stderr")
    assert result == {"ok": True, "dead": "41", "counts": ["42", "43"], "errors": [], "failedRequests": []}, stderr


@pytest.mark.slow
async def test_a_chaos_run_from_the_dashboard_of_an_installed_wheel_runs_in_its_node(installed, tmp_path):
    from web.testing import element, render_submit, wait_for_html

    demo = subprocess.Popen(
        [str(installed), "-u", "-m", "web.demo", "chat", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=OUTSIDE_ENV,
    )
    try:
        port = int(listening_address(demo).rsplit(":", 1)[1])
        view = await open_live(port, "/dashboard/chaos")
        # The form's tree is the demo's top supervisor (the node's oldest); kill its Clock 20 times a second.
        form = {"name": "demo.clock", "kind": "worker", "reason": "kill", "rate": "20", "seconds": "1", "seed": "7"}
        await render_submit(element(view, "#chaos-form"), value=form)
        html = await wait_for_html(view, lambda html: 'id="chaos-result"' in html, timeout=30)
    finally:
        demo.kill()
        demo.wait()
        demo.stdout.close()
        demo.stderr.close()
    rows = dict(re.findall(r'<th>([^<]*)</th><td class="[^"]*">([^<]*)</td>', html))
    # The top supervisor allows 3 restarts in 5 s: two kills leave it one to spare, the 18 others are spared.
    assert {key: rows[key] for key in ("kills", "spared", "missed", "restarts", "tree_intact", "seed")} == {
        "kills": "2", "spared": "18", "missed": "0", "restarts": "2", "tree_intact": "True", "seed": "7"}


def readme_counter_app() -> str:
    """The README's LiveView block, served by the README's serving line (on a free port) instead of its test.

    Taken from README.md itself, so the example and this test cannot drift:
    the imports and the ``Counter`` view as written (less ``web.testing``,
    which the ``[web]`` extra alone does not bring), then the README's
    ``main`` set-up with its serving line in place of the test client.
    """
    readme = (ROOT / "README.md").read_text()
    [block] = [code for code in re.findall(r"```python\n(.*?)```", readme, re.DOTALL) if "class Counter(LiveView)" in code]
    view, main = block.split("async def main():\n")
    view = "\n".join(line for line in view.splitlines() if not line.startswith("from web.testing"))
    setup = main.split("    view = await live(")[0]
    serving = re.search(r"To serve it \(`(from web import Endpoint)`\)[^\n]*\n`(await Endpoint\.start_link\(.*?\))`", readme)
    assert serving is not None, "the README's serving line moved: update this test"
    importing, start = serving.groups()
    assert "port=4000" in start
    start = start.replace("port=4000", "port=0")
    return f"""{view}
import trio
{importing}

async def serve():
{setup}    endpoint = {start}
    print("listening on http://%s:%d" % Endpoint.address(endpoint), flush=True)
    await trio.sleep_forever()

otp.run(serve)
"""


def listening_address(server: subprocess.Popen) -> str:
    line = server.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line + server.stderr.read()
    return line.split()[-1]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return response.read()


def test_the_client_script_examples_run():
    import doctest

    import web._static

    assert doctest.testmod(web._static).failed == 0
