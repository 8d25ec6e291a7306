"""The template compiler: a parsed template -> one Python function that renders :class:`Rendered` trees.

:mod:`web.live._template` is the manual and the public entry point
(``compile_template``, with its cache and the built-in components); this
module is what it stands on, and what :mod:`web.live._builtins` compiles
its own templates with. The layers, lowest first::

    _template_parse     source -> nodes, Python expressions checked
    _template_compile   nodes -> Template (this module); no built-ins known
    _builtins           <.link>, <.live_file_input>, <.live_component>, compiled here
    _template           compile_template: cache, built-ins under your components

How a template becomes code
---------------------------
Every ``{...}`` hole becomes a *slot* (:class:`_Slot`): the Python
expression computing its value, and the assigns it reads. A run of text and
slots is a *unit* (:class:`_Unit`): its statics are one constant of the
generated module, its fingerprint a hash of statics and slot kinds. The
whole template compiles to one function ``_tpl_render(assigns, changed)``
with two bodies: the full render, and the change-tracked one that puts
``None`` in every slot none of whose assigns changed. ``#@tpl N`` markers
in the generated code map a traceback back to template line N.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import itertools
import linecache
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard

import attrs
from markupsafe import escape

from ._component import live_component
from ._rendered import Comprehension, Rendered
from ._template_parse import (
    Attr,
    Element,
    Expr,
    Python,
    Source,
    Text,
    expression,
    for_clause,
    parse,
    split_for_clause,
)

__all__ = ["Template", "TemplateRenderError", "compile_source", "fingerprint", "render_slot", "LetBlock"]


# ---------------------------------------------------------------------------
# Compiled templates

class TemplateRenderError(Exception):
    """An exception raised by a template expression, with the template ``filename`` and ``line``.

    The original exception is the ``__cause__``.
    """

    def __init__(self, message: str, filename: str, line: int, source_line: str = "") -> None:
        detail = f"{filename}:{line}: {message}"
        super().__init__(detail + (f"\n    {source_line.strip()}" if source_line.strip() else ""))
        self.filename = filename
        self.line = line


class Template:
    """A compiled template. Make one with :func:`~web.live._template.compile_template`."""

    __slots__ = ("source", "filename", "fingerprint", "root", "python_source", "_render", "_lines", "_names", "_code_name")

    def __init__(self, source: str, filename: str, compiled: _Output) -> None:
        self.source = source
        self.filename = filename
        self.fingerprint = compiled.fingerprint  # of the top-level Rendered
        self.root = compiled.root
        self.python_source = compiled.python  # the generated code, for the curious
        self._render = compiled.function
        self._lines = compiled.lines
        self._names = compiled.names
        self._code_name = compiled.code_name

    def __repr__(self) -> str:
        return f"<Template {self.filename} fingerprint={self.fingerprint}>"

    def render(self, assigns: Mapping[str, object], changed: Iterable[str] | None = None) -> Rendered:
        """Render with these assigns.

        Args:
            assigns: the values ``@name`` reads.
            changed: None for a full render; else the names of the assigns
                changed since the previous render of this template, whose
                slots alone are re-evaluated (the others are None).

        Raises:
            TemplateRenderError: an expression raised; names the template line.
        """
        if changed is not None and not isinstance(changed, (set, frozenset)):
            changed = set(changed)
        try:
            return self._render(assigns, changed)
        except Exception as exc:
            line = self._locate(exc.__traceback__)
            if line is None:
                raise
            source_line = self.source.split("\n")[line - 1] if line <= self.source.count("\n") + 1 else ""
            raise TemplateRenderError(self._describe(exc, assigns), self.filename, line, source_line) from exc

    def _locate(self, tb) -> int | None:
        """The template line of the innermost generated-code frame of a traceback."""
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self._code_name:
                line = self._lines.get(tb.tb_lineno, line)
            tb = tb.tb_next
        return line

    def _describe(self, exc: Exception, assigns: Mapping) -> str:
        name = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
        if isinstance(name, str) and name in self._names and name not in assigns:
            return f"assign @{name} is not available in this template; available assigns: {sorted(assigns)}"
        return f"{type(exc).__name__}: {exc}"


def compile_source(
    source: str,
    filename: str = "<template>",
    components: Mapping[str, Callable] | None = None,
    namespace: Mapping[str, object] | None = None,
    builtins: Mapping[str, Callable] | None = None,
) -> Template:
    """Compile template source, uncached (see :func:`web.live._template.compile_template`).

    Args:
        source: the template text.
        filename: named in error messages.
        components: function components, ``<.name>`` → ``components["name"]``.
        namespace: extra names the expressions may use (helpers, constants).
        builtins: components every template knows, looked up after
            ``components`` (so a template's own of the same name wins) and
            left out of the "known" list of an unknown-component error.

    Raises:
        TemplateSyntaxError: the source does not parse, an expression is not
            Python, or a component is unknown.
    """
    compiled = _compile(source, filename, components or {}, namespace or {}, builtins or {})
    return Template(source, filename, compiled)


def fingerprint(static: tuple[str, ...], kinds: tuple[str, ...]) -> int:
    """The fingerprint of a template: a stable 63-bit hash of its statics and slot kinds."""
    digest = hashlib.blake2b(repr((static, kinds)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


# ---------------------------------------------------------------------------
# The compiler: node tree -> one Python function

_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_template_ids = itertools.count(1)


@attrs.frozen
class _Output:
    function: Callable
    fingerprint: int
    root: bool
    python: str
    lines: dict[int, int]
    names: frozenset[str]
    code_name: str


@attrs.frozen
class _Slot:
    kind: str  # "expr" | "attr" | "if" | "for" | "component": part of the fingerprint
    full: str  # Python expression computing the value
    deps: frozenset[str] | None  # assigns read; None: unknown (reads `assigns`), always re-evaluated
    tracked: str | None = None  # Python expression for change-tracked renders; None: `full` guarded by deps


@attrs.frozen
class _Unit:
    """One template (top level, an :if or :for body, an inner block or slot) compiled."""

    statics_name: str
    fingerprint: int
    root: bool
    slots: tuple[_Slot, ...]
    deps: frozenset[str] | None

    def full(self) -> str:
        return f"_tpl_R({self.statics_name}, {self.entry()}, {self.fingerprint}, {self.root})"

    def entry(self) -> str:
        return "(" + "".join(f"{slot.full},\n" for slot in self.slots) + ")"

    def tracked(self, compiler: _Compiler) -> str:
        slots = "".join(f"{compiler.tracked(slot)},\n" for slot in self.slots)
        return f"_tpl_R({self.statics_name}, ({slots}), {self.fingerprint}, {self.root})"


class _Builder:
    def __init__(self) -> None:
        self.statics = [""]
        self.slots: list[_Slot] = []

    def text(self, text: str) -> None:
        self.statics[-1] += text

    def slot(self, slot: _Slot) -> None:
        self.slots.append(slot)
        self.statics.append("")


def _compile(text: str, filename: str, components: Mapping, namespace: Mapping, builtins: Mapping) -> _Output:
    source = Source(text, filename)
    nodes = _trim(parse(source))
    compiler = _Compiler(source, components, namespace, builtins)
    unit = compiler.unit(nodes)
    python = (
        "def _tpl_render(assigns, changed):\n"
        f"    if changed is None:\n        return (\n{unit.full()}\n)\n"
        f"    return (\n{unit.tracked(compiler)}\n)\n"
    )
    code_name = f"<template {filename} #{next(_template_ids)}>"
    linecache.cache[code_name] = (len(python), None, python.splitlines(True), code_name)
    exec(compile(python, code_name, "exec"), compiler.namespace)
    function = compiler.namespace["_tpl_render"]
    return _Output(function, unit.fingerprint, unit.root, python, _line_map(python), frozenset(compiler.names), code_name)


class _Compiler:
    def __init__(self, source: Source, components: Mapping, namespace: Mapping, builtins: Mapping) -> None:
        self.source = source
        self.components = components
        self.builtins = builtins
        self.namespace = {"render_slot": render_slot, **namespace, **_RUNTIME}
        self.names: set[str] = set()  # every @name read, for error messages
        self._counter = itertools.count()

    # -- units and slots ----------------------------------------------------

    def unit(self, nodes: list) -> _Unit:
        builder = _Builder()
        for node in nodes:
            self.emit(node, builder)
        statics = tuple(builder.statics)
        kinds = tuple(slot.kind for slot in builder.slots)
        deps = _union(slot.deps for slot in builder.slots)
        name = self.const(statics, "S")
        return _Unit(name, fingerprint(statics, kinds), _single_root(nodes), tuple(builder.slots), deps)

    def emit(self, node, builder: _Builder) -> None:
        if isinstance(node, Text):
            builder.text(node.text)
        elif isinstance(node, Expr):
            builder.slot(self.expr_slot(node))
        elif (for_attr := node.special(":for")) is not None:
            builder.slot(self.for_slot(node, for_attr))
        elif (if_attr := node.special(":if")) is not None:
            builder.slot(self.if_slot(node, if_attr))
        elif node.kind == "component":
            builder.slot(self.component_slot(node))
        elif node.kind == "slot":
            message = f"<{node.tag}> must be a direct child of a component call such as <.card>"
            raise self.source.error(message, node.line, node.column)
        else:
            self.emit_element(node, builder)

    def emit_element(self, node: Element, builder: _Builder) -> None:
        builder.text("<" + node.tag)
        for attr in node.attrs:
            self.emit_attribute(attr, builder)
        void = node.tag.lower() in _VOID
        if node.self_closing:
            builder.text("/>" if void else f"></{node.tag}>")
            return
        builder.text(">")
        for child in node.children:
            self.emit(child, builder)
        if not void:
            builder.text(f"</{node.tag}>")

    def emit_attribute(self, attr, builder: _Builder) -> None:
        if attr.kind == "literal":
            builder.text(f" {attr.name}={attr.quote}{attr.value}{attr.quote}")
        elif attr.kind == "bare":
            builder.text(" " + attr.name)
        else:
            python = self.python(attr.value, attr.code_line, attr.code_column)
            call = f"_tpl_attr({attr.name!r}, {python.code})" if attr.kind == "expr" else f"_tpl_attrs({python.code})"
            builder.slot(_Slot("attr", call, python.deps))

    def expr_slot(self, node: Expr) -> _Slot:
        python = self.python(node.code, node.line, node.column)
        return _Slot("expr", f"_tpl_dyn({python.code})", python.deps)

    def if_slot(self, node: Element, attr: Attr) -> _Slot:
        cond = self.python(attr.value, attr.code_line, attr.code_column)
        body = self.unit([node.without_specials()])
        deps = _union([cond.deps, body.deps])
        full = f"({body.full()} if {cond.code} else '')"
        # Same condition => same branch as last time: the body's slots can be tracked too.
        same_branch = f"(({body.tracked(self)}) if {cond.code} else None)"
        tracked = f"(None if {self.unchanged(deps)} else ({same_branch} if {self.unchanged(cond.deps)} else {full}))"
        return _Slot("if", full, deps, tracked)

    def for_slot(self, node: Element, attr: Attr) -> _Slot:
        clause_code = for_clause(attr.value)
        if clause_code is None:
            message = ":for expects {item <- @items} or {item in @items}"
            raise self.source.error(message, attr.code_line, attr.code_column)
        clause = self.python(clause_code, attr.code_line, attr.code_column, prefix="[0 for ", suffix="\n]")
        head, iterable_code, rest = split_for_clause(clause_code)
        iterable = self.python(iterable_code, attr.code_line, attr.code_column)
        loop = self.python(head + "_tpl_it" + rest, attr.code_line, attr.code_column, prefix="[0 for ", suffix="\n]").code
        parts: list[Python | _Unit] = [clause]
        if (cond_attr := node.special(":if")) is not None:
            cond = self.python(cond_attr.value, cond_attr.code_line, cond_attr.code_column)
            parts.append(cond)
            loop += f" if {cond.code}"
        body = self.unit([node.without_specials()])
        parts.append(body)
        if (key_attr := node.special(":key")) is not None:
            key = self.python(key_attr.value, key_attr.code_line, key_attr.code_column)
            parts.append(key)
            rows = f"[({body.entry()}, {key.code}) for {loop}]"
        else:
            rows = f"[{body.entry()} for {loop}]"
        # The iterable is evaluated apart from the loop, so that a stream
        # (which renders only its pending inserts) can be told from a list.
        full = f"_tpl_for({body.statics_name}, {body.fingerprint}, {key_attr is not None}, {iterable.code}, lambda _tpl_it: {rows})"
        return _Slot("for", full, _union(part.deps for part in parts))

    def component_slot(self, node: Element) -> _Slot:
        name = node.tag[1:]
        function = self.components.get(name)
        if function is None:
            function = self.builtins.get(name)
        if function is None:
            known = ", ".join(sorted(self.components)) or "none"
            message = f"unknown component <{node.tag}>: pass it as compile_template(..., components={{{name!r}: {name}}}) (known: {known})"
            raise self.source.error(message, node.line, node.column)
        items, deps = self.component_assigns(node)
        call = f"_tpl_call({self.const(function, 'K')}, {{{', '.join(items)}}}, {node.tag!r})"
        return _Slot("component", f"\n#@tpl at {node.line}\n{call}\n#@tpl end\n", _union(deps))

    def component_assigns(self, node: Element) -> tuple[list[str], list]:
        items, deps = [], []
        for attr in node.attrs:
            if attr.name == ":let":
                continue  # (the inner block's: below)
            if attr.kind in ("literal", "bare"):
                items.append(f"{attr.name!r}: {attr.value if attr.kind == 'literal' else True!r}")
                continue
            python = self.python(attr.value, attr.code_line, attr.code_column)
            deps.append(python.deps)
            items.append(f"{attr.name!r}: {python.code}" if attr.kind == "expr" else f"**{python.code}")
        inner = [child for child in node.children if not (isinstance(child, Element) and child.kind == "slot")]
        if not node.self_closing:
            block = self.unit(inner)
            deps.append(block.deps)
            items.append(f"'inner_block': {self.inner_block(node, block)}")
        for slot_name, elements in _slots_of(node).items():
            units = [self.unit(list(element.children)) for element in elements]
            deps.extend(unit.deps for unit in units)
            items.append(f"{slot_name!r}: [{', '.join(unit.full() for unit in units)}]")
        return items, deps

    def inner_block(self, node: Element, block: _Unit) -> str:
        """The inner block's code: rendered now, or with ``:let={f}`` a :class:`LetBlock` the component calls."""
        let = node.special(":let")
        if let is None:
            return block.full()
        target = self.let_target(let)
        # A comprehension binds the target (a name, or names to unpack) in a scope of its own.
        return f"_tpl_LetBlock(lambda _tpl_let: [{block.full()} for {target} in (_tpl_let,)][0])"

    def let_target(self, attr: Attr) -> str:
        """The names ``:let={...}`` binds, checked: a name, or names to unpack such as ``(key, value)``."""
        try:
            comprehension = ast.parse(f"[0 for {attr.value} in ()]", mode="eval").body
        except SyntaxError:
            comprehension = None
        target = comprehension.generators[0].target if isinstance(comprehension, ast.ListComp) else None
        if target is None or not _binds_names(target):
            message = ":let takes a name, or names to unpack such as (key, value)"
            raise self.source.error(message, attr.code_line, attr.code_column)
        if any(isinstance(name, ast.Name) and name.id == "assigns" for name in ast.walk(target)):
            raise self.source.error(":let cannot bind `assigns`, which @names read", attr.code_line, attr.code_column)
        return attr.value.strip()

    # -- code helpers -------------------------------------------------------

    def python(self, code: str, line: int, column: int, **options) -> Python:
        """A checked expression, wrapped in line markers so errors map back to the template."""
        python = expression(self.source, code, line, column, **options)
        self.names.update(python.deps or ())
        marked = f"\n#@tpl {line}\n{python.code}\n#@tpl end\n"
        return attrs.evolve(python, code=marked if options else f"({marked})")

    def tracked(self, slot: _Slot) -> str:
        if slot.tracked is not None:
            return slot.tracked
        if slot.deps is None:
            return slot.full
        if not slot.deps:
            return "None"
        return f"(None if {self.unchanged(slot.deps)} else {slot.full})"

    def unchanged(self, deps: frozenset[str] | None) -> str:
        """Code testing that none of deps changed (in a change-tracked render)."""
        if deps is None:
            return "False"
        if not deps:
            return "True"
        return f"changed.isdisjoint({self.const(deps, 'D')})"

    def const(self, value: object, prefix: str) -> str:
        name = f"_tpl_{prefix}{next(self._counter)}"
        self.namespace[name] = value
        return name


def _binds_names(target: ast.AST) -> bool:
    """A name, or a tuple/list of them (nested), as a ``for`` target: no attribute, no subscript."""
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_binds_names(element) for element in target.elts)


