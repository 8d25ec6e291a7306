"""The ``chaos`` fixture of the pytest plugin (``otp.testing``): a block of a test under chaos.

::

    async def test_the_cache_survives_chaos(chaos):
        await Supervisor.start_link(cache_children(), name="cache")
        async with chaos.attach("cache", rate=200, duration=1.0) as run:
            await exercise_the_cache()      # the test's own load and checks, while children die
            await run.wait()
        # here the tree is intact, or the test has failed with the seed and what broke

    @pytest.mark.chaos(seed=1234, reasons={otp.KILL: 1, otp.SHUTDOWN: 1})
    async def test_with_options_from_the_marker(chaos): ...

The options are :class:`~otp.chaos.ChaosConfig`'s: the marker's, then
those given to ``attach``/``run``. Without a seed, each test gets one of
its own, fixed by its id, so a failure replays by running the test again;
the failure's message says the seed anyway.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from .._kernel import Destination
from ._config import ChaosConfig
from ._report import ChaosReport
from ._run import Chaos, attach

__all__ = ["ChaosFixture"]


class ChaosFixture:
    """What the ``chaos`` fixture gives a test: ``attach`` and ``run``, and the reports of its runs."""

    def __init__(self, test_id: str, options: dict) -> None:
        self.test_id = test_id
        self.options = {"seed": zlib.crc32(test_id.encode()), **options}
        self.reports: list[ChaosReport] = []

    @classmethod
    def for_test(cls, request: pytest.FixtureRequest) -> ChaosFixture:
        marker = request.node.get_closest_marker("chaos")
        if marker is not None and marker.args:
            raise TypeError(f"@pytest.mark.chaos takes ChaosConfig options by name only; got {marker.args!r}")
        return cls(request.node.nodeid, dict(marker.kwargs) if marker is not None else {})

    def config(self, **options: object) -> ChaosConfig:
        """The run's config: the marker's options, then ``options``."""
        return ChaosConfig(**{**self.options, **options})

    @asynccontextmanager
    async def attach(self, tree: Destination, **options: object) -> AsyncIterator[Chaos]:
        """``otp.chaos.attach(tree, ...)`` for the block; the test fails if the tree is not intact after it.

        Raises:
            AssertionError: the tree is not intact; the message has the report's
                summary and the marker that replays the run.
        """
        config = self.config(**options)
        async with attach(tree, config) as chaos:
            yield chaos
        self._check(chaos.report())

    async def run(self, tree: Destination, **options: object) -> ChaosReport:
        """A whole run against ``tree``, until its ``duration`` or ``count``; its report (the tree intact)."""
        async with self.attach(tree, **options) as chaos:
            await chaos.wait()
        return chaos.report()

    def _check(self, report: ChaosReport) -> None:
        self.reports.append(report)
        if not report.intact:
            raise AssertionError(f"{report.summary()}\nreplay it with @pytest.mark.chaos(seed={report.seed})")
