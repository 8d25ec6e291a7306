"""``otp.run``: run a main function, or a supervision tree as an application.

``otp.run(main, *args)`` runs ``main`` as the root process of a fresh node
(the kernel's ``run``). Given a child spec, a class with ``child_spec()`` or
a list of children instead, it starts that tree under the root and runs
until the tree ends; Ctrl-C shuts it down in order (children newest first,
each with its shutdown timeout) and then raises ``KeyboardInterrupt``::

    otp.run(App.child_spec(config))          # a module-based supervisor
    otp.run([Db.child_spec(url), Web])       # a one_for_one tree of these

It returns the exit reason of the tree's top process.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar, TypeVarTuple, overload

import trio

from ._child_spec import Child, ChildSpec, normalise_child
from ._kernel import NORMAL, ExitSignal, receive, trap_exits
from ._kernel import run_node as _run_main
from .supervisor import Supervisor

__all__ = ["run"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@overload
def run(
    main: Callable[[*Ts], Awaitable[T]], *args: *Ts, shutdown_timeout: float = 5.0, clock: trio.abc.Clock | None = None
) -> T: ...
@overload
def run(
    main: Child | list[Child], *, shutdown_timeout: float = 5.0, clock: trio.abc.Clock | None = None
) -> object: ...


def run(main: Any, *args: object, shutdown_timeout: float = 5.0, clock: trio.abc.Clock | None = None) -> Any:
    """Run ``main(*args)`` (an async function) or a tree of children; see the module docs.

    Returns what ``main`` returned, or the exit reason of the tree's top process.
    """
    if _is_tree(main):
        if args:
            raise TypeError("otp.run(children) takes no extra arguments; put them in the child specs")
        return _run_main(_run_tree, main, shutdown_timeout=shutdown_timeout, clock=clock)
    return _run_main(main, *args, shutdown_timeout=shutdown_timeout, clock=clock)


def _is_tree(main: object) -> bool:
    return isinstance(main, (ChildSpec, list)) or (isinstance(main, type) and hasattr(main, "child_spec"))


async def _run_tree(tree: Child | list[Child]) -> object:
    # The tree's end must reach us as a message, not end the root with it.
    trap_exits(True)
    if isinstance(tree, list):
        pid = await Supervisor.start_link(tree)
    else:
        spec = normalise_child(tree)
        function, *start_args = spec.start
        pid = await function(*start_args)
    if pid is None:
        return NORMAL  # the top process ignored its start
    # Linked (it was started with start_link) and trapping: its exit signal
    # carries the reason even if it ended before we could monitor it.
    signal = await receive(lambda m: m.__class__ is ExitSignal and m.pid == pid)
    return signal.reason


