"""What the endpoint hands its connections (web/_limits.py): checked limits, counters, snapshots."""

import doctest
import math

import attrs
import pytest

import web._limits
from web import Endpoint, EndpointStatistics, Response
from web._limits import COUNTERS, ConnectionCounters, ConnectionLimits


def test_the_module_doctests_pass():
    assert doctest.testmod(web._limits).failed == 0


def test_the_defaults_are_the_endpoints():
    assert ConnectionLimits() == ConnectionLimits(idle_timeout=60.0, max_body_size=1 << 20, max_header_size=16 * 1024)


def test_limits_are_frozen():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ConnectionLimits().idle_timeout = 1.0


@pytest.mark.parametrize(
    "options, message",
    [
        ({"idle_timeout": 0}, "idle_timeout must be a number of seconds > 0 (math.inf: never); got 0"),
        ({"idle_timeout": -1.5}, "idle_timeout must be a number of seconds > 0 (math.inf: never); got -1.5"),
        ({"idle_timeout": "5"}, "idle_timeout must be a number of seconds > 0 (math.inf: never); got '5'"),
        ({"idle_timeout": True}, "idle_timeout must be a number of seconds > 0 (math.inf: never); got True"),
        ({"idle_timeout": math.nan}, "idle_timeout must be a number of seconds > 0 (math.inf: never); got nan"),
        ({"max_body_size": -1}, "max_body_size must be an int >= 0 (bytes of one request body); got -1"),
        ({"max_body_size": 1.5}, "max_body_size must be an int >= 0 (bytes of one request body); got 1.5"),
        ({"max_header_size": 0}, "max_header_size must be an int >= 1 (bytes of a request line plus headers); got 0"),
        ({"max_header_size": None}, "max_header_size must be an int >= 1 (bytes of a request line plus headers); got None"),
    ],
)
def test_a_limit_that_is_not_positive_is_refused_with_the_fix(options, message):
    with pytest.raises(ValueError) as caught:
        ConnectionLimits(**options)
    assert str(caught.value) == message


@pytest.mark.parametrize("options", [{"idle_timeout": math.inf}, {"idle_timeout": 0.02}, {"max_body_size": 0}])
def test_edge_values_are_accepted(options):
    limits = ConnectionLimits(**options)
    assert attrs.asdict(limits).items() >= options.items()


def test_counters_start_at_zero_and_snapshot_every_one():
    counters = ConnectionCounters()
    counters.accepted += 3
    counters.bytes_out += 10
    snapshot = counters.snapshot()
    assert snapshot == EndpointStatistics(**{name: 0 for name in COUNTERS} | {"accepted": 3, "bytes_out": 10})
    assert [field.name for field in attrs.fields(EndpointStatistics)] == list(COUNTERS)


def test_a_snapshot_does_not_move_with_the_counters():
    counters = ConnectionCounters()
    snapshot = counters.snapshot()
    counters.requests += 1
    assert (snapshot.requests, counters.snapshot().requests) == (0, 1)


def test_counters_have_no_room_for_a_misspelt_name():
    with pytest.raises(AttributeError):
        ConnectionCounters().request = 1


async def no_pages(request):
    return Response(404)


async def test_the_endpoint_checks_its_limits_before_it_starts():
    with pytest.raises(ValueError, match=r"^idle_timeout must be a number of seconds > 0"):
        await Endpoint.start_link(no_pages, port=0, idle_timeout=0)
