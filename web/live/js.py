"""JS commands: DOM operations the LiveView client runs without a server round trip.

The counterpart of Phoenix's ``Phoenix.LiveView.JS``. A :class:`JS` is a list
of commands, built by chaining; put it where a binding expects an event name
(``phx-click``, ``phx-submit``, ``phx-remove``, ``phx-mounted``…) and the
official client (phoenix_live_view 1.2) runs the commands in order when the
binding fires::

    from web.live import compile_template
    from web.live.js import JS, closest

    def hide_modal(js=JS()):      # a shared default is safe: a JS never changes
        return js.hide(to="#modal", transition="fade-out").remove_class("locked", to="body")

    MODAL = compile_template('''
    <div id="modal" phx-remove={hide_modal()}>
      <button phx-click={hide_modal().push("closed", value={"reason": "button"})}>✖</button>
      <button phx-click={JS().toggle_class("open", to=closest(".card"))}>more</button>
    </div>''', namespace={"JS": JS, "closest": closest, "hide_modal": hide_modal})

Each method returns a new :class:`JS` and leaves its receiver alone, so a
shared ``JS`` (``hide_modal()`` above) can be extended safely. ``str(js)``
is the JSON the client parses; templates escape it like any attribute value:

    >>> js = JS().push("inc", value={"by": 2}).show(to="#spinner")
    >>> print(js)
    [["push",{"event":"inc","value":{"by":2}}],["show",{"to":"#spinner"}]]
    >>> from markupsafe import escape
    >>> print(escape(js))
    [[&#34;push&#34;,{&#34;event&#34;:&#34;inc&#34;,&#34;value&#34;:{&#34;by&#34;:2}}],[&#34;show&#34;,{&#34;to&#34;:&#34;#spinner&#34;}]]

The commands and what the client does with them:

=====================================  ==========================================
``push(event, value=, target=, …)``    send ``event`` to the server (handle_event)
``show`` / ``hide`` / ``toggle``       set ``display``, with optional transitions
``add_class`` / ``remove_class`` /     change classes; they *stick* across DOM
``toggle_class``                       patches from the server
``set_attribute`` / ``remove_…`` /     change attributes, sticky too
``toggle_attribute``
``ignore_attributes(names)``           keep the client's values of these
                                       attributes when the server patches
``transition(names)``                  apply classes for ``time`` ms (animations)
``dispatch(event, detail=)``           fire a DOM ``CustomEvent`` (``click``: a
                                       ``MouseEvent``)
``navigate(href)`` / ``patch(href)``   live navigation, pushState history
``focus`` / ``focus_first`` /          move focus; the push/pop pair restores
``push_focus`` / ``pop_focus``         it (say, when a modal closes)
``exec(attr)``                         run the JS held in another attribute
=====================================  ==========================================

**Targets.** ``to=`` picks the elements a command applies to; by default the
element whose binding fired. It is a CSS selector searched in the whole
document, or a scope relative to that element: ``closest(".card")`` (the
nearest ancestor-or-self that matches) or ``inner(".menu")`` (matching
descendants).

**Transitions** are a string of classes applied while the command runs, or
a 3-tuple ``("ease-out duration-300", "opacity-0", "opacity-100")``: the
classes applied throughout, at the start, and at the end. ``time`` (ms,
default 200) should match the CSS duration; ``blocking=True`` (the default)
holds back server patches to the element until the transition is over.

**Wire format.** Each command is ``[kind, args]``; arguments left at the
client's own default are omitted and keys are sorted, as Phoenix encodes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Union

import attrs
import orjson

__all__ = ["JS", "Scope", "closest", "inner", "DEFAULT_TIME"]

DEFAULT_TIME = 200
"""Transition time (ms) the client assumes when a command carries none."""


@attrs.frozen
class Scope:
    """A ``to=`` target relative to the element whose binding fired; see :func:`closest`, :func:`inner`."""

    kind: str = attrs.field(validator=attrs.validators.in_(("closest", "inner")))
    selector: str


def closest(selector: str) -> Scope:
    """``to=closest(sel)``: the nearest ancestor of the source element (or itself) matching ``sel``."""
    return Scope("closest", _name("closest", "selector", selector))


def inner(selector: str) -> Scope:
    """``to=inner(sel)``: the source element's descendants matching ``sel``."""
    return Scope("inner", _name("inner", "selector", selector))


