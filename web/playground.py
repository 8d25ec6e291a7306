"""One-file LiveView apps: ``web.playground(CounterLive)`` serves a view, its clients, a layout, and reloads it live.

A whole app in one file, served in one line (as Phoenix Playground does
for Elixir)::

    # counter.py
    import web
    from web.live import LiveView, compile_template

    COUNTER = compile_template('''<span id="count">{@count}</span>
    <button id="inc" phx-click="inc">+</button>''')

    class CounterLive(LiveView):
        async def mount(self, params, session, socket):
            socket.assign(count=0)

        async def handle_event(self, event, value, socket):
            socket.update("count", lambda n: n + 1)

        def render(self, assigns, changed):
            return COUNTER.render(assigns, changed)

    if __name__ == "__main__":
        web.playground(CounterLive)        # python counter.py: http://127.0.0.1:4000

or, with no last line, ``python -m web.playground counter.py`` (the file's
one LiveView is found; ``--view NAME`` picks one of several; ``--port``,
``--host``, ``--no-reload``). Either way the node prints ``listening on
http://HOST:PORT`` and serves until Ctrl-C: the view at ``/`` over the
official ``phoenix_live_view`` client (WebSocket, long-poll as fallback),
in ``default_layout`` with a little style.

Live reload
-----------
Saving the file reloads it: the file is run again as a fresh module (its
``if __name__ == "__main__"`` block does not run, and a bare
``web.playground(...)`` line in it does nothing while it is reloaded), the
view of the same name becomes the page's view, and every open page reloads
itself, so it shows the new code from its dead render on, layout and
statics included. A file that fails to run (a syntax error, an exception
at import) is reported in the log with its traceback and in the browser's
console; the last good version goes on serving until the file is fixed.

How pages learn of a change: each page joins ``playground:reload`` on a
socket of its own (``/playground/socket``, the official ``phoenix``
client, which every LiveView page loads anyway) and reloads on its
``reload`` push. Its join reply carries the app's version, so a page
rendered just before a change, or whose socket was down during one (the
server restarted), reloads as soon as it joins again. Why not the
LiveView's own reconnect (ending every view process so that the client
rejoins)? The client would show its error state for the second it waits
before rejoining, and a rejoin mounts the new view but keeps the page
around it; a reload shows everything new.

In a node of your own
---------------------
:func:`children` gives the supervision tree's children, to start under a
supervisor of yours (tests do): a PubSub, the :class:`Playground` process
(which holds the app, watches the file and reloads), and the endpoint.
``await Playground.router(name)`` is the app's current
:class:`~web.live.LiveRouter`, for ``web.testing.live``.

Live reload needs the ``watch`` extra (``pip install 'trio-otp[watch]'``);
without it the app is served without, and a warning says so.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import inspect
import logging
import os
import secrets
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, ClassVar

import attrs

import otp
from otp import ChildSpec, ChildType, GenServer, PubSub, Supervisor, pubsub

from ._channel_server import fastlane
from ._http import Request, Response
from ._message import Broadcast
from .channel import Channel, ChannelSocket, Ok
from .endpoint import Endpoint
from .live import LiveRouter, LiveView
from .live._router import default_layout
from .socket import Socket
from .transports.phoenix import phoenix_socket
from .transports.websocket import ConnectInfo, WebSocket

__all__ = ["playground", "children", "Playground", "load_view", "main", "RELOAD_TOPIC", "SOCKET_PATH"]

logger = logging.getLogger("web.playground")

RELOAD_TOPIC = "playground:reload"
SOCKET_PATH = "/playground/socket"  # the reload socket's mount (phoenix.js adds /websocket)
MODULE_NAME = "__playground__"  # the name the app's file runs under when (re)loaded

# True while the app's file runs: a bare web.playground(...) line in it must not start a second server.
_loading = False


# ---------------------------------------------------------------- the one line


def playground(
    view: type[LiveView] | str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 4000,
    path: str = "/",
    live_reload: bool = True,
) -> None:
    """Serve ``view`` (a LiveView class, or the path of a file that defines one) until Ctrl-C.

    Runs a node (``otp.run``) and prints ``listening on http://HOST:PORT``
    once it accepts connections; see the module docstring. Called while
    the playground (re)loads the app's file, it does nothing.

    Args:
        view: the LiveView class (its file is the one watched), or a file's path.
        host, port: where to listen.
        path: the view's route.
        live_reload: watch the file and reload open pages when it changes.

    Raises:
        TypeError, ValueError: ``view`` is not a LiveView class, or its file defines none (or several).
    """
    if _loading:
        return
    specs = children(view, host=host, port=port, path=path, live_reload=live_reload, on_listening=print)

    async def serve() -> None:
        await Supervisor.start_link(specs)
        await otp.receive(lambda message: False)  # until Ctrl-C

    try:
        otp.run(serve)
    except KeyboardInterrupt:
        pass


def children(
    view: type[LiveView] | str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 4000,
    path: str = "/",
    live_reload: bool = True,
    name: str = "playground",
    on_listening: Callable[[str], object] | None = None,
) -> list[ChildSpec]:
    """The playground's supervision tree, in start order: a PubSub, the :class:`Playground`, the endpoint.

    ``name`` names the :class:`Playground` process (and, suffixed
    ``.pubsub``, its PubSub). ``on_listening(line)`` gets the ``listening
    on http://HOST:PORT`` line. The other arguments are :func:`playground`'s.

    Raises:
        TypeError, ValueError: as :func:`playground`.
    """
    app = _App(_source(view), path, secret=secrets.token_urlsafe(32), pubsub=f"{name}.pubsub")
    return [
        PubSub.child_spec(app.pubsub),
        Playground.child_spec((app, live_reload), name=name),
        _endpoint_child(app, host, port, on_listening),
    ]


# ---------------------------------------------------------------- loading the app's file


@attrs.frozen
class _Source:
    """Where the app comes from: its file (None: a class without one) and its view's name."""

    file: Path | None
    view_name: str | None
    first: type[LiveView]  # the view to serve until the file changes


