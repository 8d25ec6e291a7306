r"""What a LiveView client sends, checked before a view sees it.

The fields are those of docs/protocol/liveview.md, "The join" and "Events from the page".

A hostile or broken client may put any JSON (or a binary frame) in place of
each field. The LiveView channel (``_server.py``) reads every join and
every push on ``lv:<id>`` through the functions here, which return the
fields in the types the view expects or raise :class:`BadPayload`: the
push is answered ``error {"reason": reason}`` (a join is refused the same
way) and the view goes on, untouched. Pure functions of data.

=====================  ================  ==============================================
push                   field             must be (absent or null: the default)
=====================  ================  ==============================================
``phx_join``           ``url``,          strings (``""``)
                       ``redirect``
                       ``params``        an object (``{}``); its entries (``_mounts``,
                                         ``_track_static``, ...) are not read here: the
                                         view gets them as sent (``connect_params``)
                       ``session``,      not checked here: a token that is not a string
                       ``static``,       does not verify (``web.token``), which is
                       ``flash``         ``stale`` (a flash is ignored)
``event``              ``event``         a string
                       ``type``          a string: ``"form"``, ``"hook"``, or any other
                                         (a binding: click, keyup, ...), read as one
                       ``value``         ``form``: the URL-encoded form, a string
                                         (decoded by ``_forms.py``); any other type:
                                         any JSON, passed on as sent (an object from
                                         a binding, what a hook pushed): the view's
                                         ``handle_event`` checks what it reads
                       ``meta``          ``form`` only: an object (``{}``)
                       ``uploads``       ``form`` only: an object, upload ref → array
                                         of entries (``{}``)
                       ``cid``           an integer: the component's; null or false
                                         (the client's "no component"): the view
``live_patch``         ``url``           a string
``allow_upload``       ``ref``           a string
                       ``entries``       an array of entries
                       ``cid``           as for ``event``
``progress``           ``ref``,          strings
                       ``entry_ref``
                       ``progress``      a number, or ``{"error": reason}``
                       ``cid``           as for ``event``
``cids_will_destroy``, ``cids``          an array of integers
``cids_destroyed``
=====================  ================  ==============================================

An upload entry is an object: ``ref`` a non-empty string, ``size`` an
integer >= 0, ``name`` and ``type`` strings (``ref`` and ``""``),
``last_modified`` a number (null). Every payload must be an object. A
reason names the field, what it must be and what came, in JSON's words::

    >>> event_push({"type": "click", "event": "inc", "cid": "3"})
    Traceback (most recent call last):
    ...
    web.live._payloads.BadPayload: "cid" must be an integer (a component) or null; got string
    >>> event_push({"type": "form", "event": "save", "value": "a=1&b[c]=2", "meta": {"_target": "a"}})
    EventPush(name='save', kind='form', value={'a': '1', 'b': {'c': '2'}, '_target': ['a']}, uploads={}, cid=None)
"""

from __future__ import annotations

from typing import TypeGuard

import attrs
import orjson

from ._forms import FormError, decode_form

__all__ = [
    "BadPayload", "JoinPush", "EventPush", "UploadPush", "ProgressPush",
    "join_push", "event_push", "live_patch_url", "allow_upload_push", "progress_push", "cids_push",
]


class BadPayload(ValueError):
    """A client payload with a field of the wrong type or value; ``.reason`` says which and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class JoinPush:
    """A LiveView join's fields: the URL to mount, whether it is a live navigation, the connect params."""

    url: str
    redirect: bool
    params: dict


@attrs.frozen
class EventPush:
    """An ``event`` push: ``value`` decoded for a form; ``uploads`` only for a form."""

    name: str
    kind: str
    value: object
    uploads: dict
    cid: int | None


@attrs.frozen
class UploadPush:
    """An ``allow_upload`` push (the preflight)."""

    ref: str
    entries: list
    cid: int | None


@attrs.frozen
class ProgressPush:
    """A ``progress`` push: a number (0..100), or a dict ``{"error": reason}`` from the uploader."""

    ref: str
    entry_ref: str
    progress: int | float | dict
    cid: int | None


# ---------------------------------------------------------------- the pushes


def join_push(payload: object) -> JoinPush:
    """The fields of a ``phx_join`` on ``lv:<id>``; see the module docstring."""
    payload = _object(payload, "phx_join")
    redirect = _string_or_none(payload, "redirect")
    url = _string_or_none(payload, "url")
    params = _object_or_none(payload, "params")
    return JoinPush(url=redirect or url or "", redirect=bool(redirect), params=params or {})


def event_push(payload: object) -> EventPush:
    """The fields of an ``event`` push, a form's body decoded like Plug (``_forms.py``)."""
    payload = _object(payload, "event")
    name = _string(payload, "event")
    kind = _string(payload, "type")
    cid = _cid(payload)
    if kind == "form":
        body = _string(payload, "value")
        meta = _object_or_none(payload, "meta")
        try:
            value = decode_form(body, meta)
        except FormError as error:
            raise BadPayload(str(error)) from None
        return EventPush(name, kind, value, _uploads(payload), cid)
    # Any other type passes its value on as sent: the official client sends an object (a
    # binding's phx-value-*) or a hook's JSON, a forged one anything; the view checks what it reads.
    return EventPush(name, kind, payload.get("value"), {}, cid)


