"""Uploads: files sent from the page in chunks over an upload channel (docs/protocol/liveview.md, "Uploads").

A view allows an upload by name; the template renders its input; the page
sends the files; the view consumes them::

    async def mount(self, params, session, socket):
        socket.allow_upload("avatar", accept=[".png", ".jpg"], max_entries=1, max_file_size=1_000_000)

    # template: a form with phx-change (validation) and phx-submit
    <form id="upload-form" phx-change="validate" phx-submit="save">
      <.live_file_input upload={@uploads.avatar} />
      <progress :for={entry in @uploads.avatar.entries} value={entry.progress} max="100"></progress>
    </form>

    async def handle_event(self, event, value, socket):
        if event == "save":
            saved = socket.consume_uploaded_entries("avatar", lambda path, entry: store(path, entry.client_name))

The round trip, each step answered by the view process:

1. choosing files sends a ``form`` event with ``uploads``: the entries are
   registered and checked (count, type, size): :attr:`UploadEntry.errors`;
2. ``allow_upload`` (the preflight) answers each valid entry with a signed
   token naming a temporary file;
3. the page joins ``lvu:<entry ref>`` with that token and sends ``chunk``
   binary pushes; the :class:`UploadChannel` writes them to the file and
   refuses a file past ``max_file_size`` (``file_size_limit_exceeded``);
4. ``progress`` pushes update :attr:`UploadEntry.progress`; at 100 the entry
   is done and :meth:`LiveSocket.consume_uploaded_entries` hands its path on,
   then deletes the file.

External uploads
----------------
With ``external=``, files go from the browser straight to a storage service
(S3 and the like), never through the server: the preflight answers each
entry with what ``external(entry, socket)`` returns (sync or async) instead
of a token, a dict whose ``"uploader"`` names a JavaScript uploader of the
page's ``LiveSocket`` (its ``uploaders`` option), with whatever that
uploader needs (a presigned URL, form fields)::

    def presign(entry, socket):
        key = f"avatars/{entry.ref}-{entry.client_name}"
        return {"uploader": "S3", "key": key, "url": presigned_put_url(BUCKET, key)}

    socket.allow_upload("avatar", accept=[".png"], external=presign)

The uploader sends the file where the meta says, reporting
``entry.progress(percent)`` (or ``entry.error()``) as it goes; the view gets
those as ``progress`` pushes, as for any upload, and
``consume_uploaded_entries`` hands each finished entry's meta (not a path)
to its function. :func:`web.live.presigned_put_url` presigns an S3 PUT
without any AWS library.
"""

from __future__ import annotations

import inspect
import itertools
import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, TypedDict, Unpack

import attrs

import otp
from otp import Down, Shutdown, Stop
from web.channel import Channel, Error, Ok
from web.token import InvalidToken, sign, verify

from ._wire import CHUNK

if TYPE_CHECKING:
    from ._view import LiveSocket  # (which imports this module)

__all__ = [
    "UploadConfig", "UploadEntry", "UploadOptions", "Uploads", "UploadChannel", "UPLOAD_SALT", "ExternalUploader",
    "UploadJoined", "UPLOAD_DONE", "RUN",
]

UPLOAD_SALT = "liveview upload"
#: Tells this OS process's pids from an earlier run's, whose numbers start again: a token names its view by both.
RUN = secrets.token_hex(8)
_upload_refs = itertools.count(1)

# What each error reason says to a person, for upload_error_message().
MESSAGES = {
    "too_large": "the file is too large",
    "too_many_files": "you have selected too many files",
    "not_accepted": "you have selected an unacceptable file type",
    "external_client_failure": "something went wrong",
    "file_size_limit_exceeded": "the file is too large",
}


@attrs.define(eq=False)
class UploadEntry:
    """One file the page chose: its client-side facts, progress and errors."""

    ref: str
    client_name: str
    client_size: int
    client_type: str
    client_last_modified: int | None = None
    progress: int = 0
    preflighted: bool = False
    done: bool = False
    cancelled: bool = False
    errors: list[str] = attrs.field(factory=list)
    path: Path | None = None  # the temporary file, once preflighted
    channel: otp.Pid | None = None  # the upload channel receiving it, once joined (ended when it leaves)
    meta: dict | None = None  # an external upload's: what external() returned at the preflight

    @property
    def valid(self) -> bool:
        return not self.errors


EXTRA_ENTRIES = 16  # entries held past max_entries, to be shown as too many (see put_entries)

#: ``progress(name, entry, socket)``, called as an entry's progress comes in; it may be async.
ProgressCallback = Callable[[str, UploadEntry, "LiveSocket"], object]

#: ``external(entry, socket)``: the meta of an external upload's entry (a dict with ``"uploader"``); it may be async.
ExternalUploader = Callable[[UploadEntry, "LiveSocket"], object]


