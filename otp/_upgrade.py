"""Hot code upgrade: reload a module, then move each of its live GenServers to the new code.

``await otp.upgrade(module)`` does, in order:

1. find the live GenServers of the caller's node whose class the module
   defines (``type(server).__module__`` is the module's name);
2. reload the module (``importlib.reload``). If the new code does not import
   (a ``SyntaxError``, an exception at import), the module's namespace is
   put back as it was, nothing else has changed, and the error is raised;
3. note which old class each new class replaces (same qualified name), so
   that supervisors start the new class from then on (:func:`follow_upgrades`);
4. for each server, one at a time: ``otp.sys.suspend``, then
   ``otp.sys.change_code`` (the instance takes the new class of the same
   qualified name and its ``code_change(old_vsn, extra)`` runs in the
   server), then ``otp.sys.resume``. Its messages wait in its mailbox
   meanwhile and are handled, in order, by the new code; none is lost. A
   ``code_change`` that raises leaves that server on its old class and
   attributes, and the upgrade goes on with the next;
5. return an :class:`UpgradeReport`: the servers upgraded, those that
   failed and why, how long each was paused.

Why one server at a time, not all suspended first as OTP's release handler
does: the BEAM keeps two versions of a module, so every process must move
before the old one is purged; Python keeps a class alive for as long as an
instance uses it, so old and new code run side by side safely, and each
server is paused only for its own change (tens of microseconds: see
``python -m benchmarks upgrade``). The price: while the upgrade runs, an
upgraded server may talk to one not upgraded yet, so a new message shape
must be understood by both versions for that moment (OTP's rule for
upgrades across nodes anyway).

What it does not do: instances of a subclass defined in *another* module
keep that subclass, whose base is still the old class (upgrade that module
too, after this one); a class the new code no longer defines, or defines
inside a function, cannot be found by name: its servers are reported as
failed and keep running the old code.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import weakref
from time import perf_counter
from types import ModuleType
from typing import Any, Iterator, Mapping

import attrs

from ._child_spec import ChildSpec
from ._kernel import Pid, behaviour_of, processes
from ._sys import DEFAULT_TIMEOUT, change_code, resume, suspend
from .genserver import GenServer

__all__ = ["upgrade", "UpgradeReport", "follow_upgrades"]


@attrs.frozen
class UpgradeReport:
    """What ``otp.upgrade`` did.

    Attributes:
        module: the module's name.
        upgraded: the servers now running the new code, in the order they moved.
        failed: the servers still running the old code, each with why: the
            exception their ``code_change`` raised (inside
            :class:`~otp.sys.CallbackFailed`), a ``CallTimeout`` from a
            server too busy to be suspended in time, ``NoProc`` for one that
            ended meanwhile, a ``LookupError`` for a class the new code lacks.
        classes: the qualified names of the classes the new code replaced.
        pauses: seconds each upgraded server was suspended, in the order of ``upgraded``.
    """

    module: str
    upgraded: tuple[Pid, ...]
    failed: dict[Pid, BaseException]
    classes: tuple[str, ...]
    pauses: tuple[float, ...]

    @property
    def ok(self) -> bool:
        """True if every server found is running the new code."""
        return not self.failed


async def upgrade(module: ModuleType | str, *, extra: object = None, timeout: float = DEFAULT_TIMEOUT) -> UpgradeReport:
    """Reload ``module`` and move its live GenServers to the new code, keeping their state.

    Args:
        module: the module (or its name; it must be imported already).
        extra: given to every ``code_change(old_vsn, extra)``.
        timeout: for each ``otp.sys`` request to each server.

    Raises:
        Exception: whatever reloading the module raised; then nothing was changed.
    """
    module = _imported(module)
    servers = _servers_of(module.__name__)
    before = _classes_of(module)
    _reload(module)
    replaced = {old: new for name, new in _classes_of(module).items() if (old := before.get(name)) not in (None, new)}
    _SUCCESSORS.update(replaced)
    upgraded: list[Pid] = []
    pauses: list[float] = []
    failed: dict[Pid, BaseException] = {}
    for pid, cls in servers:
        try:
            pause = await _upgrade_server(pid, _new_class(replaced, cls, module.__name__), extra, timeout)
        except Exception as error:
            failed[pid] = error
        else:
            upgraded.append(pid)
            pauses.append(pause)
    names = tuple(sorted(old.__qualname__ for old in replaced))
    return UpgradeReport(module.__name__, tuple(upgraded), failed, names, tuple(pauses))


async def _upgrade_server(pid: Pid, new_class: type, extra: object, timeout: float) -> float:
    """Suspend, change, resume one server; return how long it was suspended."""
    await suspend(pid, timeout)
    suspended_at = perf_counter()
    try:
        await change_code(pid, new_class, extra, timeout)
    finally:
        await resume(pid, timeout)  # changed or not: it runs on
    return perf_counter() - suspended_at


# ---------------------------------------------------------------- finding servers and classes


def _imported(module: ModuleType | str) -> ModuleType:
    if isinstance(module, ModuleType):
        return module
    if isinstance(module, str):
        if module not in sys.modules:
            raise LookupError(f"upgrade: the module {module!r} is not imported; there is nothing running its code")
        return sys.modules[module]
    raise TypeError(f"upgrade takes a module or a module's name; got {module!r}")


def _servers_of(module_name: str) -> list[tuple[Pid, type]]:
    """The live GenServers of this node whose class ``module_name`` defines, oldest first."""
    found = []
    for pid in processes():
        behaviour = behaviour_of(pid)
        if behaviour is not None and isinstance(behaviour[1], GenServer):
            cls = type(behaviour[1])
            if cls.__module__ == module_name:
                found.append((pid, cls))
    return found


def _classes_of(module: ModuleType) -> dict[str, type]:
    """Every class ``module`` defines, nested ones included, by qualified name."""
    return {cls.__qualname__: cls for cls in _walk(vars(module), module.__name__, set())}


def _walk(namespace: Mapping[str, Any], module_name: str, seen: set[int]) -> Iterator[type]:
    for value in list(namespace.values()):
        if isinstance(value, type) and value.__module__ == module_name and id(value) not in seen:
            seen.add(id(value))
            yield value
            yield from _walk(vars(value), module_name, seen)


def _reload(module: ModuleType) -> None:
    # importlib.reload runs the new code in the module's own namespace: code
    # that fails half way leaves half of it new. Put the old one back.
    saved = dict(vars(module))
    try:
        importlib.reload(module)
    except BaseException:
        namespace = vars(module)
        namespace.clear()
        namespace.update(saved)
        sys.modules[module.__name__] = module
        raise


def _new_class(replaced: dict[type, type], cls: type, module_name: str) -> type:
    new = replaced.get(cls)
    if new is None:
        raise LookupError(
            f"the new code of {module_name} has no class {cls.__qualname__} (by that qualified name) "
            f"to replace the old one with; the server keeps the old code"
        )
    return new


# ---------------------------------------------------------------- following upgrades


# Old class -> the class that replaced it. Weak keys: an old class that no
# instance or spec uses any more may go.
_SUCCESSORS: weakref.WeakKeyDictionary[type, type] = weakref.WeakKeyDictionary()


def follow_upgrades(value: Any) -> Any:
    """``value`` with every class an upgrade replaced put to its newest version.

    What a supervisor calls on a child's start before running it: a spec
    written as ``(Worker.start_link, arg)``, a ``functools.partial`` of it,
    or a nested supervisor's children (tuples, lists, ``ChildSpec``, classes)
    start the new code after ``otp.upgrade``. Anything else is returned as
    is; with no upgrade done, ``value`` itself at the cost of one test.
    """
    if not _SUCCESSORS:
        return value
    return _follow(value)


def _follow(value: Any) -> Any:
    if isinstance(value, type):
        return _newest(value)
    if inspect.ismethod(value) and isinstance(value.__self__, type):  # Worker.start_link
        new = _newest(value.__self__)
        return value if new is value.__self__ else getattr(new, value.__func__.__name__)
    if isinstance(value, functools.partial):
        return _follow_partial(value)
    if isinstance(value, ChildSpec):
        return attrs.evolve(value, id=_follow(value.id), start=_follow(value.start))
    if value.__class__ is tuple or value.__class__ is list:
        items = [_follow(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else value.__class__(items)
    return value


def _follow_partial(value: functools.partial) -> Any:
    func = _follow(value.func)
    args = tuple(_follow(arg) for arg in value.args)
    keywords = {key: _follow(arg) for key, arg in value.keywords.items()}
    unchanged = func is value.func and all(a is b for a, b in zip(args, value.args, strict=True))
    if unchanged and all(keywords[key] is value.keywords[key] for key in keywords):
        return value
    return functools.partial(func, *args, **keywords)


def _newest(cls: type) -> type:
    while True:
        try:
            cls = _SUCCESSORS[cls]
        except (KeyError, TypeError):  # not replaced (TypeError: a type that takes no weak reference)
            return cls
