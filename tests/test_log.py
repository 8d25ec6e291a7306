"""otp.log: one line per interval per cause, whatever the flood."""

from __future__ import annotations

import doctest

import otp.log
from otp.log import DETAILS_SHOWN, LogThrottle, Summary


def test_the_module_examples_run():
    assert doctest.testmod(otp.log).failed == 0


def test_the_first_event_is_said_at_once_and_the_rest_summed_per_interval():
    throttle = LogThrottle(interval=10.0)
    said = [throttle.note(now) for now in (100.0, 101.0, 105.0, 109.9)]
    assert said == [Summary(1, (("", 1),)), None, None, None]
    assert throttle.due == 110.0 and throttle.pending == 3
    assert throttle.flush(109.9) is None
    assert throttle.flush(110.0) == Summary(3, (("", 3),))  # the summary, when the interval ends
    assert throttle.due == 120.0 and throttle.pending == 0
    assert throttle.flush(120.0) is None  # nothing since: nothing to say, and no more flushes due
    assert throttle.due is None
    assert throttle.note(125.0) == Summary(1, (("", 1),))  # a quiet interval passed: said at once again
    assert throttle.note(126.0) is None
    assert throttle.note(135.0) == Summary(2, (("", 2),))  # the interval is over: said at once, with the one held


def test_details_are_counted_most_frequent_first_and_bounded():
    throttle = LogThrottle(interval=1.0)
    throttle.note(0.0, detail="first")
    for index in range(DETAILS_SHOWN + 3):
        throttle.note(0.5, count=index + 1, detail=f"peer{index}")
    summary = throttle.flush(1.0)
    named = [detail for detail, _ in summary.details]
    # DETAILS_SHOWN distinct details at most, the rest summed under "others".
    assert len(named) == DETAILS_SHOWN + 1 and "others" in named
    assert summary.count == sum(range(1, DETAILS_SHOWN + 4))
    assert summary.details[0] == ("others", sum(range(DETAILS_SHOWN + 1, DETAILS_SHOWN + 4)))
    assert summary.describe().startswith("others: ")


def test_a_flood_of_a_million_events_gives_one_line_per_interval():
    throttle = LogThrottle(interval=10.0)
    lines = []
    for index in range(1_000_000):
        now = index / 10_000  # 100 s of events
        summary = throttle.note(now, detail="10.0.0.1")
        if summary is not None:
            lines.append(summary.count)
    assert len(lines) == 10
    assert sum(lines) + throttle.pending == 1_000_000
