"""Forms: the params a form event carries, and the :class:`Form` a template renders from them.

Params
------
The URL-encoded body of a ``phx-change``/``phx-submit`` is decoded like
Plug. What the client sends is in docs/protocol/liveview.md, "event".

Nested names build nested dicts, ``[]`` builds lists, ``meta`` is merged
in, and ``_target`` (the name of the input that changed) becomes its path::

    >>> decode_form("user[name]=ann&user[tags][]=a&user[tags][]=b&agree=on", {"_target": "user[name]"})
    {'user': {'name': 'ann', 'tags': ['a', 'b']}, 'agree': 'on', '_target': ['user', 'name']}

A name that is both a value and a map (``a=1&a[b]=2``) keeps the last
shape given, as Plug does. The body comes from the client, so a name
nested deeper than :data:`MAX_NAME_DEPTH` raises :class:`FormError` (the
event is answered with an error) rather than build params no reply could
carry, and a ``meta`` that is not a dict is refused the same way::

    >>> decode_form("a" + "[b]" * 64 + "=1")
    Traceback (most recent call last):
    ...
    web.live._forms.FormError: form field name nested deeper than 64 levels: 'a[b][b][b][b][b][b][b][b][b][b][b][b][b]...'

Forms
-----
:func:`to_form` turns params (and the errors a validation found) into a
:class:`Form`, which knows the name, id, value and errors of each of its
inputs; the built-in components ``<.form>``, ``<.input>`` and
``<.inputs_for>`` (``web.live._builtins``) render it::

    >>> form = to_form({"email": "ann@", "name": ""}, as_="user", errors={"email": "must have a domain"})
    >>> field = form["email"]
    >>> field.name, field.id, field.value, field.errors
    ('user[email]', 'user_email', 'ann@', ['must have a domain'])

The client marks the inputs the user has not touched yet: a ``phx-change``
sends ``user[_unused_name]=`` beside ``user[name]=`` for each of them
(never on submit). :func:`used_input` reads those marks, so errors can wait
until the user has been to the field::

    >>> touched = to_form(decode_form("user[_unused_name]=&user[name]=&user[email]=ann@")["user"], as_="user")
    >>> used_input(touched["email"]), used_input(touched["name"])
    (True, False)

Validation is a function of yours from params to errors (no library
needed): ``errors`` maps a field to its messages (a string or a list of
strings). For a nested field (``<.inputs_for>``) it maps to the nested
form's own errors: a dict, or for a list of entries a list of dicts (one
per entry, by position).

``data`` gives values the params do not have (an existing record, a dict
or an object), without marking anything used: ``to_form({}, as_="todo",
data=todo)`` shows the record, no error showing until the user edits.
Anything with a ``params`` attribute (and optionally ``errors``, ``data``,
``action``), a changeset of your own, is taken as the form's source too.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import attrs

from web.serializer import MAX_DEPTH

__all__ = [
    "decode_form", "split_name", "FormError", "MAX_NAME_DEPTH",
    "Form", "FormField", "to_form", "used_input", "nested_forms", "current_csrf_token", "PERSISTENT_ID",
]

#: The page's CSRF token while a view renders, for ``<.form action=...>`` to post it
#: (set by the dead render for its request, and by a connected view for its socket's).
current_csrf_token: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_csrf_token", default=None)

_PART = re.compile(r"\[([^\]]*)\]")
# Each part of a name is at most one level of the params (``a[b][c]`` is 3): so decoded
# params nest no deeper than a client's JSON payload may (web.serializer.MAX_DEPTH).
MAX_NAME_DEPTH = MAX_DEPTH


class FormError(ValueError):
    """A form body or meta that cannot be decoded into params."""


def split_name(name: str) -> list[str]:
    """``"user[address][city]"`` -> ``["user", "address", "city"]``; ``"tags[]"`` -> ``["tags", ""]``."""
    head, _, rest = name.partition("[")
    return [head] + _PART.findall("[" + rest) if rest else [head]


def decode_form(body: str, meta: dict | None = None) -> dict:
    """The params of a form event: ``body`` decoded, ``meta`` merged, ``_target`` split.

    Raises:
        FormError: a name nested deeper than :data:`MAX_NAME_DEPTH`, or a
            ``meta`` that is not a dict.
    """
    params: dict = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        path = split_name(name)
        if len(path) > MAX_NAME_DEPTH:
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise FormError(f"form field name nested deeper than {MAX_NAME_DEPTH} levels: {shown!r}")
        _put(params, path, value)
    if meta is not None and not isinstance(meta, dict):
        raise FormError(f"a form event's meta must be an object; got {type(meta).__name__}")
    for key, value in (meta or {}).items():
        if key == "_target":
            params["_target"] = split_name(value) if isinstance(value, str) and value != "undefined" else []
        else:
            params[key] = value
    return params


def _put(params: dict, path: list[str], value: str) -> None:
    node = params
    for index, key in enumerate(path[:-1]):
        following = path[index + 1]
        if following == "":  # key[] : a list
            existing = node.get(key)
            if not isinstance(existing, list):
                node[key] = existing = []
            if index + 1 == len(path) - 1:
                existing.append(value)
                return
            existing.append({})
            node = existing[-1]
            continue
        child = node.get(key)
        if not isinstance(child, dict):
            node[key] = child = {}
        node = child
    if path[-1] != "":
        node[path[-1]] = value


# ---------------------------------------------------------------------------
# Forms

PERSISTENT_ID = "_persistent_id"  # the hidden input that keeps a nested entry's id across re-orderings
_UNUSED = "_unused_"


@attrs.frozen(hash=False)
class FormField:
    """One input of a :class:`Form`: ``form["email"]``. What ``<.input field={...}>`` renders.

    Attributes:
        form: the form it belongs to.
        field: its name in the form (``"email"``).
        name: the input's ``name`` (``"user[email]"``).
        id: the input's ``id`` (``"user_email"``).
        value: from the params, else the form's ``data``; None if neither has it.
        errors: its messages (whether the user has used the input yet is :func:`used_input`).
    """

    form: Form = attrs.field(repr=False)
    field: str
    name: str
    id: str
    value: Any
    errors: list[str]


@attrs.frozen(hash=False)
class Form:
    """A form's params, errors and names, for a template: see the module docstring and :func:`to_form`.

    ``form["email"]`` is the :class:`FormField` of an input. Two forms with
    the same contents are equal, so assigning an unchanged form re-renders
    nothing.

    Attributes:
        params: what the client sent (string keys), or the initial values.
        name: what the inputs' names are nested under (``as_``): ``user`` →
            ``user[email]``; None: ``email``.
        id: what the inputs' ids start with (defaults to ``name``).
        data: values for the fields the params lack: a dict or an object.
        errors: field → messages (see the module docstring).
        action: what the form is for (``"validate"``, ``"save"``), yours to read.
        hidden: ``(name, value)`` of hidden inputs ``<.inputs_for>`` renders
            for a nested form (its ``_persistent_id``).
        index: a nested form's position in its list; None otherwise.
        options: anything else given to :func:`to_form`, yours to read.
    """

    params: Mapping[str, Any] = attrs.field(factory=dict)
    name: str | None = None
    id: str | None = None
    data: Any = attrs.field(factory=dict)
    errors: Mapping[str, Any] = attrs.field(factory=dict)
    action: str | None = None
    hidden: tuple[tuple[str, Any], ...] = ()
    index: int | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)

    def __getitem__(self, field: str) -> FormField:
        if not isinstance(field, str):
            raise TypeError(f"a form's fields are named by strings, as in form[\"email\"]; got {field!r}")
        return FormField(
            self, field, _input_name(self.name, field), _input_id(self.id, field), self.value(field), self.field_errors(field)
        )

    def value(self, field: str) -> Any:
        """The field's value: the params', else the data's (a key, or an attribute); None."""
        if field in self.params:
            return self.params[field]
        if isinstance(self.data, Mapping):
            return self.data.get(field)
        return getattr(self.data, field, None)

    def field_errors(self, field: str) -> list[str]:
        """The field's own messages (a nested form's errors are that form's: :func:`nested_forms`)."""
        messages = self.errors.get(field)
        if isinstance(messages, str):
            return [messages]
        if isinstance(messages, (list, tuple)):
            return [message for message in messages if isinstance(message, str)]
        return []


