"""What the endpoint hands its connections (web/_limits.py): checked limits, counters, snapshots."""

import doctest
import math
import os
import platform
import subprocess
import sys

import attrs
import pytest
import trio

import web._limits
from otp.testing import wait_all_tasks_blocked
from web import Endpoint, EndpointStatistics, Response
from web._limits import COUNTERS, ConnectionCounters, ConnectionLimits, MemoryReclaimer
from web.endpoint import _state_of


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
    assert list(ConnectionCounters.__annotations__) == list(COUNTERS)  # what type checkers are told


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


_BIG_BUFFERS = """
import os, sys
from web._limits import keep_big_buffers_mapped

def resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

fixed = keep_big_buffers_mapped() if sys.argv[1] == "fixed" else None
first = bytearray(4 << 20)
del first  # glibc raises its mmap threshold to 4 MiB here, unless it was fixed
before = resident_mb()
outboxes = []
for _ in range(40):  # forty slow peers' outboxes, grown frame by frame to ~600 KB each
    outbox = bytearray()
    for _ in range(600):
        outbox += b"x" * 1000
    outboxes.append(outbox)
peak = resident_mb()
del outboxes  # shed
print(fixed, round(peak - before), round(resident_mb() - before))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm") or platform.libc_ver()[0] != "glibc", reason="glibc, /proc")
def test_big_buffers_stay_mapped_so_a_shed_peers_outbox_goes_back_to_the_system():
    def run(mode):
        result = subprocess.run([sys.executable, "-c", _BIG_BUFFERS, mode], capture_output=True, text=True, check=True)
        fixed, grown, kept = result.stdout.split()
        return fixed, int(grown), int(kept)

    fixed, grown, kept = run("fixed")
    assert fixed == "True" and grown >= 20
    assert kept <= 2  # every outbox was its own mapping, unmapped when freed
    _, grown, kept = run("default")
    assert grown >= 20 and kept >= grown // 2  # what the endpoint avoids: the heap keeps it


_FRAGMENTED_HEAP = """
import os
from web._limits import MemoryReclaimer

def resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

before = resident_mb()
blocks = [bytearray(60_000) for _ in range(1000)]  # 60 MB of heap blocks, under glibc's mmap threshold
kept = blocks[::50]  # a few stay in use, spread over the heap, as a crowd's leftovers do
del blocks
freed = resident_mb()
assert MemoryReclaimer().reclaim()
print(round(freed - before), round(resident_mb() - before))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm") or platform.libc_ver()[0] != "glibc", reason="glibc, /proc")
def test_the_reclaimer_gives_the_free_pages_of_a_fragmented_heap_back_to_the_system():
    result = subprocess.run([sys.executable, "-c", _FRAGMENTED_HEAP], capture_output=True, text=True, check=True)
    held_after_free, held_after_reclaim = map(int, result.stdout.split())
    assert held_after_free >= 40  # freed, but below blocks still in use: glibc keeps it
    assert held_after_reclaim <= 5  # 20 blocks of 60 KB stay, and nothing else


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
async def test_an_endpoint_reclaims_once_a_second_after_connections_end_and_not_while_none_do(autojump_clock):
    endpoint = await Endpoint.start_link(hello, port=0, telemetry_period=None)
    reclaimer = endpoint_context(endpoint).reclaimer
    port = Endpoint.address(endpoint)[1]
    assert not reclaimer.pending  # nothing ended yet: nothing scheduled
    for _ in range(3):  # three connections end within the second: one reclaim for them all
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        await stream.send_all(b"GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
        while await stream.receive_some(1000):
            pass
        await stream.aclose()
        await wait_all_tasks_blocked()
        assert reclaimer.pending
    # Virtual time (autojump clock): what is tested is the endpoint's own delay.
    await trio.sleep(MemoryReclaimer.DELAY - 0.05)
    await wait_all_tasks_blocked()
    assert reclaimer.pending
    await trio.sleep(0.1)
    await wait_all_tasks_blocked()
    assert not reclaimer.pending  # reclaimed, and nothing more is scheduled while no connection ends


async def hello(request):
    return Response(200, {}, "hello")


def endpoint_context(endpoint):
    return _state_of(endpoint).context
