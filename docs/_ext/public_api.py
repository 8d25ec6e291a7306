"""The API reference's one rule: every public name is documented once, where it belongs.

The facades re-export: ``otp.GenServer`` is ``otp.genserver.GenServer``,
``web.Endpoint`` is ``web.endpoint.Endpoint``. Documenting each module's
``__all__`` in full would describe those objects twice, and every
cross-reference to them would then have two targets. So this extension:

* adds the directive ``.. public-module:: otp.genserver``, which documents
  the names of that module's ``__all__`` that *belong* to it (see
  :func:`home_of`) and lists the others with a link to their home (the
  internals pages use it too: there, only what no public module exports is
  described);
* resolves a reference by what the name *is* at run time: ``otp.GenServer``,
  ``Restart`` inside ``otp.supervisor``'s docstring or an annotation naming a
  re-export all lead to the one place the object is documented;
* leaves type variables (``R`` in ``Agent[R]``) as plain text: they name no
  object to link to;
* reads attribute docstrings as prose: napoleon would take the words before
  a first colon ("True once the connection is closing: ...") for a type;
* stops builtin names (``type`` in ``type[Socket]``, ``list``) from being
  matched against documented attributes that share their name
  (``ChildSpec.type``).

The public modules are ``public_modules`` in ``conf.py``, one per page of
``docs/api/``; ``tests/test_docs.py`` checks they are the modules
``tests/test_exports.py`` holds to their ``__all__``.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import sys
import typing
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.ext.napoleon.docstring import GoogleDocstring
from sphinx.util.docutils import SphinxDirective

# -- where a name is documented ------------------------------------------------


def home_of(obj: object, public_modules: list[str], default: str) -> str:
    """The module that documents ``obj``: the deepest public one exporting it, else ``default``.

    ``otp.genserver`` rather than ``otp`` for ``GenServer``; between two modules
    as deep as each other, the first in ``public_modules`` (``otp.genserver``
    rather than ``web.channel`` for ``Stop``). A name no public module exports
    is documented by the private module being documented (``default``).
    """
    exporters = [name for name in public_modules if _exports(name, obj)]
    if not exporters:
        return default
    return max(exporters, key=lambda name: (name.count("."), -public_modules.index(name)))


def _exports(module_name: str, obj: object) -> bool:
    module = importlib.import_module(module_name)
    return any(getattr(module, name, None) is obj for name in module.__all__)


def _is_data(obj: object) -> bool:
    """A constant, documented with ``autodata`` (autodoc skips data without a doc comment)."""
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))


def _names_of(module: Any) -> list[str]:
    """``__all__``, or for a private module without one, the public names it defines."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
    ]


class PublicModule(SphinxDirective):
    """``.. public-module:: name``: the module's docstring, then each name it owns.

    ``:also: NAME, Class.ATTRIBUTE`` documents names outside ``__all__`` that
    the module's docstrings refer to (an internal module's constants).
    """

    required_arguments = 1
    option_spec = {"also": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        public_modules = self.config.public_modules
        module = importlib.import_module(module_name)
        own, elsewhere = [], []
        for name in _names_of(module):
            obj = getattr(module, name)
            home = home_of(obj, public_modules, default=module_name)
            (own if home == module_name else elsewhere).append((name, obj, home))
        lines = [f".. automodule:: {module_name}", "   :no-members:", ""]
        lines += _reexport_lines(elsewhere)
        for name, obj, _home in own:
            directive = "autodata" if _is_data(obj) else _directive_for(obj)
            lines += [f".. {directive}:: {module_name}.{name}", ""]
        for name in filter(None, (part.strip() for part in self.options.get("also", "").split(","))):
            directive = "autoattribute" if "." in name else "autodata"
            lines += [f".. {directive}:: {module_name}.{name}", ""]
        return self._parse(lines)

    def _parse(self, lines: list[str]) -> list[nodes.Node]:
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(lines, source=self.get_source_info()[0]), 0, container)
        return container.children


def _directive_for(obj: object) -> str:
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    return "autofunction"


def _reexport_lines(elsewhere: list[tuple[str, Any, str]]) -> list[str]:
    if not elsewhere:
        return []
    lines = ["Also importable from here (each documented in its own module):", ""]
    for name, _obj, home in elsewhere:
        lines.append(f"* :py:obj:`{name} <{home}.{name}>` (:py:mod:`{home}`)")
    return lines + [""]


# -- references by identity ----------------------------------------------------


def _import_dotted(path: str) -> object | None:
    """The object ``path`` names (``otp.GenServer.call``), or None."""
    parts = path.split(".")
    if not all(part.isidentifier() for part in parts):
        return None  # prose that a docstring put where a name belongs ("Raises: ...")
    for split in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return None
        return obj
    return None


