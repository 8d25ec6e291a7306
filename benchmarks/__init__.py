"""Kernel benchmarks: otp processes against the same work in bare trio.

The workloads are W1–W5 of ``../shared/benchmarks/WORKLOADS.md`` (the same
work every runtime in the comparison runs), one module each:

======  ==============  ==================================================  ==============
id      module          what is done                                        figure
======  ==============  ==================================================  ==============
w1      w1_spawn        spawn 100,000 processes that each wait for one      µs per
                        message, then stop them all; RSS read while all     spawn+stop;
                        are alive                                           bytes/process
w2      w2_pingpong     two processes bounce a message 100,000 times        µs/round trip
w3      w3_call         100,000 sequential calls to a counter server        µs/call
w4      w4_cast         1,000,000 casts to a counter server, then one call  casts/s
w5      w5_fanout       a publisher sends to 10,000 subscribers, each acks  ms/round
                        to a collector; 20 rounds
======  ==============  ==================================================  ==============

Each module holds two implementations of its workload: *ours* (otp
processes, ``send``/``receive``, run by ``otp.run`` in a fresh node) and the
*raw trio* baseline (bare trio tasks, each with an unbounded
``trio.open_memory_channel`` as its mailbox, run by ``trio.run``). The
baseline is what you would write without an actor kernel, so the comparison
prices the kernel itself.

How to run (from the repository root)::

    python -m benchmarks                 # all five, full sizes (minutes)
    python -m benchmarks w2 call         # some: w1..w5, W2, or a name
    python -m benchmarks --quick         # small sizes, a few seconds
    python -m benchmarks --json          # one JSON object per line
    python -m benchmarks --runs 9        # runs per side (default 5)

How it measures: for each workload, ours and raw run alternately (ours,
raw, ours, raw...), each run in a fresh ``trio.run``, with a garbage
collection between runs; only the work is timed (``time.perf_counter``), not
starting the node or setting up. The figure is the median of the runs.

How to read a ratio: it is ours ÷ raw for times (µs, ms) and raw ÷ ours for
rates (per second), so it always reads the same way: **below 1.0, ours did
better; 1.25 means ours costs 25% more than bare trio.** Compare ratios
across machines, not raw figures.
"""

from . import w1_spawn, w2_pingpong, w3_call, w4_cast, w5_fanout

# In table order.
WORKLOADS = (
    w1_spawn.WORKLOAD,
    w2_pingpong.WORKLOAD,
    w3_call.WORKLOAD,
    w4_cast.WORKLOAD,
    w5_fanout.WORKLOAD,
)

__all__ = ["WORKLOADS"]
