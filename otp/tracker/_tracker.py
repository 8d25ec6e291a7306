"""The Tracker behaviour and its client functions: track, untrack, update, list.

Presences live in the shards (``_shard.py``, processes) as pure state
(``_state.py``); ``otp.tracker``'s docstring is the manual.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import logging
import math
from typing import Any, Callable

from .._child_spec import ChildSpec
from .._kernel import Destination, NotRegistered, Pid, is_alive, resolve_pid
from ..genserver import GenServer
from ._replicas import ReplicaStatus
from ._shard import SHARDS, Failed, Options, Shard, Track, Untrack, Update

logger = logging.getLogger("otp.tracker")

_CALLBACKS = ("init", "handle_diff", "handle_info")


class Tracker:
    """Subclass it, define ``handle_diff``, start it with ``await MyTracker.start_link(...)``.

    The class also holds the client functions (``Tracker.track``,
    ``Tracker.list``, ...); see the package docstring for the manual.
    """

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in _CALLBACKS:
            if not inspect.iscoroutinefunction(getattr(cls, name)):
                raise TypeError(f"{cls.__qualname__}.{name} must be an async function (async def {name}(...))")

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} Tracker>"

    # ------------------------------------------------------------ callbacks

    # Parameters typed Any and positional-only, so that a subclass names and
    # annotates them as it likes.

    async def init(self, arg: Any, /) -> None:
        """Set up state on ``self``; ``arg`` is the one given to ``start_link``."""

    async def handle_diff(self, diff: dict[str, Any], /) -> None:
        """Presences joined and left: ``{topic: (joins, leaves)}``, lists of ``(key, meta)``."""

    async def handle_info(self, message: Any, /) -> None:
        """Any other message sent to the tracker process. The default logs it."""
        logger.warning("%r received an unexpected message: %r", self, message)

    # ------------------------------------------------------------ starting

    @classmethod
    async def start_link(
        cls,
        arg: object = None,
        *,
        pubsub: str,
        name: str,
        broadcast_period: float = 1.5,
        max_silent_periods: int = 10,
        down_period: float | None = None,
        permdown_period: float = 1200.0,
        report_events_to: Pid | None = None,
        timeout: float = math.inf,
    ) -> Pid:
        """Start this tracker on this node, linked to the caller; return its pid once ``init`` has run.

        Raises:
            ValueError: periods that do not fit together (the message says how).
            StartError: ``init`` raised or returned ``Stop``.
            AlreadyStarted: ``name`` is taken on this node.
        """
        options = _options(
            pubsub, name, broadcast_period, max_silent_periods, down_period, permdown_period, report_events_to
        )
        return await Shard.start_link((cls, arg, options), name=name, timeout=timeout)

    @classmethod
    def child_spec(cls, arg: Any = None, *, id: object = None, **options: Any) -> ChildSpec:
        """A supervisor child spec for ``cls.start_link(arg, **options)`` (id: ``(cls, name)``)."""
        start = functools.partial(cls.start_link, **options)
        return ChildSpec(id=id if id is not None else (cls, options.get("name")), start=(start, arg))

    # ------------------------------------------------------------ client API (calls)

    @staticmethod
    async def track(tracker: Destination, pid: Pid, topic: str, key: object, meta: dict[str, Any]) -> str:
        """Track ``pid`` in ``topic`` as ``key``; return the presence's ``phx_ref``.

        Raises:
            AlreadyTracked: ``pid`` is already tracked under ``(topic, key)``.
        """
        _check_pid(pid)
        _check_topic(topic)
        if not isinstance(meta, dict):
            raise TypeError(f"track() needs meta as a dict (the tracker adds 'phx_ref' to it); got {meta!r}")
        return await _request(tracker, Track(pid, topic, key, meta))

    @staticmethod
    async def untrack(tracker: Destination, pid: Pid, topic: str | None = None, key: object = None) -> None:
        """Untrack ``pid`` from ``(topic, key)``, or from everything when both are omitted."""
        _check_pid(pid)
        if (topic is None) != (key is None):
            raise TypeError(
                f"untrack(tracker, pid) or untrack(tracker, pid, topic, key); got topic={topic!r}, key={key!r}"
            )
        await _request(tracker, Untrack(pid, topic, key))

    @staticmethod
    async def update(
        tracker: Destination,
        pid: Pid,
        topic: str,
        key: object,
        meta: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]],
    ) -> str:
        """Replace the meta of ``pid``'s presence; return the new ``phx_ref``.

        ``meta`` is the new meta (a dict), or a function of the old meta
        returning it (it runs in the tracker process).

        Raises:
            NotTracked: ``pid`` is not tracked under ``(topic, key)``.
        """
        _check_pid(pid)
        _check_topic(topic)
        if not (isinstance(meta, dict) or callable(meta)):
            raise TypeError(f"update() needs meta as a dict, or a function old meta -> new meta; got {meta!r}")
        return await _request(tracker, Update(pid, topic, key, meta))

    # ------------------------------------------------------------ client API (reads, in the caller)

    @staticmethod
    def list(tracker: Destination, topic: str) -> list[tuple[Any, dict[str, Any]]]:
        """``[(key, meta), ...]`` present in ``topic``, on every node as this node knows it."""
        return _shard(tracker).state.list(topic)

    # (builtins.list below: in this class, a bare `list` is the method above.)

    @staticmethod
    def topics(tracker: Destination) -> dict[str, int]:
        """``{topic: presences}`` of every topic with someone present (a read, no call)."""
        return _shard(tracker).state.topics()

    @staticmethod
    def get_by_key(tracker: Destination, topic: str, key: object) -> builtins.list[tuple[Pid, dict[str, Any]]]:
        """``[(pid, meta), ...]`` present in ``topic`` as ``key`` (one per tracked process, on any node)."""
        return _shard(tracker).state.get_by_key(topic, key)

    @staticmethod
    def replicas(tracker: Destination) -> dict[object, ReplicaStatus]:
        """``{node_name: ReplicaStatus}`` of the other nodes' trackers this one has heard from."""
        return _shard(tracker).replicas.statuses()


