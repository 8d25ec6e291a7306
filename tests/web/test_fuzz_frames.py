"""Fuzzing the demo over real WebSockets (issue #12): thousands of mutated frames, no crash.

Valid frames of the channels chat and of three LiveView pages are mutated
with fixed seeds (a field swapped for a value of another type, nulls, huge
and out-of-range numbers, lone surrogates, deep nesting, unicode edge
cases, empty and 10,000-character strings, truncation, elements dropped
or added, binary frames of random bytes) and sent one by one, each
followed by a heartbeat. For every frame:

* the socket stays open and answers the heartbeat, unless the frame has no
  envelope to answer; then it is closed with 1011 (the oracle,
  :func:`must_close`, reads the frame with the standard library's ``json``,
  independently of the server's orjson);
* no channel or LiveView crashes (no ``phx_error``), and nothing is logged
  at ERROR (no crash report);

and after the run a fresh client is served as usual. The socket's limits
on a client's pace (``web.socket.Socket``'s ``rate_limit`` and
``failed_join_limit``, which would slow the many failed joins down in real
time) are switched off: this measures the answers, not the limits, whose
own tests are elsewhere. Each connection gets at most
:data:`FRAMES_PER_CONNECTION` frames, so that fresh clients come and go.
"""

from __future__ import annotations

import collections
import html
import json
import logging
import random
import re
from urllib.parse import quote

import orjson
import pytest
import trio
from _clients import Closed, HTTPClient, WSClient

from otp import Supervisor
from otp.testing import capture_crash_reports
from web.demo.app import chat_children
from web.socket import Socket

pytestmark = pytest.mark.slow

FRAMES = 3000  # per target
FRAMES_PER_CONNECTION = 150
TIMEOUT = 10.0  # seconds the server may take to answer one heartbeat (a bound, never a wait)

# ---------------------------------------------------------------- values and JSON text no JSON writer makes


class Raw:
    """JSON text put in a frame as is (``1e309``, a lone surrogate escape, 300 levels of nesting)."""

    def __init__(self, text: str) -> None:
        self.text = text


