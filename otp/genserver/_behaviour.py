"""The GenServer behaviour class: callbacks to override, and the client API."""

from __future__ import annotations

import functools
import inspect
import logging
import math

from .._child_spec import ChildSpec
from .._kernel import Pid, check_destination, current_pid
from . import _gen
from ._loop import serve

__all__ = ["GenServer"]

logger = logging.getLogger("otp")

_CALLBACKS = ("init", "handle_call", "handle_cast", "handle_info", "handle_continue", "terminate")


class GenServer:
    """A server process: state on ``self``, one message handled at a time.

    Subclass it, override the callbacks you need, start it with
    ``await MyServer.start_link(arg)`` (usually from a supervisor) and talk to
    it with ``GenServer.call`` and ``GenServer.cast``. See the package
    docstring (``otp.genserver``) for the full manual.

    Class keyword arguments set the defaults of :meth:`child_spec`, as
    Elixir's ``use GenServer, restart: :transient`` does::

        class Cache(GenServer, restart=Restart.TRANSIENT, shutdown=10.0): ...
    """

    _child_spec_defaults: dict = {}

    def __init_subclass__(cls, **child_spec_defaults: object) -> None:
        super().__init_subclass__()
        for name in _CALLBACKS:
            callback = getattr(cls, name)
            if not inspect.iscoroutinefunction(callback):
                raise TypeError(
                    f"{cls.__qualname__}.{name} must be an async function (async def {name}(...)); "
                    f"GenServer callbacks may await"
                )
        cls._child_spec_defaults = {**cls._child_spec_defaults, **child_spec_defaults}

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} GenServer>"

    # ------------------------------------------------------------ callbacks

    async def init(self, arg: object) -> object:
        """Set up state on ``self``. Return None, ``Continue``, ``Stop`` or ``Ignore``."""
        return None

    async def handle_call(self, request: object, caller: object) -> object:
        """Answer a ``call``: return the reply (or ``NoReply``, ``Continue``, ``Stop``)."""
        raise NotImplementedError(
            f"{type(self).__qualname__} received the call {request!r} but does not define handle_call"
        )

    async def handle_cast(self, request: object) -> object:
        """Handle a ``cast``: return None (or ``Continue``, ``Stop``)."""
        raise NotImplementedError(
            f"{type(self).__qualname__} received the cast {request!r} but does not define handle_cast"
        )

    async def handle_info(self, message: object) -> object:
        """Handle any other message. The default logs it and carries on."""
        logger.warning(
            "GenServer %r (%s) received an unexpected message in handle_info: %r",
            current_pid(),
            type(self).__qualname__,
            message,
        )
        return None

    async def handle_continue(self, arg: object) -> object:
        """Carry on after a callback returned ``Continue(arg)``."""
        raise NotImplementedError(
            f"{type(self).__qualname__} returned Continue({arg!r}) but does not define handle_continue"
        )

    async def terminate(self, reason: object) -> None:
        """Clean up before exiting with ``reason`` (see the package docstring for when it runs)."""

    def format_status(self) -> object:
        """What the crash report shows as the state; default: the instance's attributes."""
        return dict(vars(self))

    # ------------------------------------------------------------ starting

    @classmethod
    async def start_link(cls, arg: object = None, *, name: object = None, timeout: float = math.inf) -> Pid | None:
        """Start a server linked to the caller; return its pid once ``init`` has finished.

        Returns None if ``init`` returned ``Ignore()``.

        Args:
            arg: passed to ``init``.
            name: a registered name (str) or a via-name to register it under.
            timeout: seconds ``init`` may take; then it is killed.

        Raises:
            StartError: ``init`` raised, returned ``Stop``, or timed out (``.reason``).
                No process is left behind, and the caller is not sent an exit signal.
            AlreadyStarted: ``name`` is taken (``.pid`` holds it).
        """
        return await cls._start(arg, name, timeout, link=True)

    @classmethod
    async def start(cls, arg: object = None, *, name: object = None, timeout: float = math.inf) -> Pid | None:
        """Like :meth:`start_link`, without the link."""
        return await cls._start(arg, name, timeout, link=False)

    @classmethod
    async def _start(cls, arg, name, timeout, *, link: bool) -> Pid | None:
        if name is not None:
            check_destination(name)
        return await _gen.start(serve, cls, arg, name, link, link=link, timeout=timeout, what=cls.__qualname__)

    @classmethod
    def child_spec(cls, arg: object = None, **overrides: object):
        """A supervisor child spec that starts ``cls.start_link(arg)``.

        Defaults: id is the class, restart permanent, shutdown 5 s, type worker;
        class keyword arguments and ``overrides`` change them, and
        ``name=`` is passed on to ``start_link``.
        """
        fields = {**cls._child_spec_defaults, **overrides}
        start = cls.start_link
        if "name" in fields:
            start = functools.partial(cls.start_link, name=fields.pop("name"))
        fields.setdefault("id", cls)
        return ChildSpec(start=(start, arg), **fields)

    # ------------------------------------------------------------ client API

    call = staticmethod(_gen.call)
    cast = staticmethod(_gen.cast)
    reply = staticmethod(_gen.reply)
    stop = staticmethod(_gen.stop)