def _source(view: type[LiveView] | str | os.PathLike[str]) -> _Source:
    if isinstance(view, (str, os.PathLike)):
        file = Path(view).resolve()
        loaded = load_view(file)
        return _Source(file, loaded.__name__, loaded)
    if not (isinstance(view, type) and issubclass(view, LiveView)):
        raise TypeError(f"web.playground serves a LiveView class or the path of a .py file defining one; got {view!r}")
    try:
        file_name = inspect.getsourcefile(view)
    except TypeError:  # a class with no file (defined in the REPL): served, not reloaded
        file_name = None
    return _Source(Path(file_name).resolve() if file_name else None, view.__name__, view)


def load_view(file: str | os.PathLike[str], name: str | None = None) -> type[LiveView]:
    """Run ``file`` as a fresh module and return its LiveView: the one named ``name``, or the only one it defines.

    Raises:
        ValueError: ``name`` is not a LiveView of the file, or (without
            ``name``) the file defines no LiveView or several.
        Exception: whatever running the file raised (a ``SyntaxError`` say).
    """
    module = _run_file(Path(file))
    if name is not None:
        found = getattr(module, name, None)
        if not (isinstance(found, type) and issubclass(found, LiveView)):
            raise ValueError(f"{file} defines no LiveView named {name!r} (it defines: {_names(_views_of(module))})")
        return found
    views = _views_of(module)
    if len(views) != 1:
        what = "no LiveView subclass" if not views else f"{len(views)} LiveViews ({_names(views)})"
        raise ValueError(f"{file} defines {what}: say which to serve, python -m web.playground {file} --view NAME")
    return views[0]


