"""LiveView joins and pushes of the wrong type (issue #12, item 12), against the demo's pages.

One table per entry point of the LiveView channel (``web/live/_payloads.py``
lists every field): each row is sent over a real socket state
(``web.testing``) to the demo's ``/live/counter`` or ``/live/upload`` and
must get the exact reply, log no crash report and no warning, and leave the
view, a second view on the same socket, and the socket itself working.
"""

import logging
import re

import orjson
import pytest
import trio.testing

from otp import PubSub
from otp.testing import capture_crash_reports
from web.demo.chat import PRESENCE, PUBSUB
from web.demo.live import SECRET, live_router
from web.live._router import CSRF_SALT
from web.live._server import SESSION_SALT
from web.presence import Presence
from web.testing import connect
from web.token import sign

BINARY = object()  # a row's payload sent as a binary frame instead of JSON
COUNTER, UPLOAD = "/live/counter", "/live/upload"


class Page:
    """One client socket with two views joined: the one a row pokes, and a bystander."""

    def __init__(self, client, router) -> None:
        self.client, self.router = client, router

    def join_payload(self, view_id: str, path: str, **overrides) -> dict:
        route = next(route for route in self.router.routes if route.path == path)
        session = sign(SECRET, SESSION_SALT, self.router.session_payload(view_id, route, {}))
        payload = {
            "url": f"http://localhost{path}", "params": {"_csrf_token": "t", "_mounts": 0, "_mount_attempts": 0},
            "session": session, "static": None, "sticky": False,
        }
        return {**payload, **overrides}

    async def join(self, view_id: str, path: str) -> dict:
        status, response = await self.client.join(f"lv:{view_id}", self.join_payload(view_id, path))
        assert status == "ok", response
        return response

    def push(self, topic: str, event: str, payload: object) -> str:
        if payload is BINARY:
            return self.client.push_binary(topic, event, b"\x00binary")
        return self.client.push(topic, event, payload)

    async def assert_still_working(self) -> None:
        """The poked view, the bystander and the socket all still answer."""
        client = self.client
        await client.assert_reply(client.push("lv:poked", "event", {"type": "click", "event": "noop"}), "ok", {})
        reply = await client.assert_reply(client.push("lv:bystander", "event", {"type": "click", "event": "inc"}), "ok")
        assert reply["response"]["diff"] == {"0": "1"}  # the count went from 0 to 1
        await client.assert_reply(client.heartbeat(), "ok", {})


async def open_page(path: str = COUNTER) -> tuple[Page, dict]:
    """The demo's router on a fresh socket; ``lv:poked`` joined at ``path``, ``lv:bystander`` at the counter."""
    await PubSub.start_link(PUBSUB)
    await Presence.start_link(pubsub=PUBSUB, name=PRESENCE, broadcast_period=0.05)
    router = live_router(pubsub=PUBSUB, channel_supervisor=None)
    client = await connect(router.socket_cls, {"_csrf_token": sign(SECRET, CSRF_SALT, "a visitor")}, pubsub=PUBSUB)
    page = Page(client, router)
    rendered = await page.join("poked", path)
    await page.join("bystander", COUNTER)
    return page, rendered


def no_trouble_logged(caplog, reports) -> None:
    assert reports == []
    assert [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING] == []


def error(reason: str) -> tuple[str, dict]:
    return "error", {"reason": reason}


STALE = error("stale")
JOINED = "ok"  # the join succeeded (its full render is not compared here)

# ---------------------------------------------------------------- joins

# (what replaces the valid join payload's fields, or BINARY), the reply
JOIN_ROWS = [
    ({"url": 5}, error('"url" must be a string; got number')),
    ({"url": ["http://localhost/live/counter"]}, error('"url" must be a string; got array')),
    ({"url": None, "redirect": True}, error('"redirect" must be a string; got boolean')),
    ({"url": None, "redirect": {"to": "/live/counter"}}, error('"redirect" must be a string; got object')),
    ({"params": "abc"}, error('"params" must be an object; got string')),
    ({"params": [["_csrf_token", "t"]]}, error('"params" must be an object; got array')),
    ({"session": 5}, STALE),
    ({"session": ["token"]}, STALE),
    ({"session": {"id": "target"}}, STALE),
    ({"session": "\u00e9t\u00e9"}, STALE),
    ({"session": None}, STALE),
    ({"static": 5}, STALE),
    ({"static": ["token"]}, STALE),
    ({"flash": 5}, JOINED),  # a flash that does not verify is ignored
    ({"flash": {"info": "forged"}}, JOINED),
    ({"params": {"_mounts": "x", "_mount_attempts": None, "_track_static": 5}}, JOINED),  # not read by the server
    ({"params": {"_track_static": [{"a": 1}], "_live_referer": 7}}, JOINED),
    ({"sticky": "yes"}, JOINED),
    ({"url": "http://[::1/live/counter"}, STALE),  # cannot be parsed: matches no route
    ({"url": "http://localhost/live/counter?step=\u00b2"}, JOINED),  # a digit that is no decimal
    ({"url": "http://localhost/live/counter?step=" + "9" * 5000}, JOINED),  # past int()'s 4,300 digits
    ({"url": "http://localhost/live/nowhere"}, STALE),
    (BINARY, error("a join payload must be a JSON object, not binary")),
]


