"""The chaos page: start a W7 chaos run from the browser and watch it live.

The run is ``python -m benchmarks chaos --lines`` in an OS process of its own
(its node runs on a mock clock and seeds trio's scheduler, which must not
touch the dashboard's node): a reader process turns its JSON lines into
messages to the page, which charts calls/s and restarts/s as they arrive
(one line a second) and shows the seed with the command that replays it.
Leaving the page kills the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs
import trio

import otp

from ._pages import DashboardPage, page_template

__all__ = ["ChaosPage"]

PROJECT = Path(__file__).resolve().parents[2]  # where the benchmarks package lives
LIMITS = {"seconds": (0.1, 60.0), "kill_every": (0.1, 1000.0), "workers": (1, 5000), "clients": (0, 200)}
DEFAULTS = {"seconds": "5", "kill_every": "1", "workers": "200", "clients": "20", "seed": ""}


@attrs.frozen
class ChaosLine:
    run: int
    data: dict


@attrs.frozen
class ChaosEnded:
    run: int
    status: int
    error: str


CHAOS = page_template(
    """<h1>Chaos</h1>
<p>Calls to supervised workers while one is killed every few (virtual) milliseconds: the W7 run of
<code>python -m benchmarks chaos</code>, in its own OS process.</p>
<form id="chaos-form" phx-submit="start">
  <label>seconds <input name="seconds" value={@form["seconds"]} size="4"></label>
  <label>kill every (ms) <input name="kill_every" value={@form["kill_every"]} size="4"></label>
  <label>workers <input name="workers" value={@form["workers"]} size="5"></label>
  <label>clients <input name="clients" value={@form["clients"]} size="4"></label>
  <label>seed <input name="seed" value={@form["seed"]} size="8" placeholder="random"></label>
  <button id="chaos-start" type="submit" disabled={@running}>start</button>
</form>
<p :if={@error} id="chaos-error">{@error}</p>
<p :if={@seed is not None} id="chaos-seed">seed <b>{@seed}</b> · replay: <code id="chaos-replay">{@replay}</code></p>
<p id="chaos-status">{@status}</p>
<div class="charts">
  <.chart id="chart-calls" title="calls" unit="/s" values={@calls} />
  <.chart id="chart-chaos-restarts" title="restarts" unit="/s" values={@restarts} />
</div>
<table :if={@result} id="chaos-result"><tbody>
  <tr :for={(name, value) in @result} :key={name}><th>{name}</th><td class={name}>{value}</td></tr>
</tbody></table>""",
    "ChaosPage",
)

_RESULT_FIELDS = ("completed", "failed", "failed_percent", "kills", "restarts", "tree_intact", "lost_acknowledged", "victims_hash", "wall_seconds")


class ChaosPage(DashboardPage):
    title = "Chaos"

    async def mount(self, params, session, socket):
        self.reader = None
        self.run_number = 0
        socket.assign(form=dict(DEFAULTS), running=False, error=None, seed=None, replay="", status="idle",
                      calls=[], restarts=[], result=None)
        await super().mount(params, session, socket)

    async def handle_event(self, event, value, socket):
        if event != "start" or socket.assigns["running"]:
            return
        if not isinstance(value, dict):  # a forged event may carry anything; the form sends its fields
            socket.assign(error=f"start needs the form's fields; got {type(value).__name__}")
            return
        form = {key: str(value.get(key, DEFAULTS[key])).strip() for key in DEFAULTS}
        socket.assign(form=form)
        try:
            arguments = _arguments(form)
        except ValueError as error:
            socket.assign(error=str(error))
            return
        self.run_number += 1
        self.reader, _ = otp.spawn_monitor(_read_run, otp.current_pid(), self.run_number, arguments)
        socket.assign(running=True, error=None, seed=None, replay="", status="starting…", calls=[], restarts=[], result=None)

    async def handle_info(self, message, socket):
        if isinstance(message, ChaosLine) and message.run == self.run_number:
            self._take_line(message.data, socket)
        elif isinstance(message, ChaosEnded) and message.run == self.run_number:
            self.reader = None
            if message.status != 0:
                socket.assign(running=False, status="failed", error=message.error or f"exit status {message.status}")
        elif isinstance(message, otp.Down):
            pass  # the reader ended; ChaosEnded said how
        else:
            await super().handle_info(message, socket)

    def _take_line(self, data: dict, socket) -> None:
        if "seed" in data and "replay" in data:
            socket.assign(seed=data["seed"], replay=data["replay"], status="running")
        elif data.get("done"):
            result = [(name, _show(data.get(name))) for name in _RESULT_FIELDS]
            socket.assign(running=False, status="done", result=result)
        else:
            socket.assign(
                calls=socket.assigns["calls"] + [data["calls_per_second"]],
                restarts=socket.assigns["restarts"] + [data["restarts_per_second"]],
                status=f"{data['virtual']:.1f} virtual s · {data['completed']:,} calls · {data['restarts']:,} restarts",
            )

    async def terminate(self, reason, socket):
        if self.reader is not None:
            otp.exit(self.reader, otp.KILL)  # its OS process goes with it

    def render(self, assigns, changed):
        return CHAOS.render(assigns, changed)


def _arguments(form: dict) -> list[str]:
    """Checked command-line arguments from the form; ValueError names the bad field."""
    arguments = ["--lines"]
    for field, option in (("seconds", "--seconds"), ("kill_every", "--kill-every"), ("workers", "--workers"), ("clients", "--clients")):
        low, high = LIMITS[field]
        try:
            number = float(form[field])
        except ValueError:
            raise ValueError(f"{field} must be a number; got {form[field][:40]!r}") from None
        if not low <= number <= high:
            raise ValueError(f"{field} must be between {low:g} and {high:g}; got {form[field][:40]}")
        arguments += [option, str(int(number)) if field in ("workers", "clients") else str(number)]
    if form["seed"]:
        if not (form["seed"].isascii() and form["seed"].isdigit() and len(form["seed"]) <= 18):
            raise ValueError(f"seed must be a whole number of at most 18 digits; got {form['seed'][:40]!r}")
        arguments += ["--seed", form["seed"]]
    return arguments


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


async def _read_run(page, run: int, arguments: list[str]) -> None:
    """The reader process: run the chaos command, send each JSON line to the page."""
    command = [sys.executable, "-m", "benchmarks", "chaos", *arguments]
    # stderr to a file: a pipe nobody reads while stdout is read could fill and block the run.
    errors = tempfile.TemporaryFile()
    process = await trio.lowlevel.open_process(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=errors)
    try:
        buffer = b""
        while True:
            chunk = await process.stdout.receive_some(65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    otp.send(page, ChaosLine(run, json.loads(line)))
        status = await process.wait()
        errors.seek(0)
        lines = errors.read().decode(errors="replace").strip().splitlines()
        otp.send(page, ChaosEnded(run, status, lines[-1] if status and lines else ""))
    finally:
        errors.close()
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()
