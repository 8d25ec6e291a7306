"""The components every template knows: links, uploads, stateful components and forms.

They are Phoenix.Component's built-ins (and the ``<.input>`` of Phoenix's
generated core components), written with our own templates::

    <.live_component module={Card} id="card-1" title={@title} />   stateful component (its cid)
    <.live_file_input upload={@uploads.avatar} />                   the file input of an upload
    <.link navigate="/live/chat">chat</.link>                        live navigation (same socket)
    <.link patch="/live/counter?step=2">by two</.link>               same view, new params
    <.link href="/">home</.link>                                     an ordinary link
    <.form for={@form} id="signup" phx-change="validate" phx-submit="save">...</.form>
    <.input field={@form["email"]} type="email" label="Email" />    label, input, errors once used
    <.inputs_for :let={f} field={@form["addresses"]}>...</.inputs_for>   a nested form per entry

A template's own ``components=`` of the same name take precedence.

Forms
-----
``<.form for={...}>`` takes a :class:`~web.live._forms.Form` (or params,
made one with ``as``/``errors`` attributes) and renders ``<form>`` with
the other attributes; its content may bind the form with ``:let={f}``.
With ``action`` (a form posted over HTTP, not the socket) it gets
``method`` (``"post"`` unless given; another verb goes in a ``_method``
hidden input) and a hidden ``_csrf_token`` input with the page's token
(``csrf_token={False}`` leaves it out, a string replaces it), which
``web.session.CSRFProtection`` accepts. ``multipart`` sets the enctype.

``<.input field={...}>`` renders a label, the input (its ``name``, ``id``
and ``value`` from the field) and the field's errors, only once
:func:`~web.live._forms.used_input` says the user has used it, so a
half-filled form does not shout about the fields ahead. ``type`` is any
``<input>`` type, or ``"checkbox"`` (a hidden ``"false"`` and a ``"true"``
box), ``"select"`` (``options``: values, ``(label, value)`` pairs or a
dict, an optional ``prompt``, ``multiple``), ``"textarea"``, ``"hidden"``
(the input alone). ``errors`` replaces the field's; other attributes go on
the input. Its markup::

    <div class="field">
      <label for="user_email">Email</label>
      <input type="email" name="user[email]" id="user_email" value="ann@" aria-invalid="true">
      <p class="field-error">must have a domain</p>
    </div>

Write your own ``input`` component for other markup: the field has all it
needs (``field.name``, ``field.id``, ``field.value``, ``field.errors``,
``used_input(field)``).

``<.inputs_for :let={f} field={@form["addresses"]}>`` renders its content
once per nested form (:func:`~web.live._forms.nested_forms`: a dict field
is one, a list one per entry), each after its hidden ``_persistent_id``
input; ``default`` (a dict, or a list of dicts) when the field has no
value, ``skip_hidden`` / ``skip_persistent_id`` as in Phoenix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._component import live_component
from ._forms import Form, FormField, current_csrf_token, nested_forms, to_form, used_input
from ._rendered import Comprehension
from ._template_compile import compile_source

__all__ = ["BUILTINS", "live_file_input", "link", "form", "input", "inputs_for"]

# Compiled by the layer under web.live._template, which knows no built-ins
# (these use none): compile_template itself imports this module.
_FILE_INPUT = compile_source(
    """<input id={@upload.ref} type="file" name={@upload.name} accept={@accept}
  data-phx-hook="Phoenix.LiveFileUpload" data-phx-update="ignore"
  data-phx-upload-ref={@upload.ref}
  data-phx-active-refs={",".join(e.ref for e in @upload.entries)}
  data-phx-done-refs={",".join(e.ref for e in @upload.entries if e.done)}
  data-phx-preflighted-refs={",".join(e.ref for e in @upload.entries if e.preflighted)}
  data-phx-auto-upload={@upload.auto_upload}
  multiple={@upload.max_entries > 1} {@rest} />""",
    "web/live/_builtins.py:live_file_input",
)


def live_file_input(assigns: dict):
    """``<.live_file_input upload={@uploads.name} />``: the input the client's uploader drives

    (docs/protocol/liveview.md, "Uploads").
    """
    upload = assigns.get("upload")
    if upload is None or not hasattr(upload, "entries"):
        raise TypeError(f"<.live_file_input> needs upload={{@uploads.<name>}}; got {upload!r}")
    rest = {k: v for k, v in assigns.items() if k not in ("upload", "accept", "inner_block")}
    accept = assigns.get("accept") or upload.accept_attribute()
    return _FILE_INPUT.render({"upload": upload, "accept": accept, "rest": rest})


_LINK = compile_source(
    """<a href={@href} data-phx-link={@kind} data-phx-link-state={@state} {@rest}>{@inner_block}</a>""",
    "web/live/_builtins.py:link",
)


def link(assigns: dict):
    """``<.link navigate=... | patch=... | href=...>``: a live or ordinary link."""
    rest = {k: v for k, v in assigns.items() if k not in ("navigate", "patch", "href", "replace", "inner_block")}
    state: str | None = "replace" if assigns.get("replace") else "push"
    kind: str | None
    if assigns.get("navigate") is not None:
        href, kind = assigns["navigate"], "redirect"
    elif assigns.get("patch") is not None:
        href, kind = assigns["patch"], "patch"
    else:
        href, kind, state = assigns.get("href", "#"), None, None
    return _LINK.render({"href": href, "kind": kind, "state": state, "rest": rest, "inner_block": assigns.get("inner_block")})


# ---------------------------------------------------------------------------
# Forms

_FORM = compile_source(
    """<form {@attrs}><input :if={@method} name="_method" type="hidden" hidden value={@method} /><input
  :if={@csrf_token} name="_csrf_token" type="hidden" hidden value={@csrf_token} />{render_slot(@inner_block, @form)}</form>""",
    "web/live/_builtins.py:form",
)
_FORM_OPTIONS = ("for", "as", "errors", "action", "method", "csrf_token", "multipart", "inner_block")


def form(assigns: dict):
    """``<.form for={@form} ...>``: a ``<form>`` for a Form (see "Forms" above)."""
    source = assigns.get("for")
    the_form = to_form({} if source is None else source, as_=assigns.get("as"), errors=assigns.get("errors"))
    attributes = {name: value for name, value in assigns.items() if name not in _FORM_OPTIONS}
    method = csrf = None
    if assigns.get("action") is not None:
        verb = str(assigns.get("method") or "post").lower()
        sent = verb if verb in ("get", "post") else "post"
        method = None if verb == sent else verb  # a browser sends GET and POST only: _method tells the rest
        csrf = _csrf_token(assigns.get("csrf_token"), sent)
        attributes = {"action": assigns["action"], "method": sent, **attributes}
    if assigns.get("multipart"):
        attributes["enctype"] = "multipart/form-data"
    values = {"attrs": attributes, "method": method, "csrf_token": csrf, "form": the_form}
    return _FORM.render({**values, "inner_block": assigns.get("inner_block")})


def _csrf_token(given: object, sent: str) -> str | None:
    if given is False:
        return None
    if isinstance(given, str):
        return given
    return current_csrf_token.get() if sent == "post" else None


_FIELD = compile_source(
    """<div class="field"><label :if={@label} for={@id}>{@label}</label>{@control}<p
  :for={message <- @errors} class="field-error">{message}</p></div>""",
    "web/live/_builtins.py:input",
)
_INPUT = compile_source(
    """<input type={@type} name={@name} id={@id} value={@value} aria-invalid={@invalid} {@rest} />""",
    "web/live/_builtins.py:input",
)
_CHECKBOX = compile_source(
    """<input type="hidden" name={@name} value="false" disabled={@rest.get("disabled")} /><input
  type="checkbox" name={@name} id={@id} value="true" checked={@checked} aria-invalid={@invalid} {@rest} />""",
    "web/live/_builtins.py:input",
)
_SELECT = compile_source(
    """<select name={@name} id={@id} multiple={@multiple} aria-invalid={@invalid} {@rest}><option
  :if={@prompt} value="">{@prompt}</option><option :for={label, value, selected <- @options}
  value={value} selected={selected}>{label}</option></select>""",
    "web/live/_builtins.py:input",
)
_TEXTAREA = compile_source(
    """<textarea name={@name} id={@id} aria-invalid={@invalid} {@rest}>{@value}</textarea>""",
    "web/live/_builtins.py:input",
)
_INPUT_OPTIONS = (
    "field", "type", "label", "id", "name", "value", "errors", "options", "prompt", "multiple", "checked", "inner_block",
)


def input(assigns: dict):
    """``<.input field={@form["email"]} type="email" label="Email" />`` (see "Forms" above)."""
    field = assigns.get("field")
    if field is not None and not isinstance(field, FormField):
        raise TypeError(f'<.input> needs field={{@form["name"]}} (a form\'s field); got {field!r}')
    kind = assigns.get("type", "text")
    values = _input_values(assigns, field)
    rest = {name: value for name, value in assigns.items() if name not in _INPUT_OPTIONS}
    values.update(type=kind, rest=rest, invalid="true" if values["errors"] else None)
    control = _control(kind, values, assigns)
    if kind == "hidden":
        return control
    return _FIELD.render({**values, "label": assigns.get("label"), "control": control})


def _input_values(assigns: dict, field: FormField | None) -> dict[str, Any]:
    """id, name, value and the errors to show: given ones first, else the field's."""
    errors = assigns.get("errors")
    if errors is None:
        errors = field.errors if field is not None and used_input(field) else []
    name = assigns.get("name") or (field.name if field is not None else None)
    if field is not None and assigns.get("multiple") and name == field.name:
        name += "[]"  # a multiple select sends a list
    value = assigns["value"] if "value" in assigns else (field.value if field is not None else None)
    field_id = assigns.get("id") or (field.id if field is not None else None)
    return {"id": field_id, "name": name, "value": value, "errors": list(errors)}


