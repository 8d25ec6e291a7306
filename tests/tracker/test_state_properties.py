"""The presence state is a CRDT: properties checked with hypothesis.

Programs of random operations on three replicas, with random partial syncs
(a delta or a whole state from one replica to another) in between, build
the states; every merge along the way checks that the diff it returns is
exactly what changed in the visible entries.
"""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from otp.tracker._state import State

NAMES = ("a", "b", "c")

KINDS = ("join", "join", "leave", "leave_all", "update")  # joins twice as likely: something to leave


def decode(number):
    """A step of a program from an integer: hypothesis draws (and shrinks) plain integers fast.

    ``("op", replica, kind, pid number, topic, key, meta)`` or ``("sync", source, target, "delta" | "state")``.
    """
    if number < OPERATIONS:
        number, replica = divmod(number, 3)
        number, kind = divmod(number, len(KINDS))
        number, pid = divmod(number, 2)
        number, topic = divmod(number, 2)
        meta, key = divmod(number, 2)
        return ("op", replica, KINDS[kind], pid, f"t{topic + 1}", f"k{key + 1}", meta)
    number, source = divmod(number - OPERATIONS, 3)
    what, target = divmod(number, 3)
    return ("sync", source, target, ("delta", "state")[what])


OPERATIONS = 3 * len(KINDS) * 2 * 2 * 2 * 3
SYNCS = 3 * 3 * 2
programs = st.lists(st.integers(0, OPERATIONS + SYNCS - 1), max_size=40).map(lambda p: [decode(n) for n in p])
operations = st.lists(st.integers(0, OPERATIONS - 1), max_size=20).map(lambda p: [decode(n) for n in p])
orders = st.randoms(use_true_random=False)

SETTINGS = settings(max_examples=60, deadline=None)


def fresh():
    states = [State(name) for name in NAMES]
    for state in states:
        for name in NAMES:
            state.replica_up(name)
    return states


def checked_merge(state, other):
    """Merge, and check that the diff is exactly the change in visible entries."""
    before = state.presences()
    diff = state.merge(other)
    after = state.presences()
    if not diff:
        assert after == before
        return diff
    before, after, joins, leaves = Counter(before), Counter(after), Counter(diff.joins), Counter(diff.leaves)
    assert leaves <= before
    assert before - leaves + joins == after
    return diff


def apply(state, name, kind, pid_number, topic, key, meta):
    """One operation on a replica's own pids; the delta, or None if it made no sense."""
    pid = f"{name}{pid_number}"
    tracked = state.get_by_pid(pid, topic, key)
    if kind == "join":
        return None if tracked else state.join(pid, topic, key, meta)
    if kind == "update":
        return state.update(pid, topic, key, meta) if tracked else None
    if kind == "leave":
        return state.leave(pid, topic, key)
    return state.leave(pid)


def run(program):
    """Run a program; return the states and every delta made (per operation and per period)."""
    states, deltas = fresh(), []
    for step in program:
        if step[0] == "op":
            _, r, *args = step
            delta = apply(states[r], NAMES[r], *args)
            if delta is not None:
                deltas.append(delta)
        else:
            _, source, target, what = step
            if source == target:
                continue
            if what == "state":
                checked_merge(states[target], states[source])
            else:
                delta = states[source].take_delta()
                if delta is not None:
                    deltas.append(delta)
                    checked_merge(states[target], delta)
    for state in states:
        pending = state.take_delta()
        if pending is not None:
            deltas.append(pending)
    return states, deltas


def content(state):
    """What the CRDT holds: the entries by dot, and the causal context."""
    whole = state.extract()
    return whole.entries, whole.context


def merged(state, other):
    result = state.copy()
    checked_merge(result, other)
    return result


def own_entries(state, name):
    return {dot: presence for dot, presence in state.extract().entries.items() if dot[0] == name}


# ---------------------------------------------------------------- lattice laws on states


@SETTINGS
@given(programs)
def test_merge_is_commutative(program):
    (a, b, _), _ = run(program)
    assert content(merged(a, b)) == content(merged(b, a))


@SETTINGS
@given(programs)
def test_merge_is_associative(program):
    (a, b, c), _ = run(program)
    assert content(merged(merged(a, b), c)) == content(merged(a, merged(b, c)))


@SETTINGS
@given(programs)
def test_merge_is_idempotent(program):
    (a, b, _), _ = run(program)
    assert content(merged(a, a)) == content(a)
    once = merged(a, b)
    assert content(merged(once, b)) == content(once)


# ---------------------------------------------------------------- convergence of deltas


def shuffled_with_repeats(deltas, random):
    """Every delta at least once, some twice, in a random order."""
    delivery = deltas + [random.choice(deltas) for _ in range(min(len(deltas), 5))] if deltas else []
    random.shuffle(delivery)
    return delivery


@SETTINGS
@given(programs, orders)
def test_all_deltas_in_any_order_with_duplicates_converge_every_replica(program, random):
    states, deltas = run(program)
    truth = {name: own_entries(state, name) for name, state in zip(NAMES, states)}
    for state in states:
        for delta in shuffled_with_repeats(deltas, random):
            checked_merge(state, delta)
    first = content(states[0])
    assert all(content(state) == first for state in states[1:])
    assert sorted(map(repr, states[0].presences())) == sorted(map(repr, states[2].presences()))
    # nothing lost, nothing resurrected: each replica's entries are what it holds itself
    for name in NAMES:
        assert own_entries(states[0], name) == truth[name]


@SETTINGS
@given(operations, orders)
def test_one_replica_s_deltas_in_any_order_give_exactly_its_entries(ops, random):
    a, b, _ = fresh()
    deltas = [d for _, _, *args in ops if (d := apply(a, "a", *args)) is not None]
    random.shuffle(deltas)
    for delta in deltas:
        checked_merge(b, delta)
    assert content(b) == content(a)
    assert Counter(b.presences()) == Counter(a.presences())


@SETTINGS
@given(operations)
def test_leaves_delivered_before_their_joins_do_not_resurrect_entries(ops):
    a, b, _ = fresh()
    deltas = [d for _, _, *args in ops if (d := apply(a, "a", *args)) is not None]
    for delta in reversed(deltas):  # the latest first: every leave before its join
        checked_merge(b, delta)
    assert Counter(b.presences()) == Counter(a.presences())


@SETTINGS
@given(programs)
def test_whole_state_transfers_after_lost_deltas_catch_every_replica_up(program):
    a, b, c = states = run(program)[0]  # the deltas are lost: only transfers remain
    checked_merge(b, a)
    checked_merge(b, c)
    checked_merge(a, b)
    checked_merge(c, b)
    assert content(a) == content(b) == content(c)
    assert a.clock() == b.clock() == c.clock()
    assert not any(b.behind(name, state.clock()) for name, state in zip(NAMES, states))


@SETTINGS
@given(operations, orders)
def test_periodic_deltas_delivered_in_order_keep_a_receiver_equal_to_the_origin(ops, random):
    """The tracker's own path: operations accumulate, and each period's delta goes out alone."""
    a, b, _ = fresh()
    for _, _, *args in ops:
        apply(a, "a", *args)
        if random.random() < 0.3:
            delta = a.take_delta()
            if delta is not None:
                assert not b.has_gap(delta)
                checked_merge(b, delta)
                assert Counter(b.presences()) == Counter(a.presences())
    delta = a.take_delta()
    if delta is not None:
        checked_merge(b, delta)
    assert content(b) == content(a)