def _identity(obj: object) -> object:
    # A classmethod read from its class is a new bound method each time.
    return getattr(obj, "__func__", obj)


def _documented_by_identity(app: Sphinx) -> dict[int, str]:
    """id(object) -> the full name it is documented under, built once per build."""
    cached = getattr(app, "_public_api_documented", None)
    if cached is not None:
        return cached
    documented: dict[int, str] = {}
    for fullname, entry in app.env.domains["py"].objects.items():
        if entry.objtype in {"module", "data", "attribute"}:
            continue  # constants: an equal value elsewhere is not the same name
        obj = _import_dotted(fullname)
        if obj is not None:
            documented.setdefault(id(_identity(obj)), fullname)
    app._public_api_documented = documented  # type: ignore[attr-defined]
    return documented


def resolve_by_identity(app: Sphinx, env: Any, node: pending_xref, contnode: nodes.Element) -> nodes.Element | None:
    """Resolve a reference Sphinx could not, by the object the name stands for.

    * an object documented under another name (a re-export, a name seen from
      the module a class really lives in): link to it;
    * a type variable, or an object that exists but has no page of its own
      (a private helper named in a signature or a docstring): plain text;
    * a name that stands for nothing, or for several documented objects: no
      answer, so the strict build reports it as a broken reference.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    objects = _objects_named(target, node.get("py:module"), node.get("py:class"))
    if any(isinstance(obj, _TYPE_VARIABLES) for obj in objects):
        return contnode
    documented = _documented_by_identity(app)
    linkable = [obj for obj in objects if not _is_constant(obj)]
    homes = {documented[id(_identity(obj))] for obj in linkable if id(_identity(obj)) in documented}
    if len(homes) == 1:
        return _link(app, env, node, homes.pop(), contnode)
    if not homes and objects:
        return contnode
    return None


def _objects_named(target: str, module: str | None, cls: str | None) -> list[object]:
    """What ``target`` can mean where it is written, most specific reading first, without repeats."""
    candidates = [target]
    if module:
        candidates += [f"{module}.{cls}.{target}"] if cls else []
        candidates.append(f"{module}.{target}")
    found = [obj for obj in map(_import_dotted, candidates) if obj is not None]
    if not found and "." not in target:
        # A bare name in an annotation or a docstring whose module the
        # facade's metadata hides (``_BrutalKill``, ``Ts``): any of our modules.
        found = _attributes_named(target)
    unique: dict[int, object] = {}
    for obj in found:
        unique.setdefault(id(_identity(obj)), obj)
    return list(unique.values())


def _attributes_named(name: str) -> list[object]:
    ours = [module for module_name, module in list(sys.modules.items()) if module_name.split(".")[0] in {"otp", "web"}]
    return [getattr(module, name) for module in ours if module is not None and hasattr(module, name)]


def _is_constant(obj: object) -> bool:
    # An int or a str is a value many names may share: never linked by identity.
    return isinstance(obj, (int, float, str, bytes, tuple, type(None)))


_TYPE_VARIABLES = (typing.TypeVar, typing.ParamSpec, typing.TypeVarTuple)


def _link(app: Sphinx, env: Any, node: pending_xref, fullname: str, contnode: nodes.Element) -> nodes.Element | None:
    fromdoc = node.get("refdoc", env.docname)
    found = env.domains["py"].resolve_any_xref(env, fromdoc, app.builder, fullname, node, contnode)
    return found[0][1] if found else None


# -- builtin names in annotations ----------------------------------------------


def unlink_builtin_annotations(app: Sphinx, doctree: nodes.document) -> None:
    """``type`` in ``type[Socket]`` means the builtin, not an attribute named ``type``: leave it unlinked."""
    for node in list(doctree.findall(pending_xref)):
        target = node.get("reftarget", "")
        if node.get("refdomain") == "py" and inspect.isclass(getattr(builtins, target, None)):
            node.replace_self(node.children or nodes.Text(target))


# -- attribute docstrings -------------------------------------------------------


def _inline_attribute_as_prose(self: GoogleDocstring) -> tuple[str, list[str]]:
    """Napoleon's reading of an attribute docstring, without splitting a type off its first line.

    Our attributes and properties are typed by their annotations; their
    docstrings are sentences, and a sentence may hold a colon.
    """
    first = self._lines.next()
    rest = self._dedent(self._consume_to_end())
    return "", self.__class__([first, *rest], self._config).lines()


def setup(app: Sphinx) -> dict[str, Any]:
    GoogleDocstring._consume_inline_attribute = _inline_attribute_as_prose  # type: ignore[method-assign]
    app.add_config_value("public_modules", [], "env")
    app.add_directive("public-module", PublicModule)
    app.connect("missing-reference", resolve_by_identity)
    app.connect("doctree-read", unlink_builtin_annotations)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
