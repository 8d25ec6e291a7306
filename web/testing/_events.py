"""Events a test sends a view: clicks, form changes and submits, hook events, patch links.

Each helper takes the view (and the event's name and value), or an
:class:`Element` (the event comes from its binding), and returns the view's
HTML after the server's reply, or a :class:`Redirect` when that reply
navigates away::

    html = await render_click(element(view, "button", "+"))           # its phx-click, phx-value-*
    html = await render_change(element(view, "#signup"), {"user": {"name": "Ann"}})
    assert await render_click(view, "go") == Redirect("live_redirect", "/other")

The payloads are the client's (docs/protocol/liveview.md, "event"): an element's
``phx-value-*`` attributes and ``value`` property, form bodies with the
client's ``_unused_`` markers for fields never touched, JS command pushes
(``phx-click='[["push", ...]]'``) one event each, and ``phx-target``
picking the component (a cid, or a selector: one event per component it
matches).
"""

from __future__ import annotations

from typing import Any

import orjson
from selectolax.lexbor import LexborNode

from web.live._wire import EVENT, LIVE_PATCH, LIVE_REDIRECT, REDIRECT

from ._client_model import closest_component, element_value, encode_form, flatten_params, form_body, is_cid
from ._elements import Element, find_one, view_of
from ._live import LiveViewTest, absolute_url
from ._results import Redirect

__all__ = [
    "render_click", "render_change", "render_submit", "render_hook", "render_patch",
    "push_events", "targets", "bindings", "with_cid",
]


async def render_click(
    target: LiveViewTest | Element, event: str | None = None, value: dict[str, Any] | None = None
) -> str | Redirect:
    """Click: send ``event`` to the view, or click the element (its ``phx-click``, or follow its link).

    The payload is the client's: ``{"type": "click", "event", "value"}`` where
    an element's value holds its ``phx-value-*`` attributes and ``value``
    property, then ``value``; ``phx-target`` picks the component. An ``<a>``
    without ``phx-click`` is followed: a patch link patches the view, a
    navigate link returns ``Redirect("live_redirect", href)``, any other
    ``Redirect("redirect", href)``. Returns the HTML, or a :class:`Redirect`.
    """
    _check_event(target, event, "render_click")
    view = view_of(target)
    await view.drain()
    if isinstance(target, LiveViewTest):
        return await push_events(view, {"type": "click", "event": event, "value": dict(value or {})}, [None])
    node = find_one(target)
    pushes = bindings(node, "phx-click")
    if not pushes:
        return await _follow_link(view, target, node)
    result: str | Redirect = view.html
    for name, js_value, js_target in pushes:
        payload = {"type": "click", "event": name, "value": element_value(node, {**(js_value or {}), **(value or {})})}
        result = await push_events(view, payload, targets(view, node, js_target))
        if isinstance(result, Redirect):
            break
    return result


async def render_change(
    target: LiveViewTest | Element, event: str | None = None, value: dict[str, Any] | None = None
) -> str | Redirect:
    """A form change (``phx-change``) of the element's form, or ``event`` with ``value`` to the view.

    For an element (a form, or an input with its own ``phx-change``) the body
    is the form's current values with ``value`` (nested params, like
    ``{"user": {"name": "Ann"}}``) typed over them; fields never touched get
    the client's ``_unused_`` markers; ``meta._target`` names the changed
    field (``value["_target"]``, else the first one given). Returns the HTML,
    or a :class:`Redirect`.
    """
    return await _render_form(target, event, value, "change")


async def render_submit(
    target: LiveViewTest | Element, event: str | None = None, value: dict[str, Any] | None = None
) -> str | Redirect:
    """A form submit (``phx-submit``) of the element's form with ``value`` typed in, or ``event`` to the view."""
    return await _render_form(target, event, value, "submit")


async def render_hook(target: LiveViewTest | Element, event: str, value: dict[str, Any] | None = None) -> str | Redirect:
    """An event pushed by a JS hook (``type: "hook"``); an element's ``phx-target`` picks the component.

    The hook's reply (what ``handle_event`` returned) is ``view.reply`` afterwards.
    """
    if not isinstance(event, str):
        raise TypeError(f"render_hook(view_or_element, event, value=None) needs the event name; got {event!r}")
    view = view_of(target)
    await view.drain()
    cids: list[int | None] = targets(view, find_one(target)) if isinstance(target, Element) else [None]
    return await push_events(view, {"type": "hook", "event": event, "value": dict(value or {})}, cids)


async def render_patch(view: LiveViewTest, path: str) -> str | Redirect:
    """Follow a patch link to ``path`` (``live_patch``): ``handle_params`` runs; the HTML after it.

    A path that belongs to another view is a live navigation: returns ``Redirect("live_redirect", path)``.
    """
    await view.drain()
    response = await view.call(LIVE_PATCH, {"url": absolute_url(path)})
    if response.get("link_redirect"):
        redirect = Redirect(LIVE_REDIRECT, path, source=view)
        view.redirects.append(redirect)
        return redirect
    view.patched(path)
    return await view.apply_reply(response)


# ---------------------------------------------------------------- from the DOM to pushes, for the helpers


async def push_events(view: LiveViewTest, payload: dict, cids: list[int | None]) -> str | Redirect:
    """Push one ``event`` per target cid (None: the view); the HTML (or the redirect) after the last reply."""
    result: str | Redirect = view.html
    for cid in cids:
        result = await view.apply_reply(await view.call(EVENT, with_cid(payload, cid)))
        if isinstance(result, Redirect):
            break
    return result


