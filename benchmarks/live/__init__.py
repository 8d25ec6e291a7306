"""LiveView benchmarks: event round trips, change-tracked renders and diff sizes, each against its baseline.

Four workloads, run only when named (``python -m benchmarks live-events
live-render live-list live-diff``). docs/benchmarks.md fixes the kernel workloads
W1–W8 only; these are this project's own, with the targets of the LiveView
issue. Each reports its target and ``target_met``, measured in the run
itself; a missed target is reported, never asserted.

===========  ===============  =================================================  ============  ========
id           module           what is done                                       figure        target
===========  ===============  =================================================  ============  ========
live-events  ``events``       click → diff round trips on a real WebSocket (L1)  events/s      ≤ 2× echo
live-render  ``render``       re-render a 10,000-row stream view (L2)            µs/re-render  ≤ 1% full
live-list    ``render``       re-render an unchanged 10,000-row list (L3)        µs/re-render  ≤ 1% full
live-diff    ``diff_sizes``   bytes of a click's, an insert's, a component's     B/diff        ≤ 30 B
                              diff (L4)
===========  ===============  =================================================  ============  ========

Beside them: ``app`` (the views and router all four drive) and ``server``
(L1's server process). As everywhere in ``benchmarks``, the baseline column
is headed "raw trio"; what it holds here is said in each module and in each
row's ``baseline_is``. The pure diff engine alone is measured in
``benchmarks/micro/diff.py``.
"""

from . import diff_sizes, events, render

# In table order.
WORKLOADS = (events.WORKLOAD, render.STREAM_WORKLOAD, render.LIST_WORKLOAD, diff_sizes.WORKLOAD)

__all__ = ["WORKLOADS"]
