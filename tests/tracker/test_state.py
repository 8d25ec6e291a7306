"""The pure presence state: operations, merges and their exact diffs, replicas, gaps."""

import doctest

import pytest

from otp.tracker import _replicas, _state
from otp.tracker._state import AlreadyTracked, Context, Delta, Diff, NotTracked, Presence, State


def replicas(*names):
    """States that all know each other."""
    states = [State(name) for name in names]
    for state in states:
        for name in names:
            assert state.replica_up(name) == Diff()
    return states


def test_the_module_docstrings_run():
    for module in (_state, _replicas):
        failed, attempted = doctest.testmod(module)
        assert attempted > 0 and failed == 0


# ---------------------------------------------------------------- local operations


def test_join_returns_a_delta_of_the_entry_and_its_dot():
    (a,) = replicas("a")
    delta = a.join("p1", "room", "alice", {"n": 1})
    assert (delta.origin, delta.start, delta.end) == ("a", 0, 1)
    assert delta.entries == {("a", 1): Presence("room", "alice", "p1", {"n": 1})}
    assert delta.context == Context({"a": 1})
    assert a.list("room") == [("alice", {"n": 1})]
    assert a.clock() == {"a": 1}


def test_joining_the_same_pid_topic_and_key_twice_raises_already_tracked():
    (a,) = replicas("a")
    a.join("p1", "room", "alice", {})
    with pytest.raises(AlreadyTracked) as raised:
        a.join("p1", "room", "alice", {"other": True})
    assert (raised.value.pid, raised.value.topic, raised.value.key) == ("p1", "room", "alice")
    assert "call update() to change its meta" in str(raised.value)
    a.join("p1", "room", "bob", {})  # another key is fine
    a.join("p2", "room", "alice", {})  # and another pid
    assert a.list("room") == [("alice", {}), ("bob", {}), ("alice", {})]
    assert a.counter == 3


def test_leave_one_entry_or_all_of_a_pid():
    (a,) = replicas("a")
    a.join("p1", "room", "alice", {})
    a.join("p1", "lobby", "alice", {})
    a.join("p2", "room", "bob", {})
    one = a.leave("p1", "room", "alice")
    assert one.entries == {} and one.context == Context({"a": 1}, {"a": {4}})
    assert a.get_by_pid("p1") == [("lobby", "alice", {})]
    everything = a.leave("p1")
    assert everything.context == Context(cloud={"a": {2, 5}})
    assert a.get_by_pid("p1") == []
    assert a.list("room") == [("bob", {})]


def test_leaving_what_is_not_tracked_is_an_empty_delta_and_takes_no_dot():
    (a,) = replicas("a")
    delta = a.leave("nobody")
    assert (delta.start, delta.end, delta.entries, delta.context) == (0, 0, {}, Context())
    assert a.counter == 0 and not a.has_delta()


def test_leave_takes_both_topic_and_key_or_neither():
    (a,) = replicas("a")
    with pytest.raises(TypeError, match=r"leave\(pid\) removes all"):
        a.leave("p1", "room")


def test_update_is_a_leave_and_a_join_in_one_delta():
    a, b = replicas("a", "b")
    b.merge(a.join("p1", "room", "alice", {"v": 1}))
    delta = a.update("p1", "room", "alice", {"v": 2})
    assert delta.entries == {("a", 2): Presence("room", "alice", "p1", {"v": 2})}
    assert delta.context == Context({"a": 2})
    assert b.merge(delta) == Diff(
        joins=(Presence("room", "alice", "p1", {"v": 2}),),
        leaves=(Presence("room", "alice", "p1", {"v": 1}),),
    )
    assert b.list("room") == [("alice", {"v": 2})]


def test_update_of_an_entry_that_is_not_tracked_raises_not_tracked():
    (a,) = replicas("a")
    with pytest.raises(NotTracked, match="'p1' is not tracked under topic 'room' with key 'alice'"):
        a.update("p1", "room", "alice", {})
    assert isinstance(NotTracked("p", "t", "k"), LookupError)


# ---------------------------------------------------------------- merging


def test_merge_reports_exact_joins_and_leaves_by_topic():
    a, b = replicas("a", "b")
    deltas = [a.join("p1", "room", "alice", {"s": "away"}), a.join("p2", "lobby", "bob", {})]
    assert b.merge(deltas[0]).by_topic() == {"room": ([("alice", {"s": "away"})], [])}
    assert b.merge(deltas[1]).by_topic() == {"lobby": ([("bob", {})], [])}
    assert b.merge(a.leave("p1")).by_topic() == {"room": ([], [("alice", {"s": "away"})])}
    assert b.list("room") == [] and b.list("lobby") == [("bob", {})]


