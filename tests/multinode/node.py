"""One node of the multi-node test, run as its own OS process: `python node.py NAME REDIS_PORT`.

It joins the cluster (otp.dist), starts the "app" PubSub on the Redis
adapter, a registered counter, a listener that answers pings broadcast on
the "room" topic and reports node-down events to the test's node, and a
presence tracker whose diffs go to the test's node (the listener is present
in "lobby" under the node's name).
Prints "ready" when all of that is up.
"""

import sys

import otp
from otp import GenServer, NoReply, dist, pubsub
from otp.pubsub.redis import Redis
from otp.tracker import Tracker

SECRET = b"multinode test secret"
TEST_NODE = "test"


class Counter(GenServer):
    async def init(self, start):
        self.count = start

    async def handle_call(self, request, caller):
        self.count += 1
        return (dist.node_name(), self.count)


TRACKER_OPTIONS = {"broadcast_period": 0.1, "max_silent_periods": 5, "down_period": 1.5, "permdown_period": 3.0}


class NodePresence(Tracker):
    """Forwards every presence diff this node sees to the test's node."""

    async def handle_diff(self, diff):
        otp.send(("watcher", TEST_NODE), ("diff", dist.node_name(), diff))


class Listener(GenServer):
    """Answers ("ping", pid) broadcasts with ("pong", node, n), reports NodeDown to the test,
    and answers ("wait_for", names) once it has heard from every node in ``names``."""

    async def init(self, _):
        pubsub.subscribe("app", "room")
        self.known = set(await dist.monitor_nodes())
        self.waiting = []  # (caller, names) not yet satisfied

    async def handle_call(self, request, caller):
        _, names = request
        self.waiting.append((caller, set(names)))
        self._answer_satisfied()
        return NoReply()

    async def handle_info(self, message):
        if isinstance(message, tuple) and message[0] == "ping":
            otp.send(message[1], ("pong", dist.node_name(), message[2]))
        elif isinstance(message, dist.NodeUp):
            self.known.add(message.name)
            self._answer_satisfied()
        elif isinstance(message, dist.NodeDown):
            self.known.discard(message.name)
            otp.send(("watcher", TEST_NODE), ("nodedown", dist.node_name(), message.name))

    def _answer_satisfied(self):
        for caller, names in list(self.waiting):
            if names <= self.known:
                self.waiting.remove((caller, names))
                GenServer.reply(caller, sorted(self.known))


async def main(name: str, port: int) -> None:
    await dist.start(name, port=port, secret=SECRET, heartbeat=0.2, down_after=2.0)
    adapter = Redis(port=port, secret=SECRET, node_name=name)
    await pubsub.start_link("app", adapter=adapter)
    await adapter.wait_connected()
    await Counter.start_link(0, name="counter")
    listener = await Listener.start_link(None, name="listener")
    await NodePresence.start_link(pubsub="app", name="presence", **TRACKER_OPTIONS)
    await Tracker.track("presence", listener, "lobby", name, {"node": name})
    print("ready", flush=True)
    await otp.receive(lambda m: False)  # run until killed


if __name__ == "__main__":
    otp.run(main, sys.argv[1], int(sys.argv[2]))
