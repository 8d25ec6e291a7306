"""The package as users get it: a wheel, installed with ``[web]`` into a fresh venv outside the checkout.

The wheel is built from this checkout (``pip wheel --no-deps``), installed
with its dependencies from the package registry into a venv in a temporary
folder, and ``python -m web.demo chat`` is run from there, where the
checkout cannot be imported: the chat page, both official client scripts
(package data, served by the LiveView router and the demo), a LiveView page
and the dashboard must be served, byte for byte what the checkout ships.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

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
    for name in ["web/static/phoenix.min.js", "web/static/phoenix_live_view.min.js", "web/demo/static/index.html"]:
        assert name in names
    assert f"trio_otp-{otp.__version__}.dist-info/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"trio_otp-{otp.__version__}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata.splitlines()


@pytest.mark.slow
def test_an_installed_wheel_serves_the_demo_its_scripts_liveview_and_dashboard(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{wheel}[web]"], check=True, cwd=tmp_path)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    version = subprocess.run(
        [str(python), "-c", "import otp, web; print(otp.__file__, otp.__version__, web.__version__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    ).stdout.split()
    assert version[0].startswith(str(venv)) and version[1:] == [otp.__version__, otp.__version__]
    demo = subprocess.Popen(
        [str(python), "-u", "-m", "web.demo", "chat", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )
    try:
        line = demo.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line + demo.stderr.read()
        base = line.split()[-1]
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


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return response.read()


def test_the_client_script_examples_run():
    import doctest

    import web._static

    assert doctest.testmod(web._static).failed == 0