def to_form(
    source: object = None,
    *,
    as_: str | None = None,
    id: str | None = None,
    errors: Mapping[str, Any] | None = None,
    data: object = None,
    action: str | None = None,
    **options: Any,
) -> Form:
    """A :class:`Form` of ``source``: params (a mapping with string keys), a Form, or a changeset of yours.

    Args:
        source: the params (``handle_event``'s, or initial values); a
            :class:`Form` (returned with the options given changed); or an
            object with ``params`` (and optionally ``errors``, ``data``,
            ``action``). None: no params.
        as_: the name the inputs are nested under (Phoenix's ``as:``):
            ``as_="user"`` names them ``user[email]``, as the params of
            ``decode_form`` then give back under ``"user"``.
        id: what the inputs' ids start with; defaults to ``as_``.
        errors: field → messages, from your validation (module docstring).
        data: values for the fields the params lack.
        action: what the form is for, yours to read (``form.action``).
        options: kept in ``form.options``.

    Raises:
        TypeError: ``source`` is none of those.
    """
    if isinstance(source, Form):
        return _changed(source, as_=as_, id=id, errors=errors, data=data, action=action, options=options)
    if source is None or isinstance(source, Mapping):
        params = dict(source or {})
    elif hasattr(source, "params"):
        params = dict(source.params)
        errors = getattr(source, "errors", None) if errors is None else errors
        data = getattr(source, "data", None) if data is None else data
        action = getattr(source, "action", None) if action is None else action
    else:
        raise TypeError(
            f"to_form() takes params (a dict), a Form, or an object with .params (and .errors); got {source!r}"
        )
    return Form(params, as_, id or as_, {} if data is None else data, dict(errors or {}), action, options=options)


