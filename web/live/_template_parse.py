"""The template parser: HEEx-like source in, a small node tree out (see ``_template.py``).

Nothing here evaluates anything. The tree keeps only what the compiler
needs: text, ``{expr}`` interpolations, elements with their attributes (a
component is ``<.name>``, a named slot ``<:name>``) and source positions for
error messages. Python expressions are checked with :mod:`ast` and their
``@name`` shorthands rewritten to ``assigns["name"]`` by :func:`expression`.
"""

from __future__ import annotations

import ast
import bisect
import keyword
import re
from collections.abc import Iterator
from typing import TypeGuard

import attrs

__all__ = ["TemplateSyntaxError", "Text", "Expr", "Attr", "Element", "Source", "Python", "parse", "expression", "for_clause"]


class TemplateSyntaxError(SyntaxError):
    """A template that does not parse, with where: ``filename``, ``line``, ``column`` (1-based).

    ``str()`` shows ``file:line:column: message``, the source line and a caret.
    """

    def __init__(self, message: str, filename: str, line: int, column: int, source_line: str = "") -> None:
        super().__init__(message, (filename, line, column, source_line))
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        text = f"{self.filename}:{self.line}:{self.column}: {self.message}"
        if self.text:
            pad = "".join("\t" if ch == "\t" else " " for ch in self.text[: self.column - 1])
            text += f"\n    {self.text.rstrip()}\n    {pad}^"
        return text


# ---------------------------------------------------------------------------
# Nodes

@attrs.frozen
class Text:
    text: str


@attrs.frozen
class Expr:
    code: str  # the Python source between the braces
    line: int
    column: int


@attrs.frozen
class Attr:
    name: str  # "" for a spread {@rest}
    kind: str  # "literal" | "bare" | "expr" | "spread"
    value: str = ""  # literal text, or the expression's source
    quote: str = '"'
    line: int = 0  # where the attribute starts
    column: int = 0
    code_line: int = 0  # where an expression's code starts
    code_column: int = 0


@attrs.frozen
class Element:
    tag: str  # "div", ".card" (function component), ":header" (named slot)
    attrs: tuple[Attr, ...]
    children: tuple
    self_closing: bool
    line: int
    column: int

    @property
    def kind(self) -> str:
        return {".": "component", ":": "slot"}.get(self.tag[0], "html")

    def special(self, name: str) -> Attr | None:
        return next((a for a in self.attrs if a.name == name), None)

    def without_specials(self) -> Element:
        """The element without its :if, :for and :key (which its slot handles); :let stays, for the call."""
        return attrs.evolve(self, attrs=tuple(a for a in self.attrs if a.name not in (":if", ":for", ":key")))


# ---------------------------------------------------------------------------
# Source positions and errors

class Source:
    """The template text, its file name, and line/column lookups for errors."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, pos: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._starts, pos) - 1
        return index + 1, pos - self._starts[index] + 1

    def line_text(self, line: int) -> str:
        start = self._starts[line - 1] if line - 1 < len(self._starts) else len(self.text)
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)]

    def error(self, message: str, line: int, column: int) -> TemplateSyntaxError:
        return TemplateSyntaxError(message, self.filename, line, column, self.line_text(line))

    def error_at(self, message: str, pos: int) -> TemplateSyntaxError:
        return self.error(message, *self.where(pos))


# ---------------------------------------------------------------------------
# The parser

_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_RAW = frozenset({"script", "style"})
_TAG_NAME = re.compile(r"[.:]?[A-Za-z][\w.:-]*")
_ATTR_NAME = re.compile(r"""[^\s=/>{}"']+""")
_UNQUOTED = re.compile(r"[^\s>]+")
_TEXT_END = re.compile(r"[<{]")
_SPECIALS = frozenset({":if", ":for", ":key", ":let"})


def parse(source: Source) -> list:
    """The node tree of a whole template."""
    return _Parser(source).children(None, 0)


