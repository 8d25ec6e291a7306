"""The replica liveness table, row by row of its docstring's table."""

import pytest

from otp.tracker._replicas import Replicas, ReplicaStatus

UP, DOWN, PERMDOWN = ReplicaStatus.UP, ReplicaStatus.DOWN, ReplicaStatus.PERMDOWN
B1, B2 = ("b", 1), ("b", 2)


def table_with_b(status=UP):
    table = Replicas()
    table.heartbeat(B1, now=0.0)
    if status is DOWN:
        table.detect_downs(now=5.0, down_period=3.0, permdown_period=10.0)
    return table


def test_first_heartbeat_of_a_node_brings_its_replica_up():
    table = Replicas()
    assert table.heartbeat(B1, now=0.0) == [(UP, B1)]
    assert table.statuses() == {"b": UP} and table.ref("b") == B1


def test_heartbeat_of_a_replica_that_is_up_changes_nothing():
    table = table_with_b()
    assert table.heartbeat(B1, now=1.0) == []
    assert table.detect_downs(now=3.5, down_period=3.0, permdown_period=10.0) == []  # heard at 1.0


def test_heartbeat_of_a_replica_that_is_down_brings_it_up_again():
    table = table_with_b(DOWN)
    assert table.statuses() == {"b": DOWN}
    assert table.heartbeat(B1, now=6.0) == [(UP, B1)]


@pytest.mark.parametrize(
    "status, events",
    [(UP, [(DOWN, B1), (PERMDOWN, B1), (UP, B2)]), (DOWN, [(PERMDOWN, B1), (UP, B2)])],
)
def test_heartbeat_of_a_new_incarnation_ends_the_old_one_for_good(status, events):
    table = table_with_b(status)
    assert table.heartbeat(B2, now=6.0) == events
    assert table.statuses() == {"b": UP} and table.ref("b") == B2


def test_silence_beyond_down_period_takes_a_replica_down_once():
    table = table_with_b()
    assert table.detect_downs(now=3.0, down_period=3.0, permdown_period=10.0) == []  # not beyond yet
    assert table.detect_downs(now=3.1, down_period=3.0, permdown_period=10.0) == [(DOWN, B1)]
    assert table.detect_downs(now=4.0, down_period=3.0, permdown_period=10.0) == []


@pytest.mark.parametrize("status, events", [(UP, [(DOWN, B1), (PERMDOWN, B1)]), (DOWN, [(PERMDOWN, B1)])])
def test_silence_beyond_permdown_period_forgets_a_replica(status, events):
    table = table_with_b(status)
    assert table.detect_downs(now=10.5, down_period=3.0, permdown_period=10.0) == events
    assert table.statuses() == {} and table.ref("b") is None
    assert table.heartbeat(B1, now=11.0) == [(UP, B1)]  # heard again: a new start