def test_merging_the_same_delta_twice_changes_nothing_the_second_time():
    a, b = replicas("a", "b")
    delta = a.join("p1", "room", "alice", {})
    assert b.merge(delta)
    assert b.merge(delta) == Diff()
    assert b.list("room") == [("alice", {})]


def test_a_leave_merged_before_its_join_does_not_resurrect_the_entry():
    a, b = replicas("a", "b")
    joined = a.join("p1", "room", "alice", {})
    left = a.leave("p1")
    assert b.merge(left) == Diff()  # nothing to remove yet, but the dots are now seen
    assert b.merge(joined) == Diff()
    assert b.list("room") == [] and b.clock() == {"a": 2}


def test_merging_a_whole_state_removes_what_it_saw_go_and_adds_what_is_new():
    a, b = replicas("a", "b")
    b.merge(a.join("p1", "room", "alice", {}))
    a.leave("p1")
    a.join("p2", "room", "bob", {})
    assert b.merge(a).by_topic() == {"room": ([("bob", {})], [("alice", {})])}
    assert b.list("room") == a.list("room") == [("bob", {})]


def test_entries_of_a_replica_the_state_does_not_know_are_ignored():
    a, b = State("a"), State("b")  # they never met
    assert b.merge(a.join("p1", "room", "alice", {})) == Diff()
    assert b.list("room") == [] and b.clock() == {}


def test_a_delta_taken_from_the_pending_operations_covers_the_period():
    a, b = replicas("a", "b")
    a.join("p1", "room", "alice", {})
    a.join("p2", "room", "bob", {})
    a.leave("p2")
    pending = a.take_delta()
    assert (pending.start, pending.end) == (0, 3)
    assert pending.entries == {("a", 1): Presence("room", "alice", "p1", {})}  # bob came and went
    assert pending.context == Context({"a": 3})
    assert a.take_delta() is None
    assert b.merge(pending).by_topic() == {"room": ([("alice", {})], [])}


def test_a_delta_starting_beyond_what_the_receiver_saw_is_a_gap_which_a_transfer_fills():
    a, b = replicas("a", "b")
    a.join("p1", "room", "alice", {})
    a.take_delta()  # lost on its way to b
    a.join("p2", "room", "bob", {})
    second = a.take_delta()
    assert (second.start, second.end) == (1, 2)
    assert b.has_gap(second)
    assert b.merge(second).by_topic() == {"room": ([("bob", {})], [])}  # safe to merge anyway
    assert b.clock() == {} and b.behind("a", a.clock())  # dot 2 is in the cloud, beyond the gap
    assert b.merge(a.extract()).by_topic() == {"room": ([("alice", {})], [])}
    assert b.clock() == {"a": 2} and not b.behind("a", a.clock())
    assert b.list("room") == [("bob", {}), ("alice", {})]


def test_a_contiguous_delta_is_no_gap():
    a, b = replicas("a", "b")
    b.merge(a.join("p1", "room", "alice", {}))
    assert not b.has_gap(a.join("p2", "room", "bob", {}))


def test_leaves_of_entries_added_elsewhere_travel_too():
    a, b, c = replicas("a", "b", "c")
    joined = a.join("p1", "room", "alice", {})
    b.merge(joined)
    removal = b.leave("p1")  # b observed alice and removes her
    assert removal.context == Context({"a": 1, "b": 1})
    assert a.merge(removal).by_topic() == {"room": ([], [("alice", {})])}
    assert c.merge(removal) == Diff() and c.merge(joined) == Diff()


# ---------------------------------------------------------------- replicas


def test_a_down_replica_s_entries_leave_and_come_back_when_it_is_up_again():
    a, b = replicas("a", "b")
    b.merge(a.join("p1", "room", "alice", {}))
    assert b.replica_down("a").by_topic() == {"room": ([], [("alice", {})])}
    assert b.list("room") == [] and b.replicas() == {"a": "down", "b": "up"}
    assert b.replica_down("a") == Diff()
    # merges go on while it is down, silently
    assert b.merge(a.join("p2", "room", "bob", {})) == Diff()
    assert b.replica_up("a").by_topic() == {"room": ([("alice", {}), ("bob", {})], [])}
    assert b.list("room") == [("alice", {}), ("bob", {})]


