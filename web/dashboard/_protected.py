"""What the processes page refuses to kill, and the answer it gives instead.

A kill is the one action of the dashboard that cannot be undone, and the
page's events come from a client: any text may arrive as the pid. So every
``kill`` and ``confirm-kill`` is checked here, on the server, and refused
with a sentence the page shows, never by crashing the view:

=======================================  ====================================================
the pid text names                       answer
=======================================  ====================================================
nothing like ``<0.42.0>``                refused: '...' is not a pid like <0.42.0>
a process of another node (``<3.9.0>``)  refused: ... is a process of another node
no running process of this node          refused: no process ... on this node
the node's root process                  refused: ... is the node's root process
the top of a supervision tree            refused: ... is a root supervisor of the node
the endpoint serving this page           refused: ... is part of the endpoint serving this
(endpoint, acceptor, connection          page
supervisor, the page's connection)
this page's own process or socket        refused: ... serves this page
a supervisor above any of those          refused: ... supervises what serves this page
the dashboard's sampler                  refused: ... is the dashboard's sampler
anything else                            killable (after a confirmation)
=======================================  ====================================================

Killing the root process, or a root supervisor (it is linked to the code
that started it, and nothing restarts it), stops the node or what it
runs; killing the endpoint (or its acceptor, or its connection
supervisor, whose loss stops the endpoint) drops every connection and may
leave the node listening on another port; killing the page's own processes
cuts the operator off mid-action. Ordinary workers and supervisors below
the roots (the demo's ``Clock``) stay killable: their supervisors restart
them, which is what the page is for.

How the page's own processes are found, from the view's process: the
process it monitors that runs its socket (the WebSocket's connection
process, or a long-poll session's: the socket has no process of its own),
the connection's supervisor (the endpoint's connection supervisor), the
endpoint that owns it (the linked process that is no child of it) and the
endpoint's other linked helpers (its acceptor). Then every supervisor above
any of them. All of it is read from process records and the supervision
trees (``otp.introspection``), without a message.
"""

from __future__ import annotations

import re

import attrs

import otp
from otp import introspection
from otp.lowlevel import current_node

__all__ = ["Target", "parse_pid", "kill_refusal", "serving", "SOCKET", "CONNECTION_PROCESS", "SHOWN"]

SOCKET = "socket"  # the kind of a process running a Phoenix socket (process_info(pid).kind)
CONNECTION_PROCESS = "web._http.serve_connection"  # one per TCP connection of an endpoint
_PID_TEXT = re.compile(r"<(\d{1,9})\.(\d{1,18})\.0>")
SHOWN = 40  # characters of a malformed pid text quoted back: the page must not echo a megabyte


@attrs.frozen
class Target:
    """A kill request's pid text, resolved: ``pid`` is set when it names a running process here."""

    pid: object | None
    refusal: str | None


def parse_pid(text: object) -> Target:
    """Resolve the pid text of a ``kill``/``confirm-kill`` event (anything a client may send)."""
    if not isinstance(text, str) or not text:
        return Target(None, "refused: no pid given")
    found = _PID_TEXT.fullmatch(text)
    if found is None:
        return Target(None, f"refused: {text[:SHOWN]!r} is not a pid like <0.42.0>")
    node, number = int(found.group(1)), int(found.group(2))
    if node != 0:
        return Target(None, f"refused: {text} is a process of another node; this page kills only its own node's")
    pid = _running(number)
    if pid is None:
        return Target(None, f"refused: no process {text} on this node (it may have ended)")
    return Target(pid, None)


def _running(number: int):
    for pid in otp.processes():
        if pid.number == number:
            return pid
    return None


@attrs.frozen
class _Tree:
    """The supervision trees, indexed: each supervised pid's supervisor, and the roots."""

    supervisor_of: dict
    roots: frozenset

    @classmethod
    def read(cls) -> _Tree:
        supervisor_of: dict = {}
        roots = introspection.supervision_tree()
        pending = list(roots)
        while pending:
            node = pending.pop()
            for child in node.children:
                if child.pid is not None:
                    supervisor_of[child.pid] = node.pid
                if child.supervisor is not None:
                    pending.append(child.supervisor)
        return cls(supervisor_of, frozenset(root.pid for root in roots))

    def children_of(self, supervisor) -> set:
        return {pid for pid, parent in self.supervisor_of.items() if parent == supervisor}

    def ancestors(self, pid) -> list:
        chain, seen = [], {pid}
        while (pid := self.supervisor_of.get(pid)) is not None and pid not in seen:
            chain.append(pid)
            seen.add(pid)
        return chain


def serving(page, tree: _Tree | None = None) -> dict:
    """pid → why it serves the page whose process is ``page``: "page", "endpoint" or "supervisor"."""
    tree = tree if tree is not None else _Tree.read()
    roles = {page: "page"}
    for socket in _sockets(_monitors(page)):
        roles.setdefault(socket, "page")
        if _running_as([socket], CONNECTION_PROCESS):  # (a long-poll session is no connection)
            for part in _endpoint_of(socket, tree):
                roles.setdefault(part, "endpoint")
    for pid in list(roles):
        for above in tree.ancestors(pid):
            roles.setdefault(above, "supervisor")
    return roles


def _endpoint_of(connection, tree: _Tree) -> list:
    """The connection's supervisor, the process that started it (the endpoint) and that one's helpers."""
    connections = tree.supervisor_of.get(connection)
    if connections is None:
        return []
    children = tree.children_of(connections)
    owners = [pid for pid in _links(connections) if pid not in children]
    # The endpoint's other links: its own supervisor (restarts it: not a part), and plain
    # processes such as the acceptor, whose end stops the endpoint (parts).
    helpers = [pid for owner in owners for pid in _links(owner) if pid != connections and not _is_supervisor(pid)]
    return [connections, *owners, *helpers]


def kill_refusal(pid, *, page, sampler) -> str | None:
    """Why ``pid`` must not be killed from the page whose process is ``page`` (None: it may be)."""
    who = _describe(pid)
    if pid == current_node().root.pid:
        return f"refused: {who} is the node's root process; killing it would stop the node"
    tree = _Tree.read()
    role = serving(page, tree).get(pid)
    if role == "endpoint":
        return f"refused: {who} is part of the endpoint serving this page"
    if role == "page":
        return f"refused: {who} serves this page (its own process or socket)"
    if pid in tree.roots:
        return f"refused: {who} is a root supervisor of the node; nothing would restart it"
    if role == "supervisor":
        return f"refused: {who} supervises what serves this page"
    if pid == sampler:
        return f"refused: {who} is the dashboard's sampler"
    return None


def _describe(pid) -> str:
    info = otp.process_info(pid)
    name = info.registered_name if info is not None else None
    return f"{pid!r} ({name})" if name is not None else repr(pid)


def _sockets(pids) -> list:
    return [pid for pid in pids if (info := otp.process_info(pid)) is not None and info.kind == SOCKET]


def _running_as(pids, function: str) -> list:
    return [pid for pid in pids if (info := otp.process_info(pid)) is not None and info.function == function]


def _links(pid) -> tuple:
    info = otp.process_info(pid)
    return info.links if info is not None else ()


def _monitors(pid) -> tuple:
    info = otp.process_info(pid)
    return info.monitors if info is not None else ()


def _is_supervisor(pid) -> bool:
    info = otp.process_info(pid)
    return info is not None and info.kind == "supervisor"