# ---------------------------------------------------------------- helpers


def _options(
    pubsub: str,
    name: str,
    broadcast_period: float,
    max_silent_periods: int,
    down_period: float | None,
    permdown_period: float,
    report_events_to: Pid | None,
) -> Options:
    if not isinstance(name, str) or not isinstance(pubsub, str):
        raise TypeError(f"a tracker needs name= and pubsub= as str; got name={name!r}, pubsub={pubsub!r}")
    if not broadcast_period > 0 or not (isinstance(max_silent_periods, int) and max_silent_periods >= 1):
        raise ValueError(
            f"broadcast_period must be > 0 and max_silent_periods an int >= 1; "
            f"got {broadcast_period!r} and {max_silent_periods!r}"
        )
    longest_silence = broadcast_period * max_silent_periods
    if down_period is None:
        down_period = 2 * longest_silence
    if down_period < 2 * longest_silence:
        raise ValueError(
            f"down_period must be at least twice the longest silence between heartbeats "
            f"(2 × broadcast_period × max_silent_periods = {2 * longest_silence:g} s), or healthy nodes "
            f"would be taken down; got {down_period:g}. Raise down_period or lower max_silent_periods."
        )
    if not permdown_period > down_period:
        raise ValueError(
            f"permdown_period must be longer than down_period ({down_period:g} s); got {permdown_period:g}"
        )
    return Options(pubsub, name, broadcast_period, max_silent_periods, down_period, permdown_period, report_events_to)


async def _request(tracker: Destination, request: Track | Untrack | Update) -> Any:
    answer = await GenServer.call(tracker, request)
    if answer.__class__ is Failed:
        raise answer.error
    return answer


def _shard(tracker: Destination) -> Shard:
    pid = tracker if tracker.__class__ is Pid else resolve_pid(tracker)
    if pid is not None:
        shard = SHARDS.get(pid)
        if shard is not None and is_alive(pid):
            return shard
    if tracker.__class__ is Pid:
        raise LookupError(f"{tracker!r} is not a running tracker")
    raise NotRegistered(tracker)


def _check_pid(pid: object) -> None:
    if pid.__class__ is not Pid:
        raise TypeError(f"a tracked process must be given as a Pid; got {pid!r}")


def _check_topic(topic: object) -> None:
    if not isinstance(topic, str):
        raise TypeError(f"a tracker topic must be a str; got {topic!r}")