Target = Union[str, Scope, None]
Transition = Union[str, tuple[str, str, str], None]


class JS:
    """An immutable chain of client-side commands; ``str(js)`` is its JSON.

    Start from ``JS()`` and chain; every method returns a new ``JS``. Two
    chains are equal when they encode to the same JSON.
    """

    __slots__ = ("_encoded",)

    def __init__(self) -> None:
        # Each command is encoded once, when added: it is rendered on every
        # template render, and the caller's dicts (value=, detail=) are
        # snapshotted, so mutating them later cannot change this JS.
        self._encoded: tuple[bytes, ...] = ()

    # -- the commands, in the order of the table above -----------------------

    def push(
        self,
        event: str,
        *,
        value: Mapping | None = None,
        target: int | str | None = None,
        loading: str | None = None,
        page_loading: bool = False,
    ) -> JS:
        """Push ``event`` to the server, like a plain ``phx-click="event"`` would.

        Args:
            event: the event name ``handle_event`` receives.
            value: a dict merged over the element's ``phx-value-*`` attributes.
            target: a component's cid (int) or a CSS selector; overrides ``phx-target``.
            loading: a selector for extra elements that get the loading classes
                (``phx-click-loading``…) until the server replies.
            page_loading: also fire ``phx:page-loading-start``/``-stop``.
        """
        args: dict[str, object] = {"event": _name("push", "event", event)}
        if value is not None:
            args["value"] = _mapping("push", "value", value)
        if target is not None:
            args["target"] = _push_target(target)
        if loading is not None:
            args["loading"] = _name("push", "loading", loading)
        if _flag("push", "page_loading", page_loading):
            args["page_loading"] = True  # the client reads a missing one as false
        return self._add("push", args)

    def show(
        self,
        *,
        to: Target = None,
        transition: Transition = None,
        time: float = DEFAULT_TIME,
        display: str | None = None,
        blocking: bool = True,
    ) -> JS:
        """Show hidden elements; their ``display`` becomes ``display=`` or the client's pick (``block``…)."""
        args = _transition_args("show", transition, time, blocking)
        if display is not None:
            args["display"] = _name("show", "display", display)
        return self._add("show", _put_to(args, "show", to))

    def hide(self, *, to: Target = None, transition: Transition = None, time: float = DEFAULT_TIME, blocking: bool = True) -> JS:
        """Hide visible elements (``display: none``), after ``transition`` if given."""
        args = _transition_args("hide", transition, time, blocking)
        return self._add("hide", _put_to(args, "hide", to))

    def toggle(
        self,
        *,
        to: Target = None,
        in_: Transition = None,
        out: Transition = None,
        time: float = DEFAULT_TIME,
        display: str | None = None,
        blocking: bool = True,
    ) -> JS:
        """Show hidden elements with the ``in_`` transition, hide visible ones with ``out``."""
        args = _timing("toggle", time, blocking)
        if in_ is not None:
            args["ins"] = _transition_classes("toggle", "in_", in_)
        if out is not None:
            args["outs"] = _transition_classes("toggle", "out", out)
        if display is not None:
            args["display"] = _name("toggle", "display", display)
        return self._add("toggle", _put_to(args, "toggle", to))

    def add_class(self, names: str | list[str], *, to: Target = None, transition: Transition = None,
                  time: float = DEFAULT_TIME, blocking: bool = True) -> JS:
        """Add classes (``"a b"`` or ``["a", "b"]``); they survive server patches."""
        return self._class_op("add_class", names, to, transition, time, blocking)

    def remove_class(self, names: str | list[str], *, to: Target = None, transition: Transition = None,
                     time: float = DEFAULT_TIME, blocking: bool = True) -> JS:
        """Remove classes; the removal survives server patches."""
        return self._class_op("remove_class", names, to, transition, time, blocking)

    def toggle_class(self, names: str | list[str], *, to: Target = None, transition: Transition = None,
                     time: float = DEFAULT_TIME, blocking: bool = True) -> JS:
        """Add each class an element lacks, remove each one it has."""
        return self._class_op("toggle_class", names, to, transition, time, blocking)

    def set_attribute(self, attr: tuple[str, str], *, to: Target = None) -> JS:
        """Set ``attr = (name, value)``, e.g. ``("aria-expanded", "true")``."""
        name, value = _attr_tuple("set_attribute", attr, sizes=(2,))
        return self._add("set_attr", _put_to({"attr": [name, value]}, "set_attribute", to))

    def remove_attribute(self, name: str, *, to: Target = None) -> JS:
        """Remove the attribute ``name``."""
        args = {"attr": _name("remove_attribute", "name", name)}
        return self._add("remove_attr", _put_to(args, "remove_attribute", to))

    def toggle_attribute(self, attr: tuple[str, str] | tuple[str, str, str], *, to: Target = None) -> JS:
        """``(name, value)``: set it if absent, else remove it; ``(name, v1, v2)``: flip between the two."""
        parts = _attr_tuple("toggle_attribute", attr, sizes=(2, 3))
        return self._add("toggle_attr", _put_to({"attr": list(parts)}, "toggle_attribute", to))

    def ignore_attributes(self, names: str | list[str], *, to: Target = None) -> JS:
        """Keep the client's values of these attributes across server patches (``"data-*"`` works)."""
        attrs_ = _names("ignore_attributes", "names", [names] if isinstance(names, str) else names)
        return self._add("ignore_attrs", _put_to({"attrs": attrs_}, "ignore_attributes", to))

    def transition(self, names: str | tuple[str, str, str], *, to: Target = None,
                   time: float = DEFAULT_TIME, blocking: bool = True) -> JS:
        """Apply transition classes for ``time`` ms, e.g. ``transition("shake")``."""
        args = _timing("transition", time, blocking)
        args["transition"] = _transition_classes("transition", "names", names)
        return self._add("transition", _put_to(args, "transition", to))

    def dispatch(self, event: str, *, to: Target = None, detail: Mapping | None = None,
                 bubbles: bool | None = None, blocking: bool = False) -> JS:
        """Dispatch a DOM event; listeners find ``detail`` (plus ``dispatcher``) in ``event.detail``.

        ``bubbles=None`` leaves it to the client: true, except for a ``click``
        on a file input. With ``blocking=True`` the UI waits until a listener
        calls ``event.detail.done()``.
        """
        args: dict[str, object] = {"event": _name("dispatch", "event", event)}
        if detail is not None:
            args["detail"] = _dispatch_detail(event, detail, blocking)
        if bubbles is not None:
            args["bubbles"] = _flag("dispatch", "bubbles", bubbles)
        if _flag("dispatch", "blocking", blocking):
            args["blocking"] = True  # unlike transitions, dispatch does not block by default
        return self._add("dispatch", _put_to(args, "dispatch", to))

    def navigate(self, href: str, *, replace: bool = False) -> JS:
        """Navigate to another LiveView (``replace=True``: replace the history entry)."""
        return self._add("navigate", _href_args("navigate", href, replace))

    def patch(self, href: str, *, replace: bool = False) -> JS:
        """Patch the current LiveView to ``href`` (its ``handle_params`` runs)."""
        return self._add("patch", _href_args("patch", href, replace))

    def focus(self, *, to: Target = None) -> JS:
        """Focus the element (if focusable)."""
        return self._add("focus", _put_to({}, "focus", to))

    def focus_first(self, *, to: Target = None) -> JS:
        """Focus the first focusable descendant, interactive ones first."""
        return self._add("focus_first", _put_to({}, "focus_first", to))

    def push_focus(self, *, to: Target = None) -> JS:
        """Remember an element (by default the source) for a later :meth:`pop_focus`."""
        return self._add("push_focus", _put_to({}, "push_focus", to))

    def pop_focus(self) -> JS:
        """Focus the element the last :meth:`push_focus` remembered."""
        return self._add("pop_focus", {})

    def exec(self, attr: str, *, to: Target = None) -> JS:
        """Run the JS commands held in attribute ``attr`` (of the source, or of ``to``)."""
        args = {"attr": _name("exec", "attr", attr)}
        return self._add("exec", _put_to(args, "exec", to))

    def concat(self, other: JS) -> JS:
        """This chain followed by ``other``'s commands."""
        if not isinstance(other, JS):
            raise TypeError(f"JS.concat expects a JS; got {other!r}")
        return self._of(self._encoded + other._encoded)

    # -- reading it back ------------------------------------------------------

    def to_json(self) -> str:
        """The compact JSON the client parses: ``[[kind, args], ...]``."""
        return (b"[" + b",".join(self._encoded) + b"]").decode()

    __str__ = to_json
    # No __html__ on purpose: a JS is text to escape into an attribute, never markup.

    @property
    def ops(self) -> list[list]:
        """The commands as fresh Python data, ``[[kind, args], ...]``."""
        return orjson.loads(self.to_json())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JS):
            return NotImplemented
        return self._encoded == other._encoded

    def __hash__(self) -> int:
        return hash(self._encoded)

    def __repr__(self) -> str:
        return f"<JS {self.to_json()}>"

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_encoded"):
            raise AttributeError("JS is immutable: its methods return a new JS")
        object.__setattr__(self, name, value)

    # -- helpers ------------------------------------------------------------

    def _add(self, kind: str, args: dict) -> JS:
        try:
            # Sorted keys: deterministic output, equal for equal dicts, and
            # the order Phoenix's encoder produces for small maps.
            encoded = orjson.dumps([kind, args], option=orjson.OPT_SORT_KEYS)
        except TypeError as error:  # only user data (push value=, dispatch detail=) can fail here
            raise TypeError(f"JS.{kind}: arguments must be JSON-encodable: {error}") from None
        return self._of(self._encoded + (encoded,))

    @classmethod
    def _of(cls, encoded: tuple[bytes, ...]) -> JS:
        js = cls.__new__(cls)
        object.__setattr__(js, "_encoded", encoded)
        return js

    def _class_op(self, command: str, names: object, to: Target, transition: Transition,
                  time: float, blocking: bool) -> JS:
        args = _transition_args(command, transition, time, blocking)
        args["names"] = _class_names(command, "names", names)
        return self._add(command, _put_to(args, command, to))