def targets(view: LiveViewTest, node: LexborNode | None, target: object = None) -> list[int | None]:
    """The cids an event goes to (None: the view): the JS push's target, else ``phx-target``."""
    if target is None and node is not None:
        target = node.attributes.get("phx-target")
    if target is None:
        return [None]
    if is_cid(target):
        if view.dom.find_component(int(target)) is None:
            raise AssertionError(f"no component found matching phx-target of {target} in:\n\n{view.html}")
        return [int(target)]
    matches = view.dom.select(str(target))
    if not matches:
        raise AssertionError(f"nothing found matching the phx-target selector {target!r} in:\n\n{view.html}")
    return [closest_component(match) for match in matches]


def bindings(node: LexborNode, attribute: str) -> list[tuple[str, dict | None, object]]:
    """``(event, value, target)`` of the pushes a binding makes: its name, or its JS commands' pushes."""
    binding = node.attributes.get(attribute)
    if not binding:
        return []
    if not binding.lstrip().startswith("["):
        return [(binding, None, None)]
    pushes = [args for kind, args in orjson.loads(binding) if kind == "push"]
    return [(args.get("event", binding), args.get("value"), args.get("target")) for args in pushes]


def with_cid(payload: dict, cid: int | None) -> dict:
    """``payload`` addressed to component ``cid`` (None: to the view)."""
    return payload if cid is None else {**payload, "cid": cid}


# ---------------------------------------------------------------- helpers


def _check_event(target: object, event: object, helper: str) -> None:
    if isinstance(target, Element) and event is not None:
        raise TypeError(f"{helper}(element) takes the event from the element's binding; pass value=... (got event {event!r})")
    if isinstance(target, LiveViewTest) and not isinstance(event, str):
        raise TypeError(f"{helper}(view, event, value=None) needs the event name; got {event!r}")


async def _follow_link(view: LiveViewTest, target: Element, node: LexborNode) -> str | Redirect:
    href = node.attributes.get("href")
    if node.tag != "a" or href is None:
        raise AssertionError(
            f"element selected by {target.selector!r} has no phx-click attribute and is not a link:\n\n{node.html}"
        )
    kind = node.attributes.get("data-phx-link")
    if kind == "patch":
        return await render_patch(view, href)
    replace = node.attributes.get("data-phx-link-state") == "replace"
    redirect = Redirect(LIVE_REDIRECT if kind == "redirect" else REDIRECT, href, replace=replace, source=view)
    view.redirects.append(redirect)
    return redirect


def _form_of(node: LexborNode, target: Element) -> LexborNode:
    form: LexborNode | None = node
    while form is not None and form.tag != "form":
        form = form.parent
    if form is None:
        raise AssertionError(f"form events need a form: element selected by {target.selector!r} is not in one:\n\n{node.html}")
    return form


def _typed(value: dict | None) -> tuple[str | None, list[tuple[str, str]]]:
    """``(_target, pairs)`` of a form value: the target it names (str or path list), the rest flattened."""
    value = dict(value or {})
    target = value.pop("_target", None)
    if isinstance(target, (list, tuple)):
        target = target[0] + "".join(f"[{part}]" for part in target[1:]) if target else None
    return (str(target) if target is not None else None), (flatten_params(value) if value else [])


async def _render_form(
    target: LiveViewTest | Element, event: str | None, value: dict[str, Any] | None, kind: str
) -> str | Redirect:
    _check_event(target, event, f"render_{kind}")
    view = view_of(target)
    await view.drain()
    target_name, overrides = _typed(value)
    if isinstance(target, LiveViewTest):
        assert event is not None  # (_check_event: a view is sent the event it is named)
        return await _push_form_to_view(view, event, target_name, overrides, kind)
    node = find_one(target)
    form = _form_of(node, target)
    own = node.tag != "form" and f"phx-{kind}" in node.attributes
    source = node if own else form
    pushes = bindings(source, f"phx-{kind}")
    if not pushes:
        raise AssertionError(f"element selected by {target.selector!r} has no phx-{kind} (nor has its form):\n\n{source.html}")
    if target_name is None:
        # The field that changed: the input itself, else the first one typed in.
        target_name = node.attributes.get("name") if node.tag != "form" else (overrides[0][0] if overrides else None)
    _touch(view, form, target_name, overrides, kind)
    result: str | Redirect = view.html
    for name, js_value, js_target in pushes:
        body = form_body(form, view.touched, only=[node.attributes.get("name")] if own else None, overrides=overrides)
        meta = element_value(form, js_value)
        payload: dict[str, Any] = {"type": "form", "event": name, "value": body}
        if kind == "change":
            payload.update(meta={"_target": target_name or "undefined", **meta}, uploads={})
        else:
            payload["meta"] = meta
        result = await push_events(view, payload, targets(view, source, js_target))
        if isinstance(result, Redirect):
            break
    return result


async def _push_form_to_view(
    view: LiveViewTest, event: str, target_name: str | None, overrides: list, kind: str
) -> str | Redirect:
    # No element: the value is the whole body, the first field given is the one that changed.
    target_name = target_name or (overrides[0][0] if overrides else None)
    payload: dict[str, Any] = {"type": "form", "event": event, "value": encode_form(overrides)}
    if kind == "change":
        payload.update(meta={"_target": target_name or "undefined"}, uploads={})
    else:
        payload["meta"] = {}
    return await push_events(view, payload, [None])


def _touch(view: LiveViewTest, form: LexborNode, target_name: str | None, overrides: list, kind: str) -> None:
    # Fields the user typed in lose their _unused_ marker, as in the client.
    view.touched.update(name for name, _ in overrides)
    if target_name is not None and kind == "change":
        view.touched.add(target_name)
    if kind == "submit":  # the client marks every field as submitted
        view.touched.update(name for field in form.css("[name]") if (name := field.attributes.get("name")) is not None)

