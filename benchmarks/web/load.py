"""The load generator's common steps: open and join many sockets, run against a fresh server.

Every web workload runs its ``main(server, *args)`` through :func:`run`: a
fresh server process (:func:`server`: ``"ours"`` or ``"raw"``), the load
generator's collector quieted as the servers' is, a timeout on the whole
run, and the server's stderr counted into ``server_log_lines``. Every run
also reports what the server's whole process tree (ours: the parent and
its workers, as the demo ships) cost: ``server_workers`` (the processes
serving), ``server_rss`` (bytes, at the end of the run) and
``server_cpu_percent`` (CPU time over the run's wall time; 200 is two
cores busy).
"""

from __future__ import annotations

import json
import shutil
import time

import trio

from .._harness import Sample
from .._harness.servers import HOST, ROOT, Errors, quiet_gc_while, server_process, with_timeout
from .._harness.tree import tree_cpu_seconds, tree_pids, tree_rss
from .._harness.web_client import PhxClient, ServerClosed

__all__ = [
    "SERVERS", "server", "run", "tree_usage", "open_joined", "close_all", "drain", "official_client", "run_official",
    "CONNECT_CONCURRENCY", "JS",
]

JS = ROOT / "tests" / "js"  # the official client's load generators, and its node_modules (npm ci there)
CONNECT_CONCURRENCY = 64  # connections being opened at once (the listen backlog is bounded)

# By module name, never imported here: `python -m` runs a module that its
# package's imports have not loaded yet (runpy warns otherwise).
SERVERS = {"ours": "benchmarks.web.chat_server", "raw": "benchmarks.web.raw_server"}


def server(kind: str):
    """Start a fresh ``"ours"`` (the demo chat tree) or ``"raw"`` (bare trio) server; yield it once it listens."""
    return server_process([SERVERS[kind]], f"the {kind} server")


def run(kind: str, main, *args) -> Sample:
    """``main(server, *args)`` against a fresh ``kind`` server; its sample plus ``server_log_lines`` and the tree's cost."""
    with quiet_gc_while(), server(kind) as srv:
        cpu_before, started = tree_cpu_seconds(srv.pid), time.monotonic()
        sample = trio.run(with_timeout, main, srv, *args)
        cpu, elapsed = tree_cpu_seconds(srv.pid) - cpu_before, time.monotonic() - started
        extra = dict(sample.extra)
        extra["server_log_lines"] = srv.log_lines()
        extra.update(tree_usage(srv.pid, cpu, elapsed))
        return Sample(figure=sample.figure, rss_per_process=sample.rss_per_process, extra=extra)


def tree_usage(pid: int, cpu_seconds: float, elapsed: float) -> dict:
    """``server_workers``, ``server_rss`` and ``server_cpu_percent`` of the server process ``pid`` and its tree."""
    pids = tree_pids(pid)
    return {
        "server_workers": max(1, len(pids) - 1),  # a parent and its workers, or one process
        "server_rss": tree_rss(pid),
        "server_cpu_percent": round(100 * cpu_seconds / max(elapsed, 1e-9), 1),
    }


def official_client() -> str | None:
    """Node's path if the official ``phoenix`` client (tests/js, ``npm ci``) can be the load generator here, else None."""
    node = shutil.which("node")
    installed = all((JS / "node_modules" / package / "package.json").is_file() for package in ("phoenix", "ws"))
    return node if node is not None and installed else None


async def run_official(node: str, script: str, *args: object) -> dict:
    """Run the load generator ``tests/js/<script>`` with ``args``; the JSON line it prints last."""
    done = await trio.run_process(
        [node, str(JS / script), *map(str, args)], cwd=JS, capture_stdout=True, capture_stderr=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


async def open_joined(
    port: int, n: int, topic_of, errors: Errors, user_prefix: str = "u", *, deflate: bool = False
) -> list[tuple[PhxClient, str, str]]:
    """Open ``n`` sockets and join each to ``topic_of(i)``, a bounded number at a time; return (client, join_ref, topic).

    ``deflate``: the clients offer permessage-deflate, as browsers do.
    """
    clients: list = [None] * n
    limit = trio.Semaphore(CONNECT_CONCURRENCY)

    async def one(i: int) -> None:
        async with limit:
            client = await PhxClient.connect(HOST, port, f"{user_prefix}{i}", deflate=deflate)
            topic = topic_of(i)
            join_ref, answer = await client.join(topic)
            if answer.get("status") != "ok":
                errors.add(answer)
            clients[i] = (client, join_ref, topic)

    async with trio.open_nursery() as nursery:
        for i in range(n):
            nursery.start_soon(one, i)
    return clients


async def close_all(clients) -> None:
    """Drop every socket :func:`open_joined` opened (no close handshake: the run is over)."""
    for entry in clients:
        if entry is not None:
            await entry[0].aclose()


async def drain(client: PhxClient) -> None:
    """Read and drop whatever the server sends ``client``, until it closes."""
    try:
        while True:
            await client.receive()
    except ServerClosed:
        pass