def _union(deps: Iterable) -> frozenset[str] | None:
    """Union of dependency sets, where None (reads everything) absorbs."""
    out: set[str] = set()
    for item in deps:
        if item is None:
            return None
        out |= item
    return frozenset(out)


def _slots_of(node: Element) -> dict[str, list[Element]]:
    slots: dict[str, list[Element]] = {}
    for child in node.children:
        if isinstance(child, Element) and child.kind == "slot":
            slots.setdefault(child.tag[1:], []).append(child)
    return slots


def _trim(nodes: list) -> list:
    """Drop the whitespace around a whole template."""
    nodes = list(nodes)
    if nodes and isinstance(nodes[0], Text):
        nodes[0] = Text(nodes[0].text.lstrip())
    if nodes and isinstance(nodes[-1], Text):
        nodes[-1] = Text(nodes[-1].text.rstrip())
    return [node for node in nodes if not (isinstance(node, Text) and not node.text)]


def _single_root(nodes: list) -> bool:
    """Exactly one HTML element, always rendered, with only whitespace around it."""
    meaningful = [node for node in nodes if not (isinstance(node, Text) and not node.text.strip())]
    if len(meaningful) != 1 or not isinstance(meaningful[0], Element):
        return False
    node = meaningful[0]
    return node.kind == "html" and node.special(":if") is None and node.special(":for") is None


