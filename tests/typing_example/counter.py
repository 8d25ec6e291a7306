"""A supervised counter, written as a user who type-checks their code would write it.

``tests/test_types.py`` checks this module with mypy in strict mode, where
every ``assert_type`` below must hold exactly (an ``Any`` fails it), and
then runs :func:`main`. It shows what a type checker sees of the public
API:

- ``GenServer[Request, Reply]``: calling through the subclass checks the
  request and gives the reply's type;
- callbacks annotated as narrowly as the server needs, their parameters
  named as it likes (``amount: int``, ``message: Tick``), with no override
  error;
- ``start_link`` returning a ``Pid``, unless ``init`` may return ``Ignore``;
- typed client functions taking an ``otp.Destination``;
- a Registry lookup, a via-name, a supervisor, a task, a typed receive.
"""

from __future__ import annotations

from typing import Literal, assert_type

import otp
from otp import Down, From, GenServer, Ignore, Pid, Registry, Supervisor, Task

REGISTRY = "counters"

Request = Literal["get", "reset"]


class Tick:
    """A message the counter sends itself."""


class Counter(GenServer[Request, int]):
    """Counts; ``"get"`` answers the count, a cast of an int adds it."""

    async def init(self, start: int) -> None:
        self.count = start

    async def handle_call(self, request: Request, caller: From) -> int:
        if request == "reset":
            self.count = 0
        return self.count

    async def handle_cast(self, amount: int) -> None:  # named as this server likes
        self.count += amount

    async def handle_info(self, message: Tick) -> None:
        self.count += 1


class Maybe(GenServer[Request, int]):
    """A server that does not start for a negative start: its start_link may give None."""

    async def init(self, start: int) -> Ignore | None:
        return Ignore() if start < 0 else None


# ---------------------------------------------------------------- the client API


async def count(server: otp.Destination) -> int:
    return await Counter.call(server, "get")


def add(server: otp.Destination, amount: int) -> None:
    Counter.cast(server, amount)


def by_name(name: str) -> otp.Via:
    return Registry.via(REGISTRY, name)


# ---------------------------------------------------------------- using it


async def main() -> int:
    """Start a tree, use the counter through every typed path; return its final count (15)."""
    tree = await Supervisor.start_link(
        [
            Registry.child_spec(keys=Registry.UNIQUE, name=REGISTRY),
            Counter.child_spec(10, name=by_name("main")),
        ]
    )
    assert_type(tree, Pid)

    [(pid, value)] = Registry.lookup(REGISTRY, "main")
    assert_type(pid, Pid)

    add(pid, 4)
    otp.send(pid, Tick())
    total = await count(by_name("main"))
    assert_type(total, int)

    ignored = await Maybe.start(-1)
    assert_type(ignored, Pid | None)
    started = await Counter.start(0)
    assert_type(started, Pid)

    task = Task.spawn(count, started)
    assert_type(await task.result(), int)

    ref = otp.monitor(started)
    await Counter.stop(started)
    down = await otp.receive(Down)
    assert_type(down, Down)
    assert down.ref == ref and ignored is None

    await Supervisor.stop(tree)
    return total


if __name__ == "__main__":
    print(otp.run(main))
