"""The pytest plugin of ``otp.testing`` (entry point ``otp``).

Runs async tests as the root process of a fresh node. Enable it for a whole
suite with ``otp_mode = true`` in the pytest ini options (next to
pytest-trio's ``trio_mode = true``), or for one test with
``@pytest.mark.otp``. Option ``otp_shutdown_timeout`` (seconds, default 0.1)
bounds how long processes linked to the test may take to stop afterwards.
Each such test also gets its own supervisor for ``otp.testing.start_supervised``,
stopped (children newest first) when the test ends, before the node closes.

Fixture ``chaos``: ``async with chaos.attach(tree, rate=..., duration=...)``
runs a block of the test under ``otp.chaos`` and fails the test if the tree
is not intact after it; ``@pytest.mark.chaos(seed=..., ...)`` gives a test's
``ChaosConfig`` options (see ``otp/chaos/_testing.py``).

How: pytest-trio replaces an async test function with a runner in its own
``pytest_runtest_call`` hook; ours runs just before it and wraps the test
function in ``open_node()``, so pytest-trio's runner (fixtures, clocks) runs
our wrapped function unchanged.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Awaitable, Callable, Generator

import pytest

from .._kernel import open_node
from ._supervised import open_test_supervisor


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("otp_mode", "run every trio test inside a fresh otp node", type="bool", default=False)
    parser.addini("otp_shutdown_timeout", "seconds a test's linked processes get to stop", default="0.1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "otp: run this async test as the root process of a fresh otp node")
    config.addinivalue_line("markers", "chaos(**options): otp.chaos.ChaosConfig options for the chaos fixture")


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> object:
    """Run blocks of the test under otp.chaos: ``async with chaos.attach(tree, rate=..., duration=...)``."""
    from ..chaos._testing import ChaosFixture  # here: the plugin loads in every pytest session

    return ChaosFixture.for_test(request)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    # (Only a pytest.Function is a test function, with .obj, that can be async.)
    if isinstance(item, pytest.Function) and _wants_node(item):
        timeout = float(item.config.getini("otp_shutdown_timeout"))
        item.obj = _in_fresh_node(item.obj, timeout)
    yield


def _wants_node(item: pytest.Item) -> bool:
    function = getattr(item, "obj", None)
    if not inspect.iscoroutinefunction(function) or getattr(function, "_otp_wrapped", False):
        return False
    if item.get_closest_marker("otp") is not None:
        return True
    return bool(item.config.getini("otp_mode")) and _is_trio_test(item)


def _is_trio_test(item: pytest.Item) -> bool:
    return item.get_closest_marker("trio") is not None or bool(item.config.getini("trio_mode"))


def _in_fresh_node(test: Callable[..., Awaitable[object]], shutdown_timeout: float) -> Callable[..., Awaitable[object]]:
    async def run_in_node(**kwargs: Any) -> object:
        __tracebackhide__ = True
        async with open_node(shutdown_timeout=shutdown_timeout):
            # The test's own supervisor (start_supervised) stops its children
            # before the node closes, each within its own shutdown time.
            async with open_test_supervisor():
                return await test(**kwargs)

    wrapped: Any = functools.wraps(test)(run_in_node)  # Any: a function, which takes any attribute
    wrapped._otp_wrapped = True
    return wrapped
