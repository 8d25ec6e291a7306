"""External uploads on the wire (web.live._upload, "External uploads"): the preflight answers each entry with what
the view's ``external`` function returns (no token, no file here), progress comes as for any upload, consuming hands
over the meta; the file goes to a real S3-compatible server (moto's) with a URL presigned by presigned_put_url,
whose signature is the one AWS's SDK computes."""

import datetime
import re
import urllib.request

import pytest
import trio
from _live_wire import Tracked, event_reply, join, open_client, render_html
from _s3_server import s3_server

from otp.testing import capture_crash_reports
from web.live import compile_template, presigned_put_url

PAGE = compile_template(
    """<form id="f" phx-change="validate" phx-submit="save"><.live_file_input upload={@uploads.photo} />"""
    """<p :for={e <- @uploads.photo.entries}>{e.client_name}:{e.progress}</p><i>{@saved}</i></form>"""
)
STORE: dict = {}  # "s3": the server of the running test
PRESIGNED: list = []  # (entry ref, socket id) of every presign call


async def presign(entry, socket):
    PRESIGNED.append((entry.ref, socket.id))
    await trio.lowlevel.checkpoint()  # an async external function is awaited
    key = f"photos/{entry.ref}-{entry.client_name}"
    return {"uploader": "S3", "key": key, "url": STORE["s3"].presign(key)}