@pytest.mark.parametrize("overrides, reply", JOIN_ROWS)
async def test_a_join_with_a_field_of_the_wrong_type_is_answered_precisely(caplog, overrides, reply):
    page, _ = await open_page()
    client = page.client
    caplog.clear()
    with capture_crash_reports() as reports:
        if overrides is BINARY:
            ref = client.push_binary("lv:target", "phx_join", b'{"url": "/live/counter"}', join_ref="j")
        else:
            payload = page.join_payload("target", COUNTER, **overrides)
            ref = client.push("lv:target", "phx_join", payload, join_ref="j")
        answer = await client.assert_reply(ref)
        if reply == JOINED:
            assert answer["status"] == "ok", answer
            assert answer["response"]["liveview_version"] == "1.2.12"
        else:
            assert (answer["status"], answer["response"]) == reply
        await page.assert_still_working()
        await trio.testing.wait_all_tasks_blocked()
    no_trouble_logged(caplog, reports)


async def test_the_count_step_from_the_url_is_read_only_when_it_is_a_small_decimal():
    page, _ = await open_page()
    client = page.client
    for step, count in [("\u00b2", "1"), ("9" * 5000, "1"), ("3", "3"), ("-2", "1")]:
        payload = page.join_payload(f"step{count}{len(step)}", COUNTER, url=f"http://localhost{COUNTER}?step={step}")
        topic = f"lv:step{count}{len(step)}"
        assert (await client.join(topic, payload))[0] == "ok"
        reply = await client.assert_reply(client.push(topic, "event", {"type": "click", "event": "inc"}), "ok")
        assert reply["response"]["diff"] == {"0": count}


# ---------------------------------------------------------------- pushes on lv:<id>

