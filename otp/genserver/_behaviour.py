"""The GenServer behaviour class: callbacks to override, and the client API."""

from __future__ import annotations

import functools
import inspect
import logging
import math
import sys
from typing import TYPE_CHECKING, Any, Awaitable, Callable, ClassVar, Generic, Protocol, overload

from .._child_spec import ChildSpec
from .._kernel import Destination, Pid, Via, current_pid
from . import _gen
from ._loop import serve
from ._messages import From
from ._results import Continue, NoReply, Stop
from ._results import Reply as _ReplyWith  # (the name Reply is the type variable of replies here)

if TYPE_CHECKING:
    # PEP 696 defaults, so that a bare ``GenServer`` means ``GenServer[Any, Any]``
    # (and ``GenServer.call`` returns Any) for type checkers. Python 3.11's
    # TypeVar has no ``default=``; type checkers bring their own typing_extensions.
    from typing_extensions import TypeVar

    Request = TypeVar("Request", default=Any)
    Reply = TypeVar("Reply", default=Any)
else:
    from typing import TypeVar

    Request = TypeVar("Request")
    Reply = TypeVar("Reply")

__all__ = ["GenServer"]


class _CannotIgnore(Protocol):
    """A server whose ``init`` is not annotated to return ``Ignore``: its start gives a Pid."""

    async def init(self, arg: Any, /) -> None | NoReply | Continue | Stop: ...

logger = logging.getLogger("otp.genserver")

_CALLBACKS = ("init", "handle_call", "handle_cast", "handle_info", "handle_continue", "terminate", "code_change")


