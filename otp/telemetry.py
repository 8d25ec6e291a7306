"""Telemetry: named events with measurements, and handlers attached to them (Erlang's ``telemetry``).

The kernel, the behaviours, PubSub and the web layer *emit* events; your
code *attaches* handlers to the ones it cares about (a metrics exporter, a
log line, a dashboard). Nothing is kept: an event is a function call to
each attached handler, made in the emitting process, at once.

Example
-------
Count the restarts of every supervisor, and time a block of your own::

    import otp
    from otp import telemetry

    def on_restart(event, measurements, metadata, config):
        config["restarts"] += 1
        print(metadata["supervisor"], "restarted", metadata["child_id"], "after", metadata["reason"])

    counts = {"restarts": 0}
    telemetry.attach("my-app.restarts", ("otp", "supervisor", "restart"), on_restart, counts)

    with telemetry.span(("my_app", "import"), {"file": path}) as meta:
        rows = load(path)
        meta["rows"] = len(rows)        # added to the stop event's metadata

    telemetry.detach("my-app.restarts")

API
---
``attach(handler_id, event_name, function, config=None)`` and
``attach_many(handler_id, event_names, function, config=None)`` call
``function(event_name, measurements, metadata, config)`` on every event of
those names. ``handler_id`` is any hashable value, unique:
attaching an id again raises :class:`AlreadyAttached`. ``detach(handler_id)``
returns whether it was attached. ``list_handlers(prefix)`` lists the
:class:`Handler` records whose event name starts with ``prefix`` (``()``:
all). ``execute(event_name, measurements, metadata)`` emits an event;
``attached(*event_names)`` tells an emitter whether anyone listens, so it
can skip computing measurements. ``span(prefix, metadata)`` is a context
manager emitting ``prefix + ("start",)``, then ``("stop",)`` or
``("exception",)``, like ``:telemetry.span``. All are sync and never block.

Handlers run synchronously in the process that emits, often deep inside
the kernel (a spawn, a process's exit, a message being queued): they must
be quick and must not block. To do real work, ``otp.send`` the event to a
process of yours. A handler that raises is *detached* (from every event it
was attached to) and one line is logged at ERROR on logger
``"otp.telemetry"``, naming the handler and the event; the other handlers
still run and the emitter never sees the error, as in Erlang's telemetry.
The table is global to the OS process, like Erlang's (one per VM): detach
what you attach, e.g. in ``terminate``. In tests,
``otp.testing.forward_telemetry(*event_names)`` turns events into messages
to the test process for the length of a ``with`` block.

Cost: with no handler attached to an event, emitting it is a dict lookup
(the kernel checks an empty table first: one truth test); measurements are
not even built. See the W1–W5 figures in ``benchmarks/``.

Naming convention
-----------------
An event name is a tuple of lower-case strings: the library (``"otp"``,
``"web"``), the component, then what happened: ``("otp", "process",
"exit")``. Spans end in ``"start"``, ``"stop"``, ``"exception"``.
Measurements are numbers: ``duration`` in seconds (a ``float`` from
``time.perf_counter``), sizes in bytes, counts. Metadata says *which*: pids,
registered names, reasons, topics. LiveView's events follow Phoenix
LiveView's names (listed below, with the web layer's).

Span events
-----------
What ``span`` emits, and so every ``(..., "start" | "stop" | "exception")`` below:

- start: measurements ``monotonic_time``, ``system_time``; metadata: the
  span's, plus ``telemetry_span_context`` (the same object in all three).
- stop: ``duration``, ``monotonic_time``; the metadata, with what the block added.
- exception: as stop, with metadata ``kind`` (``"error"``, ``"exit"`` for
  ``otp.Exit``, ``"cancelled"``), ``reason`` (the exception, or ``Exit``'s
  reason) and ``stacktrace`` (the traceback). The exception propagates.

Events emitted
--------------
Each entry: the event, then its measurements; its metadata.

The kernel:

``("otp", "process", "spawn")``
    ``processes`` (alive in the node, the new one included); ``pid``,
    ``parent``, ``function`` (what it runs).
``("otp", "process", "exit")``
    ``processes`` (still alive), ``messages_received``; ``pid``, ``name``
    (registered, or None), ``reason``, ``function``.
``("otp", "process", "mailbox_high_water")``
    (a mailbox reached 1,000 queued messages, then 2,000, 4,000..., each
    threshold once per process) ``length``, ``threshold``; ``pid``, ``name``.
``("otp", "vm", "gc")``
    (one pass of Python's garbage collector, measured by
    :func:`otp.collector.watch` and emitted afterwards by
    :func:`otp.collector.emit`, e.g. on an endpoint's statistics tick)
    ``duration``, ``collected``; ``generation``.

The behaviours:

``("otp", "genserver", "call", "start" | "stop" | "exception")``: a span, client side
    see the span events above; ``server`` (as the caller named it),
    ``request_kind`` (a str request itself, a tuple's leading str, else
    the request's type name).
``("otp", "supervisor", "restart")``: a restart its intensity allowed, about to be made
    (the child has ended and is not running yet; for ``ONE_FOR_ALL`` and
    ``REST_FOR_ONE`` its siblings are not stopped yet: a handler calling
    the child gets ``NoProc``) ``restarts`` (its total),
    ``recent_restarts`` (in the intensity window); ``supervisor``,
    ``name``, ``strategy``, ``child_id``, ``child_pid`` (the child that
    ended; None for a retried start), ``reason``.
``("otp", "supervisor", "restarted")``: that restart is done, the child runs again
    (every child it started again has returned from its start function,
    so it can be called at once; a start that failed is retried and this
    comes after the attempt that succeeds) as restart, plus ``duration``
    (seconds since the restart event); as restart (a dynamic supervisor's
    ``child_pid`` is the child that ended even after a retry), plus
    ``pid`` (the child's new pid; None if its start returned None) and
    ``restarted`` (``(id, pid)`` of every child started again, in start
    order: more than one for ``ONE_FOR_ALL`` and ``REST_FOR_ONE``).
``("otp", "supervisor", "give_up")``: one restart too many
    (it reached max restart intensity: its children still run; it now
    shuts them down and exits with
    ``Shutdown("reached_max_restart_intensity")``) ``restarts``; as restart,
    plus ``max_restarts``, ``max_seconds``.
``("otp", "pubsub", "broadcast")``: a ``broadcast`` or ``broadcast_from`` made on this node
    ``local_subscribers``; ``pubsub``, ``topic``, ``from`` (a pid or None).
``("otp", "pubsub", "redis", "reconnect")``
    ``reconnects`` (the adapter's total); ``pubsub``, ``node_name``,
    ``role`` (``"publisher"`` or ``"subscriber"``).
``("otp", "pubsub", "redis", "drop")``: a frame dropped or a broadcast refused
    ``dropped`` (the total for this reason); ``pubsub``, ``node_name``,
    ``reason`` (``"queue_full"``, ``"bad_frame"``, ``"bad_signature"``,
    ``"duplicate"``, ``"fewer_receivers"``, ``"no_such_node"``); a
    ``"fewer_receivers"`` drop also has ``expected`` and ``receivers``.
``("otp", "pubsub", "redis", "missed")``
    (a gap in another node's broadcast numbers: broadcasts of ``origin``
    this node never received) ``missed`` (this gap), ``total`` (from that origin); ``pubsub``,
    ``node_name``, ``origin``.
``("otp", "pubsub", "redis", "node_gone")``: a node no longer expected to receive broadcasts
    (none); ``pubsub``, ``node_name``, ``node``, ``reason`` (``"goodbye"``: it
    stopped in order; ``"silent"``: nothing heard for ``node_timeout``).
``("otp", "pubsub", "redis", "bus_back")``: this node's own frames come back through Redis
    (the first time, and after a break) ``silence_counts_from`` (trio's clock);
    ``pubsub``, ``node_name``.
``("otp", "dist", "held")``: ``otp.dist`` stops declaring silent nodes down
    ``late`` (seconds, for a pause only); ``node_name``, ``reason``
    (``"bus"``: this node is cut off from Redis; ``"paused"``: it did not run).
``("otp", "dist", "judging")``: it declares silent nodes down again
    ``held`` (seconds the verdicts were held); ``node_name``.

The web layer (``web.endpoint``, ``web.transports``, ``web.socket``, channels):

``("web", "connection", "open")``: a TCP connection accepted
    ``active`` (connections now); ``endpoint``, ``peer``.
``("web", "connection", "close")``
    ``duration``, ``active``; ``endpoint``, ``peer``.
``("web", "websocket", "open")``: a connection upgraded
    ``upgrades`` (the endpoint's total); ``endpoint``, ``peer``, ``path``.
``("web", "websocket", "close")``
    ``duration``, ``bytes_in``, ``bytes_out``, ``frames_in``,
    ``frames_out``; ``endpoint``, ``peer``, ``path``, ``code``.
``("web", "websocket", "shed")``: a slow consumer reset (its outbound buffer was full)
    ``queued_bytes``, ``max_outbound_bytes``; ``endpoint``, ``peer``, ``path``,
    ``limit`` (``"max_outbound_bytes"``: its own; ``"max_outbound_total"``:
    the endpoint's, for all peers together).
``("web", "endpoint", "statistics")``: every ``telemetry_period`` seconds (an ``Endpoint`` option, default 1.0)
    every counter of ``EndpointStatistics`` (``bytes_in``, ``bytes_out``,
    ``active``, ``accepted``...); ``endpoint``, ``address``.
``("web", "socket", "connect")``: a Phoenix socket's ``connect`` ran
    ``duration``; ``socket`` (the class), ``result`` (``"ok"`` or
    ``"error"``), ``peer``.
``("web", "channel", "join")``: a channel's ``join`` ran
    ``duration``; ``channel`` (the class), ``topic``, ``pid``,
    ``socket_id``, ``result`` (``"ok"`` or ``"error"``).
``("web", "channel", "crash")``: a channel process ended abnormally (the client gets ``phx_error``)
    no measurements; ``topic``, ``pid``, ``socket_id``, ``reason``,
    ``joined`` (False: it crashed in ``join``).

LiveView (``web.live``):

``("web", "live_view", "mount", "start" | "stop" | "exception")``
    (a span around ``on_mount`` hooks, ``mount`` and ``handle_params`` of a
    connected mount) see the span events above; ``view`` (the class), ``url``, ``params``.
``("web", "live_view", "handle_event", "start" | "stop" | "exception")``
    the span events; ``view``, ``event``, ``params``.
``("web", "live_view", "render", "stop")``: a render and its diff
    ``duration``, ``diff_bytes`` (the JSON sent); ``view``, ``full``, ``topic``.

Bytes in and out are *not* an event per frame: a broadcast to 10,000
sockets would call every handler 10,000 times. Each connection counts them
(an integer addition per read or write), the total comes with its
``("web", "websocket", "close")`` event, and the endpoint's running totals
(``bytes_in``, ``bytes_out``) come every second with
``("web", "endpoint", "statistics")`` (and from ``Endpoint.statistics``).
"""

from __future__ import annotations

from ._kernel import AlreadyAttached, Handler, attach, attach_many, attached, detach, execute, list_handlers, span
from ._util import fixup_module_metadata as _fixup_module_metadata

__all__ = [
    "attach",
    "attach_many",
    "detach",
    "execute",
    "span",
    "list_handlers",
    "attached",
    "Handler",
    "AlreadyAttached",
]


_fixup_module_metadata(__name__, globals(), defined_in=("otp._kernel._telemetry", "otp._kernel._exceptions"))
