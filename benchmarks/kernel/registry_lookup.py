"""Registry reads at 100,000 entries: ``lookup`` and ``dispatch``, against a plain dict.

Two workloads, each with its baseline in this file:

``reg`` (REG lookup)
    N processes each register one unique key (its number) in a
    ``Registry.UNIQUE`` registry; the root then looks up ``lookups`` random
    keys (seeded, the same on both sides) with ``Registry.lookup``.
    Baseline: N trio tasks each put themselves in a plain dict under their
    key, and the same keys are read with ``dict.get``. Figure: µs per lookup.

``reg-dispatch`` (REG dispatch)
    N processes register the same key in a ``Registry.DUPLICATE`` registry;
    the root calls ``Registry.dispatch`` on it ``dispatches`` times with a
    function that counts the entries it is given. Baseline: the same
    function over the items of a plain dict of N entries (task → value).
    Figure: ms per dispatch.

Registry reads run in the caller, with no message to the registry process,
so both figures price what the Registry adds to a dict read: resolving the
registry's name, skipping entries of processes that have ended, building
the ``(pid, value)`` list. Starting the N holders is setup, not timed.

Not one of the shared kernel workloads W1–W8: ``python -m benchmarks``
runs these only when named (``python -m benchmarks reg reg-dispatch``).
"""

from __future__ import annotations

import math
import random
from time import perf_counter

import trio
from trio.testing import wait_all_tasks_blocked

import otp
from otp import Registry

from .._harness import Sample, Workload

NAME = "bench_registry"
TOPIC = "topic"
SEED = 1


def _keys(n: int, lookups: int) -> list[int]:
    """The keys to look up: random, seeded, the same for both sides."""
    rng = random.Random(SEED)
    return [rng.randrange(n) for _ in range(lookups)]


def _counter() -> tuple:
    """A dispatch function that counts the entries it is given, and the list of its counts."""
    counts: list[int] = []

    def count(entries) -> None:
        n = 0
        for _pid, _value in entries:
            n += 1
        counts.append(n)

    return count, counts


# ------------------------------------------------------------------ ours


async def _ours_holder(key: object, value: object) -> None:
    Registry.register(NAME, key, value)
    await otp.receive()  # never comes: the node's shutdown ends it


async def _ours_start(keys: Registry, n: int, key_of) -> None:
    await Registry.start_link(keys=keys, name=NAME)
    for number in range(n):
        otp.spawn(_ours_holder, key_of(number), number)
    await wait_all_tasks_blocked()  # every holder has registered and is parked
    assert Registry.count(NAME) == n, Registry.count(NAME)


async def _ours_lookup_main(n: int, lookups: int) -> Sample:
    await _ours_start(Registry.UNIQUE, n, lambda number: number)
    keys = _keys(n, lookups)
    lookup = Registry.lookup
    start = perf_counter()
    for key in keys:
        lookup(NAME, key)
    elapsed = perf_counter() - start
    for key in keys[:100]:
        [(_pid, value)] = lookup(NAME, key)
        assert value == key
    return Sample(figure=elapsed / lookups * 1e6)


async def _ours_dispatch_main(n: int, dispatches: int) -> Sample:
    await _ours_start(Registry.DUPLICATE, n, lambda number: TOPIC)
    count, counts = _counter()
    dispatch = Registry.dispatch
    start = perf_counter()
    for _ in range(dispatches):
        dispatch(NAME, TOPIC, count)
    elapsed = perf_counter() - start
    assert counts == [n] * dispatches, counts[:3]
    return Sample(figure=elapsed / dispatches * 1e3)


def ours_lookup(n: int, lookups: int) -> Sample:
    return otp.run(_ours_lookup_main, n, lookups)


def ours_dispatch(n: int, dispatches: int) -> Sample:
    return otp.run(_ours_dispatch_main, n, dispatches)


# ------------------------------------------------------------------- raw


async def _raw_holder(put, key: object, value: object) -> None:
    # Unbounded, as an otp mailbox is; the send side stands for the pid.
    send, mailbox = trio.open_memory_channel(math.inf)
    put(send, key, value)
    await mailbox.receive()  # never comes: the nursery is cancelled


async def _raw_holders(put, n: int, key_of, task_status=trio.TASK_STATUS_IGNORED) -> None:
    async with trio.open_nursery() as nursery:
        for number in range(n):
            nursery.start_soon(_raw_holder, put, key_of(number), number)
        task_status.started(nursery)


async def _raw_run(table: dict, put, n: int, key_of, timed) -> Sample:
    async with trio.open_nursery() as outer:
        holders = await outer.start(_raw_holders, put, n, key_of)
        await wait_all_tasks_blocked()  # every holder has put itself in the table and is parked
        assert len(table) == n, len(table)
        sample = timed()
        holders.cancel_scope.cancel()
    return sample


def raw_lookup(n: int, lookups: int) -> Sample:
    table: dict = {}  # key → (holder, value)

    def put(holder, key, value) -> None:
        table[key] = (holder, value)
    keys = _keys(n, lookups)

    def timed() -> Sample:
        get = table.get
        start = perf_counter()
        for key in keys:
            get(key)
        elapsed = perf_counter() - start
        for key in keys[:100]:
            assert table[key][1] == key
        return Sample(figure=elapsed / lookups * 1e6)

    return trio.run(_raw_run, table, put, n, lambda number: number, timed)


def raw_dispatch(n: int, dispatches: int) -> Sample:
    table: dict = {}  # holder → value: the entries of the one key

    def put(holder, key, value) -> None:
        table[holder] = value

    def timed() -> Sample:
        count, counts = _counter()
        start = perf_counter()
        for _ in range(dispatches):
            count(table.items())
        elapsed = perf_counter() - start
        assert counts == [n] * dispatches, counts[:3]
        return Sample(figure=elapsed / dispatches * 1e3)

    return trio.run(_raw_run, table, put, n, lambda number: TOPIC, timed)


LOOKUP = Workload(
    id="reg",
    name="REG lookup",
    aliases=("registry", "registry-lookup", "reg-lookup", "lookup"),
    unit="us/lookup",
    rate=False,
    ours=ours_lookup,
    raw=raw_lookup,
    full_size=100_000,
    quick_size=2_000,
    full_options={"lookups": 100_000},
    quick_options={"lookups": 2_000},
    size_label="{size:,} keys",
)

DISPATCH = Workload(
    id="reg-dispatch",
    name="REG dispatch",
    aliases=("registry-dispatch", "dispatch"),
    unit="ms/dispatch",
    rate=False,
    ours=ours_dispatch,
    raw=raw_dispatch,
    full_size=100_000,
    quick_size=2_000,
    full_options={"dispatches": 20},
    quick_options={"dispatches": 5},
    size_label="{size:,} x {dispatches}",
)

WORKLOADS = (LOOKUP, DISPATCH)
