"""Uploads: files chosen in a ``<.live_file_input>`` and sent as the client's uploader sends them.

::

    avatar = file_input(view, "#upload-form", "avatar", [{"name": "a.png", "content": b"...", "type": "image/png"}])
    html = await render_upload(avatar, "a.png", 50)      # half of it: the view shows 50 %
    html = await render_upload(avatar, "a.png")          # the rest

The first ``render_upload`` chooses the files (the form's ``phx-change``
with ``uploads``), then preflights them (``allow_upload``); each entry is
sent in ``chunk_size`` binary chunks on ``lvu:<ref>`` with the preflight's
token, and every acknowledged chunk is followed by a ``progress`` push, as
the client's uploader does (docs/protocol/liveview.md, "Uploads"). A refusal, at the preflight or
while receiving, comes back as an :class:`UploadError`.
"""

from __future__ import annotations

import mimetypes

import attrs
from selectolax.lexbor import LexborNode

from web.live._wire import ALLOW_UPLOAD, CHUNK, DIFF, PROGRESS

from ._client_model import element_value, form_body
from ._elements import Element, find_one
from ._events import bindings, push_events, targets, with_cid
from ._live import LiveViewTest
from ._results import Redirect, UploadError

__all__ = ["Upload", "file_input", "render_upload"]

LAST_MODIFIED = 1594171879000  # a file's lastModified when the test does not give one


@attrs.define(eq=False)
class _File:
    """One entry of an upload, and how far the test has sent it."""

    name: str
    content: bytes
    type: str
    size: int
    last_modified: int
    relative_path: str
    ref: str
    offset: int = 0
    progress: int = -1  # the last progress sent
    joined: bool = False

    def meta(self) -> dict:
        return {
            "last_modified": self.last_modified, "name": self.name, "relative_path": self.relative_path,
            "size": self.size, "type": self.type, "ref": self.ref,
        }


@attrs.define(eq=False)
class Upload:
    """Files chosen in a ``<.live_file_input>``: see :func:`file_input`."""

    view: LiveViewTest = attrs.field(repr=False)
    form_selector: str
    name: str
    files: list = attrs.field(repr=False)
    chosen: bool = attrs.field(default=False, repr=False)
    preflight: dict | None = attrs.field(default=None, repr=False)

    def file(self, name: str) -> _File:
        for file in self.files:
            if file.name == name:
                return file
        raise KeyError(f"no file {name!r} in this file_input; files: {[file.name for file in self.files]}")

    def locate(self) -> tuple[LexborNode, LexborNode, str]:
        """The form, its file input and the input's upload ref, in the page as it is now."""
        form = find_one(Element(self.view, self.form_selector))
        inputs = [
            node for node in form.css('input[type="file"]') if node.attributes.get("name") == self.name
        ]
        upload_ref = inputs[0].attributes.get("data-phx-upload-ref") if len(inputs) == 1 else None
        if not upload_ref:
            raise AssertionError(
                f"expected one <.live_file_input> named {self.name!r} in the form {self.form_selector!r}; "
                f"found {len(inputs)}:\n\n{form.html}"
            )
        return form, inputs[0], upload_ref


def file_input(view: LiveViewTest, form_selector: str, name: str, entries: list[dict]) -> Upload:
    """Files to choose in the upload ``name``'s input of the form at ``form_selector``.

    Each entry: ``name`` and ``content`` (bytes); optionally ``type``
    (default: guessed from the name), ``size`` (what the client declares;
    default ``len(content)``), ``last_modified``, ``relative_path``.
    """
    files = []
    for entry in entries:
        content = entry["content"]
        files.append(_File(
            name=entry["name"], content=content,
            type=entry.get("type") or mimetypes.guess_type(entry["name"])[0] or "",
            size=entry.get("size", len(content)), last_modified=entry.get("last_modified", LAST_MODIFIED),
            relative_path=entry.get("relative_path", ""), ref=str(next(view.page.file_refs)),
        ))
    return Upload(view, form_selector, name, files)


