"""The dashboard's view of the cluster: which nodes there are, and one node's overview, read in that node.

On a node running ``otp.dist`` (each worker of ``web.workers`` does), the
home page lists this node and every other node ``otp.dist`` has heard
from, and shows the one selected: its overview is a call to *that* node's
sampler (:meth:`~web.dashboard._metrics.Metrics.overview`), so what the
page shows was measured there, not here. A node that does not answer
within :data:`OVERVIEW_TIMEOUT` is said so on the page, which then shows
this node.
"""

from __future__ import annotations

from otp import CallError, dist, whereis
from otp.lowlevel import current_node

from ._metrics import Metrics, NodeOverview

__all__ = ["cluster_nodes", "this_node", "overview_of", "OVERVIEW_TIMEOUT"]

OVERVIEW_TIMEOUT = 1.0  # seconds a node's sampler has to answer the page
_DIST_SERVER = "otp.dist.server"


def this_node() -> str:
    return current_node().name or "nonode@nohost"


async def cluster_nodes() -> list[str]:
    """This node first, then the other nodes ``otp.dist`` knows, by name; only this one when not distributed."""
    if whereis(_DIST_SERVER) is None:
        return [this_node()]
    try:
        others = await dist.nodes()
    except CallError:  # the distribution restarting: this node alone for now
        others = []
    return [this_node(), *sorted(others)]


async def overview_of(metrics: str, node: str) -> NodeOverview | str:
    """``node``'s overview from its sampler ``metrics``; a sentence saying why not when it cannot be had."""
    target = metrics if node == this_node() else (metrics, node)
    try:
        return await Metrics.overview(target, timeout=OVERVIEW_TIMEOUT)
    except CallError as error:
        return f"node {node} did not answer ({type(error).__name__}); showing {this_node()}"
