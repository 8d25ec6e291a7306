"""One node for tests/pubsub/test_broker_dist.py, as its own OS process: ``python _bus_node.py NAME URL``.

It joins the cluster through the broker at URL (``otp.dist``), registers a
``counter`` (a call returns ``(node, count)``; ``("call", dest, request)``
makes the counter itself call ``dest``, another node's server) and an
``echo`` process (``("ping", pid)`` is answered ``("pong", echo's pid,
node)``), prints ``ready`` and runs until its stdin closes.
"""

import sys

import trio

import otp
from otp import GenServer, dist

SECRET = b"broker dist test secret"
TIMING = {"heartbeat": 0.2, "down_after": 1.0}


class Counter(GenServer):
    async def init(self, start):
        self.count = start

    async def handle_call(self, request, caller):
        if isinstance(request, tuple) and request[0] == "call":
            return await GenServer.call(request[1], request[2], timeout=5.0)
        self.count += 1
        return (dist.node_name(), self.count)


async def echo():
    while True:
        message = await otp.receive()
        if isinstance(message, tuple) and message[0] == "ping":
            otp.send(message[1], ("pong", otp.current_pid(), dist.node_name()))


async def main(name: str, url: str) -> None:
    await dist.start(name, redis=url, secret=SECRET, **TIMING)
    await Counter.start_link(0, name="counter")
    otp.register("echo", otp.spawn_link(echo))
    print("ready", flush=True)
    await trio.wrap_file(sys.stdin).read()  # until the test (our port's owner) goes


if __name__ == "__main__":
    otp.run(main, sys.argv[1], sys.argv[2])
