"""The dashboard's pages: LiveViews that re-read the node on every sample (at most once a second).

Each page subscribes to the sampler's topic when connected and refreshes
its assigns from the live node on each :class:`~._metrics.Sample`; change
tracking then sends only what moved. Actions (killing a process, starting a
chaos run) are events on the page; what a kill may not touch, and the
answers to forged ones, are in ``_protected.py``.

The processes page also shows one process in detail (its ``inspect``
button, or ``?pid=<0.42.0>`` in the URL): for a GenServer-based process,
what ``otp.sys.get_status`` says (class, status, mailbox, its state as its
``format_status`` gives it, as in a crash report: override it to hide
secrets) and its last messages. For those, the page turns the server's
``otp.sys.log`` on while it shows it, and off when it shows another, closes
the detail or leaves (unless the log was on already: then it is not the
page's to turn off). Each read has a short timeout, so a busy server makes
the detail say so instead of holding the page.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import otp
from otp import collector, introspection, pubsub
from otp import sys as otp_sys
from otp.lowlevel import current_node
from otp.tracker import Tracker
from web.live import LiveView, compile_template
from web.socket import STATISTICS

from ._charts import chart
from ._cluster import cluster_nodes, overview_of, this_node
from ._metrics import TOPIC, NodeOverview, Sample
from ._protected import SHOWN, SOCKET, kill_refusal, parse_pid

if TYPE_CHECKING:
    from . import Dashboard  # (which imports this module)

__all__ = ["HomePage", "ProcessesPage", "PubSubPage", "DashboardPage"]

NAV = """<nav class="dashboard-nav">
  <.link navigate={@base}>home</.link> · <.link navigate={@base + "/tree"}>supervision tree</.link> ·
  <.link navigate={@base + "/processes"}>processes</.link> · <.link navigate={@base + "/pubsub"}>pubsub, presence, sockets</.link> ·
  <.link navigate={@base + "/chaos"}>chaos</.link>
