"""A node of a cluster over Redis: `python examples/cluster_node.py NAME [--redis HOST:PORT] [--peers N] [--down-after S]`.

It joins the other nodes (otp.dist: remote pids, calls, monitors, node-down),
starts a PubSub on the Redis adapter and a presence Tracker, says hello on
the "lobby" topic, and prints what it hears: hellos from other nodes,
presences joining and leaving, nodes going down and coming back. With
``--peers N`` it exits once it has heard hello from N other nodes (the tests
use that); without, it runs until Ctrl-C.

Try it with a local Redis, in three terminals::

    redis-server --port 6379
    python examples/cluster_node.py alpha
    python examples/cluster_node.py beta

Then try the faults: stop Redis and start it again, or pause a node
(``kill -STOP``, then ``kill -CONT``): nobody goes down on a Redis restart,
and a node resumed after a pause declares nobody down (the others declare
it down if it was away longer than ``down_after``, 5 s by default, and see
it come back). Kill a node (``kill -9``): the others print that its
presence left (the tracker's ``down_period``: 4 s here, 2 × 10 broadcast
periods of 0.2 s) and that it is down (5 to 5.5 s after its last
heartbeat). For faster detection, give ``dist.start`` a shorter
``down_after`` (and ``heartbeat``, at most a third of it), at the price of
declaring down a node that stalls that long: ``--down-after 2`` does
(with a heartbeat of 0.2 s).
"""

import argparse
import os

import otp
from otp import GenServer, PubSub, dist, telemetry
from otp.pubsub.redis import Redis
from otp.tracker import Tracker

SECRET = os.environb.get(b"OTP_CLUSTER_SECRET", b"change me: shared by every node")


class Lobby(Tracker):
    async def handle_diff(self, diff):
        joins, leaves = diff.get("lobby", ([], []))
        for key, _ in joins:
            print(f"{dist.node_name()}: {key} is present", flush=True)
        for key, _ in leaves:
            print(f"{dist.node_name()}: {key} left", flush=True)


class Nodes(GenServer):
    """Prints the nodes otp.dist declares down and their coming back, and when it holds its verdicts."""

    async def init(self, _):
        self.down = set()
        await dist.monitor_nodes()
        telemetry.attach_many("cluster_node.verdicts", (dist.HELD, dist.JUDGING), _verdicts)

    async def terminate(self, reason):
        telemetry.detach("cluster_node.verdicts")

    async def handle_info(self, message):
        if isinstance(message, dist.NodeDown):
            self.down.add(message.name)
            print(f"{dist.node_name()}: node {message.name} is down", flush=True)
        elif isinstance(message, dist.NodeUp) and message.name in self.down:
            self.down.discard(message.name)
            print(f"{dist.node_name()}: node {message.name} is back", flush=True)


def _verdicts(event, measurements, metadata, config):
    if event == dist.HELD:  # this node lost the bus (a Redis restart), or did not run (a pause)
        print(f"{dist.node_name()}: cut off ({metadata['reason']}): declaring nobody down", flush=True)
    else:
        print(f"{dist.node_name()}: judging silent nodes again", flush=True)


class Greeter(GenServer):
    """Says hello on "lobby", prints the hellos of others; stops after ``peers`` of them."""

    async def init(self, peers):
        self.peers, self.heard = peers, set()
        PubSub.subscribe("chat", "lobby")
        PubSub.broadcast_from("chat", otp.current_pid(), "lobby", ("hello", dist.node_name(), otp.current_pid()))

    async def handle_info(self, message):
        kind, node, pid = message
        if node in self.heard:
            return None
        self.heard.add(node)
        print(f"{dist.node_name()}: hello from {node} ({pid!r})", flush=True)
        if kind == "hello":  # answer, straight to its greeter, so late joiners hear of us too
            otp.send(pid, ("hello back", dist.node_name(), otp.current_pid()))
        if self.peers is not None and len(self.heard) >= self.peers:
            return otp.Stop(otp.NORMAL)


async def main(name: str, host: str, port: int, peers: int | None, down_after: float | None) -> None:
    if down_after is None:
        await dist.start(name, host=host, port=port, secret=SECRET)  # heartbeat 0.5 s, down after 5 s
    else:
        await dist.start(name, host=host, port=port, secret=SECRET, heartbeat=down_after / 10, down_after=down_after)
    await Nodes.start_link(None)
    adapter = Redis(host, port, secret=SECRET, node_name=name)
    await PubSub.start_link("chat", adapter=adapter)
    await adapter.wait_connected()
    await Lobby.start_link(pubsub="chat", name="lobby", broadcast_period=0.2)
    await Tracker.track("lobby", otp.current_pid(), "lobby", name, {})
    otp.trap_exits(True)
    greeter = await Greeter.start_link(peers)
    await otp.receive(lambda m: isinstance(m, otp.ExitSignal) and m.pid == greeter)
    print(f"{name}: done", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--redis", default="127.0.0.1:6379", help="HOST:PORT of the Redis server")
    parser.add_argument("--peers", type=int, default=None, help="exit after hearing this many other nodes")
    parser.add_argument("--down-after", type=float, default=None, help="seconds of silence that take a node down (5)")
    args = parser.parse_args()
    host, port = args.redis.rsplit(":", 1)
    otp.run(main, args.name, host, int(port), args.peers, args.down_after)