# ---------------------------------------------------------------------------
# Argument checks and encodings. Errors name the command and the argument,
# and say what was expected: a bad JS fails where it is built, not in a browser.

def _name(command: str, arg: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"JS.{command}: {arg} expects a string; got {value!r}")
    if not value.strip():
        raise ValueError(f"JS.{command}: {arg} must not be empty; got {value!r}")
    return value


def _put_to(args: dict, command: str, to: Target) -> dict:
    if to is None:
        return args  # the client applies the command to the source element
    if isinstance(to, Scope):
        args["to"] = {to.kind: to.selector}  # the client's {"closest": sel} / {"inner": sel}
    elif isinstance(to, str):
        args["to"] = _name(command, "to", to)
    else:
        raise TypeError(f"JS.{command}: to expects a CSS selector string, closest(sel) or inner(sel); got {to!r}")
    return args


def _flag(command: str, arg: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"JS.{command}: {arg} expects True or False; got {value!r}")
    return value


def _timing(command: str, time: object, blocking: object) -> dict:
    """``time`` and ``blocking``, each omitted at the client's default (200 ms, blocking)."""
    if isinstance(time, bool) or not isinstance(time, (int, float)):
        raise TypeError(f"JS.{command}: time expects milliseconds as a number; got {time!r}")
    if not math.isfinite(time) or time < 0:
        raise ValueError(f"JS.{command}: time must be a finite number of milliseconds >= 0; got {time!r}")
    args: dict = {}
    if time != DEFAULT_TIME:
        args["time"] = time
    if not _flag(command, "blocking", blocking):
        args["blocking"] = False  # the client blocks unless it reads an explicit false
    return args