async def render_upload(upload: Upload, entry_name: str, percent: int = 100) -> str | Redirect | UploadError:
    """Upload ``percent`` of the file ``entry_name`` (the rest on a later call); the HTML after it.

    Returns an :class:`UploadError` if the server refuses the files, at the
    preflight (``too_large``, ``not_accepted``, ``too_many_files``) or while
    receiving them (``file_size_limit_exceeded``), or a :class:`Redirect`.
    """
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in 1..100; got {percent!r}")
    view = upload.view
    await view.drain()
    file = upload.file(entry_name)
    if not upload.chosen:
        upload.chosen = True
        chosen = await _choose(upload)
        if isinstance(chosen, Redirect):
            return chosen
    preflight = upload.preflight
    if preflight is None:
        answer = await _preflight(upload)
        if not isinstance(answer, dict):
            return answer
        preflight = answer
    if file.ref not in preflight["entries"]:
        # An auto_upload preflight grants the valid entries and answers the others' errors.
        reasons = preflight.get("errors", {}).get(file.ref) or ["failed preflight"]
        return UploadError([(file.name, reason) for reason in reasons])
    return await _send(upload, preflight, file, percent)


# ---------------------------------------------------------------- the uploader's steps


def _active(upload: Upload) -> list[_File]:
    return [file for file in upload.files if file.size > 0]  # the client ignores empty files


async def _choose(upload: Upload) -> str | Redirect:
    """Choosing the files: the input's (or form's) ``phx-change`` with the entries in ``uploads``."""
    view = upload.view
    form, file_input_node, upload_ref = upload.locate()
    own = "phx-change" in file_input_node.attributes
    source = file_input_node if own else form
    pushes = bindings(source, "phx-change")
    name = upload.name  # (the input's: locate found it by name)
    view.touched.add(name)
    result: str | Redirect = view.html
    for event, js_value, js_target in pushes:
        payload = {
            "type": "form", "event": event,
            "value": form_body(form, view.touched, only=[name] if own else None),
            "meta": {"_target": name, **element_value(form, js_value)},
            "uploads": {upload_ref: [{"path": name, **file.meta()} for file in _active(upload)]},
        }
        result = await push_events(view, payload, targets(view, source, js_target))
        if isinstance(result, Redirect):
            break
    return result


async def _preflight(upload: Upload) -> dict | Redirect | UploadError:
    """``allow_upload``: the preflight response, or the :class:`UploadError` / :class:`Redirect` instead."""
    view = upload.view
    form, _, upload_ref = upload.locate()
    payload = {"ref": upload_ref, "entries": [file.meta() for file in _active(upload)]}
    cid = targets(view, form)[0]
    response = await view.call(ALLOW_UPLOAD, with_cid(payload, cid))
    result = await view.apply_reply({key: value for key, value in response.items() if key == DIFF})
    if isinstance(result, Redirect):
        return result
    names = {file.ref: file.name for file in upload.files} | {upload_ref: upload.name}
    if response.get("error"):
        return UploadError([(names.get(ref, ref), reason) for ref, reason in response["error"]])
    if not response.get("entries"):
        return UploadError([(file.name, "failed preflight") for file in _active(upload)])
    upload.preflight = response
    return response


async def _send(upload: Upload, preflight: dict, file: _File, percent: int) -> str | Redirect | UploadError:
    """The chunks of one entry up to ``percent``, each acknowledged, each followed by its progress."""
    view, client = upload.view, upload.view.client
    topic = f"lvu:{file.ref}"
    if not file.joined:
        status, response = await client.join(topic, {"token": preflight["entries"][file.ref]}, timeout=view.timeout)
        if status != "ok":
            return await _failed(upload, file, response.get("reason", "failed"))
        file.joined = True
    chunk_size = preflight["config"]["chunk_size"]
    goal = len(file.content) * percent // 100
    while file.offset < goal:
        chunk = file.content[file.offset:min(file.offset + chunk_size, goal)]
        reply = await client.assert_reply(client.push_binary(topic, CHUNK, chunk), timeout=view.timeout)
        if reply["status"] != "ok":
            return await _failed(upload, file, reply["response"].get("reason", "failed"))
        file.offset += len(chunk)
        progress = min(100, file.offset * 100 // len(file.content))
        if progress > file.progress:
            file.progress = progress
            result = await _progress(upload, file, progress)
            if isinstance(result, Redirect):
                return result
    return view.html


async def _progress(upload: Upload, file: _File, progress: object) -> str | Redirect:
    view = upload.view
    form, file_input_node, upload_ref = upload.locate()
    payload = {
        "event": file_input_node.attributes.get("phx-progress"),
        "ref": upload_ref,
        "entry_ref": file.ref,
        "progress": progress,
    }
    return await view.apply_reply(await view.call(PROGRESS, with_cid(payload, targets(view, form)[0])))


async def _failed(upload: Upload, file: _File, reason: str) -> Redirect | UploadError:
    # The uploader reports the failure as the entry's progress, so the view can render it.
    result = await _progress(upload, file, {"error": reason})
    return result if isinstance(result, Redirect) else UploadError([(file.name, reason)])
