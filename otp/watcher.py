"""FileWatcher: a GenServer that watches directories and tells its subscribers what changed.

Built on ``watchfiles`` (the Rust ``notify`` crate: inotify on Linux,
FSEvents on macOS), whose async API runs on anyio, so on trio. Install it
with ``pip install 'trio-otp[watch]'``::

    import otp
    from otp.watcher import FileEvent, FileWatcher, Watch

    async def main():
        watcher = await FileWatcher.start_link(Watch(["templates"], patterns=["*.html"]))
        await FileWatcher.subscribe(watcher)
        event = await otp.receive(FileEvent)       # FileEvent(watcher, '/app/templates/x.html', {'modified'})
        ...

What is sent
------------
Each subscriber gets ``FileEvent(watcher, path, kinds)``: ``path`` is
absolute, ``kinds`` a frozenset of ``"added"``, ``"modified"`` and
``"deleted"``. Changes are *debounced*: the watcher waits until nothing has
changed for ``debounce`` seconds (at most ``max_delay``), then sends one
event per path with every kind seen for it meanwhile, so an editor's
save-as-rename-and-write is one event, not five.

``Watch(paths, patterns=(), ignore=(), debounce=0.05, max_delay=1.6, recursive=True)``:

- ``patterns``: only paths matching one of these globs are reported
  (``"*.py"``, ``"templates/*.html"``; matched from the right, as
  ``PurePath.match`` does); none means every path;
- ``ignore``: globs never reported; caches and VCS folders (``.git``,
  ``__pycache__``, ``node_modules``, editor swap files...) are always ignored;
- a path to watch that does not exist makes ``start_link`` fail with
  ``StartError(FileNotFoundError)``.

Recovery
--------
A watched directory that is removed is reported (``{"deleted"}`` for the
directory itself); the watcher then waits for it to come back, reports it
(``{"added"}``) and watches it again: a ``git checkout`` that deletes and
recreates a folder does not leave the watcher blind.

Subscribers and supervision
---------------------------
``await FileWatcher.subscribe(watcher)`` subscribes the caller (or ``pid=``);
``unsubscribe`` stops it. The watcher monitors its subscribers and forgets
those that end. Each watched path has a process of its own, linked to the
watcher: if one fails, the watcher fails with it and its supervisor starts
it again (``FileWatcher.child_spec(Watch(...), name="reloader")``).
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any, Sequence

import attrs

from ._kernel import SHUTDOWN, Destination, Down, Pid, Ref, current_pid, demonitor, monitor, send, spawn_link
from ._kernel import exit as exit_process
from ._util import import_extra
from .genserver import GenServer

__all__ = ["FileWatcher", "FileEvent", "Watch"]

watchfiles = import_extra("watchfiles", extra="watch", needed_by="otp.watcher")

ADDED, MODIFIED, DELETED = "added", "modified", "deleted"
_KINDS = {watchfiles.Change.added: ADDED, watchfiles.Change.modified: MODIFIED, watchfiles.Change.deleted: DELETED}
_CHECK_EVERY_MS = 200  # how often a quiet watch checks that its directory exists (and can notice it is cancelled)


def _globs(value: Sequence[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _paths(value: Sequence[str | os.PathLike[str]] | str | os.PathLike[str]) -> tuple[str, ...]:
    if isinstance(value, (str, os.PathLike)):
        value = [value]
    if not value:
        raise ValueError("Watch needs at least one path to watch")
    return tuple(os.fspath(path) for path in value)


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"Watch {attribute.name} must be more than 0 seconds; got {value!r}")


@attrs.frozen
class Watch:
    """What a :class:`FileWatcher` watches; see the module docstring."""

    paths: tuple[str, ...] = attrs.field(converter=_paths)
    patterns: tuple[str, ...] = attrs.field(default=(), converter=_globs)
    ignore: tuple[str, ...] = attrs.field(default=(), converter=_globs)
    debounce: float = attrs.field(default=0.05, validator=_positive)
    max_delay: float = attrs.field(default=1.6, validator=_positive)
    recursive: bool = True

    def wanted(self, path: str) -> bool:
        """Whether changes of ``path`` are reported (the patterns and ignore globs)."""
        pure = PurePath(path)
        if any(pure.match(glob) for glob in self.ignore):
            return False
        return not self.patterns or any(pure.match(glob) for glob in self.patterns)


@attrs.frozen
class FileEvent:
    """``path`` changed: ``kinds`` holds ``"added"``, ``"modified"``, ``"deleted"``."""

    watcher: Pid
    path: str
    kinds: frozenset[str]


@attrs.frozen
class _Subscribe:
    pid: Pid


@attrs.frozen
class _Unsubscribe:
    pid: Pid


@attrs.frozen
class _Changes:
    """From a path's watching process: path -> the kinds seen, debounced."""

    kinds_by_path: dict[str, frozenset[str]]