</nav>"""


STYLE = """<style>
  .dashboard .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: .75rem; }
  .dashboard figure.chart { margin: 0; padding: .5rem .75rem; border: 1px solid #ddd; border-radius: 6px; background: #fafafa; }
  .dashboard figure.chart svg { width: 100%; height: 60px; color: #2a6fdb; }
  .dashboard table { border-collapse: collapse; margin-bottom: 1rem; }
  .dashboard th, .dashboard td { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; font-size: .9rem; }
  .dashboard .tree { list-style: none; padding: 0; } .dashboard .tree li { padding: 1px 0; }
  .dashboard .restarted { background: #fff3b0; } .dashboard .down { color: #b00; }
  .dashboard .toggle { border: none; background: none; cursor: pointer; }
</style>"""


def page_template(body: str, name: str, **options):
    return compile_template(
        f'<div class="dashboard" id="dashboard">{STYLE}{NAV}\n{body}</div>',
        filename=f"web/dashboard/_pages.py:{name}",
        components={"chart": chart},
        **options,
    )


class DashboardPage(LiveView):
    """What every page shares: the config (set by :class:`~web.dashboard.Dashboard`), the sample feed."""

    config: Dashboard  # set on the subclasses the Dashboard builds
    title = "Dashboard"

    async def mount(self, params, session, socket):
        socket.assign(base=self.config.path)
        socket.page_title(f"{self.title} · dashboard")
        if socket.connected:
            pubsub.subscribe(self.config.pubsub, TOPIC)
        await self.refresh(socket, None)

    async def handle_info(self, message, socket):
        if isinstance(message, Sample):
            await self.refresh(socket, message)

    async def refresh(self, socket, sample: Sample | None) -> None:
        return None


# ---------------------------------------------------------------- home: the node and its charts

HOME = page_template(
    """<form :if={len(@nodes) > 1} id="node-select" phx-change="select-node"><label>node <select name="node">
  <option :for={name in @nodes} :key={name} value={name} selected={name == @node}>{name}</option>
</select></label> <span id="node-count">{len(@nodes)} nodes in the cluster</span></form>
<p :if={@unreachable} id="node-unreachable">{@unreachable}</p>
<h1>Node <code>{@node}</code></h1>
<p id="node-facts">OS pid <b id="os-pid">{@os_pid}</b> · up <b id="uptime">{@uptime}</b> · <b id="process-count">{@processes}</b> processes ·
  <b id="memory">{@memory}</b> MiB resident · event loop lag <b id="lag">{@lag}</b> ms</p>
<p id="gc-facts">garbage collector: <b id="gc-passes">{@gc_passes}</b> passes, longest pause
  <b id="gc-max-pause">{@gc_max_pause}</b> ms (generation {@gc_generation}), <b id="gc-frozen">{@gc_frozen}</b> objects frozen</p>
<div class="charts">
  <.chart id="chart-processes" title="processes" values={@series["processes"]} />
  <.chart id="chart-memory" title="memory" unit="MiB" values={@series["memory_mib"]} />
  <.chart id="chart-messages" title="messages handled" unit="/s" values={@series["messages_per_second"]} />
  <.chart id="chart-restarts" title="restarts" unit="/s" values={@series["restarts"]} />
  <.chart id="chart-cpu" title="CPU" unit="%" values={@series["cpu_percent"]} />
  <.chart id="chart-lag" title="event loop lag" unit="ms" values={@series["lag_ms"]} />
  <.chart id="chart-gc" title="longest GC pause" unit="ms" values={@series["gc_pause_ms"]} />
</div>""",
    "HomePage",
)

SERIES = ("processes", "memory_mib", "messages_per_second", "restarts", "cpu_percent", "lag_ms", "gc_pause_ms")


class HomePage(DashboardPage):
    """The node: this one, or another node of the cluster chosen in its selector (``?node=`` too).

    Another node's facts are read there, by a call to its sampler, on each
    of this node's samples (see ``_cluster.py``).
    """

    title = "Home"

    async def mount(self, params, session, socket):
        socket.assign(selected=params.get("node") or this_node(), unreachable=None)
        await super().mount(params, session, socket)

    async def handle_event(self, event, value, socket):
        if event == "select-node":
            name = value.get("node") if isinstance(value, dict) else None
            if name in await cluster_nodes():  # a forged name selects nothing
                socket.assign(selected=name, history=[])
                await self.refresh(socket, None)

    async def refresh(self, socket, sample):
        nodes = await cluster_nodes()
        selected = socket.assigns["selected"]
        found = await overview_of(self.config.metrics, selected) if selected != this_node() else None
        unreachable = found if isinstance(found, str) else None
        overview = found if isinstance(found, NodeOverview) else await self._local_overview(socket, sample)
        history = overview.history[-self.config.history:]
        last = history[-1] if history else None
        socket.assign(
            nodes=nodes,
            unreachable=unreachable,
            history=history,
            series={name: [getattr(s, name) for s in history] for name in SERIES},
            node=overview.node,
            os_pid=overview.os_pid,
            uptime=_duration(overview.uptime),
            processes=overview.processes,
            memory=f"{last.memory_mib:.1f}" if last else "–",
            lag=f"{last.lag_ms:.1f}" if last else "–",
            gc_passes=overview.gc_passes,
            gc_max_pause=f"{overview.gc_max_pause * 1000:.1f}",
            gc_generation="–" if overview.gc_max_pause_generation is None else overview.gc_max_pause_generation,
            gc_frozen=overview.gc_frozen,
        )

    async def _local_overview(self, socket, sample: Sample | None) -> NodeOverview:
        """This node's overview: its sampler's on mount (or back from another node), then each new sample added."""
        if sample is None or socket.assigns.get("node") != this_node():
            found = await overview_of(self.config.metrics, this_node())
            assert isinstance(found, NodeOverview)  # (this node's own sampler answers)
            return found
        stats, gc_stats = current_node().statistics(), collector.statistics()
        history = socket.assigns["history"][-(self.config.history - 1):] + [sample]
        return NodeOverview(
            this_node(), os.getpid(), stats.uptime, stats.processes, history,
            gc_stats.pauses, gc_stats.max_pause, gc_stats.max_pause_generation, gc_stats.frozen,
        )

    def render(self, assigns, changed):
        return HOME.render(assigns, changed)


def _collector_facts() -> dict[str, object]:
    gc_stats = collector.statistics()
    return {
        "gc_passes": gc_stats.pauses,
        "gc_max_pause": f"{gc_stats.max_pause * 1000:.1f}",
        "gc_generation": "–" if gc_stats.max_pause_generation is None else gc_stats.max_pause_generation,
        "gc_frozen": gc_stats.frozen,
    }


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


# ---------------------------------------------------------------- processes: sortable, killable

PROCESSES = page_template(
    """<h1>Processes</h1>
<p>Top {len(@rows)} of {@total} by <b id="sort-by">{@sort}</b>.</p>
<p :if={@killed} id="killed">killed {@killed}</p>
<p :if={@refused} id="refused">{@refused}</p>
<table id="processes">
  <thead><tr>
    <th><button phx-click="sort" phx-value-by="pid">pid</button></th>
    <th><button phx-click="sort" phx-value-by="name">name</button></th>
    <th>function</th>
    <th><button phx-click="sort" phx-value-by="mailbox">mailbox</button></th>
    <th><button phx-click="sort" phx-value-by="messages">messages</button></th>
    <th></th>
  </tr></thead>
  <tbody>
    <tr :for={row in @rows} :key={row["pid"]} id={"proc-" + row["id"]} class="process">
      <td class="pid">{row["pid"]}</td><td class="name">{row["name"]}</td><td class="function">{row["function"]}</td>
      <td class="mailbox">{row["mailbox"]}</td><td class="messages">{row["messages"]}</td>
      <td><button class="inspect" phx-click="inspect" phx-value-pid={row["pid"]}>inspect</button></td>
      <td :if={@confirm != row["pid"]}><button class="kill" phx-click="kill" phx-value-pid={row["pid"]}>kill</button></td>
      <td :if={@confirm == row["pid"]}>
        <button class="confirm-kill" phx-click="confirm-kill" phx-value-pid={row["pid"]}>really kill {row["pid"]}?</button>
        <button class="cancel-kill" phx-click="cancel-kill">no</button>
      </td>
    </tr>
  </tbody>
</table>
<section :if={@inspected} id="process" class="process-detail">
  <h2>Process <code id="inspected-pid">{@inspected}</code> <button class="close-detail" phx-click="close-detail">close</button></h2>
  <p :if={@detail["note"]} id="process-note">{@detail["note"]}</p>
  <table :if={@detail["facts"]} id="process-status"><tbody>
    <tr :for={(label, value) in @detail["facts"]} :key={label}><th>{label}</th><td class={"fact-" + label.replace(" ", "-")}>{value}</td></tr>
  </tbody></table>
  <h3 :if={@detail["facts"]}>last messages</h3>
  <p :if={@detail["facts"] and not @detail["events"]} id="no-events">none since the page started watching</p>
  <ol id="process-log">
    <li :for={event in @detail["events"]} class={"event " + event["kind"]}>{event["text"]}</li>
  </ol>
</section>""",
    "ProcessesPage",
)

_SORTS = {
    "pid": lambda row: row["number"],
    "name": lambda row: (row["name"] == "", row["name"]),
    "mailbox": lambda row: -row["mailbox"],
    "messages": lambda row: -row["messages"],
}


class ProcessesPage(DashboardPage):
    title = "Processes"
    limit = 100
    log_size = 20  # events of the inspected server the page keeps (otp.sys.log)
    sys_timeout = 0.5  # seconds each otp.sys read of the inspected process may take

    async def mount(self, params, session, socket):
        self.logging = None  # the pid whose otp.sys.log this page turned on
        socket.assign(sort=params.get("sort", "messages") if params.get("sort") in _SORTS else "messages",
                      confirm=None, killed=None, refused=None, inspected=None, detail={})
        if params.get("pid"):
            await self._inspect(params["pid"], socket)
        await super().mount(params, session, socket)

    async def refresh(self, socket, sample):
        rows = [_row(info) for info in (otp.process_info(pid) for pid in otp.processes()) if info is not None]
        rows.sort(key=_SORTS[socket.assigns["sort"]])
        socket.assign(rows=rows[: self.limit], total=len(rows))
        if socket.assigns["inspected"] is not None:
            socket.assign(detail=await self._detail(socket.assigns["inspected"]))

    async def handle_event(self, event, value, socket):
        # Events come from the client: any value may arrive, so nothing here trusts its shape.
        value = value if isinstance(value, dict) else {}
        if event == "sort" and value.get("by") in _SORTS:
            socket.assign(sort=value["by"])
        elif event == "kill":
            self._ask(value.get("pid"), socket)
        elif event == "cancel-kill":
            socket.assign(confirm=None)
        elif event == "confirm-kill":
            self._kill(value.get("pid"), socket)
        elif event == "inspect":
            await self._inspect(value.get("pid"), socket)
        elif event == "close-detail":
            await self._stop_logging()
            socket.assign(inspected=None, detail={})
        await self.refresh(socket, None)

    async def terminate(self, reason, socket):
        await self._stop_logging()

    # ------------------------------------------------------------ one process in detail

    async def _inspect(self, text: object, socket) -> None:
        """Show the process ``text`` names (a client's text: anything may come) instead of the one shown."""
        target = parse_pid(text)
        if target.refusal is not None:
            socket.assign(refused=target.refusal)
            return
        await self._stop_logging()
        socket.assign(inspected=repr(target.pid), refused=None)
        if socket.connected:  # a dead render ends at once: nothing would turn the log off
            await self._start_logging(target.pid)

    async def _start_logging(self, pid) -> None:
        try:
            if (await otp_sys.get_status(pid, timeout=self.sys_timeout)).log_size is None:
                await otp_sys.log(pid, self.log_size, timeout=self.sys_timeout)
                self.logging = pid
        except (TypeError, otp.CallError):
            pass  # not a GenServer, or gone, or busy: the detail says which

    async def _stop_logging(self) -> None:
        pid, self.logging = self.logging, None
        if pid is not None:
            try:
                await otp_sys.log(pid, False, timeout=self.sys_timeout)
            except (TypeError, otp.CallError):
                pass  # it has ended (or is busy; its log then stays on, as if an operator had turned it on)

    async def _detail(self, text: str) -> dict:
        """What the detail section shows of the process ``text`` (a pid's repr)."""
        pid = parse_pid(text).pid
        if not isinstance(pid, otp.Pid):
            return {"note": f"{text} has exited", "facts": [], "events": []}
        try:
            status = await otp_sys.get_status(pid, timeout=self.sys_timeout)
        except TypeError:
            info = otp.process_info(pid)
            kind = (info.kind if info is not None else None) or "plain"
            return {"note": f"a {kind} process, not a GenServer: it has no state to show", "facts": [], "events": []}
        except otp.CallTimeout:
            return {"note": f"busy: no answer within {self.sys_timeout} s", "facts": [], "events": []}
        except otp.CallError:
            return {"note": f"{text} has exited", "facts": [], "events": []}
        return {"note": None, "facts": _facts(status), "events": [_event(e) for e in reversed(status.logged)]}

    def _ask(self, text: object, socket) -> None:
        """First step: a pid the page may kill gets its confirmation button; any other, the refusal."""
        _, refusal = self._check(text)
        socket.assign(confirm=None if refusal else text, refused=refusal, killed=None)

    def _kill(self, text: object, socket) -> None:
        """Second step, checked again: the process may have changed roles since, or the event be forged."""
        if not isinstance(text, str) or not text:
            pid, refusal = None, "refused: no pid given"
        elif text != socket.assigns["confirm"]:
            pid, refusal = None, f"refused: nothing to confirm for {text[:SHOWN]!r}; press its kill button first"
        else:
            pid, refusal = self._check(text)
        if refusal is None:
            otp.exit(pid, otp.KILL)
        socket.assign(confirm=None, refused=refusal, killed=None if refusal else text)

    def _check(self, text: object) -> tuple:
        """``(pid, None)`` for a process this page may kill, else ``(None, why not)``."""
        target = parse_pid(text)
        if target.refusal is not None:
            return None, target.refusal
        refusal = kill_refusal(target.pid, page=otp.current_pid(), sampler=otp.whereis(self.config.metrics))
        return (None, refusal) if refusal else (target.pid, None)

    def render(self, assigns, changed):
        return PROCESSES.render(assigns, changed)


DETAIL_CHARS = 2000  # of a state or a message shown in the detail: the page must not carry a megabyte


def _facts(status: otp_sys.Status) -> list[tuple[str, str]]:
    return [
        ("class", status.module),
        ("name", str(status.name) if status.name is not None else ""),
        ("status", status.status),
        ("vsn", repr(status.vsn)),
        ("mailbox", str(status.message_queue_len)),
        ("state", _shorten(repr(status.state))),
        ("last message", _shorten(repr(status.last_message))),
    ]


def _event(event: otp_sys.Event) -> dict:
    """A logged event as the page lists it, newest first."""
    return {"kind": event.kind, "text": _shorten(str(event))}


def _shorten(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS] + f"… ({len(text):,} characters)"


def _row(info) -> dict:
    text = repr(info.pid)
    return {
        "pid": text,
        "id": text.strip("<>").replace(".", "-"),
        "number": info.pid.number,
        "name": str(info.registered_name) if info.registered_name is not None else "",
        "function": info.function,
        "mailbox": info.message_queue_len,
        "messages": info.messages_received,
    }


# ---------------------------------------------------------------- pubsub topics and presence

PUBSUB = page_template(
    """<h1>PubSub <code>{@pubsub}</code></h1>
<table id="topics"><thead><tr><th>topic</th><th>subscribers</th></tr></thead><tbody>
  <tr :for={(topic, count) in @topics} :key={topic} class="topic"><td class="name">{topic}</td><td class="count">{count}</td></tr>
</tbody></table>
<div :for={(tracker, topics) in @presences} :key={tracker} class="presence">
  <h2>Presence <code>{tracker}</code></h2>
  <table><thead><tr><th>topic</th><th>present</th><th>keys</th></tr></thead><tbody>
    <tr :for={(topic, count, keys) in topics} :key={topic} class="presence-topic">
      <td class="name">{topic}</td><td class="count">{count}</td><td class="keys">{", ".join(keys)}</td></tr>
  </tbody></table>
</div>
<h2>Sockets and channels</h2>
<p id="sockets"><b id="socket-count">{@sockets}</b> sockets open, <b id="channel-count">{@channels}</b> channels joined
  (LiveViews included).</p>
<table :if={@closed} id="sockets-closed"><thead><tr><th>sockets closed for</th><th>times</th></tr></thead><tbody>
  <tr :for={(reason, count) in @closed} :key={reason}><td>{reason}</td><td>{count}</td></tr>
</tbody></table>""",
    "PubSubPage",
)


class PubSubPage(DashboardPage):
    title = "PubSub"

    async def refresh(self, socket, sample):
        presences = []
        for tracker in self.config.presence:
            try:
                counts = Tracker.topics(tracker)
            except Exception:  # not running (yet, or any more)
                continue
            rows = [(topic, n, sorted({str(k) for k, _ in Tracker.list(tracker, topic)})) for topic, n in sorted(counts.items())]
            presences.append((tracker, rows))
        sockets = channels = 0
        for row in introspection.snapshot().processes.values():
            if row.kind == "channel":
                channels += 1
            elif row.kind == SOCKET:  # the process running a socket (its connection's)
                sockets += 1
        socket.assign(
            pubsub=self.config.pubsub,
            topics=sorted(pubsub.topics(self.config.pubsub).items()),
            presences=presences,
            sockets=sockets,
            channels=channels,
            closed=sorted(STATISTICS.items()),
        )

    def render(self, assigns, changed):
        return PUBSUB.render(assigns, changed)
