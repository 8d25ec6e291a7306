"""Templates: HEEx-like source compiled once to Python that renders :class:`Rendered` trees.

A template is HTML with ``{...}`` holes. It is parsed and compiled into one
Python function the first time it is seen (compiled templates are cached by
source); rendering calls that function with the assigns::

    >>> counter = compile_template('''
    ...   <div class="counter">
    ...     <h1>Count: {@count}</h1>
    ...     <button phx-click="inc" disabled={@count >= 10}>+</button>
    ...   </div>
    ... ''')
    >>> page = counter.render({"count": 3})
    >>> page.static
    ('<div class="counter">\\n    <h1>Count: ', '</h1>\\n    <button phx-click="inc"', '>+</button>\\n  </div>')
    >>> page.dynamic
    ('3', '')
    >>> page.root
    True

Syntax
------
* ``{@name}`` reads an assign; ``{expr}`` is any Python expression, where
  ``@name`` is shorthand for ``assigns["name"]`` and ``assigns`` is the whole
  mapping. Values are escaped with :func:`markupsafe.escape`; ``Markup``
  (anything with ``__html__``) passes through; ``None`` and ``False`` render
  as nothing; a nested :class:`Rendered` (``{@inner_block}``) is embedded.
* A dot reads a dict's key as it reads an object's attribute:
  ``{@todo.title}`` works whether ``todo`` is ``{"title": ...}`` or an
  object, as HEEx's ``@todo.title`` works on a map (a key wins over a
  dict's method of the same name; ``@todo.get("x")`` is still the method).
* ``attr={expr}``: ``attr="value"`` escaped; omitted for ``None``/``False``;
  bare ``attr`` for ``True``; a list is joined with spaces (``class={["btn",
  @active and "on"]}``). ``<div {@rest}>`` spreads a mapping of attributes.
  Literal attributes stay in the statics.
* ``:if={cond}`` on an element renders it (a nested Rendered) or ``""``.
* ``:for={item <- @items}`` (or ``{item in @items}``, any Python
  comprehension clause) repeats the element as a :class:`Comprehension`;
  ``:key={item.id}`` gives the entries their identity. ``:if`` on the same
  element filters the items.
* ``<.card title={@t}>inner</.card>`` calls ``components["card"](assigns)``
  with the attributes, the inner content as ``assigns["inner_block"]`` (a
  Rendered; absent for ``<.card />``) and each named slot ``<:header>…
  </:header>`` as ``assigns["header"]``, a list of Rendered. A component
  returns a Rendered (typically its own template's ``render``).
* ``<.inputs_for :let={f} field={@form["addresses"]}>…{f["city"].value}…
  </.inputs_for>``: ``:let`` binds what the component hands its inner block
  (a name, or names to unpack such as ``(key, value)``). The component
  renders the block with ``render_slot(@inner_block, value)``, once or
  many times; ``render_slot``, as in Phoenix, is known to every template,
  and a block written without ``:let`` ignores the value.
* Comments, ``<!DOCTYPE>`` and the content of ``<script>``/``<style>`` are
  static. Whitespace around the whole template is trimmed.

Change tracking
---------------
The compiler knows which assigns every dynamic slot reads (the ``@names``
in its expressions). ``render(assigns, changed)`` with a set of changed
assign names re-evaluates only the slots that read one of them and puts
``None`` (unchanged) in the others, recursively inside ``:if`` blocks whose
condition did not change. A ``:for`` whose assigns did not change costs one
set test however long the list. An expression that uses ``assigns``
directly is always re-evaluated; one that reads no assign never is.

    >>> greet = compile_template("<p>{@greeting}, {@name}!</p>")
    >>> greet.render({"greeting": "Hi", "name": "Ann"}, changed={"name"}).dynamic
    (None, 'Ann')

Files
-----
:func:`template_from_file` compiles a file; :func:`template_next_to`
finds ``name.html.heex`` (or ``.heex``, ``.html``) beside a module.

A view's template
-----------------
A LiveView needs no ``render`` when its template is a class attribute,
``template = '''<p>{@count}</p>'''`` (compiled when the class is
made, so a syntax error shows at import), or a file beside its module
named after the class (``TodoLive`` → ``todo_live.html.heex``): see
:func:`view_template`. Its ``render(assigns, changed)`` is then the
template's, change tracking and all.

Built-in components
-------------------
``<.link>``, ``<.live_file_input>`` and ``<.live_component>`` are known to
every template compiled here (:mod:`web.live._builtins`); a template's own
``components=`` of the same name take precedence. The built-ins are
templates themselves, compiled by the layer underneath
(:mod:`web.live._template_compile`, which knows no built-ins), so the
imports go one way: parser, compiler, built-ins, this module.

Errors
------
:class:`TemplateSyntaxError` (a :class:`SyntaxError`) names the file, line
and column, with a caret. An exception raised while rendering is re-raised
as :class:`TemplateRenderError` naming the template line, chained to it.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._builtins import BUILTINS
from ._template_compile import Template, TemplateRenderError, compile_source, fingerprint, render_slot
from ._template_parse import TemplateSyntaxError

__all__ = [
    "view_template",
    "Template",
    "TemplateSyntaxError",
    "TemplateRenderError",
    "compile_template",
    "template_from_file",
    "template_next_to",
    "fingerprint",
    "render_slot",
]

_CACHE: dict = {}
_CACHE_SIZE = 1024
_SUFFIXES = (".html.heex", ".heex", ".html")


def compile_template(
    source: str,
    *,
    filename: str = "<template>",
    components: Mapping[str, Callable] | None = None,
    namespace: Mapping[str, object] | None = None,
) -> Template:
    """Compile template source (cached: the same arguments give the same :class:`Template`).

    Args:
        source: the template text.
        filename: named in error messages.
        components: function components, ``<.name>`` → ``components["name"]``.
        namespace: extra names the expressions may use (helpers, constants).

    Raises:
        TemplateSyntaxError: the source does not parse, an expression is not
            Python, or a component is unknown.
    """
    key = (source, filename, _identity(components), _identity(namespace))
    template = _CACHE.get(key)
    if template is None:
        template = compile_source(source, filename, components, namespace, BUILTINS)
        if len(_CACHE) >= _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
        _CACHE[key] = template
    return template


def template_from_file(path: str | Path, **options: Any) -> Template:
    """Compile the template in a file (UTF-8); options as for :func:`compile_template`."""
    return compile_template(Path(path).read_text(encoding="utf-8"), filename=str(path), **options)


def template_next_to(anchor: str | types.ModuleType, name: str, **options: Any) -> Template:
    """The template ``name.html.heex`` (or ``name.heex``, ``name.html``) in the directory of a module.

    Args:
        anchor: a module, a module name, or a file path (pass ``__file__``).
        name: the template's name without suffix.
    """
    directory = _directory_of(anchor)
    for suffix in _SUFFIXES:
        path = directory / (name + suffix)
        if path.is_file():
            return template_from_file(path, **options)
    tried = ", ".join(name + suffix for suffix in _SUFFIXES)
    raise FileNotFoundError(f"no template {name!r} in {directory} (tried {tried})")


def view_template(view: type, *, renders_itself: bool) -> Template | None:
    """The template of a view class, for the ``render`` it inherits; None when it has none.

    In order: the class's own ``template`` attribute (source, compiled now,
    or a :class:`Template`); else, for a class with no ``render`` of its
    own (``renders_itself`` false), ``<snake_case class name>.html.heex`` (or ``.heex``, ``.html``)
    beside its module; else the template it inherits. Source and file are
    compiled with the names of the view's module as they are when the
    class is made (its helpers, and its function components for
    ``<.name>``), as a method would see them.

    Raises:
        TemplateSyntaxError: the template does not compile.
        TypeError: ``template`` is neither a str nor a :class:`Template`.
    """
    own = view.__dict__.get("template")
    if isinstance(own, Template) or (own is None and "template" in view.__dict__):
        return own
    module = sys.modules.get(view.__module__)
    names = dict(vars(module)) if module is not None else {}
    options: dict[str, Any] = {"components": _functions(names), "namespace": names}
    if isinstance(own, str):
        filename = f"{getattr(module, '__file__', None) or view.__module__}:{view.__qualname__}.template"
        return compile_template(own, filename=filename, **options)
    if own is not None:
        raise TypeError(
            f"{view.__qualname__}.template must be template source (a str) or a compiled Template "
            f"(compile_template, template_next_to); got {own!r}"
        )
    inherited = getattr(view, "template", None)
    if getattr(module, "__file__", None) and not renders_itself:
        try:
            return template_next_to(module, view_file_name(view), **options)  # type: ignore[arg-type]
        except FileNotFoundError:
            pass
    return inherited


def view_file_name(view: type) -> str:
    """The name of the template file beside a view's module, without suffix: ``TodoLive`` → ``todo_live``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", view.__name__).lower()


def _functions(names: Mapping[str, object]) -> dict[str, Callable]:
    """The module's functions, which ``<.name>`` may call (as a HEEx template calls its module's)."""
    return {name: value for name, value in names.items() if isinstance(value, types.FunctionType)}


def _identity(mapping: Mapping | None) -> tuple:
    # The Template keeps these objects alive, so their ids stay unique while cached.
    return () if not mapping else tuple(sorted((name, id(value)) for name, value in mapping.items()))


def _directory_of(anchor: str | types.ModuleType) -> Path:
    module = anchor if isinstance(anchor, types.ModuleType) else sys.modules.get(anchor)
    file = getattr(module, "__file__", None)
    if file:
        return Path(file).parent
    if isinstance(anchor, types.ModuleType):
        raise ValueError(
            f"template_next_to: the module {anchor.__name__!r} has no file to find templates next to; "
            "pass a file path (__file__)"
        )
    return Path(anchor).parent
