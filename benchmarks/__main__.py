"""``python -m benchmarks [ids...] [--quick] [--json] [--runs N] [--seed S]``: run and print.

Prints each workload's row as soon as it is measured: an aligned table, or
with ``--json`` one JSON object per line (the fields of ``Result``, then the
workload's own). In the table, a workload's own fields go on a line below
its row, and a workload without a baseline shows ``-`` for it and the ratio.

``python -m benchmarks chaos ...`` is a command of its own: one W7 run with
its options, a live progress line, a summary table and an optional plot
(``kernel/chaos_cli.py``). As a workload name elsewhere (``python -m benchmarks w6
chaos``), ``chaos`` means W7 as usual.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import textwrap

import trio

from . import cluster, kernel, live, micro, web
from ._harness import BASELINE, Result, measure, select

# The groups, by the name that runs all of a group's workloads. Only
# kernel's W1-W8 run when no workload is named; the others start server
# processes or redis-servers, or are not kernel workloads (docs/benchmarks.md).
GROUPS = {
    "kernel": kernel.WORKLOADS + kernel.REGISTRY_WORKLOADS + kernel.UPGRADE_WORKLOADS + kernel.PORT_WORKLOADS,
    "cluster": cluster.WORKLOADS,
    "web": web.WORKLOADS,
    "live": live.WORKLOADS,
    "micro": micro.WORKLOADS,
}
ALL = tuple(workload for group in GROUPS.values() for workload in group)

# (header, width) of each table column, in order.
COLUMNS = (
    ("workload", 13),
    ("size", 12),
    ("ours", 11),
    (BASELINE, 11),
    ("unit", 14),
    ("ratio", 6),
    ("RSS/proc ours", 14),
    ("RSS/proc raw", 13),
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["chaos"]:
        from .kernel.chaos_cli import main as chaos

        return chaos(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        chosen = select(ALL, _expand_groups(args.ids)) if args.ids else list(kernel.WORKLOADS)
    except ValueError as e:
        parser.error(str(e))
    if not args.json:
        _print_header(args)
    for workload in chosen:
        result = measure(workload, quick=args.quick, runs=args.runs, options={"seed": args.seed})
        if args.json:
            print(json.dumps(result.to_json()), flush=True)
        else:
            _print_row(result, workload)
    return 0


def _parser() -> argparse.ArgumentParser:
    names = ", ".join(f"{w.id} ({w.name})" for w in ALL)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Kernel workloads W1-W8: otp processes against raw trio. "
        "Ratio = ours/raw for times, raw/ours for rates: below 1.0, ours is better. "
        "`python -m benchmarks chaos --help`: the W7 chaos run on its own.",
    )
    parser.add_argument("ids", nargs="*", help=f"workloads to run (default: w1-w8; reg*, xbroadcast, xlatency, presence, web-*, live-*, micro-* only when named; "
        f"a group name runs the whole group: {', '.join(GROUPS)}): {names}")
    parser.add_argument("--quick", action="store_true", help="small sizes: all of it in a few seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side; the median is kept (default 5)")
    parser.add_argument("--seed", type=int, default=None, help="W7's seed (default 1); every run of W7 replays it")
    return parser


def _expand_groups(names: list[str]) -> list[str]:
    """The workload ids of each group named (``micro``...), other names as they are."""
    expanded = []
    for name in names:
        group = GROUPS.get(name.strip().lower())
        if group is None:
            expanded.append(name)
        else:
            expanded.extend(w.id for w in group)
    return expanded


def _print_header(args: argparse.Namespace) -> None:
    sizes = "quick sizes" if args.quick else "full sizes"
    print(
        f"trio-otp kernel benchmarks: {sizes}, median of {args.runs} runs each, "
        f"python {platform.python_version()}, trio {trio.__version__}"
    )
    print("ratio = ours/raw for times, raw/ours for rates: below 1.0, ours is better\n")
    print(_line([header for header, _ in COLUMNS]))
    print(_line(["-" * width for _, width in COLUMNS]), flush=True)


def _print_row(result: Result, workload) -> None:
    _, options = workload.sizes(result.quick)
    cells = [
        result.workload,
        workload.size_label.format(size=result.size, **options),
        _number(result.figure),
        _number(result.baseline_figure),
        result.unit,
        "-" if result.ratio is None else f"{result.ratio:.2f}",
        _bytes(result.rss_per_process),
        _bytes(result.baseline_rss_per_process),
    ]
    print(_line(cells), flush=True)
    if result.extra:
        fields = ", ".join(f"{key.replace('_', ' ')} {_value(key, value)}" for key, value in result.extra.items())
        print(textwrap.fill(fields, width=100, initial_indent="    ", subsequent_indent="    "), flush=True)


def _value(key: str, value: object) -> str:
    if key == "seed":
        return str(value)  # as typed to replay it
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "-"}[value]
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} {_value(k, v)}" for k, v in value.items()) + "}"
    return str(value)


def _line(cells: list[str]) -> str:
    # Text left-aligned, numbers right-aligned, so that digits line up.
    parts = []
    for index, (cell, (_, width)) in enumerate(zip(cells, COLUMNS)):
        parts.append(cell.ljust(width) if index in (0, 4) else cell.rjust(width))
    return "  ".join(parts).rstrip()


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _bytes(value: int | None) -> str:
    return "-" if value is None else f"{value:,} B"


if __name__ == "__main__":
    sys.exit(main())
