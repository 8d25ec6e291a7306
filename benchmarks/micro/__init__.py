"""Micro benchmarks: the pure cores alone, each against the bare work it wraps.

The functional cores (pure functions of data, processes
kept thin) timed without a process, a socket or a node, so that a change to
one of them shows in its own figure before it drowns in a round trip. Run
only when named (``python -m benchmarks micro``, or by id):

==============  ===================  ===========================================  ==========
id              module               what is timed                                figure
==============  ===================  ===========================================  ==========
micro-diff      ``diff``             the LiveView diff engine finding one changed  µs/diff
                                     row among N; baseline: the page's HTML
micro-frames    ``frames``           the V2 frame codec: decode a push, encode     ns/round
                                     its reply and a broadcast; baseline: orjson
micro-presence  ``presence_state``   the presence CRDT's join (also merge, list,   µs/join
                                     leave); baseline: a plain dict
==============  ===================  ===========================================  ==========

Each uses the public API only: ``web.live`` (``compile_template``, the diff
state), ``web.serializer`` and ``otp.tracker.State``.
"""

from . import diff, frames, presence_state

# In table order.
WORKLOADS = (diff.WORKLOAD, frames.WORKLOAD, presence_state.WORKLOAD)

__all__ = ["WORKLOADS"]