class _Parser:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.src = source.text
        self.pos = 0

    def children(self, parent: str | None, open_pos: int) -> list:
        nodes: list = []
        while True:
            if self.pos >= len(self.src):
                if parent is None:
                    return nodes
                raise self.source.error_at(f"<{parent}> is never closed: expected </{parent}>", open_pos)
            if self.src.startswith("</", self.pos):
                self.closing_tag(parent, open_pos)
                return nodes
            nodes.append(self.node())

    def node(self):
        src, pos = self.src, self.pos
        if src.startswith("<!--", pos):
            return self.until("-->", "this comment is never closed: expected -->")
        if src.startswith("<!", pos):
            return self.until(">", "this <! declaration is never closed: expected >")
        if src[pos] == "<" and _TAG_NAME.match(src, pos + 1):
            return self.element()
        if src[pos] == "{":
            return self.interpolation()
        match = _TEXT_END.search(src, pos + 1)
        self.pos = match.start() if match else len(src)
        return Text(src[pos : self.pos])

    def until(self, end: str, message: str) -> Text:
        stop = self.src.find(end, self.pos)
        if stop < 0:
            raise self.source.error_at(message, self.pos)
        start, self.pos = self.pos, stop + len(end)
        return Text(self.src[start : self.pos])

    def interpolation(self) -> Expr:
        start = self.pos
        code, self.pos = self.braced(start)
        return Expr(code, *self.source.where(start + 1))

    def braced(self, start: int) -> tuple[str, int]:
        """The code inside the ``{`` at start up to its matching ``}``, and the position after it."""
        src, depth, i = self.src, 1, start + 1
        while i < len(src):
            char = src[i]
            if char in "\"'":
                i = _string_end(src, i)
                if i < 0:
                    raise self.source.error_at("unterminated string in this expression", start)
                continue
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth == 0:
                if not src[start + 1 : i].strip():
                    raise self.source.error_at("empty expression {}: write an expression such as {@name}", start)
                return src[start + 1 : i], i + 1
            i += 1
        raise self.source.error_at("this { is never closed: expected }", start)

    def closing_tag(self, parent: str | None, open_pos: int) -> None:
        start = self.pos
        match = _TAG_NAME.match(self.src, start + 2)
        name = match.group() if match else ""
        end = match.end() if match else start + 2
        while end < len(self.src) and self.src[end].isspace():
            end += 1
        if not self.src.startswith(">", end):
            raise self.source.error_at("malformed closing tag: expected </name>", start)
        if parent is None:
            raise self.source.error_at(f"unexpected closing tag </{name}>: no element is open", start)
        if name != parent:
            line, _ = self.source.where(open_pos)
            raise self.source.error_at(f"expected </{parent}> (to close <{parent}> from line {line}), found </{name}>", start)
        self.pos = end + 1

    def element(self) -> Element:
        open_pos = self.pos
        match = _TAG_NAME.match(self.src, open_pos + 1)
        assert match is not None  # (node() calls this only when a tag name follows the "<")
        tag, self.pos = match.group(), match.end()
        attributes, self_closing = self.attributes(tag, open_pos)
        element = Element(tag, tuple(attributes), (), self_closing, *self.source.where(open_pos))
        _check_element(element, self.source, open_pos)
        if self_closing or (element.kind == "html" and tag.lower() in _VOID):
            return element
        if element.kind == "html" and tag.lower() in _RAW:
            return attrs.evolve(element, children=(self.raw_text(tag, open_pos),))
        return attrs.evolve(element, children=tuple(self.children(tag, open_pos)))

    def raw_text(self, tag: str, open_pos: int) -> Text:
        """``<script>``/``<style>`` content: static text up to the closing tag, braces and all."""
        match = re.compile(rf"</{re.escape(tag)}\s*>", re.IGNORECASE).search(self.src, self.pos)
        if not match:
            raise self.source.error_at(f"<{tag}> is never closed: expected </{tag}>", open_pos)
        start, self.pos = self.pos, match.end()
        return Text(self.src[start : match.start()])

    def attributes(self, tag: str, open_pos: int) -> tuple[list[Attr], bool]:
        found: list[Attr] = []
        while True:
            self.skip_space()
            src, pos = self.src, self.pos
            if pos >= len(src):
                raise self.source.error_at(f"<{tag} is never finished: expected > or />", open_pos)
            if src.startswith("/>", pos):
                self.pos += 2
                return found, True
            if src[pos] == ">":
                self.pos += 1
                return found, False
            found.append(self.attribute(tag))

    def attribute(self, tag: str) -> Attr:
        src, start = self.src, self.pos
        where = self.source.where(start)
        if src[start] == "{":
            code, self.pos = self.braced(start)
            return Attr("", "spread", code, "", *where, where[0], where[1] + 1)
        match = _ATTR_NAME.match(src, start)
        if not match:
            raise self.source.error_at(f"unexpected {src[start]!r} in <{tag}>: expected an attribute name", start)
        name, self.pos = match.group(), match.end()
        self.skip_space()
        if not src.startswith("=", self.pos):
            return Attr(name, "bare", line=where[0], column=where[1])
        self.pos += 1
        self.skip_space()
        return self.attribute_value(name, where)

    def attribute_value(self, name: str, where: tuple[int, int]) -> Attr:
        src, pos = self.src, self.pos
        if pos < len(src) and src[pos] in "\"'":
            end = src.find(src[pos], pos + 1)
            if end < 0:
                raise self.source.error_at(f"the value of {name} is never closed: expected {src[pos]}", pos)
            self.pos = end + 1
            return Attr(name, "literal", src[pos + 1 : end], src[pos], *where)
        if pos < len(src) and src[pos] == "{":
            code, self.pos = self.braced(pos)
            return Attr(name, "expr", code, "", *where, *self.source.where(pos + 1))
        match = _UNQUOTED.match(src, pos)
        if not match:
            raise self.source.error_at(f"expected a value after {name}=", pos)
        value = match.group()
        value = value[:-1] if value.endswith("/") and src.startswith(">", match.end()) else value
        self.pos = pos + len(value)
        return Attr(name, "literal", value, '"', *where)

    def skip_space(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos].isspace():
            self.pos += 1


