"""L2 ``live-render`` and L3 ``live-list``: a change-tracked re-render of a big view, against a full render.

L2: a view (:data:`~benchmarks.live.app.STREAM_VIEW`) with A assigns, each
in its own slot, and a stream of N rows (``socket.stream("rows", items)``),
as a LiveView holds it in its socket. Figure: µs per re-render after one
assign changed: ``view.render(assigns, changed)`` plus the diff state's
``diff(rendered)``, the median of R (``render_us``, ``diff_us``: the
medians of each half). Baseline: the full render, as on join:
``view.render(assigns, None)`` with the N pending inserts plus the diff from
a fresh diff state (median of F). Target: the re-render ≤ 1% of the full
render (``percent_of_full``, both measured in the run of ours).
``stream_mount_ms``: the time ``socket.stream`` took to insert the N rows
(setup, not in the figures).

L3: the same, with a plain keyed list instead of the stream
(:data:`~benchmarks.live.app.LIST_VIEW`: ``:for={row <- @rows}
:key={row["id"]}``). The re-render after an unrelated assign changed should
cost next to nothing ("an unchanged list of 10,000 rows costs nothing to
re-render"); target ≤ 1% of the full render as for L2.

No process, no socket: the pure render and diff of ``web.live``, as the
LiveView process calls them. Sizes: N = 10,000 rows, A = 50 assigns,
R = 2,000, F = 10 / ``--quick`` N = 200, R = 200, F = 5.
"""

from __future__ import annotations

from time import perf_counter, perf_counter_ns

import orjson

from web.live import DiffState, LiveSocket, LiveView

from .._harness import Sample, Workload
from .._harness.stats import median_us
from .app import assign_names, list_view, row, stream_view

TARGET_PERCENT = 1.0  # a re-render at most 1% of a full render


class _BigView(LiveView):
    def __init__(self, template) -> None:
        self.template = template

    def render(self, assigns, changed):
        return self.template.render(assigns, changed)


def _big_socket(rows: int, assigns: int, stream: bool) -> tuple[LiveSocket, float]:
    """A connected view's socket holding the rows; and the seconds ``socket.stream`` took (0 for a list)."""
    socket = LiveSocket(connected=True, view_id="phx-bench")
    socket.assign(**{name: f"value of {name}" for name in assign_names(assigns)})
    items = [row(i) for i in range(rows)]
    if not stream:
        socket.assign(rows=items)
        return socket, 0.0
    start = perf_counter()
    socket.stream("rows", items)
    return socket, perf_counter() - start


def _full_renders(view: _BigView, socket: LiveSocket, reps: int) -> tuple[list[float], list[float], int]:
    """Full renders as on join (the stream's inserts stay pending): render and diff seconds, diff bytes."""
    renders, diffs = [], []
    for _ in range(reps):
        start = perf_counter_ns()
        rendered = view.render(socket.assigns, None)
        middle = perf_counter_ns()
        diff = DiffState().diff(rendered)
        end = perf_counter_ns()
        renders.append((middle - start) / 1e9)
        diffs.append((end - middle) / 1e9)
    return renders, diffs, len(orjson.dumps(diff))


def _re_renders(view: _BigView, socket: LiveSocket, name: str, reps: int) -> tuple[list[float], list[float], int]:
    """After a first full render, ``name`` changes each time: render and diff seconds, the last diff's bytes."""
    state = DiffState()
    state.diff(view.render(socket.assigns, None))
    socket.after_render()  # the stream's rows went out: nothing pending
    renders, diffs = [], []
    for number in range(reps):
        socket.assign(**{name: f"changed {number}"})
        changed = set(socket.changed)
        start = perf_counter_ns()
        rendered = view.render(socket.assigns, changed)
        middle = perf_counter_ns()
        diff = state.diff(rendered)
        end = perf_counter_ns()
        socket.after_render()
        renders.append((middle - start) / 1e9)
        diffs.append((end - middle) / 1e9)
    if diff != {str(int(name[1:])): f"changed {reps - 1}"}:  # a{i} is slot i: only it was sent
        raise AssertionError(f"the re-render after @{name} changed sent {diff!r}")
    return renders, diffs, len(orjson.dumps(diff))


def _template(assigns: int, stream: bool):
    return stream_view(assigns) if stream else list_view(assigns)


def _ours_render(rows: int, assigns: int, reps: int, full_reps: int, stream: bool) -> Sample:
    view = _BigView(_template(assigns, stream))
    socket, mount_s = _big_socket(rows, assigns, stream)
    # The full renders first: they need the stream's inserts pending, the first re-render clears them.
    full_render, full_diff, full_bytes = _full_renders(view, socket, full_reps)
    render, diff, diff_bytes = _re_renders(view, socket, f"a{assigns // 2}", reps)
    figure = median_us([r + d for r, d in zip(render, diff)])
    full = median_us([r + d for r, d in zip(full_render, full_diff)])
    percent = 100 * figure / full
    extra = {
        "rows": rows,
        "assigns": assigns,
        "render_us": median_us(render),
        "diff_us": median_us(diff),
        "diff_bytes": diff_bytes,
        "full_ms": full / 1e3,
        "full_render_ms": median_us(full_render) / 1e3,
        "full_diff_ms": median_us(full_diff) / 1e3,
        "full_diff_bytes": full_bytes,
        "percent_of_full": percent,
        "target_percent": TARGET_PERCENT,
        "target_met": percent <= TARGET_PERCENT,
    }
    if stream:
        extra["stream_mount_ms"] = mount_s * 1e3
    extra["baseline_is"] = "full render + diff (as on join)"
    return Sample(figure=figure, extra=extra)


def _raw_render(rows: int, assigns: int, full_reps: int, stream: bool) -> Sample:
    socket, _ = _big_socket(rows, assigns, stream)
    render, diff, _ = _full_renders(_BigView(_template(assigns, stream)), socket, full_reps)
    return Sample(figure=median_us([r + d for r, d in zip(render, diff)]))


def ours_stream_render(rows: int, assigns: int, reps: int, full_reps: int) -> Sample:
    return _ours_render(rows, assigns, reps, full_reps, stream=True)


def raw_stream_render(rows: int, assigns: int, reps: int, full_reps: int) -> Sample:
    return _raw_render(rows, assigns, full_reps, stream=True)


def ours_list_render(rows: int, assigns: int, reps: int, full_reps: int) -> Sample:
    return _ours_render(rows, assigns, reps, full_reps, stream=False)


def raw_list_render(rows: int, assigns: int, reps: int, full_reps: int) -> Sample:
    return _raw_render(rows, assigns, full_reps, stream=False)


_SIZES = {
    "full_size": 10_000,
    "quick_size": 200,
    "full_options": {"assigns": 50, "reps": 2_000, "full_reps": 10},
    "quick_options": {"assigns": 50, "reps": 200, "full_reps": 5},
    "size_label": "{size:,}r/{assigns}a",
}

STREAM_WORKLOAD = Workload(
    id="live-render",
    name="L2 live render",
    aliases=("l2", "render"),
    unit="us/re-render",
    rate=False,
    ours=ours_stream_render,
    raw=raw_stream_render,
    **_SIZES,
)

LIST_WORKLOAD = Workload(
    id="live-list",
    name="L3 live list",
    aliases=("l3", "list"),
    unit="us/re-render",
    rate=False,
    ours=ours_list_render,
    raw=raw_list_render,
    **_SIZES,
)
