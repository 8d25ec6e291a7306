"""Uploads on the wire (docs/protocol/liveview.md, "Uploads"; checklist 26): the form event registers and validates the
entries; ``allow_upload`` answers with a token per entry; the ``lvu:<entry ref>`` channel takes
binary ``chunk`` pushes; ``progress`` updates the entry; consuming hands over the file."""

import re
from pathlib import Path

import pytest
from _live_wire import PIDS, SECRET, Tracked, event_reply, join, open_client, render_html

import otp
import otp.testing
from otp import PubSub
from web.live import LiveComponent, LiveRouter, LiveSocket, compile_template
from web.live._upload import EXTRA_ENTRIES, UPLOAD_SALT, UploadConfig
from web.testing import ANY, UploadError, element, file_input, live, render_submit, render_upload
from web.token import verify

PAGE = compile_template(
    """<form id="f" phx-change="validate" phx-submit="save"><.live_file_input upload={@uploads.avatar} /><p :for={e <- @uploads.avatar.entries}>{e.client_name}:{e.progress}:{",".join(e.errors)}</p><b>{",".join(@uploads.avatar.errors)}</b><i>{@saved}</i></form>"""
)
CONSUMED: list = []  # (path, bytes, client_name) seen by the consume function
PROGRESS: list = []  # (name, entry ref, progress) seen by the progress callback


def on_progress(name, entry, socket):
    PROGRESS.append((name, entry.ref, entry.progress))
    if entry.done:
        socket.assign(saved=f"{entry.client_name} uploaded")