def _line_map(python: str) -> dict[int, int]:
    """Generated line number → template line, from the ``#@tpl`` markers.

    ``#@tpl N`` starts an expression written at template line N (its lines
    follow on), ``#@tpl at N`` a construct at line N, ``#@tpl end`` closes.
    """
    lines: dict[int, int] = {}
    stack: list[tuple[int, int, bool]] = []
    for number, text in enumerate(python.split("\n"), 1):
        if text.startswith("#@tpl "):
            argument = text[6:]
            if argument == "end":
                stack.pop()
            elif argument.startswith("at "):
                stack.append((int(argument[3:]), number, False))
            else:
                stack.append((int(argument), number, True))
        elif stack:
            base, start, follows = stack[-1]
            lines[number] = base + (number - start - 1 if follows else 0)
    return lines


# ---------------------------------------------------------------------------
# Runtime: what the generated code calls

def _dyn(value: object) -> object:
    """A value in a text hole → an escaped str, or a nested Rendered/Comprehension."""
    if value is None or value is False:
        return ""
    if type(value) is str:
        return str(escape(value))
    if isinstance(value, (Rendered, Comprehension)):
        return value
    if hasattr(value, "__html__"):
        return str(value.__html__())
    if isinstance(value, (list, tuple)):
        return _dyn_list(value)
    if value.__class__ is LetBlock:
        return _dyn(value(None))  # {@inner_block} of a :let block, rendered without a value
    return str(escape(value))