class GenServer(Generic[Request, Reply]):
    """A server process: state on ``self``, one message handled at a time.

    Subclass it, override the callbacks you need, start it with
    ``await MyServer.start_link(arg)`` (usually from a supervisor) and talk to
    it with ``GenServer.call`` and ``GenServer.cast``. See the package
    docstring (``otp.genserver``) for the full manual, and its "Types"
    section for ``GenServer[Request, Reply]``.

    Class keyword arguments set the defaults of :meth:`child_spec`, as
    Elixir's ``use GenServer, restart: :transient`` does::

        class Cache(GenServer, restart=Restart.TRANSIENT, shutdown=10.0): ...
    """

    _child_spec_defaults: dict[str, object] = {}

    vsn: ClassVar[Any] = None
    """The version of this class's code, given to ``code_change`` as ``old_vsn`` by ``otp.upgrade``.

    A class that does not set it takes its module's ``__version__`` as the
    module was when the class was defined (None if there is none).
    """

    def __init_subclass__(cls, **child_spec_defaults: object) -> None:
        super().__init_subclass__()
        if "vsn" not in vars(cls):
            cls.vsn = getattr(sys.modules.get(cls.__module__), "__version__", None)
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

    # The callbacks' parameters are Any (or the class's Request), and
    # positional-only, so that a subclass may name and annotate them as it
    # likes without an override error. init returns Any so that its
    # annotation in a subclass decides what start_link returns (see _CannotIgnore).

    async def init(self, arg: Any, /) -> Any:
        """Set up state on ``self``. Return None, ``Continue``, ``Stop`` or ``Ignore``."""
        return None

    async def handle_call(
        self, request: Request, caller: From, /
    ) -> Reply | _ReplyWith | NoReply | Continue | Stop:
        """Answer a ``call``: return the reply (or ``Reply``, ``NoReply``, ``Continue``, ``Stop``)."""
        raise NotImplementedError(
            f"{type(self).__qualname__} received the call {request!r} but does not define handle_call"
        )

    async def handle_cast(self, request: Any, /) -> None | NoReply | Continue | Stop:
        """Handle a ``cast``: return None (or ``Continue``, ``Stop``)."""
        raise NotImplementedError(
            f"{type(self).__qualname__} received the cast {request!r} but does not define handle_cast"
        )

    async def handle_info(self, message: Any, /) -> None | NoReply | Continue | Stop:
        """Handle any other message. The default logs it and carries on."""
        logger.warning(
            "GenServer %r (%s) received an unexpected message in handle_info: %r",
            current_pid(),
            type(self).__qualname__,
            message,
        )
        return None

    async def handle_continue(self, arg: Any, /) -> None | NoReply | Continue | Stop:
        """Carry on after a callback returned ``Continue(arg)``."""
        raise NotImplementedError(
            f"{type(self).__qualname__} returned Continue({arg!r}) but does not define handle_continue"
        )

    async def terminate(self, reason: Any, /) -> None:
        """Clean up before exiting with ``reason`` (see the package docstring for when it runs)."""

    async def code_change(self, old_vsn: Any, extra: Any, /) -> None:
        """Bring the state on ``self`` up to this class's code during ``otp.upgrade``.

        Runs in the server, suspended, with ``self`` already an instance of
        the new class and its attributes as the old code left them.
        ``old_vsn`` is the old class's ``vsn``; ``extra`` what the upgrade was
        given. Return None; raise to refuse: the old class and attributes
        are put back and the server runs on as before. The default keeps the
        attributes as they are.
        """

    def format_status(self) -> object:
        """What the crash report shows as the state; default: the instance's attributes."""
        return dict(vars(self))

    # ------------------------------------------------------------ starting

    @overload
    @classmethod
    async def start_link(
        cls: type[_CannotIgnore], arg: Any = None, *, name: str | Via | None = None, timeout: float = math.inf
    ) -> Pid: ...
    @overload
    @classmethod
    async def start_link(
        cls, arg: Any = None, *, name: str | Via | None = None, timeout: float = math.inf
    ) -> Pid | None: ...

    @classmethod
    async def start_link(
        cls, arg: Any = None, *, name: str | Via | None = None, timeout: float = math.inf
    ) -> Pid | None:
        """Start a server linked to the caller; return its pid once ``init`` has finished.

        Returns None if ``init`` returned ``Ignore()``. For type checkers it
        returns a ``Pid``, unless ``init`` is annotated as possibly returning
        ``Ignore`` (``-> Ignore | None``): then ``Pid | None``.

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

    @overload
    @classmethod
    async def start(
        cls: type[_CannotIgnore], arg: Any = None, *, name: str | Via | None = None, timeout: float = math.inf
    ) -> Pid: ...
    @overload
    @classmethod
    async def start(
        cls, arg: Any = None, *, name: str | Via | None = None, timeout: float = math.inf
    ) -> Pid | None: ...

    @classmethod
    async def start(
        cls, arg: Any = None, *, name: str | Via | None = None, timeout: float = math.inf
    ) -> Pid | None:
        """Like :meth:`start_link`, without the link."""
        return await cls._start(arg, name, timeout, link=False)

    @classmethod
    async def _start(cls, arg: object, name: str | Via | None, timeout: float, *, link: bool) -> Pid | None:
        if name is not None:
            _check_name(name)
        return await _gen.start(serve, cls, arg, name, link, link=link, timeout=timeout, what=cls.__qualname__)

    @classmethod
    def child_spec(cls, arg: Any = None, **overrides: Any) -> ChildSpec:
        """A supervisor child spec that starts ``cls.start_link(arg)``.

        Defaults: id is the class, restart permanent, shutdown 5 s, type worker;
        class keyword arguments and ``overrides`` change them, and
        ``name=`` is passed on to ``start_link``.
        """
        fields = {**cls._child_spec_defaults, **overrides}
        start: Callable[..., Awaitable[Pid | None]] = cls.start_link
        if "name" in fields:
            start = functools.partial(cls.start_link, name=fields.pop("name"))
        fields.setdefault("id", cls)
        return ChildSpec(start=(start, arg), **fields)

    # ------------------------------------------------------------ client API

    if TYPE_CHECKING:
        # For type checkers, call and cast are classmethods, so that calling
        # them through a subclass of GenServer[Request, Reply] checks the
        # request and gives the reply's type. At run time they are the plain
        # functions (no bound method on the hottest path).

        @classmethod
        async def call(
            cls: type[GenServer[Request, Reply]], server: Destination, request: Request, timeout: float = 5.0
        ) -> Reply: ...

        @classmethod
        def cast(cls, server: Destination, request: object) -> None: ...

    else:
        call = staticmethod(_gen.call)
        cast = staticmethod(_gen.cast)

    reply = staticmethod(_gen.reply)
    stop = staticmethod(_gen.stop)


def _check_name(name: object) -> None:
    # In the caller, before anything starts: a name the new process could not
    # register would only crash it there. A (name, node) destination is no
    # name either: a process registers on its own node.
    if not isinstance(name, (str, Via)):
        raise TypeError(
            f"name= must be a registered name (a str) or a via-name such as Registry.via(registry, key); got {name!r}"
        )
