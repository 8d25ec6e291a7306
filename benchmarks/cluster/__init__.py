"""Cluster benchmarks (issue #4): broadcasts and presences between otp nodes through Redis.

Three workloads, run only when named (``python -m benchmarks xbroadcast
xlatency presence``), one module each:

==========  ===============  ===============================================  ========
id          module           what is done                                     figure
==========  ===============  ===============================================  ========
xbroadcast  ``broadcast``    node A broadcasts N messages, node B counts      msgs/s
                             them; baseline raw Redis pub/sub
xlatency    ``latency``      one message in flight A → B, N times; baseline   ms p50
                             raw Redis pub/sub
presence    ``presence``     A tracks N presences; until both other nodes     ms
                             list them all; no baseline
==========  ===============  ===============================================  ========

Beside them: ``nodes`` (otp nodes on Redis adapters in one OS process, and
how to read figures taken that way), ``raw_redis`` (the baselines' own
Redis client) and ``redis_server`` (a fresh ``redis-server`` per run, or
the one ``REDIS_PORT`` names).
"""

from . import broadcast, latency, presence

# In table order.
WORKLOADS = (broadcast.WORKLOAD, latency.WORKLOAD, presence.WORKLOAD)

__all__ = ["WORKLOADS"]