def _transition_args(command: str, transition: Transition, time: object, blocking: object) -> dict:
    args = _timing(command, time, blocking)
    if transition is not None:
        args["transition"] = _transition_classes(command, "transition", transition)
    return args


def _transition_classes(command: str, arg: str, value: object) -> list[list[str]]:
    """``"a b"`` → ``[["a", "b"], [], []]``; ``(run, start, end)`` → three class lists."""
    if isinstance(value, str):
        return [value.split(), [], []]
    if isinstance(value, (tuple, list)) and len(value) == 3 and all(isinstance(part, str) for part in value):
        return [part.split() for part in value]
    raise TypeError(
        f"JS.{command}: {arg} expects a string of classes or a 3-tuple of them "
        f"(running, start, end), e.g. (\"ease-out duration-300\", \"opacity-0\", \"opacity-100\"); got {value!r}"
    )


def _class_names(command: str, arg: str, value: object) -> list[str]:
    if isinstance(value, str):
        names = value.split()
    elif isinstance(value, (list, tuple)):
        names = [_name(command, arg, name) for name in value]
    else:
        raise TypeError(f"JS.{command}: {arg} expects a string of class names or a list of them; got {value!r}")
    if not names:
        raise ValueError(f"JS.{command}: {arg} needs at least one class name; got {value!r}")
    return names


