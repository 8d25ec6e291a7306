"""The live dashboard: the node, its supervision tree, processes, PubSub and chaos, in LiveView pages.

Erlang has ``observer`` and Phoenix has LiveDashboard; this is ours, built
on our own LiveView. It is off unless mounted. Mount it by adding its routes
to a :class:`~web.live.LiveRouter`, its sampler to the tree, and its access
check in front of the endpoint's handler::

    dashboard = Dashboard(path="/dashboard", pubsub="app", presence=["presence"])   # token="..." for others
    router = LiveRouter(secret=SECRET, routes={**my_routes, **dashboard.routes()}, pubsub="app")
    handler = dashboard.http(router.http(my_pages))
    children = [PubSub.child_spec("app"), dashboard.child_spec(), ...endpoint with handler...]

=========================  =================================================================
page                       shows
=========================  =================================================================
``/dashboard``             uptime, processes, memory, event-loop lag, and charts of the
                           last five minutes (SVG, redrawn at most once a second); on a
                           node of a cluster (``otp.dist``: each worker of
                           ``web.workers``), every node, selectable, the selected one's
                           facts read in that node (``_cluster.py``)
``/dashboard/tree``        every supervision tree of the node, expandable; restarts
                           highlighted as they happen
``/dashboard/processes``   the processes, sortable; kill one (after a confirmation) and
                           watch its supervisor restart it; inspect one: a GenServer's
                           state and its last messages (``otp.sys``)
``/dashboard/pubsub``      PubSub topics with their subscriber counts, Presence per topic
``/dashboard/chaos``       run ``otp.chaos`` against a supervision tree of the node (kill
                           rate, duration, targets, seed) and watch kills and restarts live
=========================  =================================================================

Threat model
------------
Whoever loads these pages can read the node (process names, registered
names, topic names, presence keys: what the app's users are doing) and act
on it: kill any process that is not refused below, and start chaos runs
against the node's trees for up to a minute (what serves the page is never
a target, and no supervisor is pushed past its restart intensity: see
``web/dashboard/_chaos.py``). So the dashboard is an operator's tool, and
it must be reachable by operators only.

Who can reach it:

* through :meth:`Dashboard.http` (the default way): with no ``token``, only
  clients on this machine (loopback: 127.0.0.0/8, ::1), whatever address
  the endpoint listens on; with a ``token``, only clients that bring it
  (``?token=`` once, then an HttpOnly, SameSite=Strict cookie for the
  dashboard's path), from anywhere. Others get 403 (the table in
  ``web/dashboard/_access.py``). Behind a reverse proxy on the same host
  every client looks local: give a token there;
* ``auth(params, session) -> bool``, the app's own check (its login), runs
  on every page load and join, on top of the above; refused, the dead
  render redirects to ``auth_redirect`` and a live join is refused the same
  way. With ``auth`` and without :meth:`http`, ``auth`` alone decides;
* neither: every page answers 403 saying so (fail closed).

A live join is not an HTTP request, so :meth:`http` cannot see it: the
pages are a live session of their own, so a join needs a session signed
by the dead render of a dashboard page, which only an admitted request
got (sessions are signed with the router's secret: keep it secret).

What is refused, whoever asks: the processes page never kills the node's
root process, a root supervisor, the endpoint serving the page (the
endpoint, its acceptor, its connection supervisor), the page's own LiveView
process and its connection's (which runs its socket), the supervisors above them,
or the dashboard's sampler; it answers "refused: <pid> is ..." on the page
instead (the table in ``web/dashboard/_protected.py``). Every event is
checked on the server: a forged ``kill`` or ``confirm-kill`` with any text
as the pid (malformed, unknown, of another node) gets a sentence, never a
crash. Ordinary workers, such as the demo's ``Clock``, stay killable and
their supervisors restart them: that is what the page is for.

The sampler (:class:`~web.dashboard._metrics.Metrics`) is the only cost
while no page is open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from otp import ChildSpec
from web._http import Request, Response
from web.live import HALT, HTTPError

from ._access import Access, admitted
from ._chaos import ChaosPage
from ._metrics import HISTORY, Metrics, Sample
from ._pages import HomePage, ProcessesPage, PubSubPage
from ._tree import TreePage

__all__ = ["Dashboard", "Metrics", "Sample"]


class Dashboard:
    """One mounted dashboard: where it lives, what it reads, who may see it (see the module docstring).

    Args:
        path: where its pages live (``/dashboard``, ``/dashboard/tree``, ...).
        pubsub: the PubSub its sampler publishes on and its pages listen to.
        presence: Presence trackers whose topics the PubSub page lists.
        auth: ``auth(params, session) -> bool``, the app's own check on every
            page load and join; refused, the page redirects to ``auth_redirect``.
        token: with :meth:`http`, the token a client must bring (``?token=``
            once, then a cookie); None: only clients on this machine get in.
        metrics: the sampler's registered name; history: samples it keeps.
    """

    def __init__(
        self,
        *,
        path: str = "/dashboard",
        pubsub: str,
        presence: Sequence[str] = (),
        auth: Callable[[dict, dict], bool] | None = None,
        auth_redirect: str = "/",
        token: str | None = None,
        metrics: str = "web.dashboard.metrics",
        history: int = HISTORY,
    ) -> None:
        self.path = path.rstrip("/")
        self.pubsub = pubsub
        self.presence = list(presence)
        self.auth = auth
        self.auth_redirect = auth_redirect
        self.access = Access(self, self.path, token)
        self.metrics = metrics
        self.history = history

    def child_spec(self) -> ChildSpec:
        """The sampler, to start beside the PubSub (after it)."""
        return Metrics.child_spec(self.pubsub, name=self.metrics, id=self.metrics)

    def routes(self) -> dict:
        """``{path: (LiveView, live session)}`` for a :class:`~web.live.LiveRouter`.

        The pages are a live session of their own: live navigation from the
        app's other pages reloads them in full, through :meth:`http`'s check,
        and a join must carry a session signed by a dashboard page's dead render.
        """
        pages = {"": HomePage, "/tree": TreePage, "/processes": ProcessesPage, "/pubsub": PubSubPage, "/chaos": ChaosPage}
        live_session = f"web.dashboard:{self.path}"
        return {
            (self.path + suffix or "/"): (
                type(page.__name__, (page,), {"config": self, "on_mount": [self._check_access]}), live_session
            )
            for suffix, page in pages.items()
        }

    def http(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` (the endpoint's) with the dashboard's paths behind its access rule (``token``)."""
        return self.access.handler(handler)

    async def _check_access(self, params: dict, session: dict, socket) -> object:
        if not socket.connected and self.auth is None and admitted.get() is not self:
            # Fail closed: mounted without auth= and not served through http(), nothing guards it.
            raise HTTPError(403, f"the dashboard at {self.path or '/'} is not protected: serve it through "
                                 "Dashboard.http(handler) (this machine only, or a token) or give Dashboard(auth=...)")
        if self.auth is None or self.auth(params, session):
            return None
        socket.redirect(self.auth_redirect)
        return HALT
