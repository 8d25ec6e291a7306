"""UPG upgrade: live servers moved to new code while clients call them; pause per server, messages lost.

N counter servers run version 1 of a module written to a temporary folder.
C client processes call and cast them without a pause, round robin, each
call checked. Then version 2 is written and ``otp.upgrade`` moves every
server: suspend, take the new class, ``code_change``, resume, one server
at a time, while the clients keep calling. Once every client has seen
version 2 answer, they stop, and every server's counts are read.

Figure: the median pause per server, in µs: how long each was suspended,
from the upgrade's side (``UpgradeReport.pauses``). Its own fields:
``pause_p99_us`` and ``pause_max_us``, ``upgrade_ms`` (the whole
``otp.upgrade`` call, the reload included), ``upgraded`` and ``failed``
servers, the ``calls`` and ``casts`` the clients made, ``calls_failed``
(raised instead of answering) and ``messages_lost``: casts sent that no
server counted plus calls no server counted, which must be 0.

No baseline: what is measured is the upgrade itself. Not one of W1–W8:
``python -m benchmarks upgrade`` runs it when named.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from time import perf_counter

import otp
from otp import GenServer
from otp.lowlevel import take_queued

from .._harness import Sample, Workload
from .._harness.stats import percentile

VERSION_1 = '''
import otp
from otp import GenServer


class Counter(GenServer):
    vsn = 1

    async def init(self, number):
        self.calls = 0
        self.casts = 0

    async def handle_call(self, request, caller):
        self.calls += 1
        return (1, self.calls)

    async def handle_cast(self, request):
        self.casts += 1
'''

# Version 2 answers with its version, and code_change keeps a note of the old one.
VERSION_2 = VERSION_1.replace("vsn = 1", "vsn = 2").replace("return (1, self.calls)", "return (2, self.calls)") + '''
    async def code_change(self, old_vsn, extra):
        self.upgraded_from = old_vsn
'''

_runs = 0  # module names are per run: a run's module must not be the last one's, reloaded


class _Source:
    """The module's file in a folder of its own, on sys.path while the run lasts."""

    def __init__(self) -> None:
        global _runs
        _runs += 1
        self.folder = Path(tempfile.mkdtemp(prefix="otp_upgrade_bench_"))
        self.name = f"bench_upgrade_{os.getpid()}_{_runs}"
        self.path = self.folder / f"{self.name}.py"
        self.mtime = 1_000_000_000

    def write(self, code: str) -> None:
        self.path.write_text(textwrap.dedent(code))
        # Two versions written within one second and of one size would look
        # unchanged to Python's bytecode cache: move the mtime on explicitly.
        self.mtime += 10
        os.utime(self.path, (self.mtime, self.mtime))

    def __enter__(self) -> _Source:
        self.write(VERSION_1)
        sys.path.insert(0, str(self.folder))
        self.module = importlib.import_module(self.name)
        return self

    def __exit__(self, *exc_info: object) -> None:
        sys.path.remove(str(self.folder))
        sys.modules.pop(self.name, None)
        shutil.rmtree(self.folder, ignore_errors=True)


async def _client(root: otp.Pid, servers: list[otp.Pid], first: int) -> None:
    """Calls and casts round robin until told to stop; reports its counts to ``root``."""
    calls = failed = casts = 0
    seen_new = False
    index = first
    while take_queued(lambda m: m == "stop") is None:
        server = servers[index % len(servers)]
        index += 1
        GenServer.cast(server, "one")
        casts += 1
        try:
            version, _ = await GenServer.call(server, "incr")
        except otp.CallError:
            failed += 1
            continue
        calls += 1
        if calls == 10:
            otp.send(root, ("running", otp.current_pid()))
        if version == 2 and not seen_new:
            seen_new = True
            otp.send(root, ("saw version 2", otp.current_pid()))
    otp.send(root, ("done", calls, failed, casts))


async def _ours_main(n: int, clients: int) -> Sample:
    with _Source() as source:
        module = source.module
        servers = [await module.Counter.start_link(number) for number in range(n)]
        me = otp.current_pid()
        pids = [otp.spawn_link(_client, me, servers, i * n // clients) for i in range(clients)]
        for _ in pids:
            await otp.receive(lambda m: isinstance(m, tuple) and m[0] == "running")

        source.write(VERSION_2)
        started = perf_counter()
        report = await otp.upgrade(module)
        upgrade_ms = (perf_counter() - started) * 1e3

        for _ in pids:
            await otp.receive(lambda m: isinstance(m, tuple) and m[0] == "saw version 2")
        for pid in pids:
            otp.send(pid, "stop")
        totals = [await otp.receive(lambda m: isinstance(m, tuple) and m[0] == "done") for _ in pids]
        states = [await otp.sys.get_state(server) for server in servers]  # after every client's last cast

    calls = sum(t[1] for t in totals)
    casts = sum(t[3] for t in totals)
    lost = (casts - sum(s.casts for s in states)) + (calls - sum(s.calls for s in states))
    assert all(type(s) is module.Counter and s.upgraded_from == 1 for s in states), "a server missed the upgrade"
    pauses = sorted(report.pauses)
    return Sample(
        figure=percentile(pauses, 50) * 1e6,
        extra={
            "servers": n,
            "clients": clients,
            "pause_p99_us": round(percentile(pauses, 99) * 1e6, 1),
            "pause_max_us": round(pauses[-1] * 1e6, 1),
            "upgrade_ms": round(upgrade_ms, 1),
            "upgraded": len(report.upgraded),
            "failed": len(report.failed),
            "calls": calls,
            "casts": casts,
            "calls_failed": sum(t[2] for t in totals),
            "messages_lost": lost,
        },
    )


def ours(n: int, clients: int) -> Sample:
    return otp.run(_ours_main, n, clients)


WORKLOAD = Workload(
    id="upgrade",
    name="UPG upgrade",
    aliases=("hot-upgrade", "code-upgrade"),
    unit="us/pause p50",
    rate=False,
    ours=ours,
    raw=None,
    full_size=1_000,
    quick_size=100,
    full_options={"clients": 20},
    quick_options={"clients": 5},
    size_label="{size:,} x {clients}",  # servers x clients
)
