"""Shared helpers of the wire-level LiveView tests (test_streams, test_components, ...).

Each test drives the real ``lv:`` / ``lvu:`` channels over a test socket
(web.testing), frame for frame as the phoenix_live_view 1.2.12 client would.
Views that want to be found record their pid in :data:`PIDS` on a connected
mount (``Tracked``), so a test can send them messages or watch them end.
"""

from __future__ import annotations

import otp
from otp import PubSub
from web.live import LiveRouter, LiveView
from web.testing import connect
from web.token import sign

SECRET = "liveview wire secret"
PIDS: dict[str, object] = {}  # view id -> pid of its connected process (last mount)


class Tracked(LiveView):
    """A LiveView base whose connected mounts record their pid in PIDS."""

    async def mount(self, params, session, socket):
        if socket.connected:
            PIDS[socket.id] = otp.current_pid()


async def open_client(routes: dict, *, pubsub: str = "live_wire", csrf: bool = True):
    """A PubSub, a LiveRouter over ``routes`` and a connected test client: ``(router, client)``."""
    await PubSub.start_link(pubsub)
    router = LiveRouter(secret=SECRET, routes=routes, pubsub=pubsub)
    token = sign(SECRET, "csrf", "a visitor") if csrf else "forged"
    client = await connect(router.socket_cls, {"_csrf_token": token}, pubsub=pubsub)
    return router, client


def session_token(view_id: str, route: str, *, live_session: str = "default", session: dict | None = None) -> str:
    payload = {"id": view_id, "route": route, "live_session": live_session, "session": session or {}}
    return sign(SECRET, "liveview session", payload)


def join_payload(view_id: str, route: str, query: str = "", **options) -> dict:
    live_session = options.pop("live_session", "default")
    session = options.pop("session", None)
    payload = {
        "url": f"http://x{route}{query}",
        "params": {"_csrf_token": "t", "_mounts": 0, "_mount_attempts": 0},
        "session": session_token(view_id, route, live_session=live_session, session=session),
        "static": None,
    }
    payload.update(options)
    return payload


async def join(client, view_id: str, route: str, query: str = "", **options) -> dict:
    """Join ``lv:<view_id>`` at ``route``; assert ``ok``; return the response."""
    status, response = await client.join(f"lv:{view_id}", join_payload(view_id, route, query, **options))
    assert status == "ok", response
    assert response["liveview_version"] == "1.2.12"
    return response


def push_event(client, view_id: str, event: str, value: object = None, *, type: str = "click", cid: int | None = None, **extra) -> str:
    """Push an ``event`` as the client does for a binding; return its ref."""
    payload = {"type": type, "event": event, "value": {} if value is None else value, **extra}
    if cid is not None:
        payload["cid"] = cid
    return client.push(f"lv:{view_id}", "event", payload)


async def event_reply(client, view_id: str, event: str, value: object = None, **options) -> dict:
    """Push an event and return the ``ok`` reply's response."""
    ref = push_event(client, view_id, event, value, **options)
    return (await client.assert_reply(ref, "ok"))["response"]


# ---------------------------------------------------------------- checking diffs
# The format and the merge rules: docs/protocol/liveview.md, "Rendered diffs".


def check_statics(diff: dict) -> None:
    """Checklist 9 and 12: every integer ``"s"`` resolves (a ``"p"`` in scope, a cid in the same ``"c"``)."""
    components = diff.get("c", {})
    for cid, tree in components.items():
        assert int(cid) > 0, f"cid {cid} is not positive"
        assert tree.get("r") == 1 or "s" not in tree, f"component {cid} full render without 'r': 1: {tree}"
        static = tree.get("s")
        if isinstance(static, int):
            assert static < 0 or str(static) in components, f"component {cid} refers to cid {static}, not in this 'c'"
        _check_node({k: v for k, v in tree.items() if k != "s" or not isinstance(v, int)}, None, component=True)
    _check_node({k: v for k, v in diff.items() if k not in ("c", "e", "t", "r")}, None, component=False)


def _check_node(node: object, table: dict | None, *, component: bool) -> None:
    if not isinstance(node, dict):
        return
    if "p" in node:
        table = node["p"]
    static = node.get("s")
    if isinstance(static, int):
        assert table is not None and str(static) in table, f"'s': {static} has no 'p' in scope: {node}"
    elif static is not None:
        assert isinstance(static, list) and all(isinstance(s, str) for s in static), node
    for key, value in node.items():
        if key == "k":
            assert "kc" in value, f"a keyed comprehension without 'kc': {node}"
            moved = False
            for position, entry in value.items():
                if position in ("kc", "km"):
                    continue
                if isinstance(entry, int) or isinstance(entry, list):
                    moved = True
                    entry = entry[1] if isinstance(entry, list) else None
                _check_node(entry, table, component=component)
            if moved:
                assert value.get("km") is True, f"moves without 'km': true: {value}"
        elif key.isdigit():
            _check_node(value, table, component=component)


def render_html(tree: dict, components: dict | None = None) -> str:
    """What the client renders from a full, merged tree, cids included (without DOM attributes).

    See docs/protocol/liveview.md, "The model".
    """
    components = components or {}

    def value_html(value: object, table: dict | None) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int):
            return node_html(components[str(value)], None)
        return node_html(value, table)

    def node_html(node: dict, table: dict | None) -> str:
        table = node.get("p", table)
        static = node["s"]
        if isinstance(static, int):
            static = table[str(static)]
        if "k" in node:
            keyed = node["k"]
            return "".join(
                entry_html(static, keyed[str(i)], table) for i in range(keyed["kc"])
            )
        return entry_html(static, node, table)

    def entry_html(static: list, dynamics: dict, table: dict | None) -> str:
        parts = [static[0]]
        for i, s in enumerate(static[1:]):
            parts.append(value_html(dynamics[str(i)], table))
            parts.append(s)
        return "".join(parts)

    return node_html(tree, None)


def merge(stored: dict, diff: dict) -> dict:
    """The client's merge of a diff into the stored tree, without streams' pruning.

    See docs/protocol/liveview.md, "Merge rules".
    """
    if "s" in diff:
        return _copy(diff)
    out = dict(stored)
    for key, value in diff.items():
        if key == "k" and "k" in stored:
            out["k"] = _merge_keyed(stored["k"], value)
        elif isinstance(value, dict) and isinstance(stored.get(key), dict):
            out[key] = merge(stored[key], value)
        else:
            out[key] = _copy(value)
    return out


def _merge_keyed(stored: dict, diff: dict) -> dict:
    old = dict(stored)
    out = {"kc": diff["kc"]}
    for i in range(diff["kc"]):
        change = diff.get(str(i), ...)
        if change is ...:
            out[str(i)] = old[str(i)]
        elif isinstance(change, int):
            out[str(i)] = old[str(change)]
        elif isinstance(change, list):
            out[str(i)] = merge(old[str(change[0])], change[1])
        else:
            out[str(i)] = merge(old.get(str(i), {}), change) if str(i) in old else _copy(change)
    return out


def _copy(value: object) -> object:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


__all__ = [
    "SECRET", "PIDS", "Tracked", "open_client", "session_token", "join_payload", "join",
    "push_event", "event_reply", "check_statics", "render_html", "merge",
]
