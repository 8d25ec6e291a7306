"""The Tracker behaviour and its client functions: track, untrack, update, list.

Presences live in the shards (``_shard.py``, processes) as pure state
(``_state.py``); ``otp.tracker``'s docstring is the manual.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math

from .._child_spec import ChildSpec
from .._kernel import NotRegistered, Pid, is_alive, resolve_pid
from ..genserver import GenServer
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

    async def init(self, arg: object) -> None:
        """Set up state on ``self``; ``arg`` is the one given to ``start_link``."""

    async def handle_diff(self, diff: dict) -> None:
        """Presences joined and left: ``{topic: (joins, leaves)}``, lists of ``(key, meta)``."""

    async def handle_info(self, message: object) -> object:
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
    ) -> Pid | None:
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
    def child_spec(cls, arg: object = None, *, id: object = None, **options: object) -> ChildSpec:
        """A supervisor child spec for ``cls.start_link(arg, **options)`` (id: ``(cls, name)``)."""
        start = functools.partial(cls.start_link, **options)
        return ChildSpec(id=id if id is not None else (cls, options.get("name")), start=(start, arg))

    # ------------------------------------------------------------ client API (calls)

    @staticmethod
    async def track(tracker: object, pid: Pid, topic: str, key: object, meta: dict) -> str:
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
    async def untrack(tracker: object, pid: Pid, topic: str | None = None, key: object = None) -> None:
        """Untrack ``pid`` from ``(topic, key)``, or from everything when both are omitted."""
        _check_pid(pid)
        if (topic is None) != (key is None):
            raise TypeError(
                f"untrack(tracker, pid) or untrack(tracker, pid, topic, key); got topic={topic!r}, key={key!r}"
            )
        await _request(tracker, Untrack(pid, topic, key))

    @staticmethod
    async def update(tracker: object, pid: Pid, topic: str, key: object, meta: object) -> str:
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
    def list(tracker: object, topic: str) -> list:
        """``[(key, meta), ...]`` present in ``topic``, on every node as this node knows it."""
        return _shard(tracker).state.list(topic)

    @staticmethod
    def topics(tracker: object) -> dict:
        """``{topic: presences}`` of every topic with someone present (a read, no call)."""
        return _shard(tracker).state.topics()

    @staticmethod
    def get_by_key(tracker: object, topic: str, key: object) -> list:
        """``[(pid, meta), ...]`` present in ``topic`` as ``key`` (one per tracked process, on any node)."""
        return _shard(tracker).state.get_by_key(topic, key)

    @staticmethod
    def replicas(tracker: object) -> dict:
        """``{node_name: ReplicaStatus}`` of the other nodes' trackers this one has heard from."""
        return _shard(tracker).replicas.statuses()


# ---------------------------------------------------------------- helpers


def _options(
    pubsub, name, broadcast_period, max_silent_periods, down_period, permdown_period, report_events_to
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


async def _request(tracker: object, request: Track | Untrack | Update) -> object:
    answer = await GenServer.call(tracker, request)
    if answer.__class__ is Failed:
        raise answer.error
    return answer


def _shard(tracker: object) -> Shard:
    pid = tracker if tracker.__class__ is Pid else resolve_pid(tracker)
    shard = SHARDS.get(pid) if pid is not None else None
    if shard is None or not is_alive(pid):
        if tracker.__class__ is Pid:
            raise LookupError(f"{tracker!r} is not a running tracker")
        raise NotRegistered(tracker)
    return shard


def _check_pid(pid: object) -> None:
    if pid.__class__ is not Pid:
        raise TypeError(f"a tracked process must be given as a Pid; got {pid!r}")


def _check_topic(topic: object) -> None:
    if not isinstance(topic, str):
        raise TypeError(f"a tracker topic must be a str; got {topic!r}")
