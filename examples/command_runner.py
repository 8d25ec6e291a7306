"""A long-running command behind a page: run it under supervision, publish its output in batches.

The classic pattern for "show the build log live": a GenServer owns a
:class:`otp.Port` running the command, keeps the lines it printed, and
every 100 ms publishes what came since the last flush on a PubSub topic, so
a page (a LiveView subscribed to the topic) gets a few messages a second
however chatty the command is. When the command ends the runner publishes
``("exit", status)``; a failed command is restarted by the supervisor
(``restart=TRANSIENT``: a command that succeeded is done)::

    children = [CommandRunner.child_spec({"argv": ["make", "build"], "pubsub": "app", "topic": "build:1"})]
    await Supervisor.start_link(children)
    PubSub.subscribe("app", "build:1")       # ("lines", [...]) every 100 ms, then ("exit", 0)

Run it: ``python examples/command_runner.py`` prints the batches of a small
shell loop.
"""

from __future__ import annotations

import otp
from otp import GenServer, Port, PortExit, PortLine, PortPassive, ProgramExited, PubSub, Restart, Stop, Supervisor

FLUSH_EVERY = 0.1  # seconds between two publications


class CommandRunner(GenServer, restart=Restart.TRANSIENT):
    """Runs ``argv`` and publishes its output lines on ``topic`` in batches."""

    async def init(self, options: dict) -> None:
        # Trap exits: the port's end then arrives as a message after its last
        # output and its PortExit, instead of ending this server at once.
        otp.trap_exits(True)
        self.pubsub, self.topic = options["pubsub"], options["topic"]
        self.port = await Port.open(options["argv"], lines=True)
        self.lines: list[str] = []
        otp.send_after(otp.current_pid(), "flush", FLUSH_EVERY)

    async def handle_info(self, message: object) -> Stop | None:
        if isinstance(message, PortLine):
            self.lines.append(message.line.decode(errors="replace"))
        elif isinstance(message, PortPassive):
            self.port.set_active(64)  # ready for more: this server keeps up
        elif message == "flush":
            self.flush()
            otp.send_after(otp.current_pid(), "flush", FLUSH_EVERY)
        elif isinstance(message, PortExit):
            self.flush()
            PubSub.broadcast(self.pubsub, self.topic, ("exit", message.status))
            if message.status != 0:
                return Stop(ProgramExited(self.port.argv, message.status))
            return Stop(otp.NORMAL)
        return None

    def flush(self) -> None:
        if self.lines:
            PubSub.broadcast(self.pubsub, self.topic, ("lines", self.lines))
            self.lines = []


async def main() -> list[object]:
    await PubSub.start_link("app")
    PubSub.subscribe("app", "job")
    argv = ["sh", "-c", "for i in 1 2 3 4 5; do echo step $i; sleep 0.05; done"]
    await Supervisor.start_link([CommandRunner.child_spec({"argv": argv, "pubsub": "app", "topic": "job"})])
    received: list[object] = []
    while not received or received[-1][0] != "exit":
        received.append(await otp.receive())
        print(received[-1])
    return received


if __name__ == "__main__":
    otp.run(main)
