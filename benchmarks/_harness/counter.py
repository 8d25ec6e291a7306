"""The counter server that W3 (call) and W4 (cast) talk to, in our runtime: a GenServer.

W3 measures ``GenServer.call`` exactly as users write it (monitor, unique
alias ref, 5 s timeout, selective receive of the reply); W4 measures
``GenServer.cast``. The raw trio baselines in ``w3_call.py`` and
``w4_cast.py`` do the same work with a memory channel per server and no
monitor, no timeout, no tag.
"""

from __future__ import annotations

import otp
from otp import GenServer

INCR = "incr"
GET = "get"


class Counter(GenServer):
    async def init(self, start: int) -> None:
        self.count = start

    async def handle_call(self, request: str, caller: object) -> int:
        if request is INCR:
            self.count += 1
        return self.count

    async def handle_cast(self, request: str) -> None:
        self.count += 1


async def start_counter() -> otp.Pid:
    """Start a counter at 0; return its pid."""
    return await Counter.start(0)


async def call(server: otp.Pid, request: str, timeout: float = 5.0) -> int:
    """``GenServer.call`` (by default with its default 5 s timeout): the count it returns."""
    return await GenServer.call(server, request, timeout=timeout)


def cast(server: otp.Pid, request: str) -> None:
    GenServer.cast(server, request)


async def stop_counter(server: otp.Pid) -> None:
    await GenServer.stop(server)