def _check_element(element: Element, source: Source, open_pos: int) -> None:
    """Reject what the compiler cannot honour, pointing at the offending attribute."""
    for attr in element.attrs:
        if not attr.name.startswith(":"):
            continue
        if attr.name not in _SPECIALS:
            raise source.error(f"unknown special attribute {attr.name}: expected :if, :for, :key or :let", attr.line, attr.column)
        if attr.kind != "expr":
            raise source.error(f"{attr.name} needs an expression, as in {attr.name}={{...}}", attr.line, attr.column)
        if element.kind == "slot":
            raise source.error(f"{attr.name} on a slot <{element.tag}> is not supported", attr.line, attr.column)
        if attr.name == ":let" and element.kind != "component":
            raise source.error(f":let is for components (<.form :let={{f}}>), not <{element.tag}>", attr.line, attr.column)
    key = element.special(":key")
    if key is not None and element.special(":for") is None:
        raise source.error(":key only makes sense with :for on the same element", key.line, key.column)
    if element.kind == "slot" and element.attrs:
        first = element.attrs[0]
        raise source.error(f"attributes on a slot <{element.tag}> are not supported", first.line, first.column)
    name = element.tag[1:]
    if element.kind != "html" and not name.isidentifier():
        raise source.error_at(f"<{element.tag}>: a component or slot name must be a Python identifier", open_pos)


# ---------------------------------------------------------------------------
# Python expressions

_IDENT = re.compile(r"[A-Za-z_]\w*")
_LAST_WORD = re.compile(r"\w+$")


@attrs.frozen
class Python:
    """An expression ready to embed: its code and the assigns it reads (None: all, it reads ``assigns``)."""

    code: str
    deps: frozenset[str] | None


def expression(source: Source, code: str, line: int, column: int, *, prefix: str = "(", suffix: str = "\n)") -> Python:
    """Check ``code`` (an expression, or ``prefix``+code+``suffix``) and rewrite its ``@name`` shorthands.

    Raises:
        TemplateSyntaxError: at the template position of Python's complaint.
    """
    rewritten, checkable, names = _rewrite(code)
    try:
        tree = ast.parse(prefix + checkable + suffix, mode="eval")
    except SyntaxError as exc:
        lineno, offset = exc.lineno or 1, exc.offset or 1
        code_lines = checkable.split("\n")
        if lineno > len(code_lines):  # in the suffix: point just after the expression
            lineno, offset = len(code_lines), len(code_lines[-1]) + 1 + (len(prefix) if len(code_lines) == 1 else 0)
        err_col = column + max(offset - len(prefix), 1) - 1 if lineno == 1 else offset
        raise source.error(f"invalid Python expression: {exc.msg}", line + lineno - 1, err_col) from None
    reads_assigns = any(isinstance(node, ast.Name) and node.id == "assigns" for node in ast.walk(tree))
    dotted = _Dots(prefix + rewritten + suffix).rewritten()[len(prefix) : -len(suffix) or None]
    return Python(dotted, None if reads_assigns else frozenset(names))


def _rewrite(code: str) -> tuple[str, str, set[str]]:
    """``@name`` → ``assigns["name"]`` (and → ``_name``, same length, for checking), outside strings."""
    out, check, names = [], [], set()
    i = last = 0
    previous = ""
    while i < len(code):
        char = code[i]
        if char in "\"'":
            i = _string_end(code, i)
            i = len(code) if i < 0 else i
            previous = char
            continue
        match = _IDENT.match(code, i + 1) if char == "@" else None
        if match and _operand_position(code[:i], previous):
            out += [code[last:i], f"assigns[{match.group()!r}]"]
            check += [code[last:i], "_" + match.group()]
            names.add(match.group())
            i = last = match.end()
            previous = "x"
            continue
        previous = char if not char.isspace() else previous
        i += 1
    out.append(code[last:])
    check.append(code[last:])
    return "".join(out), "".join(check), names