def _dyn_list(items: list | tuple) -> object:
    values = tuple(_dyn(item) for item in items)
    if _all_text(values):
        return "".join(values)
    return Rendered(("",) * (len(values) + 1), values, _list_fingerprint(len(values)))


def _all_text(values: tuple[object, ...]) -> TypeGuard[tuple[str, ...]]:
    return all(isinstance(value, str) for value in values)


@functools.lru_cache(maxsize=64)
def _list_fingerprint(size: int) -> int:
    return fingerprint(("",) * (size + 1), ("list",) * size)


class LetBlock:
    """An inner block written with ``:let={name}``: the component renders it with a value.

    ``render_slot(@inner_block, value)`` (or calling it) renders it with
    ``name`` bound to ``value``, as many times as the component likes
    (``<.inputs_for>`` once per nested form).
    """

    __slots__ = ("render",)

    def __init__(self, render: Callable[[object], Rendered]) -> None:
        self.render = render

    def __call__(self, value: object = None) -> Rendered:
        return self.render(value)


def render_slot(slot: object, value: object = None) -> object:
    """What a component puts where its caller's content goes: ``{render_slot(@inner_block, value)}``.

    ``value`` is what the caller's ``:let={name}`` binds; a block written
    without ``:let`` ignores it. A named slot (a list of blocks) renders
    each. Known to every template, as Phoenix's ``render_slot``.
    """
    if isinstance(slot, LetBlock):
        return slot(value)
    if isinstance(slot, list):
        return [render_slot(entry, value) for entry in slot]
    return slot