def _control(kind: str, values: dict[str, Any], assigns: dict):
    if kind == "checkbox":
        checked = assigns.get("checked", values["value"] in (True, "true", "on"))
        return _CHECKBOX.render({**values, "checked": checked})
    if kind == "select":
        options = _options(assigns.get("options") or [], values["value"])
        return _SELECT.render({**values, "options": options, "prompt": assigns.get("prompt"), "multiple": assigns.get("multiple")})
    if kind == "textarea":
        # A newline first: the HTML parser drops one that starts a textarea's content, not the value's own.
        return _TEXTAREA.render({**values, "value": "\n" + str(values["value"] or "")})
    return _INPUT.render(values)


def _options(options: Mapping[Any, Any] | Iterable[Any], current: object) -> list[tuple[str, str, bool]]:
    """``(label, value, selected)`` of each option: values, ``(label, value)`` pairs, or a label -> value dict."""
    pairs = options.items() if isinstance(options, Mapping) else options
    chosen = {str(item) for item in current} if isinstance(current, (list, tuple, set)) else {str(current)}
    out = []
    for option in pairs:
        label, value = option if isinstance(option, tuple) else (option, option)
        out.append((str(label), str(value), str(value) in chosen))
    return out


_HIDDEN_AND_BLOCK = compile_source(
    """<input :for={name, value <- @hidden} type="hidden" name={name} value={value} />{render_slot(@inner_block, @form)}""",
    "web/live/_builtins.py:inputs_for",
)
_ROWS = compile_source("{@rows}", "web/live/_builtins.py:inputs_for")