class _Dots:
    """``x.name`` → ``_tpl_dot(x, 'name')`` in an expression's code, which reads a dict's key ``name``.

    So ``{@todo.title}`` works on a dict as HEEx's ``@todo.title`` works on a
    map (the runtime half is ``_template_compile._dot``). The code is
    rewritten in place, every character outside the attribute accesses
    kept, so the expression keeps its line breaks (and error lines). Left
    alone: an attribute of a literal (``", ".join``, nothing to look up) and
    whatever is inside an f-string (left as written).
    """

    def __init__(self, code: str) -> None:
        self.code = code
        self.tree = ast.parse(code, mode="eval")
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", code)]

    def rewritten(self) -> str:
        return self.splice(0, len(self.code), self.tree)

    def splice(self, start: int, stop: int, node: ast.AST) -> str:
        """``code[start:stop]`` (which holds ``node``) with its attribute accesses rewritten."""
        out, position = [], start
        # In the order they are written: the tree's order is not always (x if test else y).
        spans = sorted((self.offset(dot.lineno, dot.col_offset), self.end(dot), dot) for dot in self.outermost(node))
        for dot_start, dot_stop, dot in spans:
            out += [self.code[position:dot_start], self.call(dot, dot_start, dot_stop)]
            position = dot_stop
        out.append(self.code[position:stop])
        return "".join(out)

    def call(self, dot: ast.Attribute, start: int, stop: int) -> str:
        name_start = stop - len(dot.attr)
        period = self.code.rindex(".", start, name_start)
        value = self.splice(start, period, dot.value)
        breaks = self.code.count("\n", period, name_start)  # (x.\n name): kept, for the line map
        return f"_tpl_dot({value}, {dot.attr!r}{chr(10) * breaks})"

    def outermost(self, node: ast.AST) -> Iterator[ast.Attribute]:
        """The attribute accesses to rewrite at or under ``node``, not those inside them."""
        if isinstance(node, ast.JoinedStr):
            return
        if _is_dot(node):
            yield node
            return
        for child in ast.iter_child_nodes(node):
            yield from self.outermost(child)

    def offset(self, lineno: int, col_bytes: int) -> int:
        start = self.line_starts[lineno - 1]
        line = self.code[start:]
        return start + len(line.encode("utf-8")[:col_bytes].decode("utf-8"))

    def end(self, node: ast.expr) -> int:
        assert node.end_lineno is not None and node.end_col_offset is not None  # (ast.parse sets them)
        return self.offset(node.end_lineno, node.end_col_offset)


def _is_dot(node: ast.AST) -> TypeGuard[ast.Attribute]:
    """An attribute read worth a lookup: not a literal's (``"-".join``), not an assignment target."""
    return isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and not isinstance(node.value, ast.Constant)


def _operand_position(before: str, previous: str) -> bool:
    """Whether an @ after this text starts an operand (an assign), not matrix multiplication ``a @ b``."""
    if previous and previous in ")]}\"'":
        return False
    if not (previous.isalnum() or previous == "_"):
        return True
    word = _LAST_WORD.search(before.rstrip())
    return word is not None and keyword.iskeyword(word.group())


def _string_end(text: str, start: int) -> int:
    """The position after the Python string literal opening at start, or -1 if it never closes."""
    quote = text[start] * 3 if text.startswith(text[start] * 3, start) else text[start]
    i = start + len(quote)
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(quote, i):
            return i + len(quote)
        elif text[i] == "\n" and len(quote) == 1:
            return -1
        else:
            i += 1
    return -1


def for_clause(code: str) -> str | None:
    """``item <- @items`` → ``item in @items`` (same length); None if code has neither ``<-`` nor ``in``."""
    i = 0
    while i < len(code):
        if code[i] in "\"'":
            i = _string_end(code, i)
            if i < 0:
                break
            continue
        if code.startswith("<-", i):
            return code[:i] + "in" + code[i + 2 :]
        i += 1
    return code if re.search(r"\bin\b", code) else None


def split_for_clause(code: str) -> tuple[str, str, str]:
    """``item in @items if ok`` → ``("item in ", "@items", " if ok")``: the iterable cut out.

    ``code`` is a clause :func:`for_clause` returned. The iterable is evaluated
    once, apart from the loop, so a stream can be told apart from a list.
    """
    _, checkable, _ = _rewrite(code)  # same length as code, valid Python
    prefix = "[0 for "
    text = prefix + checkable + "\n]"
    comprehension = ast.parse(text, mode="eval").body
    assert isinstance(comprehension, ast.ListComp)  # (the text is one, by construction)
    iterable = comprehension.generators[0].iter
    assert iterable.end_lineno is not None and iterable.end_col_offset is not None  # (ast.parse sets them)
    start = _char_offset(text, iterable.lineno, iterable.col_offset) - len(prefix)
    end = _char_offset(text, iterable.end_lineno, iterable.end_col_offset) - len(prefix)
    return code[:start], code[start:end], code[end:]


def _char_offset(text: str, lineno: int, col_bytes: int) -> int:
    lines = text.split("\n")
    before = sum(len(line) + 1 for line in lines[: lineno - 1])
    return before + len(lines[lineno - 1].encode("utf-8")[:col_bytes].decode("utf-8"))
