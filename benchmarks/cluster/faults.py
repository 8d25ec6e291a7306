"""``cluster-faults``: three node OS processes and a real Redis through the faults of production (issue #17).

::

    python -m benchmarks cluster-faults              # full: about a minute and a half
    python -m benchmarks cluster-faults --quick      # shorter faults, fewer presences: about forty seconds
    python -m benchmarks cluster-faults --json

Each fault runs against a **fresh** cluster: a ``redis-server`` of its own
and three nodes, each ``python -m benchmarks.cluster.fault_node`` (its
docstring says what a node runs) with the library's **defaults**
(``otp.dist``: heartbeat 0.5 s, down after 5 s; the Tracker: down after
30 s) and N presences per node. While the fault lasts, every node
broadcasts 100 numbered messages a second on a PubSub of their own. The
faults, in the order they run (full / ``--quick``):

=============  ==========================================================  ============
fault          what is done                                                duration
=============  ==========================================================  ============
redis-restart  ``kill -9`` of Redis, a new redis-server on the same port   5 s / 2 s
               after the duration
pause          ``SIGSTOP`` of node n2, ``SIGCONT`` after the duration      8 s / 3 s
refusal        Redis refuses new clients (``CONFIG SET maxclients 1``)     1 s / 0.5 s
               and every subscriber is cut (``CLIENT KILL TYPE pubsub``);
               ``maxclients`` back after the duration
kill           ``SIGKILL`` of node n3                                      -
=============  ==========================================================  ============

What is measured, per fault (under ``faults`` in the result, by name), from
the fault's start until the cluster is proven back (every live node called
every other over ``otp.dist`` and a fence broadcast reached every live
node; for ``kill``, until every live node declared n3 down and dropped its
presences):

========================  ===================================================================
field                     meaning
========================  ===================================================================
node_downs                ``NodeDown`` events, all nodes together
false_node_downs          of them, about a node that was running and reachable: any, but
                          the paused node declared down by the others (it was silent
                          while their bus worked) and the killed one
noconnection_downs        monitors of a ``server`` that fired with ``noconnection``
false_downs               of them, of a server that was running and reachable (the same rule)
presences_left            presences that left a node's list, all nodes together
presence_flaps            of them, presences of a node that was running and reachable
lost                      numbered broadcasts sent by a live node and never received by
                          another live node
counted                   what the receivers counted missed (``statistics().missed``)
log_lines                 lines the nodes logged (WARNING and up), all nodes together
log_lines_per_s_per_conn  ``refusal``: lines logged while Redis refused, per second (at
                          least one) and per Redis connection of the nodes (six each)
rejected_connections      ``refusal``: connections Redis refused (``INFO stats``), and
attempts_per_cut_con...   that per subscriber connection it cut (each retries with backoff)
recover_s                 seconds from the fault's end until the cluster is proven back
detect_s                  ``kill``: seconds until the last live node declared n3 down
========================  ===================================================================

The targets (``passed`` when all are met, ``failed_targets`` otherwise):
no false node-down, no false ``Down``, no presence flap; ``counted ==
lost``; for ``redis-restart`` nothing lost and no node-down at all; for
``refusal`` at most one log line per second per connection; for ``kill``
every live node declares n3 down within ``down_after + heartbeat + 1``
seconds. The figure: how many faults met their targets.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Awaitable, Callable

import trio

from .._harness import Sample, Workload
from .fault_cluster import Cluster, NodeProcess, RedisProcess, matching, open_cluster, open_redis_admin

NAMES = ["n1", "n2", "n3"]
PAUSED, KILLED = "n2", "n3"
STREAM_EVERY = 0.01  # seconds between two broadcasts of a node while a fault lasts
STREAM_AFTER = 2.0  # seconds the stream goes on after the fault's end
CONNECTIONS = 6  # per node: otp.dist's adapter and two PubSubs' (app, numbers), a publisher and a subscriber each
HEARTBEAT, DOWN_AFTER = 0.5, 5.0  # otp.dist's defaults, for the kill's target
DURATIONS = {  # seconds: full, quick
    "redis-restart": (5.0, 2.0),
    "pause": (8.0, 3.0),
    "refusal": (1.0, 0.5),
    "kill": (0.0, 0.0),
}


async def _redis_restart(cluster: Cluster, redis: RedisProcess, duration: float) -> dict:
    redis.kill()
    await trio.sleep(duration)  # the fault itself
    await trio.to_thread.run_sync(redis.restart)
    return {}


async def _pause(cluster: Cluster, redis: RedisProcess, duration: float) -> dict:
    cluster[PAUSED].pause()
    await trio.sleep(duration)  # the fault itself
    cluster[PAUSED].resume()
    return {}


async def _refusal(cluster: Cluster, redis: RedisProcess, duration: float) -> dict:
    async with open_redis_admin(redis.host, redis.port) as admin:
        before = await _rejected(admin)
        await admin.command("CONFIG", "SET", "maxclients", "1")
        refused_at = time.monotonic()
        await admin.command("CLIENT", "KILL", "TYPE", "pubsub")
        await trio.sleep(duration)  # the fault itself
        await admin.command("CONFIG", "SET", "maxclients", "10000")
        accepted_at = time.monotonic()
        lines = sum(len(_lines_between(node, refused_at, accepted_at)) for node in cluster.nodes.values())
        rejected = await _rejected(admin) - before
        return {
            "refused_s": accepted_at - refused_at,
            "rejected_connections": rejected,
            "attempts_per_cut_connection": rejected / (CONNECTIONS // 2 * len(cluster.nodes)),  # the subscribers
            # "Per second": within the first second, for a refusal shorter than that.
            "log_lines_per_s_per_conn": lines / max(1.0, accepted_at - refused_at) / (CONNECTIONS * len(cluster.nodes)),
        }


async def _kill(cluster: Cluster, redis: RedisProcess, duration: float) -> dict:
    killed_at = time.monotonic()
    cluster[KILLED].kill()
    await cluster[KILLED].process.wait()
    detected = [await cluster[name].wait_for(matching("nodedown", node=KILLED), after=killed_at, timeout=60.0)
                for name in cluster.live()]
    for name in cluster.live():
        await cluster[name].wait_for(lambda e: e["event"] == "presences" and e["leaves"].get(KILLED), after=killed_at,
                                     timeout=60.0)
    return {"detect_s": max(said["t"] for said in detected) - killed_at}


async def _rejected(admin) -> int:
    info = (await admin.command("INFO", "stats")).decode()
    return int(next(line for line in info.splitlines() if line.startswith("rejected_connections:")).split(":")[1])


FAULTS: dict[str, Callable[[Cluster, RedisProcess, float], Awaitable[dict]]] = {
    "redis-restart": _redis_restart,
    "pause": _pause,
    "refusal": _refusal,
    "kill": _kill,
}


# ---------------------------------------------------------------- one fault, measured


async def measure_fault(name: str, duration: float, presences: int) -> dict:
    """A fresh Redis and cluster, the fault ``name``, and what it did (the fields of the module docstring)."""
    redis = RedisProcess()
    redis.start()
    try:
        async with open_cluster(redis.url, NAMES, presences=presences) as cluster:
            stream = round((duration + STREAM_AFTER) / STREAM_EVERY)
            started = time.monotonic()
            for node in cluster.nodes.values():
                await node.command(f"stream {stream} {STREAM_EVERY}")
            report = await FAULTS[name](cluster, redis, duration)
            ended = time.monotonic()
            if name != "kill":
                await cluster.call_round(timeout=60.0)
            fences = await cluster.fence(timeout=60.0)
            report["recover_s"] = time.monotonic() - ended
            for live in cluster.live():  # the streams end STREAM_AFTER after the fault (a paused one later)
                await cluster[live].wait_for(matching("streamed"), after=started, timeout=60.0)
            fences += await cluster.fence(timeout=60.0)  # every gap in the streams counted
            report.update(_verdicts(cluster, name, started))
            report.update(_losses(cluster, await cluster.stats(), started, fences))
            report.update(_log(cluster, started, report))
    finally:
        redis.stop()
    report["failed_targets"] = [target for target, met in _targets(name, report).items() if not met]
    report["passed"] = not report["failed_targets"]
    return {"fault_s": duration, **report}


def _is_true(fault: str, judge: str, about: str) -> bool:
    """A verdict of ``judge`` about ``about`` that the fault explains: the victim was really silent to it."""
    return (fault == "kill" and about == KILLED) or (fault == "pause" and about == PAUSED and judge != PAUSED)


def _verdicts(cluster: Cluster, fault: str, started: float) -> dict:
    node_downs = [(judge, said["node"]) for judge, node in cluster.nodes.items()
                  for said in node.said(matching("nodedown"), after=started)]
    downs = [(judge, said["node"]) for judge, node in cluster.nodes.items()
             for said in node.said(matching("down", reason="noconnection"), after=started)]
    left = [(judge, about, count) for judge, node in cluster.nodes.items()
            for said in node.said(matching("presences"), after=started) for about, count in said["leaves"].items()]
    return {
        "node_downs": len(node_downs),
        "false_node_downs": sum(not _is_true(fault, judge, about) for judge, about in node_downs),
        "noconnection_downs": len(downs),
        "false_downs": sum(not _is_true(fault, judge, about) for judge, about in downs),
        "presences_left": sum(count for _, _, count in left),
        "presence_flaps": sum(count for judge, about, count in left if not _is_true(fault, judge, about)),
    }


def _losses(cluster: Cluster, stats: dict[str, dict], started: float, fences: int) -> dict:
    """Broadcasts of the numbers PubSub (the stream and the fences) between live nodes: lost, and counted missed."""
    live = cluster.live()
    sent = {}  # by origin: its stream (a broadcast refused with RedisUnavailable has no number) and its fences
    for origin in live:
        [streamed] = cluster[origin].said(matching("streamed"), after=started)
        sent[origin] = streamed["count"] - streamed["refused"] + fences
    lost = counted = 0
    for name in live:
        got, missed = stats[name], stats[name]["missed"]
        for origin in live:
            if origin != name:
                lost += sent[origin] - got["received"].get(origin, 0) - got["fences"].get(origin, 0)
                counted += missed.get(origin, 0)
    return {"lost": lost, "counted": counted}


def _log(cluster: Cluster, started: float, report: dict) -> dict:
    return {"log_lines": sum(len(_lines_between(node, started, math.inf)) for node in cluster.nodes.values())}


def _lines_between(node: NodeProcess, start: float, end: float) -> list[str]:
    return [line for line in node.log if start <= _stamp(line) <= end]


def _stamp(line: str) -> float:
    """The ``time.monotonic()`` a node's log line starts with (a traceback's lines have none: they count as now)."""
    try:
        return float(line.split(" ", 1)[0])
    except ValueError:
        return math.inf


def _targets(fault: str, report: dict) -> dict[str, bool]:
    targets = {
        "no false node-down": report["false_node_downs"] == 0,
        "no false Down": report["false_downs"] == 0,
        "no presence flap": report["presence_flaps"] == 0,
        "every loss counted": report["counted"] == report["lost"],
    }
    if fault == "redis-restart":
        targets["no node-down"] = report["node_downs"] == 0
        targets["nothing lost"] = report["lost"] == 0
    if fault == "refusal":
        targets["at most a log line per second per connection"] = report["log_lines_per_s_per_conn"] <= 1.0
    if fault == "kill":
        targets["seen down in time"] = report["detect_s"] <= DOWN_AFTER + HEARTBEAT + 1.0
    return targets


# ---------------------------------------------------------------- the workload


def run_faults(size: int, quick: bool, presences: int) -> Sample:
    """Every fault against its own fresh cluster; the figure: how many met their targets."""
    faults = {}
    for name in list(FAULTS)[:size]:
        duration = DURATIONS[name][quick]
        faults[name] = report = trio.run(measure_fault, name, duration, presences)
        verdict = "passed" if report["passed"] else f"FAILED {report['failed_targets']}"
        print(f"cluster-faults {name}: {verdict}", file=sys.stderr, flush=True)
    failed = [name for name, report in faults.items() if not report["passed"]]
    return Sample(
        figure=float(len(faults) - len(failed)),
        extra={"presences_per_node": presences, "faults": faults, "failed_faults": failed},
    )


WORKLOAD = Workload(
    id="cluster-faults",
    name="XF cluster faults",
    aliases=("faults", "xfaults"),
    unit="faults passed",
    rate=True,
    ours=run_faults,
    raw=None,
    full_size=len(FAULTS),
    quick_size=len(FAULTS),
    full_options={"quick": False, "presences": 1000},
    quick_options={"quick": True, "presences": 100},
    size_label="{size} faults",
    max_runs=1,  # verdicts, not a speed to take a median of; each fault starts a cluster
)
