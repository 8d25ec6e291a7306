"""The chaos page: run ``otp.chaos`` against one of this node's supervision trees and watch it live.

The run is in-process, against the live tree: the page starts a *runner*
process (linked to the page) that attaches ``otp.chaos`` to the tree
chosen in the form and sends the page its counters once a second, then the
report. The page charts kills and restarts per second, shows the seed and
the ``ChaosConfig`` that replays the run, and a stop button ends it early;
leaving the page ends it too.

What a run from here may not do, whoever asks:

* kill what serves the page (the page's own processes, the endpoint and
  everything under it, the supervisors above them) or the dashboard's
  sampler: they are left out of the targets (``web/dashboard/_protected.py``
  says which processes those are);
* make a supervisor give up: runs use ``spare_restarts=1``, so a kill that
  would leave the victim's supervisor less than one restart to spare in its
  intensity window is skipped (counted as spared);
* run longer than a minute or faster than 100 kills a second, or two at once
  from one page.

Every field of the form is checked on the server (a forged event may
carry anything) and a bad one gets a sentence on the page, never a crash.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

import attrs
import trio

import otp
from otp import introspection
from otp.chaos import Chaos, ChaosConfig, ChaosReport, ChaosStatistics, Target, Targets, attach

from ._pages import DashboardPage, page_template
from ._protected import _Tree, serving

__all__ = ["ChaosPage", "form_config"]

T = TypeVar("T")

LIMITS = {"seconds": (0.1, 60.0), "rate": (0.1, 100.0)}
DEFAULTS = {"tree": "", "name": "", "kind": "worker", "reason": "kill", "seconds": "5", "rate": "2", "seed": ""}
KINDS = {"any": None, "worker": "worker", "supervisor": "supervisor", "genserver": "genserver"}
REASONS = {"kill": otp.KILL, "shutdown": otp.SHUTDOWN, "chaos": "chaos"}
_IN_PYTHON = {"kill": "otp.KILL", "shutdown": "otp.SHUTDOWN", "chaos": "'chaos'"}  # the reasons, for the replay line
PROGRESS_EVERY = 1.0  # seconds between the runner's progress messages
SHOWN = 40  # characters of a bad field quoted back


# ---------------------------------------------------------------- messages from the runner


@attrs.frozen
class ChaosStarted:
    run: int
    targets: int


@attrs.frozen
class ChaosProgress:
    run: int
    statistics: ChaosStatistics


@attrs.frozen
class ChaosDone:
    run: int
    report: ChaosReport


@attrs.frozen
class ChaosFailed:
    run: int
    error: str


class _StopRun:
    """The page's word to its runner: end the run now (the stop button, or the page going)."""

    __slots__ = ()


STOP = _StopRun()


# ---------------------------------------------------------------- the page

CHAOS = page_template(
    """<h1>Chaos</h1>
<p>Kill children of a supervision tree of this node at a rate, and watch it restart them: <code>otp.chaos</code>,
in this node, against the live tree. What serves this page is never a target, and no supervisor is pushed past
its restart intensity (<code>spare_restarts=1</code>).</p>
<form id="chaos-form" phx-submit="start">
  <label>tree <select name="tree">
    <option :for={(value, label) in @trees} :key={value} value={value} selected={value == @form["tree"]}>{label}</option>
  </select></label>
  <label>names <input name="name" value={@form["name"]} size="10" placeholder="any (glob)"></label>
  <label>kind <select name="kind">
    <option :for={kind in @kinds} :key={kind} value={kind} selected={kind == @form["kind"]}>{kind}</option>
  </select></label>
  <label>reason <select name="reason">
    <option :for={reason in @reasons} :key={reason} value={reason} selected={reason == @form["reason"]}>{reason}</option>
  </select></label>
  <label>kills/s <input name="rate" value={@form["rate"]} size="4"></label>
  <label>seconds <input name="seconds" value={@form["seconds"]} size="4"></label>
  <label>seed <input name="seed" value={@form["seed"]} size="8" placeholder="random"></label>
  <button id="chaos-start" type="submit" disabled={@running}>start</button>
</form>
<button :if={@running} id="chaos-stop" phx-click="stop">stop</button>
<p :if={@error} id="chaos-error">{@error}</p>
<p :if={@seed is not None} id="chaos-seed">seed <b>{@seed}</b> · replay: <code id="chaos-replay">{@replay}</code></p>
<p id="chaos-status">{@status}</p>
<div class="charts">
  <.chart id="chart-chaos-kills" title="kills" unit="/s" values={@kills} />
  <.chart id="chart-chaos-restarts" title="restarts" unit="/s" values={@restarts} />
</div>
<table :if={@result} id="chaos-result"><tbody>
  <tr :for={(name, value) in @result} :key={name}><th>{name}</th><td class={name}>{value}</td></tr>
</tbody></table>""",
    "ChaosPage",
)


