"""The supervision part of `make demo`: a tree that heals itself.

A one_for_one supervisor runs a counter GenServer. The counter is killed;
the supervisor restarts it (fresh state, new pid) and calls work again.
Then it is crashed three times in a row: with the kill, that is one crash
more than max_restarts=3 in 5 s allows, so the supervisor gives up and exits with a Shutdown reason,
which its parent, trapping exits, receives.

Run it: `python examples/supervisor_demo.py`
"""

import logging
import sys

import otp
from otp import GenServer, Supervisor


class Counter(GenServer):
    async def init(self, start: int) -> None:
        self.count = start

    async def handle_call(self, request, caller):
        if request == "crash":
            raise RuntimeError("counter told to crash")
        self.count += 1
        return self.count


async def main(say=print) -> list:
    otp.trap_exits(True)
    sup = await Supervisor.start_link([Counter.child_spec(100, name="counter")], max_restarts=3, max_seconds=5.0)
    first = otp.whereis("counter")
    say(f"supervisor {sup!r} started counter {first!r}; incr -> {await GenServer.call('counter', 'incr')}")

    ref = otp.monitor(first)
    otp.exit(first, otp.KILL)
    await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == ref)
    await Supervisor.count_children(sup)  # answered after it has handled the death
    second = otp.whereis("counter")
    say(f"killed {first!r}; restarted as {second!r}; incr -> {await GenServer.call('counter', 'incr')}")

    # The kill was restart 1 of 3 allowed in 5 s; two more crashes use up
    # the rest, and the third makes the supervisor give up.
    for attempt in range(1, 4):
        try:
            await GenServer.call("counter", "crash")
        except otp.ServerExited as error:
            say(f"crash {attempt}: call failed with {error.reason!r}")
        if attempt < 3:
            await Supervisor.count_children(sup)
    signal = await otp.receive(otp.ExitSignal)
    say(f"supervisor gave up: {signal}")
    return [first != second, signal.reason]


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(name)s: %(message)s")
    otp.run(main)
