"""Small helpers shared by the package facades; nothing here knows about processes.

``fixup_module_metadata`` is what every facade calls last, so that reprs,
tracebacks and docs name objects where users import them from::

    >>> import otp
    >>> otp.GenServer.__module__
    'otp'
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


def import_extra(module: str, *, extra: str, needed_by: str) -> ModuleType:
    """Import ``module``, an optional dependency, or say which extra installs it.

    >>> import_extra("no_such_module_here", extra="web", needed_by="the web layer (web)")
    Traceback (most recent call last):
      ...
    ImportError: the web layer (web) needs the no_such_module_here package: pip install 'trio-otp[web]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if error.name != module:
            raise  # the module is there, but something it imports is broken: show that
        message = f"{needed_by} needs the {module} package: pip install 'trio-otp[{extra}]'"
        raise ImportError(message, name=module) from None


def fixup_module_metadata(module_name: str, namespace: dict[str, Any], *, defined_in: tuple[str, ...] = ()) -> None:
    """Rewrite ``__module__`` of the names in ``namespace["__all__"]`` to ``module_name``.

    Only objects defined below ``module_name`` (in ``otp._kernel._pid`` for
    ``otp``, say) or in one of the modules ``defined_in`` names (for a
    facade whose code lives elsewhere, as ``otp.telemetry``'s lives in
    ``otp._kernel._telemetry``) are touched: a name re-exported from another
    package keeps its home. Objects that refuse the assignment (some
    builtins) are left as they are.
    """
    prefixes = (module_name + ".", *defined_in)
    for name in namespace["__all__"]:
        obj = namespace[name]
        if getattr(obj, "__module__", "").startswith(prefixes):
            try:
                obj.__module__ = module_name
            except (AttributeError, TypeError):
                pass
