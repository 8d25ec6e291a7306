"""Cluster benchmarks (issues #4, #17): broadcasts and presences between otp nodes through Redis, and faults.

Four workloads, run only when named (``python -m benchmarks xbroadcast
xlatency presence cluster-faults``), one module each:

==========  ===============  ===============================================  ========
id          module           what is done                                     figure
==========  ===============  ===============================================  ========
xbroadcast  ``broadcast``    node A broadcasts N messages, node B counts      msgs/s
                             them; baseline raw Redis pub/sub
xlatency    ``latency``      one message in flight A → B, N times; baseline   ms p50
                             raw Redis pub/sub
presence    ``presence``     A tracks N presences; until both other nodes     ms
                             list them all; no baseline
cluster-    ``faults``       three node OS processes through a Redis          faults
faults                       restart, a pause, Redis refusing clients and a   passed
                             kill: false alarms, losses, log lines, recovery
==========  ===============  ===============================================  ========

Beside them: ``nodes`` (otp nodes on Redis adapters in one OS process, and
how to read figures taken that way), ``raw_redis`` (the baselines' own
Redis client), ``redis_server`` (a fresh ``redis-server`` per run, or
the one ``REDIS_PORT`` names), and for ``cluster-faults`` ``fault_node``
(one node as its own OS process, also what ``tests/multinode`` runs) and
``fault_cluster`` (starting, watching and faulting those processes and
their Redis).
"""

from . import broadcast, faults, latency, presence

# In table order.
WORKLOADS = (broadcast.WORKLOAD, latency.WORKLOAD, presence.WORKLOAD, faults.WORKLOAD)

__all__ = ["WORKLOADS"]