class Avatar(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(saved="")
        socket.allow_upload("avatar", accept=[".png", "image/jpeg"], max_entries=2, max_file_size=10, chunk_size=4, progress=on_progress)

    async def handle_event(self, event, value, socket):
        if event == "save":
            def consume(path, entry):
                CONSUMED.append((path, path.read_bytes(), entry.client_name))
                return entry.client_name

            names = socket.consume_uploaded_entries("avatar", consume)
            socket.assign(saved=",".join(names))
        elif event == "cancel":
            socket.cancel_upload("avatar", value["ref"])

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


def meta(ref, name="a.png", size=8, type="image/png"):
    return {"path": "avatar", "ref": ref, "name": name, "relative_path": "", "size": size, "type": type, "last_modified": 1700000000000}


async def avatar_client():
    CONSUMED.clear()
    PROGRESS.clear()
    router, client = await open_client({"/avatar": Avatar})
    rendered = (await join(client, "phx-u", "/avatar"))["rendered"]
    html = render_html(rendered)
    upload_ref = re.search(r'data-phx-upload-ref="([^"]+)"', html).group(1)
    assert f'<input id="{upload_ref}" type="file" name="avatar" accept=".png,image/jpeg"' in html
    assert 'data-phx-hook="Phoenix.LiveFileUpload" data-phx-update="ignore"' in html
    assert 'data-phx-active-refs="" data-phx-done-refs="" data-phx-preflighted-refs=""' in html
    assert html.endswith(" multiple/><b></b><i></i></form>")
    return client, upload_ref


def choose(client, upload_ref, *metas):
    """The form event the client sends when files are chosen in the input."""
    return client.push(
        "lv:phx-u", "event",
        {"type": "form", "event": "validate", "value": "_target=avatar", "uploads": {upload_ref: list(metas)}, "meta": {"_target": "avatar"}},
    )


async def preflight(client, upload_ref, *metas) -> dict:
    ref = client.push("lv:phx-u", "allow_upload", {"ref": upload_ref, "entries": list(metas)})
    return (await client.assert_reply(ref, "ok"))["response"]


async def send_chunks(client, entry_ref, token, *chunks):
    assert await client.join(f"lvu:{entry_ref}", {"token": token}) == ("ok", {})
    for chunk in chunks:
        await client.assert_reply(client.push_binary(f"lvu:{entry_ref}", "chunk", chunk), "ok", {})


async def progress(client, upload_ref, entry_ref, value) -> dict:
    ref = client.push("lv:phx-u", "progress", {"event": None, "ref": upload_ref, "entry_ref": entry_ref, "progress": value})
    return (await client.assert_reply(ref, "ok"))["response"]


CONFIG = {"max_file_size": 10, "max_entries": 2, "chunk_size": 4, "chunk_timeout": 10000}


async def test_choosing_files_registers_the_entries_and_re_renders():
    client, upload_ref = await avatar_client()
    await client.assert_reply(choose(client, upload_ref, meta("0")), "ok", {
        "diff": {
            "0": {"4": ' data-phx-active-refs="0"'},
            "1": {"s": ["<p>", ":", ":", "</p>"], "k": {"0": {"0": "a.png", "1": "0", "2": ""}, "kc": 1}},
        }
    })


async def test_the_whole_round_trip_hands_over_the_exact_bytes_then_deletes_the_file():
    client, upload_ref = await avatar_client()
    await client.assert_reply(choose(client, upload_ref, meta("0")), "ok")
    response = await preflight(client, upload_ref, meta("0"))
    assert response == {
        "ref": upload_ref, "config": CONFIG, "entries": {"0": ANY}, "errors": {},
        "diff": {"0": {"6": ' data-phx-preflighted-refs="0"'}},
    }
    token = response["entries"]["0"]
    path = Path(verify(SECRET, UPLOAD_SALT, token)["path"])
    await send_chunks(client, "0", token, b"\x00\x01\xfe\xff", b"png!")
    assert await progress(client, upload_ref, "0", 50) == {"diff": {"1": {"k": {"0": {"1": "50"}, "kc": 1}}}}
    assert await progress(client, upload_ref, "0", 100) == {
        "diff": {"0": {"5": ' data-phx-done-refs="0"'}, "1": {"k": {"0": {"1": "100"}, "kc": 1}}, "3": "a.png uploaded"}
    }
    assert PROGRESS == [("avatar", "0", 50), ("avatar", "0", 100)]
    assert await event_reply(client, "phx-u", "save", "", type="form") == {
        "diff": {"0": {"4": ' data-phx-active-refs=""', "5": ' data-phx-done-refs=""', "6": ' data-phx-preflighted-refs=""'}, "1": {"k": {"kc": 0}}, "3": "a.png"}
    }
    assert CONSUMED == [(path, b"\x00\x01\xfe\xffpng!", "a.png")]
    assert not path.exists()


async def test_validation_errors_too_large_and_not_accepted_are_rendered_per_entry():
    client, upload_ref = await avatar_client()
    reply = await client.assert_reply(
        choose(client, upload_ref, meta("0", "big.png", size=11), meta("1", "notes.txt", type="text/plain")), "ok"
    )
    entries = reply["response"]["diff"]["1"]["k"]
    assert entries["0"] == {"0": "big.png", "1": "0", "2": "too_large"}
    assert entries["1"] == {"0": "notes.txt", "1": "0", "2": "not_accepted"}


async def test_too_many_files_is_an_error_of_the_upload():
    client, upload_ref = await avatar_client()
    reply = await client.assert_reply(choose(client, upload_ref, meta("0"), meta("1"), meta("2")), "ok")
    assert reply["response"]["diff"]["2"] == "too_many_files"


async def test_a_preflight_with_invalid_entries_answers_the_errors_and_grants_nothing():
    client, upload_ref = await avatar_client()
    response = await preflight(client, upload_ref, meta("0", "big.png", size=11), meta("1"))
    assert {k: v for k, v in response.items() if k != "diff"} == {"ref": upload_ref, "error": [["0", "too_large"]]}
    response = await preflight(client, upload_ref, meta("2"), meta("3"))
    assert {k: v for k, v in response.items() if k != "diff"} == {
        "ref": upload_ref, "error": [["0", "too_large"], [upload_ref, "too_many_files"]]
    }


async def test_an_unknown_upload_ref_is_answered():
    client, upload_ref = await avatar_client()
    assert await preflight(client, "phx-nope", meta("0")) == {"ref": "phx-nope", "error": [["phx-nope", "unknown upload"]]}


async def test_a_file_past_its_declared_size_is_refused_and_the_upload_channel_stops():
    # The client declared 8 bytes (within max_file_size, 10): the 9th is refused, as Phoenix
    # refuses past an entry's client size.
    client, upload_ref = await avatar_client()
    await client.assert_reply(choose(client, upload_ref, meta("0")), "ok")
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    path = Path(verify(SECRET, UPLOAD_SALT, token)["path"])
    await send_chunks(client, "0", token, b"1234")
    ref = client.push_binary("lvu:0", "chunk", b"56789")
    await client.assert_reply(ref, "error", {"reason": "file_size_limit_exceeded", "limit": 8})
    await client.assert_push("lvu:0", "phx_close", {})
    assert not path.exists()
    # The client reports the failure as the entry's progress; the view renders it.
    assert await progress(client, upload_ref, "0", {"error": "file_size_limit_exceeded"}) == {
        "diff": {"1": {"k": {"0": {"2": "file_size_limit_exceeded"}, "kc": 1}}}
    }


async def test_the_upload_channel_stays_until_its_entry_is_consumed_then_closes():
    # As Phoenix's: a chunk past the end is still refused, and once the view consumed the entry
    # the channel ends (phx_close), so nothing of it errors on the page when the socket goes
    # (the client would report the channel's error as the entry's failure).
    client, upload_ref = await avatar_client()
    await client.assert_reply(choose(client, upload_ref, meta("0")), "ok")
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    await send_chunks(client, "0", token, b"1234", b"5678")
    await progress(client, upload_ref, "0", 100)
    closed = await client.receive_frame(lambda f: isinstance(f, list) and f[2] == "lvu:0" and f[3] == "phx_close", timeout=0)
    assert closed is None  # done, not yet consumed: the channel stays
    await event_reply(client, "phx-u", "save", "", type="form")
    await client.assert_push("lvu:0", "phx_close", {})
    assert [data for _, data, _ in CONSUMED] == [b"12345678"]


async def test_the_upload_channel_closes_when_its_entry_is_cancelled():
    client, upload_ref = await avatar_client()
    await client.assert_reply(choose(client, upload_ref, meta("0")), "ok")
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    await send_chunks(client, "0", token, b"1234")
    await event_reply(client, "phx-u", "cancel", {"ref": "0"})
    await client.assert_push("lvu:0", "phx_close", {})


async def test_the_upload_channel_ends_with_its_view():
    client, upload_ref = await avatar_client()
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    await send_chunks(client, "0", token, b"1234")
    view = PIDS["phx-u"]
    await otp.testing.kill_and_wait(view, otp.KILL)
    await client.assert_push("lvu:0", "phx_close", {})


async def test_the_upload_channel_refuses_a_bad_token_and_a_token_for_another_entry():
    client, upload_ref = await avatar_client()
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    assert await client.join("lvu:0", {"token": "forged"}) == ("error", {"reason": "invalid_token"})
    assert await client.join("lvu:1", {"token": token}) == ("error", {"reason": "invalid_token"})
    assert await client.join("lvu:0", {}) == ("error", {"reason": "invalid_token"})


async def test_a_text_chunk_is_an_error_reply():
    client, upload_ref = await avatar_client()
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    await send_chunks(client, "0", token)
    await client.assert_reply(client.push("lvu:0", "chunk", {"not": "binary"}), "error", {"reason": "expected a binary chunk"})


async def test_the_temporary_file_is_deleted_when_the_view_ends():
    client, upload_ref = await avatar_client()
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    path = Path(verify(SECRET, UPLOAD_SALT, token)["path"])
    await send_chunks(client, "0", token, b"1234")
    assert path.read_bytes() == b"1234"
    await client.leave("lv:phx-u")
    assert not path.exists()
    await client.assert_push("lvu:0", "phx_close", {})  # the upload channel ends with its view
    # and cannot bring the file back: its view is gone.
    assert await client.join("lvu:0", {"token": token}) == ("error", {"reason": "invalid_token"})
    assert not path.exists()


async def test_cancel_upload_forgets_the_entry_and_deletes_its_file():
    client, upload_ref = await avatar_client()
    await client.assert_reply(choose(client, upload_ref, meta("0")), "ok")
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    path = Path(verify(SECRET, UPLOAD_SALT, token)["path"])
    assert await event_reply(client, "phx-u", "cancel", {"ref": "0"}) == {
        "diff": {"0": {"4": ' data-phx-active-refs=""', "6": ' data-phx-preflighted-refs=""'}, "1": {"k": {"kc": 0}}}
    }
    assert not path.exists()


async def test_two_entries_are_uploaded_and_consumed_together():
    client, upload_ref = await avatar_client()
    await client.assert_reply(choose(client, upload_ref, meta("0"), meta("1", "b.jpg", type="image/jpeg")), "ok")
    response = await preflight(client, upload_ref, meta("0"), meta("1", "b.jpg", type="image/jpeg"))
    assert sorted(response["entries"]) == ["0", "1"]
    await send_chunks(client, "0", response["entries"]["0"], b"aaaa")
    await send_chunks(client, "1", response["entries"]["1"], b"bbbb", b"bb")
    await progress(client, upload_ref, "0", 100)
    await progress(client, upload_ref, "1", 100)
    await event_reply(client, "phx-u", "save", "", type="form")
    assert [(data, name) for _, data, name in CONSUMED] == [(b"aaaa", "a.png"), (b"bbbbbb", "b.jpg")]
    assert not any(path.exists() for path, _, _ in CONSUMED)


async def test_progress_for_an_entry_never_preflighted_is_ignored():
    # The entry has no file (only the preflight makes one): a client calling it done
    # must not have the view's consume function handed None for its path.
    client, upload_ref = await avatar_client()
    await client.assert_reply(choose(client, upload_ref, meta("0")), "ok")
    assert await progress(client, upload_ref, "0", 100) == {}
    assert PROGRESS == []
    assert await event_reply(client, "phx-u", "save", "", type="form") == {}
    assert CONSUMED == []


class Crashing(Avatar):
    async def handle_event(self, event, value, socket):
        if event == "crash":
            raise RuntimeError("the view crashed mid-upload")
        await super().handle_event(event, value, socket)


async def test_a_crashed_view_s_temporary_files_are_deleted_and_the_crash_is_reported():
    router, client = await open_client({"/avatar": Crashing})
    rendered = (await join(client, "phx-u", "/avatar"))["rendered"]
    upload_ref = re.search(r'data-phx-upload-ref="([^"]+)"', render_html(rendered)).group(1)
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    path = Path(verify(SECRET, UPLOAD_SALT, token)["path"])
    await send_chunks(client, "0", token, b"1234")
    with otp.testing.capture_crash_reports() as reports:
        client.push("lv:phx-u", "event", {"type": "click", "event": "crash", "value": {}})
        await client.assert_push("lv:phx-u", "phx_error", {"reason": "channel_crash"})
    assert "view: Crashing" in reports[0].getMessage() and "event: crash" in reports[0].getMessage()
    assert not path.exists()


class Single(Avatar):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.allow_upload("avatar", accept=[".png"], max_entries=1, max_file_size=10)


async def test_choosing_another_file_for_a_single_file_upload_replaces_the_entry():
    # The client sends only the newly chosen file; Phoenix replaces the sole entry
    # (UploadConfig.maybe_replace_sole_entry) rather than refuse it as too_many_files.
    router, client = await open_client({"/single": Single})
    rendered = (await join(client, "phx-u", "/single"))["rendered"]
    upload_ref = re.search(r'data-phx-upload-ref="([^"]+)"', render_html(rendered)).group(1)
    await client.assert_reply(choose(client, upload_ref, meta("0")), "ok")
    token = (await preflight(client, upload_ref, meta("0")))["entries"]["0"]
    first = Path(verify(SECRET, UPLOAD_SALT, token)["path"])
    reply = await client.assert_reply(choose(client, upload_ref, meta("1", "b.png")), "ok")
    assert reply["response"]["diff"]["1"] == {"k": {"0": {"0": "b.png"}, "kc": 1}}
    assert "2" not in reply["response"]["diff"]  # no too_many_files
    assert not first.exists()
    response = await preflight(client, upload_ref, meta("1", "b.png"))
    assert list(response["entries"]) == ["1"]


BOX = compile_template(
    """<div id={@id}><.live_file_input upload={@uploads.doc} /><p :for={e <- @uploads.doc.entries}>{e.client_name}:{e.progress}</p></div>"""
)


class UploadBox(LiveComponent):
    async def mount(self, socket):
        socket.allow_upload("doc", max_file_size=10, chunk_size=4)

    async def handle_event(self, event, value, socket):
        socket.consume_uploaded_entries("doc", lambda path, entry: CONSUMED.append((path, path.read_bytes(), entry.client_name)))

    def render(self, assigns, changed):
        return BOX.render(assigns, changed)


BOX_HOST = compile_template('<main><.live_component module={UploadBox} id="box" /></main>', namespace={"UploadBox": UploadBox})


class BoxHost(Tracked):
    def render(self, assigns, changed):
        return BOX_HOST.render(assigns, changed)


async def test_an_upload_in_a_component_is_found_by_its_cid():
    CONSUMED.clear()
    router, client = await open_client({"/box": BoxHost})
    rendered = (await join(client, "phx-b", "/box"))["rendered"]
    upload_ref = re.search(r'data-phx-upload-ref="([^"]+)"', render_html(rendered, rendered["c"])).group(1)
    ref = client.push("lv:phx-b", "event", {
        "type": "form", "event": "validate", "value": "", "cid": 1, "uploads": {upload_ref: [meta("0", "a.txt", type="text/plain")]},
    })
    reply = await client.assert_reply(ref, "ok")
    assert reply["response"]["diff"]["c"]["1"] == {
        "1": {"4": ' data-phx-active-refs="0"'}, "2": {"s": ["<p>", ":", "</p>"], "k": {"0": {"0": "a.txt", "1": "0"}, "kc": 1}},
    }
    ref = client.push("lv:phx-b", "allow_upload", {"ref": upload_ref, "entries": [meta("0", "a.txt", type="text/plain")], "cid": 1})
    response = (await client.assert_reply(ref, "ok"))["response"]
    assert response["diff"] == {"c": {"1": {"1": {"6": ' data-phx-preflighted-refs="0"'}}}}
    token = response["entries"]["0"]
    assert await client.join("lvu:0", {"token": token}) == ("ok", {})
    await client.assert_reply(client.push_binary("lvu:0", "chunk", b"data"), "ok", {})
    ref = client.push("lv:phx-b", "progress", {"event": None, "ref": upload_ref, "entry_ref": "0", "progress": 100, "cid": 1})
    await client.assert_reply(ref, "ok", {"diff": {"c": {"1": {"1": {"5": ' data-phx-done-refs="0"'}, "2": {"k": {"0": {"1": "100"}, "kc": 1}}}}}})
    await client.assert_reply(client.push("lv:phx-b", "event", {"type": "form", "event": "save", "value": "", "cid": 1}), "ok")
    assert [(data, name) for _, data, name in CONSUMED] == [(b"data", "a.txt")]
    assert not CONSUMED[0][0].exists()


def test_a_client_sending_thousands_of_entry_refs_cannot_make_the_view_hold_them():
    upload = UploadConfig(name="avatar", ref="phx-1", max_entries=2)
    for batch in range(3):  # event after event, thousands of new refs each time
        upload.put_entries([{"ref": f"{batch}-{n}", "name": "a.png", "size": 1} for n in range(5000)])
        assert len(upload.entries) == 2 + EXTRA_ENTRIES
        assert upload.errors == ["too_many_files"]  # the page says so, and the user can remove some
    assert [entry.ref for entry in upload.entries] == [f"0-{n}" for n in range(2 + EXTRA_ENTRIES)]
    for entry in list(upload.entries)[2:]:
        upload.cancel(entry.ref)
    assert upload.errors == []
    upload.put_entries([{"ref": "late", "name": "b.png", "size": 1}])  # room again: taken, and too many
    assert upload.entries[-1].ref == "late" and upload.errors == ["too_many_files"]


def test_accept_given_one_string_is_refused_rather_than_read_letter_by_letter():
    with pytest.raises(ValueError) as raised:
        LiveSocket(connected=False, view_id="v").allow_upload("avatar", accept=".png")  # type: ignore[arg-type]
    assert str(raised.value) == 'accept must be "any" or a list of extensions and MIME types, such as [\'.png\']; got \'.png\''
    assert UploadConfig(name="avatar", ref="phx-1", accept=[".png"]).accept_attribute() == ".png"
    assert UploadConfig(name="avatar", ref="phx-1").accept_attribute() is None  # "any"


class AutoAvatar(Avatar):
    """Avatar's page and events, but each file uploads as soon as it is chosen (auto_upload)."""

    async def mount(self, params, session, socket):
        await Tracked.mount(self, params, session, socket)
        socket.assign(saved="")
        socket.allow_upload("avatar", accept=[".png"], max_entries=2, max_file_size=10, chunk_size=4, auto_upload=True)


async def auto_client():
    CONSUMED.clear()
    router, client = await open_client({"/avatar": AutoAvatar})
    html = render_html((await join(client, "phx-u", "/avatar"))["rendered"])
    assert ' data-phx-auto-upload ' in html
    return client, re.search(r'data-phx-upload-ref="([^"]+)"', html).group(1)


async def test_auto_upload_given_more_files_than_max_entries_uploads_the_first_ones_at_once():
    # Issue #16: the preflight refused every entry, so nothing uploaded; Phoenix records
    # too_many_files and grants the first max_entries entries, which upload at once.
    client, upload_ref = await auto_client()
    chosen = [meta("0", "a.png"), meta("1", "b.png"), meta("2", "c.png")]
    reply = await client.assert_reply(choose(client, upload_ref, *chosen), "ok")
    assert reply["response"]["diff"]["2"] == "too_many_files"
    response = await preflight(client, upload_ref, *chosen)
    assert {k: v for k, v in response.items() if k != "diff"} == {
        "ref": upload_ref, "config": CONFIG, "entries": {"0": ANY, "1": ANY}, "errors": {},
    }
    assert response["diff"]["0"] == {"6": ' data-phx-preflighted-refs="0,1"'}
    for ref, data in (("0", b"aaaa"), ("1", b"bb")):
        await send_chunks(client, ref, response["entries"][ref], data)
        await progress(client, upload_ref, ref, 100)
    # The user takes the third file back, then submits: both uploaded files are there.
    assert (await event_reply(client, "phx-u", "cancel", {"ref": "2"}))["diff"]["2"] == ""
    await event_reply(client, "phx-u", "save", "", type="form")
    assert [(data, name) for _, data, name in CONSUMED] == [(b"aaaa", "a.png"), (b"bb", "b.png")]


async def test_auto_upload_grants_the_valid_entries_and_answers_the_errors_of_the_others():
    client, upload_ref = await auto_client()
    chosen = [meta("0", "big.png", size=11), meta("1", "b.png"), meta("2", "c.png")]
    await client.assert_reply(choose(client, upload_ref, *chosen), "ok")
    response = await preflight(client, upload_ref, *chosen)
    # Only the first max_entries entries are considered: "2" waits (too many files).
    assert {k: v for k, v in response.items() if k != "diff"} == {
        "ref": upload_ref, "config": CONFIG, "entries": {"1": ANY}, "errors": {"0": ["too_large"]},
    }
    # Removing the file too large makes room: the next preflight grants "2".
    await event_reply(client, "phx-u", "cancel", {"ref": "0"})
    response = await preflight(client, upload_ref, chosen[2])
    assert {k: v for k, v in response.items() if k != "diff"} == {
        "ref": upload_ref, "config": CONFIG, "entries": {"2": ANY}, "errors": {},
    }


async def test_auto_upload_with_too_many_files_through_web_testing():
    CONSUMED.clear()
    await PubSub.start_link("auto_ps")
    view = await live(LiveRouter(secret=SECRET, routes={"/avatar": AutoAvatar}, pubsub="auto_ps"), "/avatar")
    files = file_input(view, "#f", "avatar", [
        {"name": "a.png", "content": b"aaaa"}, {"name": "big.png", "content": b"x" * 11}, {"name": "c.png", "content": b"c"},
    ])
    html = await render_upload(files, "a.png")
    assert "<p>a.png:100:</p><p>big.png:0:too_large</p><p>c.png:0:</p><b>too_many_files</b>" in html
    assert await render_upload(files, "big.png") == UploadError([("big.png", "too_large")])
    assert await render_upload(files, "c.png") == UploadError([("c.png", "failed preflight")])  # waits: too many
    await render_submit(element(view, "#f"))
    assert [(data, name) for _, data, name in CONSUMED] == [(b"aaaa", "a.png")]
