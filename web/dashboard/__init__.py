"""The live dashboard: the node, its supervision tree, processes, PubSub and chaos, in LiveView pages.

Erlang has ``observer`` and Phoenix has LiveDashboard; this is ours, built
on our own LiveView. It is off unless mounted. Mount it by adding its routes
to a :class:`~web.live.LiveRouter` and its sampler to the tree::

    dashboard = Dashboard(path="/dashboard", pubsub="app", presence=["presence"],
                          auth=lambda params, session: session.get("admin") is True)
    router = LiveRouter(secret=SECRET, routes={**my_routes, **dashboard.routes()}, pubsub="app")
    children = [PubSub.child_spec("app"), dashboard.child_spec(), ...endpoint with router...]

=========================  =================================================================
page                       shows
=========================  =================================================================
``/dashboard``             uptime, processes, memory, event-loop lag, and charts of the
                           last five minutes (SVG, redrawn at most once a second)
``/dashboard/tree``        every supervision tree of the node, expandable; restarts
                           highlighted as they happen
``/dashboard/processes``   the processes, sortable; kill one (after a confirmation) and
                           watch its supervisor restart it
``/dashboard/pubsub``      PubSub topics with their subscriber counts, Presence per topic
``/dashboard/chaos``       start a chaos run (kill rate, duration, seed) and watch calls/s
                           and restarts live; the seed replays it from the command line
=========================  =================================================================

``auth(params, session) -> bool`` guards every page: refused, the dead
render redirects to ``auth_redirect`` and a live join is refused the same
way. The sampler (:class:`~web.dashboard._metrics.Metrics`) is the only
cost while no page is open.
"""

from __future__ import annotations

from collections.abc import Callable

from otp import ChildSpec

from ._metrics import HISTORY, Metrics, Sample
from ._pages import HomePage, ProcessesPage, PubSubPage
from ._tree import TreePage
from ._chaos import ChaosPage
from web.live import HALT

__all__ = ["Dashboard", "Metrics", "Sample"]


class Dashboard:
    """One mounted dashboard: where it lives, what it reads, who may see it."""

    def __init__(
        self,
        *,
        path: str = "/dashboard",
        pubsub: str,
        presence: list[str] = (),
        auth: Callable[[dict, dict], bool] | None = None,
        auth_redirect: str = "/",
        metrics: str = "web.dashboard.metrics",
        history: int = HISTORY,
    ) -> None:
        self.path = path.rstrip("/")
        self.pubsub = pubsub
        self.presence = list(presence)
        self.auth = auth
        self.auth_redirect = auth_redirect
        self.metrics = metrics
        self.history = history

    def child_spec(self) -> ChildSpec:
        """The sampler, to start beside the PubSub (after it)."""
        return Metrics.child_spec(self.pubsub, name=self.metrics, id=self.metrics)

    def routes(self) -> dict:
        """``{path: LiveView}`` for a :class:`~web.live.LiveRouter`."""
        pages = {"": HomePage, "/tree": TreePage, "/processes": ProcessesPage, "/pubsub": PubSubPage, "/chaos": ChaosPage}
        hooks = [self._check_auth] if self.auth is not None else []
        return {
            (self.path + suffix or "/"): type(page.__name__, (page,), {"config": self, "on_mount": hooks})
            for suffix, page in pages.items()
        }

    async def _check_auth(self, params: dict, session: dict, socket) -> object:
        if self.auth(params, session):
            return None
        socket.redirect(self.auth_redirect)
        return HALT