CLICK = {"type": "click", "event": "noop"}
# (event, payload or BINARY, the reply)
PUSH_ROWS = [
    ("event", BINARY, error("the payload of 'event' must be a JSON object; got binary")),
    ("event", {"type": "click", "event": 5}, error('"event" must be a string; got number')),
    ("event", {"type": "click", "event": ["inc"]}, error('"event" must be a string; got array')),
    ("event", {"type": "click"}, error('"event" must be a string; got null')),
    ("event", {"type": 5, "event": "inc"}, error('"type" must be a string; got number')),
    ("event", {"event": "inc"}, error('"type" must be a string; got null')),
    ("event", {**CLICK, "value": [1]}, ("ok", {})),  # a binding's value goes to the view as sent
    ("event", {**CLICK, "value": "a=1"}, ("ok", {})),
    ("event", {**CLICK, "value": 3}, ("ok", {})),
    ("event", {"type": "form", "event": "validate", "value": {"body": "x"}}, error('"value" must be a string; got object')),
    ("event", {"type": "form", "event": "validate"}, error('"value" must be a string; got null')),
    ("event", {"type": "form", "event": "validate", "value": "a=1", "meta": [1]}, error('"meta" must be an object; got array')),
    ("event", {"type": "form", "event": "validate", "value": "a" + "[b]" * 100 + "=1"},
     error("form field name nested deeper than 64 levels: 'a[b][b][b][b][b][b][b][b][b][b][b][b][b]...'")),
    ("event", {"type": "form", "event": "validate", "value": "a=1", "uploads": [1]}, error('"uploads" must be an object; got array')),
    ("event", {"type": "form", "event": "validate", "value": "a=1", "uploads": {"phx-r": "x"}},
     error('"uploads.phx-r" must be an array of upload entries; got string')),
    ("event", {"type": "form", "event": "validate", "value": "a=1", "uploads": {"phx-r": [{"ref": "0", "size": -1}]}},
     error("the \"size\" of upload entry '0' must be an integer >= 0; got -1")),
    ("event", {**CLICK, "cid": "1"}, error('"cid" must be an integer (a component) or null; got string')),
    ("event", {**CLICK, "cid": 1.5}, error('"cid" must be an integer (a component) or null; got number')),
    ("event", {**CLICK, "cid": True}, error('"cid" must be an integer (a component) or null; got boolean')),
    ("event", {**CLICK, "cid": [1]}, error('"cid" must be an integer (a component) or null; got array')),
    ("event", {**CLICK, "cid": 999}, ("ok", {})),  # no such component (any more): ignored
    ("event", {**CLICK, "cid": False}, ("ok", {})),  # the client's "no component": the view's event
    ("event", {**CLICK, "cid": None, "value": None}, ("ok", {})),
    ("event", {"type": "hook", "event": "noop", "value": [1, "two", None]}, ("ok", {})),  # a hook pushes any JSON
    ("event", {"type": "keyup", "event": "noop", "value": {"key": "Enter"}}, ("ok", {})),
    ("event", {"type": "window-focus", "event": "noop", "value": {}}, ("ok", {})),  # any other type: a binding
    ("event", {"type": "click", "event": "lv:clear-flash", "value": {"key": ["info"]}}, ("ok", {})),
    ("live_patch", BINARY, error("the payload of 'live_patch' must be a JSON object; got binary")),
    ("live_patch", {}, error('"url" must be a string; got null')),
    ("live_patch", {"url": 5}, error('"url" must be a string; got number')),
    ("live_patch", {"url": "http://[::1/live/counter"}, ("ok", {"link_redirect": True})),
    ("live_patch", {"url": "http://localhost/elsewhere"}, ("ok", {"link_redirect": True})),
    ("cids_will_destroy", BINARY, error("the payload of 'cids_will_destroy' must be a JSON object; got binary")),
    ("cids_will_destroy", {"cids": "1"}, error('"cids" must be an array of integers; got string')),
    ("cids_will_destroy", {"cids": [[1]]}, error('"cids" must be an array of integers; it holds array [1]')),
    ("cids_will_destroy", {}, error('"cids" must be an array of integers; got null')),
    ("cids_destroyed", {"cids": {"1": 1}}, error('"cids" must be an array of integers; got object')),
    ("cids_destroyed", {"cids": [1.5]}, error('"cids" must be an array of integers; it holds number 1.5')),
    ("cids_destroyed", {"cids": [True]}, error('"cids" must be an array of integers; it holds boolean true')),
    ("cids_destroyed", {"cids": [999, -1]}, ("ok", {"cids": []})),
    ("allow_upload", {"ref": "phx-nope", "entries": []}, ("ok", {"ref": "phx-nope", "error": [["phx-nope", "unknown upload"]]})),
    ("progress", {"ref": "phx-nope", "entry_ref": "0", "progress": 50}, ("ok", {})),
    ("dance", BINARY, ("ok", {})),  # every push gets a reply, even one nobody knows
]


@pytest.mark.parametrize("event, payload, reply", PUSH_ROWS)
async def test_a_push_with_a_field_of_the_wrong_type_gets_an_error_reply(caplog, event, payload, reply):
    page, _ = await open_page()
    caplog.clear()
    with capture_crash_reports() as reports:
        await page.client.assert_reply(page.push("lv:poked", event, payload), *reply)
        await page.assert_still_working()
        await trio.testing.wait_all_tasks_blocked()
    no_trouble_logged(caplog, reports)


# ---------------------------------------------------------------- uploads

