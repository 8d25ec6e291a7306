"""Each optional dependency, when missing, fails with an ImportError that names the extra to install.

Each case runs in a subprocess where the dependency is made unimportable
(``sys.modules[name] = None``), then imports what needs it.
"""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import otp._util

CASES = [
    ("h11", "import web", "the web layer (web) needs the h11 package: pip install 'trio-otp[web]'"),
    ("orjson", "import web.socket", "the web layer (web) needs the orjson package: pip install 'trio-otp[web]'"),
    ("hiredis", "import otp.pubsub.redis", "Redis (otp.pubsub.redis, otp.dist) needs the hiredis package: pip install 'trio-otp[redis]'"),
    ("hiredis", "import otp.dist", "Redis (otp.pubsub.redis, otp.dist) needs the hiredis package: pip install 'trio-otp[redis]'"),
    ("prometheus_client", "import web.metrics", "web.metrics needs the prometheus_client package: pip install 'trio-otp[metrics]'"),
    ("watchfiles", "import otp.watcher", "otp.watcher needs the watchfiles package: pip install 'trio-otp[watch]'"),
    ("selectolax", "import web.testing", "web.testing (its HTML queries) needs the selectolax package: pip install 'trio-otp[testing]'"),
]


@pytest.mark.parametrize("missing, statement, message", CASES)
def test_a_missing_optional_dependency_names_its_extra(missing, statement, message):
    code = f"import sys; sys.modules[{missing!r}] = None\ntry:\n    {statement}\nexcept ImportError as e:\n    print(e, e.name, sep='|')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == f"{message}|{missing}"


def test_import_otp_needs_none_of_them():
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in ("h11", "wsproto", "orjson", "hiredis", "selectolax", "watchfiles"))
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; {blocked}; import otp, otp.pubsub, otp.tracker; print('ok')"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert out == "ok"


def test_the_helper_example_runs():
    assert doctest.testmod(otp._util).failed == 0
