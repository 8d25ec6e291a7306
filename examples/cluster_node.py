"""A node of a cluster over Redis: `python examples/cluster_node.py NAME [--redis HOST:PORT] [--peers N]`.

It joins the other nodes (otp.dist: remote pids, calls, monitors, node-down),
starts a PubSub on the Redis adapter and a presence Tracker, says hello on
the "lobby" topic, and prints what it hears: hellos from other nodes,
presences joining and leaving, nodes going down. With ``--peers N`` it exits
once it has heard hello from N other nodes (the tests use that); without,
it runs until Ctrl-C.

Try it with a local Redis, in three terminals::

    redis-server --port 6379
    python examples/cluster_node.py alpha
    python examples/cluster_node.py beta
"""

import argparse
import os

import otp
from otp import GenServer, PubSub, dist
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


async def main(name: str, host: str, port: int, peers: int | None) -> None:
    await dist.start(name, host=host, port=port, secret=SECRET, heartbeat=0.2, down_after=2.0)
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
    args = parser.parse_args()
    host, port = args.redis.rsplit(":", 1)
    otp.run(main, args.name, host, int(port), args.peers)