def _attr(name: str, value: object) -> str:
    """One attribute: omitted for None/False, bare for True, else name="escaped"."""
    if value is None or value is False:
        return ""
    if value is True:
        return " " + name
    if isinstance(value, (list, tuple)):
        value = " ".join(str(item) for item in value if item is not None and item is not False and item != "")
    return f' {name}="{escape(value)}"'


def _attrs(mapping: Mapping | None) -> str:
    return "".join(_attr(name, value) for name, value in (mapping or {}).items())


def _for(static: tuple[str, ...], fp: int, keyed: bool, iterable: object, rows_of: Callable) -> Comprehension:
    render_into = getattr(iterable, "__render_for__", None)
    if render_into is not None:
        return render_into(static, fp, keyed, rows_of)  # a stream: its own entries and "stream" key
    rows = rows_of(iterable)
    if keyed:
        return Comprehension(static, tuple(row[0] for row in rows), fp, tuple(row[1] for row in rows))
    return Comprehension(static, tuple(rows), fp)


def _dot(value: Any, name: str, _isinstance=isinstance, _dict=dict, _getattr=getattr) -> object:
    """``value.name`` in a template: a dict's key ``name`` if it has one, else the attribute.

    So ``{@todo.title}`` reads a dict as HEEx's ``@todo.title`` reads a map,
    and an object (or a dict's method, ``@d.get("x")``) as Python does.
    Every dot of a template goes through here: the builtins are bound as
    defaults (locals, not global lookups), which halves its cost.
    """
    if _isinstance(value, _dict) and name in value:
        return value[name]
    try:
        return _getattr(value, name)
    except AttributeError:
        return _key_of_mapping(value, name)