def live_patch_url(payload: object) -> str:
    """The URL of a ``live_patch`` push."""
    return _string(_object(payload, "live_patch"), "url")


def allow_upload_push(payload: object) -> UploadPush:
    """The fields of an ``allow_upload`` push (the preflight)."""
    payload = _object(payload, "allow_upload")
    return UploadPush(_string(payload, "ref"), upload_entries(payload.get("entries"), "entries"), _cid(payload))


def progress_push(payload: object) -> ProgressPush:
    """The fields of a ``progress`` push."""
    payload = _object(payload, "progress")
    progress = payload.get("progress")
    if not (_is_number(progress) or progress.__class__ is dict):
        raise BadPayload(f'"progress" must be a number (0..100) or {{"error": reason}}; got {_json_type(progress)}')
    return ProgressPush(_string(payload, "ref"), _string(payload, "entry_ref"), progress, _cid(payload))


def cids_push(payload: object, event: str) -> list[int]:
    """The ``cids`` of a ``cids_will_destroy`` or ``cids_destroyed`` push."""
    cids = _object(payload, event).get("cids")
    if cids.__class__ is not list:
        raise BadPayload(f'"cids" must be an array of integers; got {_json_type(cids)}')
    for cid in cids:
        if cid.__class__ is not int:
            raise BadPayload(f'"cids" must be an array of integers; it holds {_json_type(cid)} {_shown(cid)}')
    return cids


def upload_entries(entries: object, field: str) -> list[dict]:
    """An array of upload entries, each checked (see the module docstring)."""
    if entries is None:
        return []
    if entries.__class__ is not list:
        raise BadPayload(f'"{field}" must be an array of upload entries; got {_json_type(entries)}')
    return [_upload_entry(entry, field) for entry in entries]


# ---------------------------------------------------------------- the fields


def _upload_entry(entry: object, field: str) -> dict:
    if entry.__class__ is not dict:
        raise BadPayload(f'every entry of "{field}" must be an object; got {_json_type(entry)}')
    ref = entry.get("ref")
    if ref.__class__ is not str or not ref:
        raise BadPayload(f'an upload entry\'s "ref" must be a non-empty string; got {_json_type(ref)}')
    size = entry.get("size")
    if size.__class__ is not int or size < 0:
        shown = size if size.__class__ is int else _json_type(size)
        raise BadPayload(f'the "size" of upload entry {ref!r} must be an integer >= 0; got {shown}')
    for name in ("name", "type"):
        if entry.get(name) is not None and entry[name].__class__ is not str:
            raise BadPayload(f'the "{name}" of upload entry {ref!r} must be a string; got {_json_type(entry[name])}')
    last_modified = entry.get("last_modified")
    if last_modified is not None and not _is_number(last_modified):
        raise BadPayload(f'the "last_modified" of upload entry {ref!r} must be a number; got {_json_type(last_modified)}')
    return entry


def _uploads(payload: dict) -> dict:
    uploads = _object_or_none(payload, "uploads") or {}
    return {ref: upload_entries(entries, f"uploads.{ref}") for ref, entries in uploads.items()}


def _cid(payload: dict) -> int | None:
    cid = payload.get("cid")
    if cid is None or cid is False:  # the client sends false for an element no component owns
        return None
    if cid.__class__ is not int:
        raise BadPayload(f'"cid" must be an integer (a component) or null; got {_json_type(cid)}')
    return cid


def _object(payload: object, event: str) -> dict:
    if payload.__class__ is not dict:
        raise BadPayload(f"the payload of {event!r} must be a JSON object; got {_json_type(payload)}")
    return payload


def _object_or_none(payload: dict, field: str) -> dict | None:
    value = payload.get(field)
    if value is not None and value.__class__ is not dict:
        raise BadPayload(f'"{field}" must be an object; got {_json_type(value)}')
    return value


def _string(payload: dict, field: str) -> str:
    value = payload.get(field)
    if value.__class__ is not str:
        raise BadPayload(f'"{field}" must be a string; got {_json_type(value)}')
    return value


def _string_or_none(payload: dict, field: str) -> str | None:
    value = payload.get(field)
    if value is not None and value.__class__ is not str:
        raise BadPayload(f'"{field}" must be a string; got {_json_type(value)}')
    return value


def _is_number(value: object) -> TypeGuard[int | float]:
    return value.__class__ is int or value.__class__ is float  # not bool: true is no number


_JSON_TYPES = {
    type(None): "null", bool: "boolean", int: "number", float: "number", str: "string",
    list: "array", dict: "object", bytes: "binary",
}


def _shown(value: object) -> str:
    """A short JSON rendering of what came, for a reason (at most 40 characters)."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_type(value: object) -> str:
    """What the client sent, in JSON's words (``binary`` for a binary frame's payload)."""
    return _JSON_TYPES.get(value.__class__, type(value).__name__)
