"""The types: mypy finds no error in otp and web, and a typed user of both is checked and run.

Each check runs mypy in a subprocess with the project's configuration
(``[tool.mypy]`` in pyproject.toml) and a cache shared by this module's
tests (a cold run of both packages takes a few seconds, the checks after it
reuse the analysis).

``tests/typing_example/counter.py`` is a user's supervised GenServer with
annotated callbacks, typed client functions and a Registry lookup: it must
pass ``--strict``, where each of its ``assert_type`` holds exactly (an
``Any`` would fail it), and it must run. ``tests/typing_example/wrong.py``
holds mistakes, each marked ``# expect: <error code>``: mypy must report
those and nothing else, which it could not if the API were typed ``Any``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typing_example import counter

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).resolve().parent / "typing_example"
ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")
EXPECT = re.compile(r"  # expect: (?P<code>[a-z-]+)$")


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


def run_mypy(cache: Path, *args: str) -> tuple[int, str]:
    """mypy with the project's configuration, from the project's root; its exit status and report."""
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache)]
    done = subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def errors_in(report: str) -> list[str]:
    return [line for line in report.splitlines() if ": error:" in line]


@pytest.mark.parametrize("package", ["otp", "web"])
def test_mypy_finds_no_error_in_the_package(mypy_cache, package):
    status, report = run_mypy(mypy_cache, "-p", package)
    assert errors_in(report) == [], report
    assert status == 0, report


def test_the_typed_example_passes_strict_mode(mypy_cache):
    # --follow-imports=silent: strict applies to the example, not to otp's own code.
    status, report = run_mypy(mypy_cache / "strict", "--strict", "--follow-imports=silent", str(EXAMPLES / "counter.py"))
    assert errors_in(report) == [], report
    assert status == 0, report


async def test_the_typed_example_runs():
    assert await counter.main() == 15  # 10 to start with, a cast of 4, one Tick


def test_mypy_reports_each_marked_mistake_and_nothing_else(mypy_cache):
    source = (EXAMPLES / "wrong.py").read_text().splitlines()
    expected = {
        (number, m["code"]) for number, line in enumerate(source, start=1) if (m := EXPECT.search(line))
    }
    status, report = run_mypy(mypy_cache, "--follow-imports=silent", str(EXAMPLES / "wrong.py"))
    found = {(int(m["line"]), m["code"]) for m in map(ERROR.match, errors_in(report)) if m}
    assert len(expected) == 9
    assert found == expected, report
    assert len(errors_in(report)) == len(expected), report
    assert status == 1