def _key_of_mapping(value: object, name: str) -> object:
    """A dot that found no attribute: a Mapping's key (a dict's was tried first), else the error."""
    if isinstance(value, Mapping):
        if name in value:  # a Mapping that is not a dict: its keys after its attributes
            return value[name]
        keys = ", ".join(repr(key) for key in sorted(value, key=str)[:20])
        raise AttributeError(f"the {type(value).__name__} has no key {name!r} (its keys: {keys})") from None
    raise  # (the AttributeError being handled by _dot)


def _call(function: Callable, assigns: dict, tag: str) -> object:
    result = function(assigns)
    if isinstance(result, (Rendered, str)):
        return _dyn(result)
    if function is live_component:
        return result  # <.live_component>: a LiveComponent's cid, which the template puts in the slot
    raise TypeError(
        f"component <{tag}> returned {result!r}; a component returns a Rendered, "
        "e.g. compile_template(...).render(assigns)"
    )


_RUNTIME = {
    "_tpl_R": Rendered,
    "_tpl_dyn": _dyn,
    "_tpl_attr": _attr,
    "_tpl_attrs": _attrs,
    "_tpl_for": _for,
    "_tpl_call": _call,
    "_tpl_dot": _dot,
    "_tpl_LetBlock": LetBlock,
}
