"""The tree under chaos, as data: its targets, where each one's process is now, and its shape.

Read from ``otp.introspection`` (no message, nothing waits). Pure
functions of the :class:`~otp.introspection.SupervisorNode` they are given,
so the shape check has plain tests:

* :func:`walk` lists every child below the root, depth first, in child order;
  its *path* (child ids from the root down) names it across restarts.
* :func:`read_shape` keeps what "intact" means: under every supervisor, the
  same child ids, and the permanent ones running.
* :func:`problems` compares a tree read later with that shape and says, in
  sentences, what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import attrs

from .._child_spec import Restart
from .._kernel import Pid, behaviour_of, is_alive, registered_name
from ..introspection import ChildNode, SupervisorNode
from ._config import Target

__all__ = ["walk", "targets_of", "pids_by_path", "read_shape", "problems", "show_path", "TreeShape", "SupervisorShape"]


def walk(root: SupervisorNode) -> Iterator[tuple[tuple, ChildNode, SupervisorNode]]:
    """``(path, child, its supervisor)`` for every child below ``root``, depth first, in child order."""
    stack: list[tuple[tuple, SupervisorNode, Iterator[tuple[int, ChildNode]]]] = [((), root, enumerate(root.children))]
    while stack:
        path, supervisor, children = stack[-1]
        for index, child in children:
            child_path = path + (index if supervisor.dynamic else child.id,)
            yield child_path, child, supervisor
            if child.supervisor is not None:
                stack.append((child_path, child.supervisor, enumerate(child.supervisor.children)))
                break
        else:
            stack.pop()


def targets_of(root: SupervisorNode) -> list[tuple[Target, Pid | None]]:
    """Every child below ``root`` as a :class:`Target`, with its pid now (None: not running)."""
    return [(_target(path, child), child.pid) for path, child, _ in walk(root)]


def _target(path: tuple, child: ChildNode) -> Target:
    pid = child.pid
    behaviour = behaviour_of(pid) if pid is not None else None
    name = registered_name(pid) if pid is not None else None
    return Target(path, name, child.type, child.restart, behaviour[0] if behaviour is not None else None, pid)


def pids_by_path(root: SupervisorNode) -> dict[tuple, Pid | None]:
    """path → the pid there now (None: not running), for every child below ``root``."""
    return {path: child.pid for path, child, _ in walk(root)}


def supervisors_in(root: SupervisorNode) -> set[Pid]:
    """The pids of ``root`` and every running supervisor below it."""
    return {root.pid} | {child.supervisor.pid for _, child, _ in walk(root) if child.supervisor is not None}


def show_path(path: tuple) -> str:
    """A target's path as the report writes it: ``db/3``, ``'the root'`` for ``()``.

    >>> show_path(("db", 3))
    'db/3'
    >>> show_path(())
    'the root'
    """
    return "/".join(str(part) for part in path) if path else "the root"


@attrs.frozen
class SupervisorShape:
    """One supervisor of the shape: static ones by child ids, dynamic ones by their count of permanent children."""

    dynamic: bool
    children: tuple  # ((child id, restart type), ...) of a static supervisor, temporary ones left out; ()
    permanent: int  # running permanent children when read (what a dynamic one must keep)


@attrs.frozen
class TreeShape:
    """Every supervisor of a tree by path (``()``: the root), as it was when the run started."""

    supervisors: Mapping[tuple, SupervisorShape]


def read_shape(root: SupervisorNode) -> TreeShape:
    """The shape of the tree under ``root`` now."""
    shapes = {(): _shape(root)}
    for path, child, _ in walk(root):
        if child.supervisor is not None:
            shapes[path] = _shape(child.supervisor)
    return TreeShape(shapes)


def _shape(supervisor: SupervisorNode) -> SupervisorShape:
    permanent = sum(1 for child in supervisor.children if child.restart is Restart.PERMANENT and child.pid is not None)
    if supervisor.dynamic:
        return SupervisorShape(True, (), permanent)
    # A temporary child leaves its supervisor's list when it ends (as in OTP): not part of the shape.
    kept = tuple((child.id, child.restart) for child in supervisor.children if child.restart is not Restart.TEMPORARY)
    return SupervisorShape(False, kept, permanent)


def problems(shape: TreeShape, root: SupervisorNode | None, alive: Callable[[Pid], bool] = is_alive) -> list[str]:
    """What keeps the tree ``root`` (read now; None: the root is gone) from having ``shape``; [] if intact.

    Intact means: every supervisor of the shape is running at the same
    path with the same child ids (temporary children aside: they leave
    the list when they end), and every permanent child is running (a
    transient child may have ended normally: that is its right). A dynamic supervisor must run as many permanent children as
    it did; its other children come and go. ``alive(pid)`` tells a running
    child from one whose end its supervisor has not handled yet.
    """
    if root is None:
        return ["the root supervisor is not running"]
    now = {(): root} | {path: child.supervisor for path, child, _ in walk(root) if child.supervisor is not None}
    children = {path: child for path, child, _ in walk(root)}
    found = []
    for path, expected in shape.supervisors.items():
        supervisor = now.get(path)
        if supervisor is None:
            found.append(f"supervisor {show_path(path)} is not running")
        else:
            found.extend(_supervisor_problems(path, expected, supervisor, children, alive))
    return found


def _supervisor_problems(
    path: tuple, expected: SupervisorShape, supervisor: SupervisorNode, children: dict, alive: Callable[[Pid], bool]
) -> list[str]:
    if expected.dynamic:
        permanent = _shape(supervisor).permanent
        if permanent < expected.permanent:
            return [f"supervisor {show_path(path)} runs {permanent} permanent children, not {expected.permanent}"]
        return []
    ids = tuple(child_id for child_id, _ in _shape(supervisor).children)
    if ids != tuple(child_id for child_id, _ in expected.children):
        return [f"supervisor {show_path(path)} has children {list(ids)!r}, not {[i for i, _ in expected.children]!r}"]
    return [
        f"permanent child {show_path(path + (child_id,))} is not running"
        for child_id, restart in expected.children
        if restart is Restart.PERMANENT and not _running(children[path + (child_id,)].pid, alive)
    ]



def _running(pid: Pid | None, alive: Callable[[Pid], bool]) -> bool:
    return pid is not None and alive(pid)
