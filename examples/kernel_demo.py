"""The kernel demo that `make demo` runs (until the web layer lands).

In a few printed lines: a supervisor-like process that traps exits links to
a worker, the worker crashes, the exit signal arrives as a message; a monitor
reports the crash as a Down message; a timer fires.

Run it: `python examples/kernel_demo.py`
"""

import logging
import sys

import otp


async def worker(name: str) -> None:
    """Waits for one order; "crash" makes it raise."""
    order = await otp.receive()
    if order == "crash":
        raise RuntimeError(f"{name} was told to crash")


async def main(say=print) -> list[str]:
    me = otp.current_pid()
    otp.trap_exits(True)
    say(f"{me!r} traps exits")

    pid = otp.spawn_link(worker, "worker-1")
    ref = otp.monitor(pid)
    say(f"{me!r} spawned and linked {pid!r}, and monitors it ({ref!r})")

    otp.send(pid, "crash")
    signal = await otp.receive(otp.ExitSignal)
    say(f"exit signal arrived as a message: {signal}")
    down = await otp.receive(otp.Down)
    say(f"monitor fired: {down}")

    timer = otp.send_after(me, "tick", 0.05)
    say(f"timer {timer!r} started: 'tick' in 0.05 s")
    tick = await otp.receive(lambda m: m == "tick")
    say(f"timer fired: {tick!r}")
    return [signal.reason.args[0], down.reason.args[0], tick]


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(name)s: %(message)s")
    otp.run(main)