def to_json(value: object) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, list):
        return "[" + ",".join(map(to_json, value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{to_json(key)}:{to_json(item)}" for key, item in value.items()) + "}"
    return orjson.dumps(value).decode()


def nested(levels: int, kind: str) -> Raw:
    opening, closing = ('{"a":', "}") if kind == "dict" else ("[", "]")
    return Raw(opening * levels + "1" + closing * levels)


STRINGS = [
    "", " ", "x" * 10_000, "\u0000", "\u001f", "\u007f", "\u00e9", "\u200b", "\u202e", "\ud7ff", "\ue000", "\uffff",
    "\U0001f600", "\U0010ffff", "null", "[]", "{}", "<script>alert(1)</script>", "%00", "a[b][c]", "lv:clear-flash",
    "phx_join", "phx_leave", "heartbeat", "phoenix", "room:lobby", "room:", "lv:", "lvu:0", "__proto__", "constructor",
]
NUMBERS = [0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, -(2**63), 1.5, -0.0, 1e-320, 1.7976931348623157e308]
SPECIALS = [
    "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1" + "0" * 400, "-" + "9" * 30,
    '"\\ud83d"', '"\\ude00"', '"broken \\ud83d emoji"', '"\\ud83d\\ude00"', '"\\u0000"', '"\\\\ud83d"',
]
DEPTHS = [63, 64, 65, 100, 254, 255, 300, 500, 2000]  # not 900-1100: orjson and json disagree there (1024 vs ~990)


def random_value(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.14:
        return rng.random() < 0.5
    if roll < 0.30:
        return rng.choice(NUMBERS)
    if roll < 0.50:
        return rng.choice(STRINGS)
    if roll < 0.62:
        return Raw(rng.choice(SPECIALS))
    if roll < 0.68:
        return nested(rng.choice(DEPTHS), rng.choice(["dict", "list"]))
    if depth >= 3 or roll < 0.84:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(STRINGS[:12] + ["body", "value", "cid", "ref"]): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


# ---------------------------------------------------------------- mutations of a valid frame

FIELDS = {  # the payload keys each server reads, to aim mutations at
    "chat": ["body", "password"],
    "live": ["type", "event", "value", "meta", "uploads", "cid", "url", "ref", "entries", "entry_ref", "progress", "cids",
             "redirect", "params", "session", "static", "flash", "token", "key"],
}


def mutate(rng: random.Random, frame: list, fields: list[str]) -> str | bytes:
    """One mutation of ``frame`` ([join_ref, ref, topic, event, payload]), as the text or bytes to send."""
    frame = [*frame[:4], dict(frame[4])]
    kind = rng.randrange(10)
    if kind == 0:  # a field of the envelope of another type
        frame[rng.randrange(4)] = random_value(rng)
    elif kind == 1:  # a very long or odd ref, topic or event
        frame[rng.randrange(4)] = rng.choice(STRINGS)
    elif kind in (2, 3, 4):  # a payload field the server reads, of another type
        frame[4][rng.choice(fields)] = random_value(rng)
    elif kind == 5:  # a payload that is not an object, or nests deep
        frame[4] = rng.choice([random_value(rng), nested(rng.choice(DEPTHS), "dict")])
    elif kind == 6:  # a value of a field nested in the payload
        target = rng.choice(list(frame[4]) or ["x"])
        frame[4][target] = {rng.choice(fields): random_value(rng)} if rng.random() < 0.5 else [random_value(rng)]
    elif kind == 7:  # elements dropped or added, or no array at all
        frame = rng.choice([frame[: rng.randrange(5)], frame + [random_value(rng)], {"topic": frame[2]}, random_value(rng)])
    elif kind == 8:
        return binary_frame(rng, frame)
    else:  # the text itself damaged
        text = to_json(frame)
        cut = rng.randrange(len(text) + 1)
        return rng.choice([text[:cut], text[:cut] + rng.choice("[]{}\",:\\x\u00e9") + text[cut:], text.replace('"', "", 1)])
    return to_json(frame)


def binary_frame(rng: random.Random, frame: list) -> bytes:
    """A client binary push: well formed with a random payload, damaged, or random bytes."""
    if rng.random() < 0.3:
        return rng.randbytes(rng.randrange(12))
    fields = [str(value if isinstance(value, str) else "").encode()[:255] for value in frame[:4]]
    data = bytearray([0, *map(len, fields)]) + b"".join(fields) + rng.randbytes(rng.randrange(64))
    for _ in range(rng.choice([0, 0, 1, 2])):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data[: rng.randrange(len(data) + 1)]) if rng.random() < 0.2 else bytes(data)


def must_close(data: str | bytes) -> bool:
    """The oracle: True if the frame has no envelope to answer (the socket must close it with 1011)."""
    if isinstance(data, bytes):
        return binary_unreadable(data)
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        return True
    if not isinstance(frame, list) or len(frame) < 5:
        return True
    join_ref, ref, topic, event, payload = frame[:5]
    refs_ok = all(r is None or (isinstance(r, str) and sendable(r)) for r in (join_ref, ref))
    names_ok = all(isinstance(s, str) and sendable(s) for s in (topic, event))
    return not (refs_ok and names_ok and isinstance(payload, dict))


def binary_unreadable(data: bytes) -> bool:
    if len(data) < 5 or data[0] != 0 or 5 + sum(data[1:5]) > len(data):
        return True
    offset = 5
    for length in data[1:5]:
        try:
            data[offset:offset + length].decode("utf-8")
        except UnicodeDecodeError:
            return True
        offset += length
    return False


def sendable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------- running it against the demo


@pytest.fixture
def unlimited(monkeypatch):
    """The demo's sockets without limits on a client's pace (see the module docstring)."""
    monkeypatch.setattr(Socket, "rate_limit", None)
    monkeypatch.setattr(Socket, "failed_join_limit", None)


async def serve_demo() -> int:
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    return int(lines[0].rsplit(":", 1)[1])


class Fuzzed:
    """One connection under fuzz: send a frame, then a heartbeat, and read up to its reply."""

    def __init__(self, ws: WSClient, outcomes: collections.Counter) -> None:
        self.ws, self.outcomes = ws, outcomes
        self.heartbeats = 0

    async def send(self, data: str | bytes) -> Closed | None:
        await (self.ws.send_binary(data) if isinstance(data, bytes) else self.ws.send_text(data))
        return await self.heartbeat()

    async def heartbeat(self) -> Closed | None:
        """Send a heartbeat and read until its reply (None), or until the server closed (the Closed)."""
        self.heartbeats += 1
        ref = f"\u00a7hb-{self.heartbeats}"
        try:
            await self.ws.send_text(to_json([None, ref, "phoenix", "heartbeat", {}]))
        except trio.BrokenResourceError:
            pass  # closed under us: the close frame is still to be read
        while True:
            with trio.fail_after(TIMEOUT):
                message = await self.ws.receive()
            if isinstance(message, Closed):
                return message
            if isinstance(message, bytes):
                self.outcomes["binary frames"] += 1
                continue
            frame = orjson.loads(message)
            assert frame[3] != "phx_error", f"a channel crashed: {frame!r}"
            if frame[3] == "phx_reply" and frame[1] == ref:
                return None
            if frame[3] == "phx_reply":
                self.outcomes[f"{frame[4]['status']} replies"] += 1


async def fuzz(connect, corpus: list[list], fields: list[str], seed: int) -> collections.Counter:
    """Send FRAMES mutations of ``corpus`` frames, over fresh connections from ``connect()``."""
    rng = random.Random(seed)
    outcomes: collections.Counter = collections.Counter()
    fuzzed = None
    for number in range(FRAMES):
        if fuzzed is None or number % FRAMES_PER_CONNECTION == 0:
            if fuzzed is not None:
                await fuzzed.ws.close()
            fuzzed = Fuzzed(await connect(), outcomes)
        data = mutate(rng, rng.choice(corpus), fields)
        closed = await fuzzed.send(data)
        expected = must_close(data)
        assert (closed is not None) == expected, f"frame {number} ({data[:200]!r}): closed {closed}, expected {expected}"
        if closed is not None:
            assert closed.code == 1011, f"frame {number} ({data[:200]!r}) closed with {closed}"
            outcomes["closed 1011"] += 1
            fuzzed = None
        else:
            outcomes["answered"] += 1
    if fuzzed is not None:
        await fuzzed.ws.close()
    return outcomes


def nothing_logged_at_error(caplog, reports) -> None:
    assert reports == []
    assert [(r.name, r.getMessage()[:300]) for r in caplog.records if r.levelno >= logging.ERROR] == []


# ---------------------------------------------------------------- the channels chat


CHAT_CORPUS = [
    ["1", "2", "room:lobby", "ping", {"body": "hi", "n": [1, {"x": None}]}],
    ["1", "3", "room:lobby", "shout", {"body": "hello"}],
    ["1", "4", "room:lobby", "typing", {}],
    ["1", "5", "room:lobby", "count", {}],
    ["1", "6", "room:lobby", "dance", {}],
    ["7", "7", "room:lobby", "phx_join", {}],
    ["8", "8", "room:secret", "phx_join", {"password": "letmein"}],
    ["1", "9", "room:lobby", "phx_leave", {}],
    [None, "10", "phoenix", "heartbeat", {}],
]


async def chat_client(port: int) -> WSClient:
    ws = await WSClient.connect(port, "/socket/websocket?user=fuzz&vsn=2.0.0")
    await ws.send_text('["1","1","room:lobby","phx_join",{}]')
    return ws


async def test_thousands_of_mutated_chat_frames_crash_nothing_and_a_fresh_client_is_served(caplog, unlimited):
    port = await serve_demo()
    with capture_crash_reports() as reports:
        outcomes = await fuzz(lambda: chat_client(port), CHAT_CORPUS, FIELDS["chat"], seed=12)
        ws = await WSClient.connect(port, "/socket/websocket?user=after&vsn=2.0.0")
        await ws.send_text('["1","1","room:after","phx_join",{}]')
        await ws.send_text('["1","2","room:after","ping",{"still":"served"}]')
        replies = []
        while len(replies) < 2:
            with trio.fail_after(TIMEOUT):
                frame = orjson.loads(await ws.receive())
            if frame[3] == "phx_reply":
                replies.append(frame)
        assert replies[1] == ["1", "2", "room:after", "phx_reply", {"status": "ok", "response": {"still": "served"}}]
    nothing_logged_at_error(caplog, reports)
    # The run reached every outcome: closes, error replies (PayloadError and the channel's own), answers.
    assert outcomes["answered"] + outcomes["closed 1011"] == FRAMES
    assert min(outcomes["closed 1011"], outcomes["error replies"], outcomes["ok replies"]) > 100, outcomes


# ---------------------------------------------------------------- the LiveView pages

PAGES = ["/live/counter", "/live/chat?user=fuzz", "/live/upload"]


async def dead_render(port: int, path: str) -> dict:
    """The page's container id, session and static tokens, and CSRF token, from a real GET."""
    client = await HTTPClient.open(port)
    response = await client.request("GET", path)
    await client.aclose()
    body = response.body.decode()

    def attribute(pattern: str) -> str:
        return html.unescape(re.search(pattern, body).group(1))

    return {
        "id": attribute(r'<div id="([^"]+)" data-phx-main'),
        "session": attribute(r'data-phx-session="([^"]+)"'),
        "static": attribute(r'data-phx-static="([^"]+)"'),
        "csrf": attribute(r'<meta name="csrf-token" content="([^"]+)"'),
    }


async def live_client(port: int, corpus: list) -> WSClient:
    """A fresh /live socket joined to the three pages; ``corpus`` gets frames for their topics."""
    pages = [await dead_render(port, path) for path in PAGES]
    ws = await WSClient.connect(port, f"/live/websocket?_csrf_token={quote(pages[0]['csrf'])}&vsn=2.0.0")
    joins = {}
    for number, (path, page) in enumerate(zip(PAGES, pages, strict=True), start=1):
        topic, join_ref = f"lv:{page['id']}", f"j{number}"
        joins[join_ref] = topic, {"url": f"http://127.0.0.1:{port}{path}", "params": {"_csrf_token": page["csrf"], "_mounts": 0},
                                  "session": page["session"], "static": page["static"]}
        await ws.send_text(to_json([join_ref, join_ref, topic, "phx_join", joins[join_ref][1]]))
    replies = {}
    while len(replies) < len(joins):
        with trio.fail_after(TIMEOUT):
            frame = orjson.loads(await ws.receive())
        if frame[3] == "phx_reply" and frame[1] in joins:
            assert frame[4]["status"] == "ok", frame
            replies[frame[1]] = frame[4]["response"]
    # The live upload's ref (the dead render's is another), so that preflights reach a real upload.
    upload_ref = re.search(r"phx-upload-[0-9]+-[0-9a-f]+", orjson.dumps(replies["j3"]).decode()).group(0)
    corpus.clear()
    for join_ref, (topic, join) in joins.items():
        corpus.extend(live_corpus(join_ref, topic, join, upload_ref))
    return ws


def live_corpus(join_ref: str, topic: str, join: dict, upload_ref: str) -> list[list]:
    click = {"type": "click", "event": "inc", "value": {"value": ""}}
    return [
        [join_ref, "e1", topic, "event", click],
        [join_ref, "e2", topic, "event", {"type": "click", "event": "like", "value": {}, "cid": 1}],
        [join_ref, "e3", topic, "event", {"type": "click", "event": "lv:clear-flash", "value": {"key": "info"}}],
        [join_ref, "e4", topic, "event", {"type": "hook", "event": "validate", "value": {"body": "hey"}}],
        [join_ref, "e5", topic, "event", {"type": "form", "event": "validate", "value": "body=hi&user%5Bname%5D=x",
                                          "meta": {"_target": "body"}, "uploads": {upload_ref: [
                                              {"ref": "0", "name": "a.txt", "size": 3, "type": "text/plain"}]}}],
        [join_ref, "e6", topic, "live_patch", {"url": "http://127.0.0.1/live/counter?step=2"}],
        [join_ref, "e7", topic, "allow_upload", {"ref": upload_ref, "entries": [{"ref": "0", "size": 3}]}],
        [join_ref, "e8", topic, "progress", {"ref": upload_ref, "entry_ref": "0", "progress": 50}],
        [join_ref, "e9", topic, "cids_will_destroy", {"cids": [1]}],
        [join_ref, "e10", topic, "cids_destroyed", {"cids": [1]}],
        [join_ref, "e11", topic, "phx_join", join],
        [join_ref, "e12", "lvu:0", "phx_join", {"token": "forged"}],
        [join_ref, "e13", "lvu:0", "chunk", {}],
    ]


async def test_thousands_of_mutated_liveview_frames_crash_nothing_and_a_fresh_page_is_served(caplog, unlimited):
    port = await serve_demo()
    corpus: list = []
    with capture_crash_reports() as reports:

        async def connect() -> WSClient:
            return await live_client(port, corpus)

        outcomes = await fuzz(connect, corpus, FIELDS["live"], seed=21)
        page = await dead_render(port, "/live/counter")
        ws = await WSClient.connect(port, f"/live/websocket?_csrf_token={quote(page['csrf'])}&vsn=2.0.0")
        join = {"url": f"http://127.0.0.1:{port}/live/counter", "session": page["session"], "static": page["static"]}
        await ws.send_text(to_json(["1", "1", f"lv:{page['id']}", "phx_join", join]))
        await ws.send_text(to_json(["1", "2", f"lv:{page['id']}", "event", {"type": "click", "event": "inc", "value": {}}]))
        replies = []
        while len(replies) < 2:
            with trio.fail_after(TIMEOUT):
                frame = orjson.loads(await ws.receive())
            if frame[3] == "phx_reply":
                replies.append(frame)
        assert replies[0][4]["status"] == "ok"
        assert replies[1] == ["1", "2", f"lv:{page['id']}", "phx_reply", {"status": "ok", "response": {"diff": {"0": "1"}}}]
    nothing_logged_at_error(caplog, reports)
    assert outcomes["answered"] + outcomes["closed 1011"] == FRAMES
    assert min(outcomes["closed 1011"], outcomes["error replies"], outcomes["ok replies"]) > 100, outcomes
