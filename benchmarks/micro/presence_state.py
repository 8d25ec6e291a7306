"""``micro-presence``: the presence CRDT (``otp.tracker.State``) alone, against a plain dict.

No process, no PubSub: what a tracker does with its table between
messages. N processes (plain ints stand in for pids: the State is a pure
function of data) each join one topic under a key of their own, as
channel processes track themselves in a room. Figure: µs per join
(``State.join``: a dot, the causal context, the indexes, the pending
delta). Baseline: the same N entries put in a plain ``{topic: {(pid, key):
meta}}`` dict: what a map without replication costs.

Fields, from the same run of ours: ``merge_us`` (per entry: a second
replica merging the first's whole state, as a tracker does with a
newcomer's), ``list_ms`` (``State.list`` of the topic, all N),
``leave_us`` (per entry: every process leaves). Sizes: N = 10,000 (as the
cluster benchmark's presences) / ``--quick`` 1,000.
"""

from __future__ import annotations

from time import perf_counter

from otp.tracker import State

from .._harness import Sample, Workload

TOPIC = "room:lobby"
META = {"online_at": 0}


def _joined(n: int) -> tuple[State, float]:
    """Replica ``a`` with N presences; and the seconds the joins took."""
    state, join = State("a"), State.join
    start = perf_counter()
    for pid in range(n):
        join(state, pid, TOPIC, f"user{pid}", META)
    return state, perf_counter() - start


def _merged(state: State) -> float:
    """Seconds replica ``b`` takes to merge all of ``state`` (a newcomer's whole table)."""
    other = State("b")
    other.replica_up(state.replica)
    start = perf_counter()
    diff = other.merge(state.extract())
    elapsed = perf_counter() - start
    if len(diff.joins) != len(state):
        raise AssertionError(f"merging {len(state)} entries showed {len(diff.joins)} joins")
    return elapsed


def ours_presence(n: int) -> Sample:
    state, joins = _joined(n)
    merge = _merged(state)
    start = perf_counter()
    listed = state.list(TOPIC)
    list_s = perf_counter() - start
    if len(listed) != n:
        raise AssertionError(f"listed {len(listed)} of {n} presences")
    start = perf_counter()
    for pid in range(n):
        state.leave(pid, TOPIC, f"user{pid}")
    leaves = perf_counter() - start
    return Sample(
        figure=joins / n * 1e6,
        extra={"merge_us": merge / n * 1e6, "list_ms": list_s * 1e3, "leave_us": leaves / n * 1e6},
    )


def raw_presence(n: int) -> Sample:
    presences: dict[str, dict] = {}
    start = perf_counter()
    for pid in range(n):
        presences.setdefault(TOPIC, {})[(pid, f"user{pid}")] = META
    return Sample(figure=(perf_counter() - start) / n * 1e6)


WORKLOAD = Workload(
    id="micro-presence",
    name="M presence",
    aliases=("presence-state", "tracker-state", "m-presence"),
    unit="us/join",
    rate=False,
    ours=ours_presence,
    raw=raw_presence,
    full_size=10_000,
    quick_size=1_000,
)
