"""ChaosConfig, Targets and NodeFault: bad options fail when made, with a sentence; the schedule and the draws."""

import pytest

import otp
from otp import ChildType, Restart
from otp.chaos import ChaosConfig, NodeFault, Target, Targets
from otp.chaos._plan import FaultPlan


def worker(path=("w",), name="w", kind="genserver", restart=Restart.PERMANENT):
    return Target(path, name, ChildType.WORKER, restart, kind)


def supervisor(path=("sup",), name=None):
    return Target(path, name, ChildType.SUPERVISOR, Restart.PERMANENT, "supervisor")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"rate": -1}, "ChaosConfig: rate must be kills per second, 0 or more; got -1"),
        ({"seed": "7"}, "ChaosConfig: seed must be an int; got '7'"),
        ({"duration": 0}, "ChaosConfig: duration must be seconds (more than 0) or None; got 0"),
        ({"count": -2}, "ChaosConfig: count must be a number of kills (0 or more) or None; got -2"),
        ({"probe_interval": 0}, "ChaosConfig: probe_interval must be seconds, more than 0; got 0"),
        ({"probe": "ping"}, "ChaosConfig: probe must be an async function of no arguments; got 'ping'"),
        ({"on_fault": "log"}, "ChaosConfig: on_fault must be a function of one Fault; got 'log'"),
        ({"spare_restarts": -1}, "ChaosConfig: spare_restarts must be a number of restarts (0 or more) or None; got -1"),
        ({"targets": "workers"}, "ChaosConfig: targets must be an otp.chaos.Targets; got 'workers'"),
        ({"reasons": {}}, "ChaosConfig: reasons needs at least one exit reason, e.g. {otp.KILL: 1}"),
        ({"reasons": {otp.KILL: 0}}, "ChaosConfig: the weight of reason kill must be a positive number; got 0"),
        ({"rate": -1, "count": -1}, "ChaosConfig: rate must be kills per second, 0 or more; got -1; "
                                    "count must be a number of kills (0 or more) or None; got -1"),
    ],
)
def test_a_bad_option_fails_when_the_config_is_made(options, message):
    with pytest.raises(ValueError) as error:
        ChaosConfig(**options)
    assert str(error.value) == message


def test_bad_targets_and_node_faults_fail_when_made():
    with pytest.raises(TypeError) as error:
        Targets(kind=3)
    assert str(error.value) == "Targets: kind must be 'worker', 'supervisor' or a process kind such as 'genserver'; got 3"
    with pytest.raises(ValueError) as error:
        NodeFault("b", drop=1.5)
    assert str(error.value) == "NodeFault: drop must be a probability between 0 and 1; got 1.5"
    with pytest.raises(ValueError) as error:
        NodeFault("b", delay=-0.1)
    assert str(error.value) == "NodeFault: delay must be a number of seconds, 0 or more; got -0.1"


def test_reasons_keep_their_order_from_a_dict_or_pairs():
    assert ChaosConfig(reasons={otp.SHUTDOWN: 1, otp.KILL: 2}).reasons == ((otp.SHUTDOWN, 1), (otp.KILL, 2))
    assert ChaosConfig(reasons=[("chaos", 1.0)]).reasons == (("chaos", 1.0),)
    assert ChaosConfig().reasons == ((otp.KILL, 1.0),)


def test_kills_are_due_every_one_over_rate_seconds_until_the_duration_or_count():
    assert [ChaosConfig(rate=10, duration=0.3).due(n) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.3, None]
    assert [ChaosConfig(rate=1000, count=2).due(n) for n in (1, 2, 3)] == [0.001, 0.002, None]
    assert ChaosConfig(rate=0).due(1) is None
    # 1000 kills at 1 kill/ms in 1 s: the last one fits, float rounding or not.
    assert ChaosConfig(rate=1000, duration=1.0).due(1000) == 1.0
    assert ChaosConfig(rate=10, duration=1).ends and ChaosConfig(count=3).ends and not ChaosConfig().ends


@pytest.mark.parametrize(
    "targets, target, matches",
    [
        (Targets(), worker(), True),
        (Targets(), supervisor(), True),
        (Targets(name="cache.*"), worker(name="cache.users"), True),
        (Targets(name="cache.*"), worker(name="db"), False),
        (Targets(name="*"), worker(name=None), False),  # no registered name: a name pattern never matches
        (Targets(name="Cache.*"), worker(name="cache.users"), False),  # case matters
        (Targets(kind="worker"), worker(), True),
        (Targets(kind="worker"), supervisor(), False),
        (Targets(kind="supervisor"), supervisor(), True),
        (Targets(kind="genserver"), worker(kind="genserver"), True),
        (Targets(kind="genserver"), worker(kind="task"), False),
        (Targets(where=lambda t: t.path[0] == "db"), worker(path=("db", 1)), True),
        (Targets(where=lambda t: t.path[0] == "db"), worker(path=("web", 1)), False),
        (Targets(name="w*", kind="worker", where=lambda t: t.restart is Restart.PERMANENT), worker(), True),
        (Targets(name="w*", kind="worker", where=lambda t: t.restart is Restart.PERMANENT),
         worker(restart=Restart.TRANSIENT), False),
    ],
)
def test_targets_select_by_name_kind_and_predicate(targets, target, matches):
    assert targets.matches(target) is matches


def test_a_plan_is_a_function_of_its_seed_alone():
    reasons = ((otp.KILL, 3.0), (otp.SHUTDOWN, 1.0))
    first = FaultPlan(42, 100, reasons)
    again = FaultPlan(42, 100, reasons)
    other = FaultPlan(43, 100, reasons)
    draws = [first.next() for _ in range(1000)]
    assert draws == [again.next() for _ in range(1000)]
    assert draws != [other.next() for _ in range(1000)]
    assert {index for index, _ in draws} == set(range(100))
    # The weights hold: 3 kills for 1 shutdown, within sampling noise of 1000 draws.
    kills = sum(1 for _, reason in draws if reason is otp.KILL)
    assert 700 <= kills <= 800


def test_a_plan_with_no_target_draws_misses():
    plan = FaultPlan(1, 0, ((otp.KILL, 1.0),))
    assert [plan.next() for _ in range(3)] == [(-1, otp.KILL)] * 3


@pytest.mark.parametrize("module", ["otp.chaos._config", "otp.chaos._plan", "otp.chaos._tree", "otp.chaos._report"])
def test_the_examples_in_the_docstrings_run(module):
    import doctest
    import importlib
    import inspect

    # Public classes say otp.chaos as their module (the facade's fix-up), so
    # doctest.testmod would skip them: find the examples object by object.
    found = importlib.import_module(module)
    namespace = vars(found)
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    tests = finder.find(found)  # the module's docstring and its functions
    for obj in namespace.values():
        if inspect.isclass(obj) and obj.__module__ == "otp.chaos" and obj.__name__ in found.__all__:
            tests += finder.find(obj, module=False, globs=dict(namespace))
    for test in tests:
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
