"""The pytest plugin's ``chaos`` fixture and ``chaos`` marker, in a pytest run of their own (pytester)."""

import zlib

import pytest

TESTS = '''
import pytest
import otp
from otp import GenServer, Supervisor


class Worker(GenServer):
    async def init(self, arg):
        pass


def children():
    return [Worker.child_spec(None, id=i, name=f"w{i}") for i in range(5)]


async def test_an_intact_tree_passes(chaos, autojump_clock):
    sup = await Supervisor.start_link(children(), max_restarts=100, max_seconds=1.0)
    report = await chaos.run(sup, rate=100, count=10)
    assert (report.kills, report.restarts, report.intact) == (10, 10, True)
    assert report.seed == chaos.options["seed"]


@pytest.mark.chaos(seed=5, rate=50, count=4, reasons={otp.SHUTDOWN: 1})
async def test_the_marker_gives_the_options(chaos, autojump_clock):
    sup = await Supervisor.start_link(children(), max_restarts=100, max_seconds=1.0)
    async with chaos.attach(sup) as run:
        await run.wait()
    [report] = chaos.reports
    assert (report.seed, report.kills, report.kills_by_reason) == (5, 4, {"shutdown": 4})


async def test_a_tree_that_breaks_fails_the_test(chaos, autojump_clock):
    otp.trap_exits(True)
    sup = await Supervisor.start_link(children(), max_restarts=1, max_seconds=5.0)
    await chaos.run(sup, rate=10, count=5)
'''


@pytest.mark.slow
def test_the_chaos_fixture_fails_a_test_whose_tree_is_not_intact_and_says_the_seed(pytester):
    pytester.makeini("[pytest]\ntrio_mode = true\notp_mode = true\n")
    pytester.makepyfile(test_under_chaos=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    seed = zlib.crc32(b"test_under_chaos.py::test_a_tree_that_breaks_fails_the_test")
    result.stdout.fnmatch_lines([
        f"*AssertionError: chaos seed {seed}: 2 kills (kill: 2), 3 missed, 0 spared, 1 restarts, probe 0 of 0 failed; "
        "the tree is NOT intact: the root supervisor is not running",
        f"*replay it with @pytest.mark.chaos(seed={seed})",
    ])


@pytest.mark.slow
def test_the_marker_takes_options_by_name_only(pytester):
    pytester.makeini("[pytest]\ntrio_mode = true\notp_mode = true\n")
    pytester.makepyfile(
        test_marker='''
import pytest

@pytest.mark.chaos(7)
async def test_it(chaos):
    pass
'''
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TypeError: @pytest.mark.chaos takes ChaosConfig options by name only; got (7,)"])