REF = "{upload ref}"  # replaced by the upload page's ref
ENTRY = {"ref": "0", "name": "a.txt", "size": 10, "type": "text/plain", "last_modified": 1700000000000}
UPLOAD_ROWS = [
    ("allow_upload", BINARY, error("the payload of 'allow_upload' must be a JSON object; got binary")),
    ("allow_upload", {"ref": 5, "entries": [ENTRY]}, error('"ref" must be a string; got number')),
    ("allow_upload", {"ref": REF, "entries": "x"}, error('"entries" must be an array of upload entries; got string')),
    ("allow_upload", {"ref": REF, "entries": {"0": ENTRY}}, error('"entries" must be an array of upload entries; got object')),
    ("allow_upload", {"ref": REF, "entries": [5]}, error('every entry of "entries" must be an object; got number')),
    ("allow_upload", {"ref": REF, "entries": [None]}, error('every entry of "entries" must be an object; got null')),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "ref": None}]}, error('an upload entry\'s "ref" must be a non-empty string; got null')),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "ref": ""}]}, error('an upload entry\'s "ref" must be a non-empty string; got string')),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "ref": 0}]}, error('an upload entry\'s "ref" must be a non-empty string; got number')),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "size": -5}]}, error("the \"size\" of upload entry '0' must be an integer >= 0; got -5")),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "size": "10"}]}, error("the \"size\" of upload entry '0' must be an integer >= 0; got string")),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "size": 1.5}]}, error("the \"size\" of upload entry '0' must be an integer >= 0; got number")),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "size": None}]}, error("the \"size\" of upload entry '0' must be an integer >= 0; got null")),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "name": ["a"]}]}, error("the \"name\" of upload entry '0' must be a string; got array")),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "type": 7}]}, error("the \"type\" of upload entry '0' must be a string; got number")),
    ("allow_upload", {"ref": REF, "entries": [{**ENTRY, "last_modified": "x"}]},
     error("the \"last_modified\" of upload entry '0' must be a number; got string")),
    ("allow_upload", {"ref": REF, "entries": [ENTRY], "cid": "1"}, error('"cid" must be an integer (a component) or null; got string')),
    ("progress", BINARY, error("the payload of 'progress' must be a JSON object; got binary")),
    ("progress", {"ref": REF, "entry_ref": "0", "progress": "50"}, error('"progress" must be a number (0..100) or {"error": reason}; got string')),
    ("progress", {"ref": REF, "entry_ref": "0", "progress": None}, error('"progress" must be a number (0..100) or {"error": reason}; got null')),
    ("progress", {"ref": REF, "entry_ref": "0", "progress": [50]}, error('"progress" must be a number (0..100) or {"error": reason}; got array')),
    ("progress", {"ref": REF, "entry_ref": "0", "progress": True}, error('"progress" must be a number (0..100) or {"error": reason}; got boolean')),
    ("progress", {"ref": REF, "entry_ref": 0, "progress": 50}, error('"entry_ref" must be a string; got number')),
    ("progress", {"ref": [REF], "entry_ref": "0", "progress": 50}, error('"ref" must be a string; got array')),
    ("progress", {"ref": REF, "entry_ref": "no such entry", "progress": 50}, ("ok", {})),
    ("progress", {"ref": REF, "entry_ref": "no such entry", "progress": {"error": ["x"]}}, ("ok", {})),
]


def with_ref(value: object, upload_ref: str) -> object:
    """``value`` with every REF replaced by the page's upload ref."""
    if value is BINARY:
        return value
    return orjson.loads(orjson.dumps(value).decode().replace(REF, upload_ref))


@pytest.mark.parametrize("event, payload, reply", UPLOAD_ROWS)
async def test_an_upload_push_with_a_field_of_the_wrong_type_gets_an_error_reply(caplog, event, payload, reply):
    page, rendered = await open_page(UPLOAD)
    upload_ref = re.search(r'data-phx-upload-ref=\\?"([^"\\]+)', orjson.dumps(rendered).decode()).group(1)
    caplog.clear()
    with capture_crash_reports() as reports:
        await page.client.assert_reply(page.push("lv:poked", event, with_ref(payload, upload_ref)), *reply)
        await page.assert_still_working()
        await trio.testing.wait_all_tasks_blocked()
    no_trouble_logged(caplog, reports)


@pytest.mark.parametrize("payload, reply", [
    ({"token": 5}, error("invalid_token")),
    ({"token": ["t"]}, error("invalid_token")),
    ({"token": {"ref": "0"}}, error("invalid_token")),
    ({}, error("invalid_token")),
    (BINARY, error("a join payload must be a JSON object, not binary")),
])
async def test_an_upload_channel_join_with_a_token_of_the_wrong_type_is_refused(caplog, payload, reply):
    page, _ = await open_page(UPLOAD)
    caplog.clear()
    with capture_crash_reports() as reports:
        if payload is BINARY:
            ref = page.client.push_binary("lvu:0", "phx_join", b"token", join_ref="u")
        else:
            ref = page.client.push("lvu:0", "phx_join", payload, join_ref="u")
        await page.client.assert_reply(ref, *reply)
        await page.assert_still_working()
        await trio.testing.wait_all_tasks_blocked()
    no_trouble_logged(caplog, reports)


# ---------------------------------------------------------------- the demo's chat page: what its handle_event reads

CHAT = "/live/chat"


@pytest.mark.parametrize("value", [{"body": 5}, {"body": ["hi"]}, {"body": None}, {"body": {"text": "hi"}}, [1, 2], "hi", None])
@pytest.mark.parametrize("event", ["validate", "send"])
async def test_the_chat_page_takes_a_hook_s_body_of_any_type_as_no_message(caplog, event, value):
    page, _ = await open_page(CHAT)
    caplog.clear()
    with capture_crash_reports() as reports:
        ref = page.client.push("lv:poked", "event", {"type": "hook", "event": event, "value": value})
        reply = await page.client.assert_reply(ref, "ok")
        if event == "send":  # an empty message is refused on the page
            assert 'type a message first' in orjson.dumps(reply["response"]).decode()
        else:
            assert reply["response"] == {}
        await page.assert_still_working()
        await trio.testing.wait_all_tasks_blocked()
    no_trouble_logged(caplog, reports)