class Photos(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(saved="")
        socket.allow_upload("photo", accept=[".png"], max_entries=2, external=presign)

    async def handle_event(self, event, value, socket):
        if event == "save":
            keys = socket.consume_uploaded_entries("photo", lambda meta, entry: meta["key"])
            socket.assign(saved=",".join(keys))

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


def meta(ref, name="cat.png", size=5):
    return {"path": "photo", "ref": ref, "name": name, "relative_path": "", "size": size, "type": "image/png", "last_modified": 1}


async def photos_client():
    PRESIGNED.clear()
    _, client = await open_client({"/photos": Photos})
    html = render_html((await join(client, "phx-x", "/photos"))["rendered"])
    upload_ref = re.search(r'data-phx-upload-ref="([^"]+)"', html).group(1)
    form = {"type": "form", "event": "validate", "value": "_target=photo", "uploads": {upload_ref: [meta("0")]}, "meta": {}}
    await client.assert_reply(client.push("lv:phx-x", "event", form), "ok")
    return client, upload_ref


async def preflight(client, upload_ref) -> dict:
    ref = client.push("lv:phx-x", "allow_upload", {"ref": upload_ref, "entries": [meta("0")]})
    return (await client.assert_reply(ref, "ok"))["response"]


async def progress(client, upload_ref, value) -> dict:
    ref = client.push("lv:phx-x", "progress", {"event": None, "ref": upload_ref, "entry_ref": "0", "progress": value})
    return (await client.assert_reply(ref, "ok"))["response"]


def put(url: str, body: bytes, content_type: str) -> int:
    """What the page's uploader does with the meta: PUT the file to the presigned URL."""
    request = urllib.request.Request(url, data=body, method="PUT", headers={"content-type": content_type})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


async def test_the_preflight_answers_with_the_external_meta_and_the_file_lands_in_the_store():
    with s3_server() as s3:
        STORE["s3"] = s3
        client, upload_ref = await photos_client()
        response = await preflight(client, upload_ref)
        key = "photos/0-cat.png"
        assert response["entries"] == {"0": {"uploader": "S3", "key": key, "url": response["entries"]["0"]["url"]}}
        assert response["entries"]["0"]["url"].startswith(f"{s3.endpoint}/{s3.bucket}/photos/0-cat.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&")
        assert PRESIGNED == [("0", "phx-x")]
        assert (response["ref"], response["errors"]) == (upload_ref, {})
        status = await trio.to_thread.run_sync(put, response["entries"]["0"]["url"], b"\x89PNG!", "image/png")
        assert status == 200
        assert await progress(client, upload_ref, 100) == {
            "diff": {"0": {"5": ' data-phx-done-refs="0"'}, "1": {"k": {"0": {"1": "100"}, "kc": 1}}}
        }
        assert await event_reply(client, "phx-x", "save", type="form", value="") == {
            "diff": {"0": {"4": ' data-phx-active-refs=""', "5": ' data-phx-done-refs=""', "6": ' data-phx-preflighted-refs=""'},
                     "1": {"k": {"kc": 0}}, "2": key}
        }
        assert await trio.to_thread.run_sync(s3.object, key) == (b"\x89PNG!", "image/png")
        assert await trio.to_thread.run_sync(s3.keys) == [key]


async def test_an_uploader_s_error_is_the_entry_s_and_nothing_is_consumed():
    with s3_server() as s3:
        STORE["s3"] = s3
        client, upload_ref = await photos_client()
        await preflight(client, upload_ref)
        ref = client.push("lv:phx-x", "progress", {"event": None, "ref": upload_ref, "entry_ref": "0", "progress": {"error": "network"}})
        await client.assert_reply(ref, "ok")
        assert await event_reply(client, "phx-x", "save", type="form", value="") == {}
        assert await trio.to_thread.run_sync(s3.keys) == []


async def test_an_external_function_that_returns_no_uploader_crashes_the_view_naming_the_upload():
    class Broken(Photos):
        async def mount(self, params, session, socket):
            socket.assign(saved="")
            socket.allow_upload("photo", accept=[".png"], external=lambda entry, socket: {"url": "/x"})

    _, client = await open_client({"/photos": Broken})
    html = render_html((await join(client, "phx-x", "/photos"))["rendered"])
    upload_ref = re.search(r'data-phx-upload-ref="([^"]+)"', html).group(1)
    with capture_crash_reports() as reports:
        client.push("lv:phx-x", "allow_upload", {"ref": upload_ref, "entries": [meta("0")]})
        await client.assert_push("lv:phx-x", "phx_error", {"reason": "channel_crash"})
    assert len(reports) == 1
    assert str(reports[0].exc_info[1]) == (
        "the external function of upload 'photo' returned {'url': '/x'}; it returns a dict whose "
        '"uploader" names the page\'s JavaScript uploader, e.g. {"uploader": "S3", "url": ...}'
    )


# ---------------------------------------------------------------- presigned_put_url


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "https://s3.example.net/base", None])
def test_presigned_put_url_signs_as_aws_s_own_sdk_does(endpoint, monkeypatch):
    boto3 = pytest.importorskip("boto3")
    import botocore.auth
    from botocore.config import Config

    moment = datetime.datetime(2026, 12, 3, 18, 0, 0)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: moment)
    sdk = boto3.client(
        "s3", endpoint_url=endpoint, region_name="eu-west-3", aws_access_key_id="AKID", aws_secret_access_key="SECRET",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    key = "a dir/ünïcode + spaces.txt"
    theirs = sdk.generate_presigned_url("put_object", Params={"Bucket": "my-bucket", "Key": key}, ExpiresIn=600)
    ours = presigned_put_url(
        "my-bucket", key, access_key="AKID", secret_key="SECRET", region="eu-west-3", endpoint=endpoint, expires=600,
        now=moment.replace(tzinfo=datetime.UTC),
    )
    assert ours == theirs


def test_presigned_put_url_refuses_what_s3_would():
    with pytest.raises(ValueError, match="expires must be 1 to 604800 seconds"):
        presigned_put_url("b", "k", access_key="a", secret_key="s", expires=604801)
    with pytest.raises(ValueError, match="endpoint must be an http"):
        presigned_put_url("b", "k", access_key="a", secret_key="s", endpoint="s3.example.net")


async def test_a_url_presigned_for_one_key_stores_that_object_in_a_real_s3_server():
    with s3_server() as s3:
        url = s3.presign("notes/today.txt")
        assert await trio.to_thread.run_sync(put, url, b"hello", "text/plain") == 200
        assert await trio.to_thread.run_sync(s3.object, "notes/today.txt") == (b"hello", "text/plain")
