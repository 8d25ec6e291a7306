"""The shape of a tree and what breaks it: pure functions of introspection's records, checked row by row."""

from otp import ChildType, Pid, Restart, Strategy
from otp.chaos._tree import problems, read_shape, walk
from otp.introspection import ChildNode, SupervisorNode

ALIVE = lambda pid: True  # noqa: E731 - these records are made up: every pid in them "runs"


def pid(n: int) -> Pid:
    return Pid(0, n)


def sup(number, children, *, dynamic=False) -> SupervisorNode:
    return SupervisorNode(
        pid=pid(number), name=None, strategy=Strategy.ONE_FOR_ONE, dynamic=dynamic, max_restarts=3,
        max_seconds=5.0, restarts=0, recent_restarts=(), children=tuple(children),
    )


def child(child_id, number, restart=Restart.PERMANENT, nested=None) -> ChildNode:
    kind = ChildType.SUPERVISOR if nested is not None else ChildType.WORKER
    return ChildNode(child_id, pid(number) if number is not None else None, kind, restart, nested)


def tree(*, worker_pid=11, cache_restart=Restart.PERMANENT, cache_pid=12, inner_ids=("a", "b"), sessions=(21, 22)):
    inner = sup(10, [child(inner_ids[0], worker_pid), child(inner_ids[1], 13)])
    dynamic = sup(20, [child(None, n) for n in sessions], dynamic=True)
    return sup(1, [
        child("inner", 10, nested=inner),
        child("cache", cache_pid, cache_restart),
        child("sessions", 20, nested=dynamic),
    ])


def test_walk_lists_every_child_depth_first_by_path():
    paths = [path for path, _, _ in walk(tree())]
    assert paths == [("inner",), ("inner", "a"), ("inner", "b"), ("cache",), ("sessions",), ("sessions", 0), ("sessions", 1)]


def test_the_same_tree_with_new_pids_is_intact():
    shape = read_shape(tree())
    assert problems(shape, tree(worker_pid=99, cache_pid=98, sessions=(31, 32)), ALIVE) == []


def test_a_permanent_child_not_running_breaks_it():
    shape = read_shape(tree())
    assert problems(shape, tree(worker_pid=None), ALIVE) == ["permanent child inner/a is not running"]


def test_a_transient_child_that_ended_does_not():
    shape = read_shape(tree(cache_restart=Restart.TRANSIENT))
    assert problems(shape, tree(cache_restart=Restart.TRANSIENT, cache_pid=None), ALIVE) == []


def test_a_child_whose_end_its_supervisor_has_not_handled_yet_is_not_running():
    shape = read_shape(tree())
    assert problems(shape, tree(), lambda p: p != pid(11)) == ["permanent child inner/a is not running"]


def test_other_child_ids_break_it():
    shape = read_shape(tree())
    assert problems(shape, tree(inner_ids=("a", "c")), ALIVE) == ["supervisor inner has children ['a', 'c'], not ['a', 'b']"]


def test_a_dynamic_supervisor_must_keep_its_permanent_children_only():
    shape = read_shape(tree())
    assert problems(shape, tree(sessions=(41, 42, 43)), ALIVE) == []
    assert problems(shape, tree(sessions=(41,)), ALIVE) == ["supervisor sessions runs 1 permanent children, not 2"]


def test_a_missing_supervisor_or_root_breaks_it():
    shape = read_shape(tree())
    sessions = sup(20, [child(None, 21), child(None, 22)], dynamic=True)
    inner_gone = sup(1, [child("inner", None), child("cache", 12), child("sessions", 20, nested=sessions)])
    assert problems(shape, inner_gone, ALIVE) == ["permanent child inner is not running", "supervisor inner is not running"]
    assert problems(shape, None, ALIVE) == ["the root supervisor is not running"]


def test_a_temporary_child_that_ended_has_left_the_list_and_does_not_break_it():
    with_temporary = sup(1, [child("once", 30, Restart.TEMPORARY), child("cache", 12)])
    without = sup(1, [child("cache", 12)])
    assert problems(read_shape(with_temporary), without, ALIVE) == []