class ChaosPage(DashboardPage):
    title = "Chaos"

    async def mount(self, params, session, socket):
        self.runner: otp.Pid | None = None
        self.runner_ref: otp.Ref | None = None
        self.run_number = 0
        self.last: ChaosStatistics | None = None
        trees = _trees()
        form = dict(DEFAULTS, tree=trees[0][0] if trees else "")
        socket.assign(form=form, trees=trees, kinds=list(KINDS), reasons=list(REASONS), running=False, error=None,
                      seed=None, replay="", status="idle", kills=[], restarts=[], result=None)
        await super().mount(params, session, socket)

    async def handle_event(self, event, value, socket):
        if event == "stop":
            self._stop()
        elif event == "start" and not socket.assigns["running"]:
            self._start(value, socket)

    def _start(self, value: object, socket) -> None:
        if not isinstance(value, dict):  # a forged event may carry anything; the form sends its fields
            socket.assign(error=f"start needs the form's fields; got {type(value).__name__}")
            return
        shown = socket.assigns["form"]  # a field the event lacks keeps what the page shows
        form = {key: str(value.get(key, shown[key])).strip() for key in DEFAULTS}
        socket.assign(form=form, trees=_trees())
        try:
            tree, config = form_config(form, page=otp.current_pid(), sampler=otp.whereis(self.config.metrics))
        except ValueError as error:
            socket.assign(error=str(error))
            return
        self.run_number += 1
        self.last = None
        # Monitored, not linked: the page traps exits, and a linked runner's end would reach it as a signal.
        self.runner, self.runner_ref = otp.spawn_monitor(_run, otp.current_pid(), self.run_number, tree, config)
        socket.assign(running=True, error=None, seed=config.seed, replay=_replay(config), status="starting…",
                      kills=[], restarts=[], result=None)

    def _stop(self) -> None:
        if self.runner is not None:
            otp.send(self.runner, STOP)

    async def handle_info(self, message, socket):
        if isinstance(message, otp.Down) and message.ref == self.runner_ref:
            self._runner_ended(message.reason, socket)
        elif getattr(message, "run", None) != self.run_number:
            await super().handle_info(message, socket)  # a Sample, or the word of a run since replaced
        elif isinstance(message, ChaosStarted):
            socket.assign(status=f"running: {message.targets} targets")
        elif isinstance(message, ChaosProgress):
            self._progress(message.statistics, socket)
        elif isinstance(message, ChaosDone):
            socket.assign(running=False, status="done", result=_result(message.report))
        elif isinstance(message, ChaosFailed):
            socket.assign(running=False, status="failed", error=message.error)

    def _runner_ended(self, reason: object, socket) -> None:
        self.runner = self.runner_ref = None
        if socket.assigns["running"]:  # it ended without a word: it crashed
            socket.assign(running=False, status="failed", error=f"the run ended with {reason!r}")

    def _progress(self, now: ChaosStatistics, socket) -> None:
        last = self.last
        self.last = now
        elapsed = now.elapsed - (last.elapsed if last is not None else 0.0)
        if elapsed <= 0:
            return
        kills = (now.kills - (last.kills if last is not None else 0)) / elapsed
        restarts = (now.restarts - (last.restarts if last is not None else 0)) / elapsed
        socket.assign(
            kills=socket.assigns["kills"] + [round(kills, 1)],
            restarts=socket.assigns["restarts"] + [round(restarts, 1)],
            status=f"{now.elapsed:.1f} s · {now.kills:,} kills · {now.restarts:,} restarts · {now.missed:,} missed · "
                   f"{now.spared:,} spared",
        )

    async def terminate(self, reason, socket):
        self._stop()  # the runner ends the run in order (and would, seeing us gone)

    def render(self, assigns, changed):
        return CHAOS.render(assigns, changed)


# ---------------------------------------------------------------- the form


def _trees() -> list[tuple[str, str]]:
    """``(value, label)`` of every supervision tree of the node, oldest first: its root's pid; its name, pid and size."""
    return [(repr(root.pid), f"{root.name + ' ' if root.name else ''}{root.pid!r} · {len(root.children)} children")
            for root in introspection.supervision_tree()]


def form_config(form: dict, *, page: otp.Pid, sampler: otp.Pid | None) -> tuple[otp.Pid, ChaosConfig]:
    """The tree and the config of a run from the form's fields (strings); ValueError names the bad field.

    What serves ``page`` (its processes, the endpoint and all under it, the
    supervisors above them) and the ``sampler`` are never targets.
    """
    roots = {repr(root.pid): root.pid for root in introspection.supervision_tree()}
    if form["tree"] not in roots:
        raise ValueError(f"tree must be one of this node's supervision trees; got {form['tree'][:SHOWN]!r}")
    numbers = {field: _number(form, field) for field in LIMITS}
    targets = Targets(name=form["name"] or None, kind=_choice(form, "kind", KINDS), where=_not_serving(page, sampler))
    return roots[form["tree"]], ChaosConfig(
        seed=_seed(form["seed"]),
        rate=numbers["rate"],
        duration=numbers["seconds"],
        targets=targets,
        reasons={_choice(form, "reason", REASONS): 1},
        spare_restarts=1,
    )