def inputs_for(assigns: dict):
    """``<.inputs_for :let={f} field={@form["addresses"]}>``: the content once per nested form."""
    field = assigns.get("field")
    if not isinstance(field, FormField):
        raise TypeError(f'<.inputs_for> needs field={{@form["name"]}} (a form\'s field); got {field!r}')
    forms = nested_forms(
        field, default=assigns.get("default"), as_=assigns.get("as"), id=assigns.get("id"),
        persistent_id=not assigns.get("skip_persistent_id"),
    )
    rows = [_row(nested, assigns) for nested in forms]
    if not rows:
        return _ROWS.render({"rows": ""})
    # One comprehension: the rows' statics are sent once, however many entries.
    entries = tuple(row.dynamic for row in rows)
    return _ROWS.render({"rows": Comprehension(rows[0].static, entries, rows[0].fingerprint)})


def _row(nested: Form, assigns: dict):
    hidden = () if assigns.get("skip_hidden") else [(f"{nested.name}[{name}]", value) for name, value in nested.hidden]
    return _HIDDEN_AND_BLOCK.render({"hidden": hidden, "form": nested, "inner_block": assigns.get("inner_block")})


BUILTINS = {
    "live_component": live_component,
    "live_file_input": live_file_input,
    "link": link,
    "form": form,
    "input": input,
    "inputs_for": inputs_for,
}