class UploadOptions(TypedDict, total=False):
    """What ``LiveSocket.allow_upload(name, **options)`` takes: the options of :class:`UploadConfig`."""

    accept: Literal["any"] | list[str]  # "any", or the extensions and MIME types taken: [".png", "image/*"]
    max_entries: int
    max_file_size: int
    chunk_size: int
    chunk_timeout: int
    auto_upload: bool
    progress: ProgressCallback | None
    external: ExternalUploader | None  # direct-to-storage uploads: see "External uploads" above


def _accept_rule(instance: object, attribute: attrs.Attribute, value: object) -> None:
    # A lone string would be read letter by letter as a list of rules.
    if isinstance(value, str) and value != "any":
        raise ValueError(f'accept must be "any" or a list of extensions and MIME types, such as [{value!r}]; got {value!r}')


@attrs.define(eq=False)
class UploadConfig:
    """``@uploads.<name>``: the options of one upload and its entries."""

    name: str
    ref: str
    accept: Literal["any"] | list[str] = attrs.field(default="any", validator=_accept_rule)
    max_entries: int = 1
    max_file_size: int = 8_000_000
    chunk_size: int = 64_000
    chunk_timeout: int = 10_000
    auto_upload: bool = False
    progress: ProgressCallback | None = None  # optional callback(name, entry, socket), sync or async
    external: ExternalUploader | None = None  # external(entry, socket) -> meta: the entry goes to a storage
    entries: list[UploadEntry] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)  # errors of the whole upload (too_many_files)

    def entry(self, ref: str) -> UploadEntry | None:
        return next((entry for entry in self.entries if entry.ref == ref), None)

    def accept_attribute(self) -> str | None:
        return None if self.accept == "any" else ",".join(self.accept)

    # -- what the page told us -------------------------------------------

    def put_entries(self, metas: list[dict]) -> None:
        """Register the entries of a ``form`` event's ``uploads`` (new ones only) and check them.

        At most ``max_entries`` + :data:`EXTRA_ENTRIES` are held: enough for the
        page to show which files are too many (``too_many_files``) and let the
        user remove them, while a client sending thousands of refs, event after
        event, cannot make the view hold thousands of entries.
        """
        known = {entry.ref for entry in self.entries}
        new = [meta for meta in metas if str(meta.get("ref")) not in known]
        room = self.max_entries + EXTRA_ENTRIES - len(self.entries)
        del new[max(room, 0) :]
        if self.max_entries == 1 and len(self.entries) == 1 and len(new) == 1:
            # Choosing another file in a single-file input replaces the chosen one (the client
            # sends only the new file), as Phoenix's maybe_replace_sole_entry does.
            self.cancel(self.entries[0].ref)
        for meta in new:
            ref = str(meta.get("ref"))
            entry = UploadEntry(
                ref=ref,
                client_name=str(meta.get("name") or ref),
                client_size=int(meta.get("size") or 0),
                client_type=str(meta.get("type") or ""),
                client_last_modified=meta.get("last_modified"),
            )
            self.entries.append(entry)
        self.validate()

    def validate(self) -> None:
        live = [entry for entry in self.entries if not entry.cancelled]
        self.errors = ["too_many_files"] if len(live) > self.max_entries else []
        for entry in live:
            entry.errors = [error for error in entry.errors if error == "file_size_limit_exceeded"]
            if entry.client_size > self.max_file_size:
                entry.errors.append("too_large")
            if not self._accepts(entry):
                entry.errors.append("not_accepted")

    def _accepts(self, entry: UploadEntry) -> bool:
        if self.accept == "any":
            return True
        extension = os.path.splitext(entry.client_name)[1].lower()
        for rule in self.accept:
            rule = rule.lower()
            if rule.startswith(".") and rule == extension:
                return True
            if rule.endswith("/*") and entry.client_type.startswith(rule[:-1]):
                return True
            if rule == entry.client_type:
                return True
        return False

    def preflight(self, metas: list[dict], secret: str, owner_id: str) -> dict:
        """The answer to ``allow_upload``: a token per valid entry, or the errors.

        Any error refuses the whole preflight, except with ``auto_upload``: the
        first ``max_entries`` entries are considered, the valid ones granted
        (they upload at once) and the others' errors answered under
        ``"errors"``; the entries past them wait, their upload showing
        ``too_many_files``, until the user removes some.
        """
        self.put_entries(metas)
        # Every error, as Phoenix's Upload.put_entries answers: each entry's, then the
        # upload's own (too_many_files, under the upload ref).
        refused = [[entry.ref, error] for entry in self.entries for error in entry.errors]
        refused += [[self.ref, error] for error in self.errors]
        if refused and not self.auto_upload:
            return {"ref": self.ref, "error": refused}
        tokens = {}
        errors = {}
        for entry in self._grantable():
            if entry.preflighted or entry.cancelled:
                continue
            if entry.errors:  # (auto_upload only: the others were refused above)
                errors[entry.ref] = list(entry.errors)
                continue
            entry.preflighted = True
            tokens[entry.ref] = self._grant(entry, secret, owner_id)
        config = {
            "max_file_size": self.max_file_size,
            "max_entries": self.max_entries,
            "chunk_size": self.chunk_size,
            "chunk_timeout": self.chunk_timeout,
        }
        return {"ref": self.ref, "config": config, "entries": tokens, "errors": errors}

    def _grantable(self) -> list[UploadEntry]:
        """The entries a preflight may grant: all of them, or auto_upload's first ``max_entries``."""
        live = [entry for entry in self.entries if not entry.cancelled]
        return live[: self.max_entries] if self.auto_upload else live

    def _grant(self, entry: UploadEntry, secret: str, owner_id: str) -> str | None:
        """What the preflight gives an entry: a token naming a new temporary file for the upload
        channel; None for an external upload, whose meta the view asks ``external`` for."""
        if self.external is not None:
            return None
        entry.path = _new_file()
        # At most the size the client declared (validated against max_file_size), as Phoenix's channel takes.
        size = min(entry.client_size, self.max_file_size)
        grant = {
            "view": owner_id, "ref": entry.ref, "path": str(entry.path), "max_file_size": size,
            "pid": otp.current_pid().number, "run": RUN,  # the view's process, which the channel tells it joined
        }
        return sign(secret, UPLOAD_SALT, grant)

    async def external_metas(self, refs: list[str], socket: LiveSocket) -> dict[str, dict]:
        """The meta of each external entry preflighted now, from ``external(entry, socket)``.

        Raises:
            TypeError: ``external`` returned something else than a dict with an ``"uploader"`` string.
        """
        assert self.external is not None  # (only called for an external upload)
        metas = {}
        for ref in refs:
            entry = self.entry(ref)
            assert entry is not None  # (preflighted just now)
            meta = self.external(entry, socket)
            if inspect.isawaitable(meta):
                meta = await meta
            if not isinstance(meta, dict) or not isinstance(meta.get("uploader"), str):
                raise TypeError(
                    f"the external function of upload {self.name!r} returned {meta!r}; it returns a dict whose "
                    '"uploader" names the page\'s JavaScript uploader, e.g. {"uploader": "S3", "url": ...}'
                )
            entry.meta = metas[ref] = meta
        return metas

    def put_progress(self, entry_ref: str, progress: int | float | dict) -> UploadEntry | None:
        """Record the progress the page reports; None (ignored) for an entry without a file.

        Only the preflight gives an entry its file: progress for one that was
        never preflighted would make it done with no path to consume.
        """
        entry = self.entry(entry_ref)
        if entry is None or (entry.path is None and entry.meta is None):
            return None
        if isinstance(progress, dict):  # {"error": reason} from the uploader
            entry.errors.append(str(progress.get("error") or "failed"))
            return entry
        entry.progress = max(entry.progress, min(int(progress), 100))
        entry.done = entry.progress == 100
        return entry

    def cancel(self, entry_ref: str) -> None:
        entry = self.entry(entry_ref)
        if entry is not None:
            _remove(entry)
            self.entries.remove(entry)
            self.validate()

    def take_done(self) -> list[UploadEntry]:
        done = [entry for entry in self.entries if entry.done and entry.valid]
        self.entries = [entry for entry in self.entries if entry not in done]
        for entry in done:
            _release(entry)  # (the file stays, for the consumer: it is whole)
        return done

    def joined(self, entry_ref: str, channel: otp.Pid) -> bool:
        """Record the upload channel receiving an entry (:class:`UploadJoined`); False if not ours."""
        entry = self.entry(entry_ref)
        if entry is None or entry.path is None:
            otp.send(channel, UPLOAD_DONE)  # cancelled meanwhile: nothing to receive
            return entry is not None
        entry.channel = channel
        return True

    def discard_all(self) -> None:
        for entry in self.entries:
            _remove(entry)
        self.entries = []


