"""web's public API as a type checker sees it: a typed user passes, and its mistakes are caught.

``typing_example_web.py`` is a typed Channel, Socket and LiveView, with the
helpers of ``web.testing``: mypy, run in this process (``mypy.api``) with
the project's configuration and ``--strict``, must find nothing in it, and
it must run. The mistakes below (each line marked ``# expect: <code>``) must
each be reported with that code, and nothing else: an API typed ``Any``, or
base callbacks too narrow to override, would fail one way or the other.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typing_example_web
from mypy import api as mypy_api

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent / "typing_example_web.py"
ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")

MISTAKES = '''\
from typing import Any

from web import Endpoint, Request, Response
from web.channel import Channel, ChannelSocket, Ok
from web.live import LiveRouter, LiveSocket, LiveView, Rendered


class WrongSocket(LiveView):
    async def handle_event(self, event: str, value: Any, socket: ChannelSocket) -> None:  # expect: override
        return None

    def render(self, assigns: dict[str, Any], changed: set[str] | None) -> str:  # expect: override
        return ""


class WrongReply(Channel):
    async def handle_in(self, event: str, payload: Any, socket: ChannelSocket) -> str:  # expect: override
        return "pong"


async def handler(request: Request) -> Response:
    return Response(200)


async def misuse(socket: LiveSocket) -> None:
    socket.allow_upload("avatar", accept=".png")  # expect: arg-type
    socket.allow_upload("avatar", max_size=10)  # expect: call-arg
    Ok(["not", "a", "dict"])  # expect: arg-type
    await Endpoint.start_link(handler, port="8000")  # expect: arg-type
    LiveRouter(secret="s", routes={"/": Ok}, pubsub="p")  # expect: dict-item
'''


def run_mypy(cache: Path, *args: str) -> tuple[str, int]:
    """mypy with the project's configuration (``[tool.mypy]``), from the project's root: its report and status."""
    report, errors, status = mypy_api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache), *args])
    return report + errors, status


def errors_in(report: str) -> list[str]:
    return [line for line in report.splitlines() if ": error:" in line]


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


def test_the_typed_example_passes_strict_mode(mypy_cache):
    # --follow-imports=silent: strict applies to the example, not to web's own code.
    report, status = run_mypy(mypy_cache, "--strict", "--follow-imports=silent", str(EXAMPLE))
    assert errors_in(report) == [], report
    assert status == 0, report


async def test_the_typed_example_runs():
    joined, reply, clicked, ticked, names, port = await typing_example_web.main()
    assert joined == ("ok", {"room": "lobby", "user": "ann"})
    assert reply == {"status": "ok", "response": {"n": 1}}
    assert clicked == '<p id="count">3</p><button phx-click="inc" phx-value-by="1">+</button>'
    assert ticked == '<p id="count">13</p><button phx-click="inc" phx-value-by="1">+</button>'
    assert names == []
    assert port > 0


def test_mypy_reports_each_marked_mistake_and_nothing_else(mypy_cache, tmp_path):
    mistakes = tmp_path / "web_mistakes.py"
    mistakes.write_text(MISTAKES)
    expected = {
        (number, line.partition("# expect: ")[2].strip())
        for number, line in enumerate(MISTAKES.splitlines(), start=1)
        if "# expect: " in line
    }
    report, status = run_mypy(mypy_cache, "--follow-imports=silent", str(mistakes))
    found = {(int(m["line"]), m["code"]) for m in map(ERROR.match, errors_in(report)) if m}
    assert len(expected) == 8
    assert found == expected, report
    assert len(errors_in(report)) == len(expected), report
    assert status == 1
