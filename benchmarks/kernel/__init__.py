"""Kernel benchmarks: otp processes against the same work in bare trio.

The workloads are W1–W8 of ``docs/benchmarks.md`` (the same
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
w6      w6_restart      kill a supervised named worker 10,000 times, each   µs per
                        time waiting until it is back                       kill+restart
w7      w7_chaos        calls to 1,000 supervised workers for 10 virtual s  calls/s; failed
                        while one is killed every ms; deterministic by      %, restarts,
                        seed                                                tree intact
w8      w8_intensity    a worker crashing in init until its supervisor      ms to give up;
                        (3 restarts in 5 s) gives up                        the reason
======  ==============  ==================================================  ==============

Each module holds two implementations of its workload: *ours* (otp
processes, ``send``/``receive``, run by ``otp.run`` in a fresh node) and the
*raw trio* baseline (bare trio tasks, each with an unbounded
``trio.open_memory_channel`` as its mailbox, run by ``trio.run``). The
baseline is what you would write without an actor kernel, so the comparison
prices the kernel itself. W7 and W8 have no baseline (what they measure is
the supervision tree's behaviour); their baseline and ratio are empty
(``-``, JSON null), and they report fields of their own (W7: failed_percent,
restarts, tree_intact, lost_acknowledged, seed, victims_hash...; W8:
gave_up, reason, init_attempts, reports).

Beside them: ``registry_lookup`` (``reg``, ``reg-dispatch``: Registry reads
at 100,000 entries against a plain dict, run only when named),
``upgrade`` (``upgrade``: ``otp.upgrade`` of 1,000 live servers under call
load, the pause per server and the messages lost; run only when named),
``port_throughput`` (``port``: a program's output delivered as messages by
``otp.Port``, against reading its pipe in trio; run only when named) and
``chaos_cli`` (``python -m benchmarks chaos``: one W7 run, watched live).
"""

from . import (
    port_throughput,
    registry_lookup,
    upgrade,
    w1_spawn,
    w2_pingpong,
    w3_call,
    w4_cast,
    w5_fanout,
    w6_restart,
    w7_chaos,
    w8_intensity,
)

# In table order: what `python -m benchmarks` runs when no workload is named.
WORKLOADS = (
    w1_spawn.WORKLOAD,
    w2_pingpong.WORKLOAD,
    w3_call.WORKLOAD,
    w4_cast.WORKLOAD,
    w5_fanout.WORKLOAD,
    w6_restart.WORKLOAD,
    w7_chaos.WORKLOAD,
    w8_intensity.WORKLOAD,
)

# Run only when named.
REGISTRY_WORKLOADS = registry_lookup.WORKLOADS
UPGRADE_WORKLOADS = (upgrade.WORKLOAD,)
PORT_WORKLOADS = port_throughput.WORKLOADS

__all__ = ["WORKLOADS", "REGISTRY_WORKLOADS", "UPGRADE_WORKLOADS", "PORT_WORKLOADS"]