def test_permdown_forgets_a_replica_for_good():
    a, b, c = replicas("a", "b", "c")
    joined = a.join("p1", "room", "alice", {})
    b.merge(joined)
    c.merge(joined)
    assert b.replica_permdown("a").by_topic() == {"room": ([], [("alice", {})])}
    assert b.list("room") == [] and b.clock() == {} and "a" not in b.replicas()
    # neither a stale delta nor a third replica's copy brings it back
    assert b.merge(joined) == Diff() and b.merge(c) == Diff()
    assert b.list("room") == []


def test_permdown_of_a_replica_already_down_reports_nothing_more():
    a, b = replicas("a", "b")
    b.merge(a.join("p1", "room", "alice", {}))
    b.replica_down("a")
    assert b.replica_permdown("a") == Diff()
    assert len(b) == 0


def test_a_replica_known_again_after_permdown_gets_its_entries_back_by_transfer():
    a, b = replicas("a", "b")
    b.merge(a.join("p1", "room", "alice", {}))
    b.replica_permdown("a")
    assert b.replica_up("a") == Diff()
    assert b.behind("a", a.clock())
    assert b.merge(a).by_topic() == {"room": ([("alice", {})], [])}


def test_permdown_also_drops_the_replica_from_the_pending_delta():
    a, b = replicas("a", "b")
    b.merge(a.join("p1", "room", "alice", {}))
    b.take_delta()
    b.leave("p1")  # b removes a's entry: its pending delta names a's dot
    b.replica_permdown("a")
    pending = b.take_delta()
    assert pending.context == Context({"b": 1})


def test_a_replica_cannot_take_itself_down():
    (a,) = replicas("a")
    with pytest.raises(ValueError, match="cannot take itself down"):
        a.replica_down("a")
    with pytest.raises(ValueError):
        a.replica_permdown("a")


# ---------------------------------------------------------------- reads


def test_reads_list_get_by_key_and_get_by_pid():
    a, b = replicas("a", "b")
    b.merge(a.join("p1", "room", "alice", {"d": "phone"}))
    b.join("p9", "room", "alice", {"d": "laptop"})
    b.join("p9", "lobby", "alice", {})
    assert b.list("room") == [("alice", {"d": "phone"}), ("alice", {"d": "laptop"})]
    assert b.get_by_key("room", "alice") == [("p1", {"d": "phone"}), ("p9", {"d": "laptop"})]
    assert b.get_by_key("room", "nobody") == [] and b.list("nowhere") == []
    assert b.get_by_pid("p9") == [("room", "alice", {"d": "laptop"}), ("lobby", "alice", {})]
    assert b.get_by_pid("p9", "lobby", "alice") == [("lobby", "alice", {})]
    assert sorted(b.topics()) == ["lobby", "room"] and len(b) == 3
    b.replica_down("a")
    assert b.get_by_key("room", "alice") == [("p9", {"d": "laptop"})]
    assert b.get_by_pid("p1") == [] and len(b) == 2


def test_copy_is_independent():
    (a,) = replicas("a")
    a.join("p1", "room", "alice", {})
    clone = a.copy()
    a.leave("p1")
    assert clone.list("room") == [("alice", {})] and a.list("room") == []
    assert clone.take_delta().entries and a.take_delta().entries == {}


# ---------------------------------------------------------------- causal contexts


def test_a_context_compacts_dots_into_its_version_vector_once_gaps_close():
    context = Context()
    for n in (3, 5, 1):
        context.add(("a", n))
    assert (context.vv, context.cloud) == ({"a": 1}, {"a": {3, 5}})
    context.add(("a", 2))
    assert (context.vv, context.cloud) == ({"a": 3}, {"a": {5}})
    context.update(Context({"a": 4}, {"b": {2}}))
    assert (context.vv, context.cloud) == ({"a": 5}, {"b": {2}})
    assert ("b", 2) in context and ("b", 1) not in context and ("a", 5) in context


def test_contexts_with_the_same_dots_are_equal_however_they_were_built():
    assert Context({"a": 2, "b": 0}, {"c": set()}) == Context({"a": 2})
    assert Context(cloud={"a": {3}}) != Context({"a": 3})


def test_update_restricted_to_some_replicas_ignores_the_others():
    context = Context()
    context.update(Context({"a": 2, "b": 3}, {"c": {5}}), {"a"})
    assert context == Context({"a": 2})


def test_a_delta_reads_well():
    delta = Delta("a", 1, 2, {}, Context(cloud={"a": {2}}))
    assert repr(delta) == "<Delta from 'a' (1, 2]: 0 entries, Context({}, {'a': {2}})>"
