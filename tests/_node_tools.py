"""Running the JavaScript side of the black-box tests (tests/js) from pytest.

`make test` installs Node's packages (`npm ci` in tests/js) and Debian's
chromium. Without them the tests that need them skip, except in CI
(CI=true), where they fail: a missing tool is never a silent pass.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import trio

JS = Path(__file__).resolve().parent / "js"


def require_node(*, chromium: bool = False, package: str = "phoenix") -> str:
    """The path of ``node``; skip (or fail in CI) when it or what the test needs is missing."""
    node = shutil.which("node")
    ready = node and (JS / "node_modules" / package).is_dir() and (not chromium or shutil.which("chromium"))
    if not ready:
        needs = "node, chromium and `npm ci` in tests/js" if chromium else "node and `npm ci` in tests/js"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs {needs} (make test installs them)")
        pytest.skip(f"needs {needs}")
    return node


async def run_js(script: str, *args: str, chromium: bool = False, package: str = "phoenix") -> dict:
    """Run ``tests/js/<script>`` with ``args``; return the JSON line it printed last."""
    node = require_node(chromium=chromium, package=package)
    done = await trio.run_process(
        [node, str(JS / script), *args], cwd=JS, capture_stdout=True, capture_stderr=True, check=False
    )
    lines = done.stdout.decode().strip().splitlines()
    assert lines, f"{script} printed nothing; stderr:\n{done.stderr.decode()}"
    result = json.loads(lines[-1])
    result.setdefault("stderr", done.stderr.decode())
    return result
