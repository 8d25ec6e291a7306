"""Benchmarks: each workload of this project against a baseline measured in the same run.

Grouped by what they measure, the shared harness apart::

    benchmarks/
      __main__.py   python -m benchmarks [ids...]: run, print a table or JSON lines
      _harness/     what every workload shares: measuring, percentiles, server
                    processes, the WebSocket and HTTP client, the W3/W4 counter
      kernel/       W1–W8 of docs/benchmarks.md (processes, calls, casts, fan-out,
                    restarts, chaos, intensity); reg, reg-dispatch; the chaos CLI
      web/          C1–C4: the demo chat server under many sockets; the bare
                    baseline server; what the dashboard costs
      live/         L1–L4: LiveView event round trips, re-renders, diff sizes
      cluster/      XB broadcast, XB latency, Presence convergence through Redis
      micro/        the pure cores alone: diff engine, frame codec, presence state

Every group's ``__init__`` holds its table of workloads and ``WORKLOADS``;
each workload module holds both sides of one workload (or two close
twins) and its sizes. Workload modules import from ``_harness``, never from
one another, and use the public API of ``otp`` and ``web`` only
(``tests/test_benchmarks.py`` checks it).

How to run (from the repository root)::

    python -m benchmarks                 # W1–W8, full sizes (minutes)
    python -m benchmarks w2 call         # some: w1..w8, W2, or a name
    python -m benchmarks web-fanout l2   # any group's workloads, by id or alias
    python -m benchmarks micro           # a whole group: kernel, web, live, cluster, micro
    python -m benchmarks --quick         # small sizes, a few seconds
    python -m benchmarks --json          # one JSON object per line
    python -m benchmarks --runs 9        # runs per side (default 5)
    python -m benchmarks w7 --seed 42    # W7 with another seed (default 1)

    python -m benchmarks chaos --seconds 10 --kill-every 1 --seed 7 --plot chaos.png
                                         # one W7 run, watched live (kernel/chaos_cli.py)
    python -m benchmarks.web.dashboard_cost --seconds 10
                                         # what the dashboard costs the demo node

How it measures: for each workload, ours and the baseline run alternately
(ours, raw, ours, raw...), each run in a fresh ``trio.run`` (or a fresh
server process), with a garbage collection between runs; only the work is
timed (``time.perf_counter``), not starting the node or setting up. The
figure is the median of the runs.

How to read a ratio: it is ours ÷ baseline for times and baseline ÷ ours
for rates, so it always reads the same way: **below 1.0, ours did better;
1.25 means ours costs 25% more than the baseline.** Compare ratios across
machines, not raw figures.
"""

from .kernel import WORKLOADS

__all__ = ["WORKLOADS"]
