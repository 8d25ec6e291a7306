"""Port throughput: a program's output delivered as messages by ``otp.Port``, against reading its pipe in trio.

The program is ``head -c <size>M /dev/zero``: it writes ``size`` megabytes
to its stdout as fast as the pipe takes them, then exits.

*ours*: the root process opens it as a :class:`otp.Port` with the defaults
(binary chunks, an ``active`` budget of 64 messages) and takes
``PortData`` messages from its mailbox, re-arming the budget with
``port.set_active(64)`` on each ``PortPassive``, until ``PortExit``. So
the figure includes everything a port adds: the port process reading the
pipe, a message per chunk, the back-pressure.

*raw trio*: the same program opened with ``trio.lowlevel.open_process``,
its stdout read with ``receive_some`` in the same chunk size until end of
file, then waited for: the least a trio program can do to consume it.

Figure: megabytes (10^6 bytes) per second, from opening the program to its
exit status. Target: ours at least 0.8 of raw trio (a ratio of at most
1.25, since for rates the ratio is raw over ours). The run also reports the
messages the owner took and their mean size.

Not one of the shared kernel workloads W1–W8: ``python -m benchmarks``
runs it only when named (``python -m benchmarks port``).
"""

from __future__ import annotations

import subprocess
from time import perf_counter

import trio

import otp
from otp import Port, PortData, PortExit, PortPassive

from .._harness import Sample, Workload

ACTIVE = 64  # the Port's default budget, re-armed to the same
READ_SIZE = 65536  # what the raw side asks receive_some for (the port's own read size)
TARGET_RATIO = 1.25  # raw / ours: ours at least 0.8x raw


def _program(megabytes: int) -> list[str]:
    return ["head", "-c", f"{megabytes}M", "/dev/zero"]


# ------------------------------------------------------------------ ours


async def _ours_main(megabytes: int) -> Sample:
    start = perf_counter()
    port = await Port.open(_program(megabytes), active=ACTIVE)
    received = messages = 0
    while True:
        message = await otp.receive(PortData, PortPassive, PortExit)
        if message.__class__ is PortData:
            received += len(message.data)
            messages += 1
        elif message.__class__ is PortPassive:
            port.set_active(ACTIVE)
        else:
            status = message.status
            break
    elapsed = perf_counter() - start
    return _sample(megabytes, received, elapsed, status, messages=messages, mean_message_bytes=received // max(messages, 1))


def ours(megabytes: int) -> Sample:
    return otp.run(_ours_main, megabytes)


# ------------------------------------------------------------------- raw


async def _raw_main(megabytes: int) -> Sample:
    start = perf_counter()
    process = await trio.lowlevel.open_process(_program(megabytes), stdout=subprocess.PIPE)
    assert process.stdout is not None
    received = 0
    async with process.stdout:
        while True:
            chunk = await process.stdout.receive_some(READ_SIZE)
            if not chunk:
                break
            received += len(chunk)
    status = await process.wait()
    elapsed = perf_counter() - start
    return _sample(megabytes, received, elapsed, status)


def raw(megabytes: int) -> Sample:
    return trio.run(_raw_main, megabytes)


def _sample(megabytes: int, received: int, elapsed: float, status: int, **extra: int) -> Sample:
    expected = megabytes * 1024 * 1024
    if (received, status) != (expected, 0):
        raise RuntimeError(f"the program gave {received:,} bytes and status {status}; expected {expected:,} and 0")
    return Sample(figure=received / elapsed / 1e6, extra={"bytes": received, **extra, "target_ratio": TARGET_RATIO})


WORKLOAD = Workload(
    id="port",
    name="PORT stdout",
    aliases=("port-throughput", "ports"),
    unit="MB/s",
    rate=True,
    ours=ours,
    raw=raw,
    full_size=200,
    quick_size=8,
    size_label="{size:,} MiB",
)

WORKLOADS = (WORKLOAD,)
