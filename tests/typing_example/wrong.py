"""Mistakes a type checker must catch: each line marked ``# expect: <code>`` is one.

Never run, only type-checked: ``tests/test_types.py`` runs mypy on this
module and checks that it reports exactly the marked lines, each with its
error code, and nothing else. Were the public API typed with ``Any``, none
of these would be reported. (The variables are there for their annotations.)
"""

# ruff: noqa: F841

from __future__ import annotations

import otp
from otp import Down, ExitSignal, From, GenServer, Pid, Task

from .counter import Counter, Maybe


class WrongReply(GenServer[str, int]):
    async def handle_call(self, request: str, caller: From) -> str:  # expect: override
        return request


async def fetch(page: int) -> bytes:
    return b""


async def worker(n: int) -> None:
    pass


async def mistakes(pid: Pid) -> None:
    text: str = await Counter.call(pid, "get")  # expect: assignment
    await Counter.call(pid, "increment")  # expect: arg-type
    surely: Pid = await Maybe.start_link(1)  # expect: assignment
    otp.send(42, "hello")  # expect: arg-type
    otp.spawn(worker, "one")  # expect: arg-type
    Task.spawn(fetch, "page 1")  # expect: arg-type
    page: str = await Task.spawn(fetch, 1).result()  # expect: assignment
    signal: ExitSignal = await otp.receive(Down)  # expect: arg-type
