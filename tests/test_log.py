"""otp.log: one line per interval per cause, whatever the flood."""

from __future__ import annotations

import doctest
import logging

import trio
import trio.testing

import otp.log
from otp.log import DETAILS_SHOWN, LogThrottle, Summary, ThrottledLogger


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


def test_the_throttled_logger_writes_a_lone_event_as_given_and_counts_a_flood_in_the_next_line(caplog):
    clock = trio.testing.MockClock()
    lines = []

    async def flood():
        log = ThrottledLogger(logging.getLogger("test.log"), interval=10.0)
        assert log.warning("malformed", "socket %s: closing after a malformed frame", "s1", detail="10.0.0.7")
        for index in range(4_000):
            log.warning("malformed", "socket %s: closing after a malformed frame", f"s{index}", detail="10.0.0.7")
        assert log.warning("other", "a different cause: %d", 1)  # causes are throttled apart
        clock.jump(10.0)
        assert log.warning("malformed", "socket %s: closing after a malformed frame", "s9", detail="10.0.0.9")
        assert not log.warning("malformed", "socket %s: closing after a malformed frame", "s10", detail="10.0.0.9")

    with caplog.at_level(logging.WARNING, logger="test.log"):
        trio.run(flood, clock=clock)
    lines = [record.getMessage() for record in caplog.records if record.name == "test.log"]
    assert lines == [
        "socket s1: closing after a malformed frame",
        "a different cause: 1",
        "socket s9: closing after a malformed frame (and 4,000 more like it since the last such line: "
        "10.0.0.7: 4000, 10.0.0.9: 1; logged at most every 10 s)",
    ]


def test_the_throttled_logger_works_outside_a_trio_run(caplog):
    log = ThrottledLogger(logging.getLogger("test.log"), interval=60.0)
    with caplog.at_level(logging.ERROR, logger="test.log"):
        assert log.error("lost", "connection lost: %s", "refused")
        assert not log.error("lost", "connection lost: %s", "refused")
    assert [record.getMessage() for record in caplog.records] == ["connection lost: refused"]