def _run_file(file: Path) -> ModuleType:
    """``file`` run as module ``__playground__`` (in ``sys.modules`` while its classes live, as attrs and pickle expect)."""
    global _loading
    spec = importlib.util.spec_from_file_location(MODULE_NAME, file)
    if spec is None or spec.loader is None:
        raise ValueError(f"{file} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(MODULE_NAME)
    sys.modules[MODULE_NAME] = module
    _loading = True
    try:
        spec.loader.exec_module(module)
    except BaseException:
        _restore_module(previous)  # the last good version stays the one its classes name
        raise
    finally:
        _loading = False
    return module


def _restore_module(previous: ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(MODULE_NAME, None)
    else:
        sys.modules[MODULE_NAME] = previous


def _views_of(module: ModuleType) -> list[type[LiveView]]:
    """The LiveView classes ``module`` defines (not those it imports)."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, LiveView) and value.__module__ == module.__name__
    ]


def _names(views: list[type[LiveView]]) -> str:
    return ", ".join(view.__name__ for view in views) or "none"


# ---------------------------------------------------------------- the app and its process


#: The page's look: readable defaults, nothing to learn.
STYLE = """
  <style>
    body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5 }
    button { font: inherit; padding: .2rem .8rem; margin: 0 .2rem; cursor: pointer }
  </style>"""


def _reload_script(version: int) -> str:
    """The page's side of live reload: join the reload topic; reload on a push, or on a join that finds a newer app."""
    return f"""
  <script>
    addEventListener("DOMContentLoaded", () => {{
      const reloader = new Phoenix.Socket("{SOCKET_PATH}");
      reloader.connect();
      const channel = reloader.channel("{RELOAD_TOPIC}", {{}});
      const reload = () => location.reload();
      channel.on("reload", reload);
      channel.on("reload_failed", ({{error}}) => console.error("web.playground: the app did not load\\n" + error));
      channel.join().receive("ok", ({{version}}) => {{ if (version !== {version}) reload(); }});
    }});
  </script>"""


class _App:
    """The app now: its router and version, read by every request without a round trip; the Playground writes them."""

    __slots__ = ("source", "path", "secret", "pubsub", "version", "router", "handler", "websocket")

    def __init__(self, source: _Source, path: str, *, secret: str, pubsub: str) -> None:
        self.source = source
        self.path = path
        self.secret = secret
        self.pubsub = pubsub
        self.version = 0
        self.serve(source.first)

    def serve(self, view: type[LiveView]) -> None:
        """Make ``view`` the app's, as version ``version + 1``: new pages get it."""
        self.version += 1
        layout = functools.partial(default_layout, head=STYLE + _reload_script(self.version))
        # One secret for every version: a page rendered by one router joins through the next.
        self.router = LiveRouter(secret=self.secret, routes={self.path: view}, pubsub=self.pubsub, layout=layout)
        self.handler = self.router.http()
        self.websocket = self.router.websocket()


class Playground(GenServer):
    """Holds the app, watches its file, reloads it on a change and tells open pages to reload."""

    async def init(self, arg: tuple[_App, bool]) -> None:
        self.app, live_reload = arg
        self.watcher = None
        if live_reload and self.app.source.file is not None:
            self.watcher = await _watch(self.app.source.file)

    async def handle_call(self, request: object, caller: object) -> object:
        if request == "router":
            return self.app.router
        if request == "version":
            return self.app.version
        raise ValueError(f"Playground takes the calls 'router' and 'version'; got {request!r}")

    async def handle_info(self, message: object) -> None:
        from otp.watcher import FileEvent

        if isinstance(message, FileEvent) and message.kinds != {"deleted"}:  # (an editor's save may delete first)
            self._reload()

    def _reload(self) -> None:
        source = self.app.source
        assert source.file is not None  # only a file is watched
        try:
            view = load_view(source.file, source.view_name)
        except Exception as error:
            logger.warning(
                "%s did not load (%s: %s); still serving the last version", source.file, type(error).__name__, error,
                exc_info=error,
            )
            self._tell_pages("reload_failed", {"error": f"{type(error).__name__}: {error}"})
            return
        self.app.serve(view)
        self._tell_pages("reload", {"version": self.app.version})

    def _tell_pages(self, event: str, payload: dict[str, Any]) -> None:
        pubsub.local_broadcast(self.app.pubsub, RELOAD_TOPIC, Broadcast(RELOAD_TOPIC, event, payload), dispatcher=fastlane)

    @staticmethod
    async def router(server: otp.Destination) -> LiveRouter:
        """The app's current router (for ``web.testing.live``)."""
        return await GenServer.call(server, "router")

    @staticmethod
    async def version(server: otp.Destination) -> int:
        """The app's version: 1 as started, one more per reload that loaded."""
        return await GenServer.call(server, "version")


async def _watch(file: Path) -> otp.Pid | None:
    """A FileWatcher of ``file`` (its directory, that name only), this process subscribed; None without the extra."""
    try:
        from otp.watcher import FileWatcher, Watch
    except ImportError as error:
        logger.warning("live reload is off: %s", error)
        return None
    watcher = await FileWatcher.start_link(Watch([file.parent], patterns=[file.name], recursive=False))
    await FileWatcher.subscribe(watcher)
    return watcher


# ---------------------------------------------------------------- the endpoint


class _ReloadChannel(Channel):
    """``playground:reload``: the join answers the app's version; pushes are broadcast by the Playground."""

    app: ClassVar[_App]  # set on the subclass each playground makes

    async def join(self, topic: str, payload: Any, socket: ChannelSocket) -> Ok:
        return Ok({"version": self.app.version})


def _reload_socket(app: _App) -> WebSocket:
    channel = type("ReloadChannel", (_ReloadChannel,), {"app": app})

    class ReloadSocket(Socket):
        channels = {RELOAD_TOPIC: channel}

        async def connect(self, params: dict, connect_info: dict) -> dict:
            return {}

    return phoenix_socket(ReloadSocket, pubsub=app.pubsub, path=SOCKET_PATH + "/websocket")


def _live_socket(app: _App) -> WebSocket:
    """The ``/live`` mount, handing each connection to the mount of the router current when it connected."""

    async def accept(info: ConnectInfo) -> object:
        websocket = app.websocket
        accepted = True if websocket.accept is None else websocket.accept(info)
        if inspect.isawaitable(accepted):
            accepted = await accepted
        return None if accepted is None or accepted is False else (websocket, accepted)

    def handler(info: ConnectInfo, accepted: Any) -> Any:
        websocket, inner = accepted
        return websocket.handler(info, inner)

    return attrs.evolve(app.websocket, accept=accept, handler=handler)


def _endpoint_child(app: _App, host: str, port: int, on_listening: Callable[[str], object] | None) -> ChildSpec:
    async def handler(request: Request) -> Response:
        return await app.handler(request)

    async def start_endpoint() -> otp.Pid:
        pid = await Endpoint.start_link(handler, host=host, port=port, websocket=[_live_socket(app), _reload_socket(app)])
        if on_listening is not None:
            bound_host, bound_port = Endpoint.address(pid)
            on_listening(f"listening on http://{bound_host}:{bound_port}")
        return pid

    return ChildSpec(id="endpoint", start=(start_endpoint,), type=ChildType.SUPERVISOR)


# ---------------------------------------------------------------- python -m web.playground


def main(argv: list[str] | None = None) -> int:
    """``python -m web.playground app.py [--view NAME] [--host H] [--port P] [--no-reload]``; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m web.playground", description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the app's Python file")
    parser.add_argument("--view", help="the LiveView to serve, when the file defines several")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--path", default="/", help="the view's route (default /)")
    parser.add_argument("--no-reload", action="store_true", help="do not watch the file")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not Path(args.file).is_file():
        parser.error(f"{args.file}: no such file")
    try:
        view = load_view(args.file, args.view)
    except ValueError as error:
        parser.error(str(error))
    playground(view, host=args.host, port=args.port, path=args.path, live_reload=not args.no_reload)
    return 0


class _CallableModule(ModuleType):
    """This module, callable: ``web.playground(View)`` is :func:`playground` (Python's documented
    way to customise a module is to set its ``__class__``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        return playground(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    # Run as a script, this file is a module named __main__; the app's file
    # imports (and may call) web.playground, whose state is the one that counts.
    from web.playground import main as main_of_the_module

    sys.exit(main_of_the_module())
