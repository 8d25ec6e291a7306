"""``micro-diff``: the LiveView diff engine alone, against building the same page's HTML.

No process, no socket, no template in the timed part: N keyed rows are
rendered beforehand (without change tracking, so every slot carries its
value and the engine has to compare them all), one row's text different in
each render. Ours: the view's diff state takes each render in turn and
answers the smallest diff (the one entry, under ``"k"``). Figure:
µs per diff. Baseline: ``Rendered.to_html()`` of the same renders, what
re-sending the page would cost to build. Fields: ``diff_bytes`` (the JSON
of the last diff), ``full_diff_us`` (the first diff from an empty state, as
on join). Sizes: N = 1,000 rows, R = 200 renders / ``--quick`` N = 100,
R = 20.

Where L2 and L3 (``benchmarks/live/render.py``) time render and diff of a
view whose change tracking already says what changed, this is the engine's
worst case: it is told nothing and finds the one row itself.
"""

from __future__ import annotations

from time import perf_counter

import orjson

from web.live import DiffState
from web.live import compile_template

from .._harness import Sample, Workload

TABLE = compile_template(
    """<table id="rows"><tr :for={row <- @rows} :key={row["id"]} id={row["dom_id"]}>
<td>{row["name"]}</td><td>{row["n"]}</td></tr></table><p>{@title}</p>""",
    filename="benchmarks/micro/diff.py:TABLE",
)


def _rows(count: int, version: int) -> list[dict]:
    """``count`` rows; the middle one's text says ``version``."""
    rows = [{"id": i, "dom_id": f"row-{i}", "name": f"row number {i}", "n": str(i * 7)} for i in range(count)]
    rows[count // 2]["n"] = f"version {version}"
    return rows


def _renders(rows: int, reps: int) -> list:
    """``reps + 1`` full renders (no change tracking) of ``rows`` rows, each differing from the last in one row."""
    return [TABLE.render({"rows": _rows(rows, version), "title": "micro"}, None) for version in range(reps + 1)]


def ours_diff(rows: int, reps: int) -> Sample:
    renders = _renders(rows, reps)
    state = DiffState()
    start = perf_counter()
    state.diff(renders[0])
    middle = perf_counter()
    for rendered in renders[1:]:
        diff = state.diff(rendered)
    end = perf_counter()
    return Sample(
        figure=(end - middle) / reps * 1e6,
        extra={"rows": rows, "diff_bytes": len(orjson.dumps(diff)), "full_diff_us": (middle - start) * 1e6},
    )


def raw_html(rows: int, reps: int) -> Sample:
    renders = _renders(rows, reps)[1:]
    start = perf_counter()
    for rendered in renders:
        rendered.to_html()
    return Sample(figure=(perf_counter() - start) / reps * 1e6)


WORKLOAD = Workload(
    id="micro-diff",
    name="M diff",
    aliases=("diff-engine", "m-diff"),
    unit="us/diff",
    rate=False,
    ours=ours_diff,
    raw=raw_html,
    full_size=1_000,
    quick_size=100,
    full_options={"reps": 200},
    quick_options={"reps": 20},
    size_label="{size:,}r x{reps}",
)
