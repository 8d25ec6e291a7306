"""The LiveView process: a channel specialisation serving ``lv:<id>`` (LIVEVIEW.md §2, §4, §5).

Join: verify the session token (signed, with the view's id), mount, render
in full, reply ``{"rendered": diff, "liveview_version": ...}``. An ``event``
runs ``handle_event`` and replies ``{"diff": D}`` or ``{}`` (every push gets
a reply, or the client reloads after 30 s). ``handle_info`` changes are
pushed as a ``diff`` event. A token that does not verify, or a topic that
is not the token's view id, is answered ``{"reason": "stale"}``, which makes
the client reload the page (never a 403 loop).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from otp import Shutdown, Stop
from web.channel import Channel, Error, Ok
from web.token import InvalidToken, verify

from ._diff import Tracker
from ._forms import decode_form
from ._view import LiveSocket

__all__ = ["LiveViewChannel", "LIVEVIEW_VERSION", "SESSION_SALT"]

LIVEVIEW_VERSION = "1.2.12"  # the client this project is tested with (LIVEVIEW.md §2.3)
SESSION_SALT = "liveview session"
SESSION_MAX_AGE = 14 * 24 * 3600
LEFT_BY_NAVIGATION = Shutdown("navigated")  # normal: the client gets phx_close after the reply


def _query(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


class LiveViewChannel(Channel):
    """Route ``"lv:*"`` to a subclass that sets ``views`` (name → LiveView class) and ``secret``."""

    views: dict = {}
    secret: str = ""

    async def join(self, topic: str, payload: dict, socket) -> Ok | Error:
        try:
            session = verify(self.secret, SESSION_SALT, payload.get("session"), max_age=SESSION_MAX_AGE)
        except InvalidToken:
            return Error({"reason": "stale"})
        view_id = topic.removeprefix("lv:")
        view_cls = self.views.get(session.get("view")) if isinstance(session, dict) else None
        if session.get("id") != view_id or view_cls is None:
            return Error({"reason": "stale"})
        self.view = view_cls()
        self.live = LiveSocket(connected=True, view_id=view_id)
        self.tracker = Tracker()
        params = payload.get("params") or {}
        url = payload.get("url") or payload.get("redirect") or ""
        await self.view.mount(params, session.get("session", {}), self.live)
        await self.view.handle_params(_query(url), url, self.live)
        return Ok({"rendered": self._diff(full=True), "liveview_version": LIVEVIEW_VERSION})

    async def handle_in(self, event: str, payload: dict, socket) -> Ok:
        if event == "event":
            value = payload.get("value")
            if payload.get("type") == "form":
                # phx-change / phx-submit: a URL-encoded body, decoded like Plug.
                value = decode_form(value if isinstance(value, str) else "", payload.get("meta"))
            result = await self.view.handle_event(payload.get("event"), value, self.live)
            stop = await self._navigate(socket)
            response = {}
            diff = self._diff()
            if isinstance(result, dict):
                diff["r"] = result  # a reply to the hook that pushed the event (LIVEVIEW.md §3.5)
            if diff:
                response["diff"] = diff
            if stop is not None:
                response.update(stop)
                return Stop(LEFT_BY_NAVIGATION, reply=Ok(response))
            return Ok(response)
        if event == "live_patch":
            # The client followed a patch link: same view, new params (LIVEVIEW.md §4.2).
            url = payload.get("url", "")
            await self.view.handle_params(_query(url), url, self.live)
            diff = self._diff()
            return Ok({"diff": diff} if diff else {})
        return Ok({})  # every push gets a reply (cids_will_destroy and the rest: nothing to do yet)

    async def _navigate(self, socket) -> dict | None:
        """Act on push_patch / push_navigate / redirect; return reply keys when the view stops."""
        navigation, self.live.navigation = self.live.navigation, None
        if navigation is None:
            return None
        kind, to, mode = navigation
        if kind == "patch":
            await self.view.handle_params(_query(to), to, self.live)
            socket.push("live_patch", {"to": to, "kind": mode})  # before the reply with the diff
            return None
        if kind == "navigate":
            return {"live_redirect": {"to": to, "kind": mode}}
        return {"redirect": {"to": to}}

    async def handle_info(self, message: object, socket) -> None:
        await self.view.handle_info(message, self.live)
        diff = self._diff()
        if diff:
            socket.push("diff", diff)

    async def terminate(self, reason: object, socket) -> None:
        view = getattr(self, "view", None)
        if view is not None:
            await view.terminate(reason, self.live)

    def _diff(self, *, full: bool = False) -> dict:
        live = self.live
        if not full and not live.changed and not live.events and live.title is None:
            return {}
        rendered = self.view.render(live.assigns, None if full else set(live.changed))
        live.changed.clear()
        diff = self.tracker.diff(rendered)
        if live.events:
            diff["e"], live.events = live.events, []
        if live.title is not None:
            diff["t"], live.title = live.title, None
        return diff