def _number(form: dict, field: str) -> float:
    low, high = LIMITS[field]
    try:
        number = float(form[field])
    except ValueError:
        raise ValueError(f"{field} must be a number; got {form[field][:SHOWN]!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{field} must be between {low:g} and {high:g}; got {form[field][:SHOWN]}")
    return number


def _seed(text: str) -> int:
    if not text:
        return random.SystemRandom().randrange(1, 1_000_000)
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ValueError(f"seed must be a whole number of at most 18 digits; got {text[:SHOWN]!r}")
    return int(text)


def _choice(form: dict, field: str, choices: dict[str, T]) -> T:
    if form[field] not in choices:
        raise ValueError(f"{field} must be one of {', '.join(choices)}; got {form[field][:SHOWN]!r}")
    return choices[form[field]]


def _not_serving(page: otp.Pid, sampler: otp.Pid | None) -> Callable[[Target], bool]:
    """A ``Targets.where``: not what serves the page, nothing under its endpoint, not the sampler.

    Nor what the page's own processes are linked to, or what supervises that:
    a PubSub's registry links to its subscribers (the page is one), so its
    death would take the page with it.
    """
    tree = _Tree.read()
    roles = serving(page, tree)
    linked = {pid for own, role in roles.items() if role == "page" for pid in _links(own)}
    untouchable = set(roles) | linked | {above for pid in linked for above in tree.ancestors(pid)}
    if sampler is not None:
        untouchable.add(sampler)
    below_these = {pid for pid, role in roles.items() if role in ("page", "endpoint")}

    def may_strike(target: Target) -> bool:
        pid = target.pid
        return pid is not None and pid not in untouchable and not below_these.intersection(tree.ancestors(pid))

    return may_strike


def _links(pid: otp.Pid) -> tuple[otp.Pid, ...]:
    info = otp.process_info(pid)
    return info.links if info is not None else ()


def _replay(config: ChaosConfig) -> str:
    """How to run the same faults again, in Python (or: the same form with this seed)."""
    targets = config.targets
    shown = ", ".join(
        part for part in (f"name={targets.name!r}" if targets.name else "", f"kind={targets.kind!r}" if targets.kind else "") if part
    )
    [(reason, _)] = config.reasons
    [name] = [name for name, value in REASONS.items() if value == reason]
    return (f"ChaosConfig(seed={config.seed}, rate={config.rate:g}, duration={config.duration:g}, "
            f"targets=Targets({shown}), reasons={{{_IN_PYTHON[name]}: 1}}, spare_restarts=1)")


def _result(report: ChaosReport) -> list[tuple[str, str]]:
    rows = [
        ("kills", f"{report.kills:,}"),
        *((f"kills: {reason}", f"{count:,}") for reason, count in report.kills_by_reason.items()),
        ("missed", f"{report.missed:,}"),
        ("spared", f"{report.spared:,}"),
        ("restarts", f"{report.restarts:,}"),
        ("tree_intact", str(report.intact)),
        *((f"problem {number}", problem) for number, problem in enumerate(report.problems[:5], 1)),
        ("seconds", f"{report.elapsed:.2f}"),
        ("seed", str(report.seed)),
    ]
    return rows


# ---------------------------------------------------------------- the runner


async def _run(page: otp.Pid, run: int, tree: otp.Pid, config: ChaosConfig) -> None:
    """The runner process: the run, its progress to the page every second, then the report."""
    page_ref = otp.monitor(page)
    try:
        async with attach(tree, config) as chaos:
            otp.send(page, ChaosStarted(run, len(chaos.targets)))
            await _until_done_or_stopped(page, page_ref, run, chaos)
    except ValueError as error:  # the tree ended between the form and the start
        otp.send(page, ChaosFailed(run, str(error)))
        return
    otp.send(page, ChaosDone(run, chaos.report()))


async def _until_done_or_stopped(page: otp.Pid, page_ref: otp.Ref, run: int, chaos: Chaos) -> None:
    """Progress to the page every second until the run's duration is over, or the page says stop (or is gone)."""
    assert chaos.config.duration is not None  # the form always gives one
    end = chaos.started + chaos.config.duration

    def stop(message: object) -> bool:
        return message is STOP or (isinstance(message, otp.Down) and message.ref == page_ref)

    while (left := end - trio.current_time()) > 0:
        try:
            await otp.receive(stop, timeout=min(PROGRESS_EVERY, left))
            return
        except otp.ReceiveTimeout:
            otp.send(page, ChaosProgress(run, chaos.statistics()))