def _names(command: str, arg: str, value: object) -> list[str]:
    if not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"JS.{command}: {arg} expects a name or a non-empty list of names; got {value!r}")
    return [_name(command, arg, name) for name in value]


def _attr_tuple(command: str, value: object, *, sizes: tuple[int, ...]) -> tuple[str, ...]:
    # Values must be strings: the client compares getAttribute() results with
    # them using ===, so toggle_attribute(("tabindex", 0)) would never match.
    shapes = " or ".join({2: "(name, value)", 3: "(name, value1, value2)"}[size] for size in sizes)
    if not isinstance(value, tuple) or len(value) not in sizes or not all(isinstance(part, str) for part in value):
        raise TypeError(f"JS.{command}: expects a tuple of strings {shapes}; got {value!r}")
    _name(command, "the attribute name", value[0])
    return value


def _mapping(command: str, arg: str, value: object) -> dict:
    if not isinstance(value, Mapping):
        raise TypeError(f"JS.{command}: {arg} expects a dict; got {value!r}")
    return dict(value)


def _push_target(target: object) -> int | str:
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(f"JS.push: target expects a component's cid (int) or a CSS selector; got {target!r}")
    if isinstance(target, int):
        if target < 0:
            raise ValueError(f"JS.push: target cid must be >= 0; got {target!r}")
        return target
    return _name("push", "target", target)


def _dispatch_detail(event: object, detail: object, blocking: object) -> dict:
    detail = _mapping("dispatch", "detail", detail)
    if event == "click":
        # The browser turns a MouseEvent's detail into a click count.
        raise ValueError(
            "JS.dispatch: a \"click\" cannot carry detail (browsers replace a MouseEvent's detail "
            "with the click count); dispatch your own event with the detail and click from its listener"
        )
    if blocking is True and "done" in detail:
        raise ValueError(f"JS.dispatch: with blocking=True the client puts its own done() in detail; got {detail!r}")
    return detail


def _href_args(command: str, href: object, replace: object) -> dict:
    # Phoenix always sends replace, even false; so do we (the client reads a missing one as false too).
    return {"href": _name(command, "href", href), "replace": _flag(command, "replace", replace)}