class FileWatcher(GenServer):
    """The watcher; see the module docstring."""

    async def init(self, watch: Watch) -> None:
        if not isinstance(watch, Watch):
            raise TypeError(f"FileWatcher.start_link takes a Watch(paths, ...); got {watch!r}")
        roots = [Path(path).resolve() for path in watch.paths]
        for root in roots:
            if not root.exists():
                raise FileNotFoundError(f"cannot watch {str(root)!r}: it does not exist")
        self.subscribers: dict[Pid, Ref] = {}
        self.path_watchers = [spawn_link(_watch_path, current_pid(), root, watch) for root in roots]

    @staticmethod
    async def subscribe(watcher: Destination, pid: Pid | None = None) -> None:
        """Send ``FileEvent`` messages to ``pid`` (default: the caller) until it ends or unsubscribes."""
        await GenServer.call(watcher, _Subscribe(pid if pid is not None else current_pid()))

    @staticmethod
    async def unsubscribe(watcher: Destination, pid: Pid | None = None) -> None:
        """Stop sending events to ``pid`` (default: the caller)."""
        await GenServer.call(watcher, _Unsubscribe(pid if pid is not None else current_pid()))

    async def handle_call(self, request: Any, caller: object) -> None:
        if isinstance(request, _Subscribe):
            if request.pid not in self.subscribers:
                self.subscribers[request.pid] = monitor(request.pid)
        elif isinstance(request, _Unsubscribe):
            ref = self.subscribers.pop(request.pid, None)
            if ref is not None:
                demonitor(ref)
        else:
            raise TypeError(f"a FileWatcher takes subscribe/unsubscribe calls only; got {request!r}")

    async def handle_info(self, message: Any) -> None:
        if isinstance(message, _Changes):
            me = current_pid()
            for path, kinds in sorted(message.kinds_by_path.items()):
                for subscriber in self.subscribers:
                    send(subscriber, FileEvent(me, path, kinds))
        elif isinstance(message, Down) and isinstance(message.pid, Pid) and self.subscribers.get(message.pid) == message.ref:
            del self.subscribers[message.pid]

    async def terminate(self, reason: object) -> None:
        # A NORMAL end does not travel along links: end the path watchers explicitly.
        for pid in self.path_watchers:
            exit_process(pid, SHUTDOWN)

    def format_status(self) -> object:
        return {"subscribers": list(self.subscribers), "path_watchers": self.path_watchers}


# ---------------------------------------------------------------- one process per watched path


async def _watch_path(watcher: Pid, root: Path, watch: Watch) -> None:
    """Watch ``root`` for ever: while it exists, report its changes; while it does not, wait for it."""
    while True:
        await _report_changes_until_removed(watcher, root, watch)
        send(watcher, _Changes({str(root): frozenset({DELETED})}))
        await _wait_until_it_exists(root)
        send(watcher, _Changes({str(root): frozenset({ADDED})}))


async def _report_changes_until_removed(watcher: Pid, root: Path, watch: Watch) -> None:
    root_name = str(root)

    def wanted(change: object, path: str) -> bool:
        return path != root_name and _DEFAULT_FILTER(change, path) and watch.wanted(path)

    async for changes in watchfiles.awatch(
        root,
        watch_filter=wanted,
        debounce=int(watch.max_delay * 1000),
        step=max(1, int(watch.debounce * 1000)),
        recursive=watch.recursive,
        rust_timeout=_CHECK_EVERY_MS,
        yield_on_timeout=True,
    ):
        if changes:
            send(watcher, _Changes(_merge(changes)))
        if not root.exists():
            return


async def _wait_until_it_exists(root: Path) -> None:
    # Watch the nearest ancestor that exists, not recursively, until root is back.
    while not root.exists():
        ancestor = next(parent for parent in root.parents if parent.exists())
        async for _ in watchfiles.awatch(
            ancestor, recursive=False, rust_timeout=_CHECK_EVERY_MS, yield_on_timeout=True, step=10
        ):
            if root.exists() or not ancestor.exists():
                break


def _merge(changes: set[tuple[Any, str]]) -> dict[str, frozenset[str]]:
    kinds: dict[str, set[str]] = {}
    for change, path in changes:
        kinds.setdefault(path, set()).add(_KINDS[change])
    return {path: frozenset(seen) for path, seen in kinds.items()}


_DEFAULT_FILTER = watchfiles.DefaultFilter()