def _changed(form: Form, *, as_, id, errors, data, action, options) -> Form:
    changes: dict[str, Any] = {}
    if as_ is not None:
        changes.update(name=as_, id=id or as_)
    elif id is not None:
        changes["id"] = id
    for key, value in (("errors", errors), ("data", data), ("action", action)):
        if value is not None:
            changes[key] = value
    if options:
        changes["options"] = {**form.options, **options}
    return attrs.evolve(form, **changes)


def used_input(field: FormField) -> bool:
    """Whether the user has used (focused, typed in, submitted) this input; show its errors only then.

    The client sends ``_unused_<name>`` beside each input not used yet, on
    every change; a field absent from the params (nothing sent yet) is
    unused too; a nested field is used once any of its inputs is.
    """
    return _used(field.form.params, field.field)


def _used(params: Mapping[str, Any], field: str) -> bool:
    if field.startswith(_UNUSED) or field not in params:
        return False
    if _UNUSED + field in params:
        return False
    value = params[field]
    if isinstance(value, Mapping):
        return any(_used(value, key) for key in value)
    return True


def nested_forms(
    field: FormField, *, default: object = None, as_: str | None = None, id: str | None = None, persistent_id: bool = True
) -> list[Form]:
    """The forms of a nested field (``<.inputs_for>``): one for a dict, one per entry of a list.

    A list is a list of dicts, or what the params make of one (a dict keyed
    ``"0"``, ``"1"``... from ``user[addresses][0][city]``, in index order);
    with a list ``default``, an empty value is an empty list.
    The field's value comes from the params, else the form's data, else
    ``default`` (a dict, or a list of dicts). Entries from the params are
    each nested form's params; the others its data. Each nested form gets
    the field's errors for it and, unless ``persistent_id`` is false, a
    ``_persistent_id`` hidden input keeping its id when entries move.
    """
    parent = field.form
    name, base_id = as_ or field.name, id or field.id
    value = field.value if field.value is not None else default
    from_params = field.field in parent.params
    errors = parent.errors.get(field.field)
    if _is_list(value) or (isinstance(default, (list, tuple)) and not value):
        entries = _entries(value or [])
        forms = [
            _nested(entry, from_params, f"{name}[{index}]", f"{base_id}_{index}", _nth(errors, index), parent.action, index)
            for index, entry in enumerate(entries)
        ]
    else:
        nested_errors = errors if isinstance(errors, Mapping) else {}
        forms = [_nested(value or {}, from_params, name, base_id, nested_errors, parent.action, None)]
    return _with_persistent_ids(forms, base_id) if persistent_id else forms


def _nested(entry: object, from_params: bool, name: str, id: str, errors: Mapping, action, index: int | None) -> Form:
    params = dict(entry) if from_params and isinstance(entry, Mapping) else {}
    data = {} if from_params else entry
    return Form(params, name, id, data, dict(errors), action, index=index)


def _with_persistent_ids(forms: list[Form], base_id: str) -> list[Form]:
    """Give each nested form its ``_persistent_id``: the one it was sent with, else the first free number."""
    taken = {str(form.params[PERSISTENT_ID]) for form in forms if PERSISTENT_ID in form.params}
    numbers = (str(n) for n in range(len(forms) + len(taken) + 1) if str(n) not in taken)
    out = []
    for form in forms:
        given = form.params.get(PERSISTENT_ID)
        persistent = str(given) if given is not None else next(numbers)
        params = {**form.params, PERSISTENT_ID: persistent}
        out.append(attrs.evolve(form, params=params, id=f"{base_id}_{persistent}", hidden=((PERSISTENT_ID, persistent), *form.hidden)))
    return out


def _is_list(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return True
    return isinstance(value, Mapping) and bool(value) and all(isinstance(key, str) and key.isdigit() for key in value)


def _entries(value: object) -> list:
    if isinstance(value, Mapping):
        return [value[key] for key in sorted(value, key=int)]
    return list(value)  # type: ignore[call-overload]


def _nth(errors: object, index: int) -> Mapping:
    """The errors of entry ``index`` of a nested list: from a list by position, or a dict by index."""
    if isinstance(errors, (list, tuple)):
        entry = errors[index] if index < len(errors) else None
    elif isinstance(errors, Mapping):
        entry = errors.get(index, errors.get(str(index)))
    else:
        entry = None
    return entry if isinstance(entry, Mapping) else {}


def _input_name(form_name: str | None, field: str) -> str:
    return f"{form_name}[{field}]" if form_name else field


def _input_id(form_id: str | None, field: str) -> str:
    return f"{form_id}_{field}" if form_id else field