class Uploads:
    """``@uploads``: the view's upload configs, as attributes (``@uploads.avatar``)."""

    def __init__(self) -> None:
        self._configs: dict[str, UploadConfig] = {}

    def add(self, name: str, **options: Unpack[UploadOptions]) -> UploadConfig:
        config = UploadConfig(name=name, ref=f"phx-upload-{next(_upload_refs)}-{secrets.token_hex(4)}", **options)
        self._configs[name] = config
        return config

    def by_ref(self, ref: str) -> UploadConfig | None:
        return next((config for config in self._configs.values() if config.ref == ref), None)

    def get(self, name: str) -> UploadConfig | None:
        return self._configs.get(name)

    def __getattr__(self, name: str) -> UploadConfig:
        try:
            return self.__dict__["_configs"][name]
        except KeyError:
            raise AttributeError(f"no upload {name!r}: call socket.allow_upload({name!r}, ...) in mount first") from None

    def __iter__(self):
        return iter(self._configs.values())

    def __eq__(self, other: object) -> bool:
        return False  # mutated in place: always "changed" when assigned


def upload_error_message(reason: str) -> str:
    """A sentence for an upload error reason (``too_large`` → "the file is too large")."""
    return MESSAGES.get(reason, reason.replace("_", " "))


def _new_file() -> Path:
    directory = Path(tempfile.gettempdir()) / "trio-otp-uploads"
    directory.mkdir(exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="live-", dir=directory)
    os.close(handle)
    return Path(name)


