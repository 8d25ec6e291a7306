"""A port's pipes are 128 KiB (Linux), read whole: one message per 128 KiB of a fast program's output.

With the kernel's default 64 KiB pipes a port delivered about 0.8x the
bytes per second of a bare trio reader (``python -m benchmarks port``); a
message per chunk is what a port adds, so larger chunks bring it to par.
The program below reports the size of the pipes it writes to.
"""

from __future__ import annotations

import sys

import pytest

import otp
from otp import Port, PortData, PortExit, PortLine

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_GETPIPE_SZ is Linux's")

REPORT_PIPE_SIZES = "import fcntl, sys; print(fcntl.fcntl(1, fcntl.F_GETPIPE_SZ), fcntl.fcntl(2, fcntl.F_GETPIPE_SZ))"


async def _lines_until_exit(port: Port) -> list[bytes]:
    lines = []
    while True:
        message = await otp.receive(PortLine, PortExit)
        if isinstance(message, PortExit):
            assert message.status == 0
            return lines
        lines.append(message.line)


async def test_the_programs_stdout_and_stderr_pipes_are_128_kib():
    port = await Port.open([sys.executable, "-c", REPORT_PIPE_SIZES], lines=True, stderr=Port.SEPARATE)
    assert await _lines_until_exit(port) == [b"131072 131072"]


async def test_a_merged_stderr_shares_the_widened_stdout_pipe():
    port = await Port.open([sys.executable, "-c", REPORT_PIPE_SIZES], lines=True)
    assert await _lines_until_exit(port) == [b"131072 131072"]  # fd 2 is the same pipe as fd 1


async def test_a_chunk_is_at_most_128_kib():
    port = await Port.open(["head", "-c", "1M", "/dev/zero"], active=None)
    sizes = []
    while True:
        message = await otp.receive(PortData, PortExit)
        assert message.port == port
        if isinstance(message, PortExit):
            break
        sizes.append(len(message.data))
    assert sum(sizes) == 1024 * 1024
    assert max(sizes) <= 128 * 1024
