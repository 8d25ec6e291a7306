"""Web load benchmarks (issue #5): the demo chat server under many sockets, against bare trio + h11 + wsproto.

Seven workloads, run only when named (``python -m benchmarks web-conns
web-fanout web-pingpong web-churn web-deflate web-hold abuse``), one module each:

============  ===============  ==============================================  ==============
id            module           what is done                                    figure
============  ===============  ==============================================  ==============
web-conns     ``conns``        hold N joined sockets (C1)                      B/conn
web-fanout    ``fanout``       one shout to N subscribers of one topic (C2)    ms p50
web-pingpong  ``pingpong``     sequential push/reply round trips (C3)          round trips/s
web-churn     ``churn``        connect → join → leave → close cycles (C4)      cycles/s
web-deflate   ``deflate``      fan-out, memory and LiveView diffs with         B/frame
                               permessage-deflate against plain frames (C5)
web-hold      ``hold``         N joined sockets held, a fresh client's ping    ms ping p100
                               every 100 ms: pauses, memory per socket (C6)
abuse         ``abuse``        hostile clients, a fresh demo server per        attacks passed
                               attack (issue #12; ``--runs 1``)
============  ===============  ==============================================  ==============

Beside them: ``chat_server`` (ours: the demo chat tree, as ``make demo``
runs it), ``raw_server`` (the baseline: bare trio + h11 + wsproto),
``load`` (the load generator's common steps) and ``dashboard_cost`` (what
the dashboard costs the demo node: ``python -m
benchmarks.web.dashboard_cost``, a command of its own, not a workload).

Every workload but ``abuse`` (whose fields are per attack: see its
module) reports ``errors`` (0 when all went as it should) and
``server_log_lines`` (what the server process wrote to stderr: warnings,
crash reports; 0 when quiet). The soft RLIMIT_NOFILE of both processes is
raised to the hard limit; if that leaves fewer than N + 100 descriptors, N
is lowered to fit and the figures say how many sockets were held.

The two processes
-----------------
The server runs in a **separate OS process**, started fresh for every run
and killed after it (``_harness/servers.py``), so its figures (RSS above
all) are its own. The load generator is this process: trio tasks and
:class:`~benchmarks._harness.web_client.PhxClient` (wsproto), one task per
socket. Both share the machine's cores, so the client's own cost (wsproto
parsing every frame of 10,000 sockets) is in every figure, on both sides
alike; ratios are closer to 1 than the servers alone would be. Both
servers and the load generator quiet their garbage collectors the same
way (``_harness/servers.py`` says why).

How runs are taken: as every benchmark here, ``measure`` alternates ours
and raw, ``--runs`` times each (default 5), a fresh server process each
time, and keeps the medians; the other fields come from the median run of
ours. Setting up (starting the server, opening and joining the sockets of
C2 and C3) is never timed, except in C1 where the joins are the work (its
``connect_s`` field).
"""

from . import abuse, churn, conns, deflate, fanout, hold, pingpong

# In table order.
WORKLOADS = (conns.WORKLOAD, fanout.WORKLOAD, pingpong.WORKLOAD, churn.WORKLOAD, deflate.WORKLOAD, hold.WORKLOAD, abuse.WORKLOAD)

__all__ = ["WORKLOADS"]
