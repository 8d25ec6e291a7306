"""The supervision tree page: every tree of the node, expandable, restarts highlighted as they happen.

The tree is read from :func:`otp.introspection.supervision_tree` on every
sample; a supervisor whose restart count went up since the previous sample
is marked ``restarted`` (and its changed children are too), so a kill from
the processes page shows up here within a second.
"""

from __future__ import annotations

from otp import introspection

from ._pages import DashboardPage, page_template

__all__ = ["TreePage", "flatten"]

TREE = page_template(
    """<h1>Supervision trees</h1>
<p><b id="supervisor-count">{@supervisors}</b> supervisors, <b id="restart-total">{@restart_total}</b> restarts since they started.</p>
<ul id="tree" class="tree">
  <li :for={row in @rows} :key={row["key"]} id={row["dom_id"]} class={row["classes"]} style={row["indent"]}>
    <button :if={row["supervisor"]} class="toggle" phx-click="toggle" phx-value-key={row["key"]}>{"▸" if row["collapsed"] else "▾"}</button>
    <span class="id">{row["label"]}</span> <code class="pid">{row["pid"]}</code>
    <small :if={row["supervisor"]} class="strategy">{row["strategy"]} · {row["restarts"]} restarts</small>
  </li>
</ul>""",
    "TreePage",
)


class TreePage(DashboardPage):
    title = "Supervision tree"

    async def mount(self, params, session, socket):
        self.restarts_seen: dict = {}
        socket.assign(collapsed=frozenset())
        await super().mount(params, session, socket)

    async def refresh(self, socket, sample):
        trees = introspection.supervision_tree()
        rows = flatten(trees, socket.assigns["collapsed"], self.restarts_seen)
        supervisors = [row for row in rows if row["supervisor"]]
        socket.assign(
            rows=rows,
            supervisors=_count_supervisors(trees),
            restart_total=sum(row["restarts"] for row in supervisors),
        )

    async def handle_event(self, event, value, socket):
        key = value.get("key") if isinstance(value, dict) else None
        # Only a supervisor row on the page toggles: a client inventing keys cannot grow the set.
        if event == "toggle" and any(row["supervisor"] and row["key"] == key for row in socket.assigns["rows"]):
            collapsed = socket.assigns["collapsed"]
            socket.assign(collapsed=collapsed - {key} if key in collapsed else collapsed | {key})
            await self.refresh(socket, None)

    def render(self, assigns, changed):
        return TREE.render(assigns, changed)


def flatten(trees: list, collapsed: frozenset, restarts_seen: dict) -> list[dict]:
    """The trees as rows, depth first; ``restarts_seen`` (supervisor key → count) marks new restarts."""
    rows: list[dict] = []
    for tree in trees:
        _supervisor_rows(tree, str(tree.name or tree.pid), 0, collapsed, restarts_seen, rows)
    return rows


def _supervisor_rows(tree, key: str, depth: int, collapsed, seen: dict, rows: list) -> None:
    restarts = tree.restarts
    restarted = key in seen and restarts > seen[key]
    seen[key] = restarts
    rows.append(_row(key, depth, label=str(tree.name or key), pid=tree.pid, supervisor=True,
                     strategy=tree.strategy, restarts=restarts, restarted=restarted, collapsed=key in collapsed))
    if key in collapsed:
        return
    for child in tree.children:
        label = child.id if child.id is not None else child.pid  # a DynamicSupervisor's children have no id
        child_key = f"{key}/{label}"
        if child.supervisor is not None:
            _supervisor_rows(child.supervisor, child_key, depth + 1, collapsed, seen, rows)
        else:
            rows.append(_row(child_key, depth + 1, label=str(label), pid=child.pid, supervisor=False,
                             strategy="", restarts=0, restarted=False, collapsed=False))


def _row(key: str, depth: int, *, label, pid, supervisor, strategy, restarts, restarted, collapsed) -> dict:
    classes = ["supervisor" if supervisor else "worker"]
    if restarted:
        classes.append("restarted")
    if pid is None:
        classes.append("down")
    return {
        "key": key,
        "dom_id": "tree-" + "".join(c if c.isalnum() else "-" for c in key),
        "label": label,
        "pid": repr(pid) if pid is not None else "restarting",
        "supervisor": supervisor,
        "strategy": str(getattr(strategy, "value", strategy) or ""),
        "restarts": restarts,
        "collapsed": collapsed,
        "classes": " ".join(classes),
        "indent": f"margin-left: {depth * 1.5}em",
    }


def _count_supervisors(trees: list) -> int:
    return sum(1 + _count_supervisors([c.supervisor for c in tree.children if c.supervisor is not None]) for tree in trees)