def _remove(entry: UploadEntry) -> None:
    _release(entry)
    if entry.path is not None:
        entry.path.unlink(missing_ok=True)
        entry.path = None


def _release(entry: UploadEntry) -> None:
    """End the upload channel of an entry that leaves its view (see :class:`UploadChannel`)."""
    if entry.channel is not None:
        otp.send(entry.channel, UPLOAD_DONE)
        entry.channel = None


@attrs.frozen
class UploadJoined:
    """From an upload channel to the view that granted its entry: ``channel`` receives ``ref``."""

    ref: str
    channel: otp.Pid


class _UploadDone:
    """To an upload channel: its entry left the view; end."""

    def __repr__(self) -> str:
        return "UPLOAD_DONE"


UPLOAD_DONE = _UploadDone()


class UploadChannel(Channel):
    """``lvu:<entry ref>``: receives one entry's chunks into the file its token names.

    Subclass with ``secret`` set (the router does). Each ``chunk`` is a binary
    push acknowledged with ``ok``; past the size the client declared (at
    most ``max_file_size``) it answers ``error {"reason":
    "file_size_limit_exceeded", "limit": N}`` and stops. It tells its view
    (the process the token names) that it receives the entry, and ends
    (``phx_close``) once the view lets the entry go, consumed or cancelled,
    or itself ends, as Phoenix's upload channel does.
    """

    secret: str = ""

    async def join(self, topic: str, payload: dict, socket) -> Ok | Error:
        try:
            grant = verify(self.secret, UPLOAD_SALT, (payload or {}).get("token"), max_age=3600)
        except InvalidToken:
            return Error({"reason": "invalid_token"})
        if not isinstance(grant, dict) or grant.get("ref") != topic.removeprefix("lvu:"):
            return Error({"reason": "invalid_token"})
        self.path = Path(grant["path"])
        self.limit = int(grant["max_file_size"])
        self.written = 0
        try:
            # Never create the file: the preflight did. If it is gone, its view ended (or
            # cancelled the entry) and deleted it; recreating it would leak it.
            self.file = self.path.open("r+b")
        except FileNotFoundError:
            return Error({"reason": "invalid_token"})
        self.file.truncate()
        self.owner = self._tell_owner(grant)
        return Ok({})

    def _tell_owner(self, grant: dict) -> otp.Ref | None:
        """Watch the view that granted the upload and tell it this channel receives the entry.

        The token names the view's process by number and run: a token from an earlier run of
        the server (its pid numbers start again) names no process of ours.
        """
        if grant.get("run") != RUN or not isinstance(grant.get("pid"), int):
            return None
        owner = otp.Pid(grant["pid"])
        ref = otp.monitor(owner)  # (a view already gone: a Down at once, and this channel ends)
        otp.send(owner, UploadJoined(str(grant["ref"]), otp.current_pid()))
        return ref

    async def handle_in(self, event: str, payload: object, socket):
        if event != CHUNK or not isinstance(payload, bytes):
            return Error({"reason": "expected a binary chunk"})
        self.written += len(payload)
        if self.written > self.limit:
            self.file.close()
            self.path.unlink(missing_ok=True)
            return Stop(Shutdown("file_size_limit_exceeded"), reply=Error({"reason": "file_size_limit_exceeded", "limit": self.limit}))
        self.file.write(payload)
        self.file.flush()
        return Ok({})

    async def handle_info(self, message: object, socket):
        # Its entry left the view (consumed, cancelled), or the view ended: this channel's work is
        # done. Ending it closes it on the page too (phx_close), where a channel left open would
        # fail when the page goes, and the client report that as the entry's failure.
        if message is UPLOAD_DONE or (message.__class__ is Down and message.ref == self.owner):
            return Stop(Shutdown("closed"))
        return None

    async def terminate(self, reason: object, socket) -> None:
        file = getattr(self, "file", None)
        if file is not None:
            file.close()
