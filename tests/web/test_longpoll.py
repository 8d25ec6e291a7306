"""The long-poll transport (web.transports.longpoll) at the wire: real HTTP requests against a real endpoint.

The chat app of docs/demo/chat.md is served over long-poll as phoenix.js
speaks it: ``GET`` polls, ``POST`` ndjson batches, the session token in the
query. Most tests use an endpoint of their own with a short ``window``, so
that a poll with nothing to say is answered 204 in a fraction of a second.
"""

from __future__ import annotations

import base64
import doctest
import json
import logging

import h11
import itsdangerous
import orjson
import pytest
import trio
from _clients import HTTPClient

import otp
import web.transports._longpoll_options
import web.transports.longpoll
from otp import PubSub, Registry, Shutdown, Supervisor
from web import Endpoint
from web.demo.app import chat_children
from web.demo.chat import PRESENCE, PUBSUB, ChatSocket
from web.presence import Presence
from web.socket import Socket, disconnect
from web.token import InvalidToken, sign, verify
from web.transports.longpoll import MAX_BATCH, LongPoll
from web.transports.phoenix import phoenix_socket
from web.transports.websocket import SocketHandler, WebSocket

pytestmark = pytest.mark.slow

SECRET = "a test secret for long-poll tokens"
NDJSON = [("content-type", "application/x-ndjson")]
JOIN_OK = {"status": "ok", "response": {"room": "lobby", "user": "alice"}}


# ---------------------------------------------------------------- servers and a client


async def serve_demo() -> int:
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    return int(lines[0].rsplit(":", 1)[1])


async def serve_chat(socket_cls=ChatSocket, *, endpoint_options=None, websocket_options=None, **longpoll_options) -> int:
    """The chat socket over long-poll on an endpoint of the test's (window 10 s unless given); its port."""
    return Endpoint.address(await start_chat(socket_cls, endpoint_options, websocket_options, **longpoll_options))[1]


async def start_chat(socket_cls=ChatSocket, endpoint_options=None, websocket_options=None, **longpoll_options):
    """The endpoint of :func:`serve_chat`."""
    await PubSub.start_link(PUBSUB)
    await Presence.start_link(pubsub=PUBSUB, name=PRESENCE, broadcast_period=0.05)
    longpoll = LongPoll(secret=SECRET, **longpoll_options)
    mount = phoenix_socket(socket_cls, pubsub=PUBSUB, longpoll=longpoll, **(websocket_options or {}))
    return await Endpoint.start_link(not_found, websocket=mount, **(endpoint_options or {}))


async def not_found(request):
    return web.Response(404)


class LongPollClient:
    """A long-poll client as phoenix.js is one: polls on one connection, posts on another, the token in the query."""

    def __init__(self, port: int, query: str = "user=alice&vsn=2.0.0", path: str = "/socket/longpoll") -> None:
        self.port, self.query, self.path = port, query, path
        self.token: str | None = None
        self.polls: HTTPClient | None = None
        self.posts: HTTPClient | None = None
        self.pending: list[list] = []  # frames polled and not yet looked at
        self.ref = 0

    def url(self) -> str:
        return f"{self.path}?{self.query}&" + (f"token={self.token}" if self.token else "")

    async def open(self) -> dict:
        """The first poll: the session opened (410 with a token), or refused."""
        answer = await self.get()
        if answer["status"] == 410:
            self.token = answer["token"]
        return answer

    async def get(self, *, headers=()) -> dict:
        if self.polls is None:
            self.polls = await HTTPClient.open(self.port)
        response = await self.polls.request("GET", self.url(), headers=headers)
        assert (response.status, response.headers["content-type"]) == (200, "application/json"), response
        self.last_headers = response.headers
        return json.loads(response.body)

    async def post(self, *lines: bytes | list, headers=NDJSON) -> dict:
        if self.posts is None:
            self.posts = await HTTPClient.open(self.port)
        body = b"\n".join(line if isinstance(line, bytes) else orjson.dumps(line) for line in lines)
        response = await self.posts.request("POST", self.url(), headers=headers, body=body)
        assert response.status == 200, response
        return json.loads(response.body)

    def next_ref(self) -> str:
        self.ref += 1
        return str(self.ref)

    async def join(self, topic: str = "room:lobby", payload=None) -> str:
        ref = self.next_ref()
        assert await self.post([ref, ref, topic, "phx_join", payload or {}]) == {"status": 200}
        return ref

    async def frame(self, *, timeout: float = 5.0) -> list:
        """The next frame from the server, polling as needed."""
        with trio.fail_after(timeout):
            while not self.pending:
                answer = await self.get()
                assert answer["status"] in (200, 204), answer
                self.pending += [orjson.loads(message) for message in answer["messages"]]
        return self.pending.pop(0)

    async def frame_where(self, predicate, *, timeout: float = 5.0) -> list:
        """The next frame for which ``predicate(frame)`` holds (the frames before it are skipped)."""
        with trio.fail_after(timeout):
            while True:
                frame = await self.frame(timeout=timeout)
                if predicate(frame):
                    return frame

    async def joined(self, topic: str = "room:lobby") -> str:
        """Join the chat room; return once its presence_state and the diff of our own join came (the join's last frames)."""
        ref = await self.join(topic)
        reply = await self.frame_where(lambda f: f[3] == "phx_reply" and f[1] == ref)
        assert reply[4]["status"] == "ok", reply
        user = reply[4]["response"]["user"]
        seen = set()
        while seen != {"presence_state", "presence_diff"}:
            frame = await self.frame_where(lambda f: f[3] == "presence_state" or (f[3] == "presence_diff" and user in f[4]["joins"]))
            seen.add(frame[3])
        return ref


async def channel_pid(topic: str = "room:lobby"):
    """The one channel process subscribed to ``topic`` (the chat's channels are its only subscribers)."""
    subscribers = [pid for pid, _ in Registry.lookup(PUBSUB, topic)]
    assert len(subscribers) == 1, subscribers
    return subscribers[0]


def session_of(token: str, *, signed_with_secret: bool = True) -> str:
    """The session a token names (tokens are signed anew, with the second, on every poll).

    The signature is checked for tokens of ``serve_chat``'s endpoints (signed with SECRET); the
    demo's secret is random.
    """
    serializer = itsdangerous.URLSafeTimedSerializer(SECRET, salt="longpoll session /socket/longpoll")
    return serializer.loads(token) if signed_with_secret else serializer.loads_unsafe(token)[1]


class SessionToken:
    """Equal to any token that names the session ``token`` names."""

    def __init__(self, token: str) -> None:
        self.session = session_of(token)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and session_of(other) == self.session

    def __repr__(self) -> str:
        return f"<a token of session {self.session}>"


# ---------------------------------------------------------------- the module's own checks


def test_the_doctests_pass():
    assert doctest.testmod(web.transports.longpoll).failed == 0
    assert doctest.testmod(web.transports._longpoll_options).failed == 0


@pytest.mark.parametrize(
    "options, message",
    [
        ({"window": 0}, "LongPoll window must be a number of seconds > 0; got 0"),
        ({"max_sessions": 0}, "LongPoll max_sessions must be an int >= 1; got 0"),
        ({"dispatch_timeout": "1"}, "LongPoll dispatch_timeout must be a number of seconds > 0; got '1'"),
        ({"path": "longpoll"}, 'LongPoll path must be None or a path like "/socket/longpoll"; got \'longpoll\''),
        ({"secret": ""}, "LongPoll secret must be a non-empty str or bytes (it signs the session tokens)"),
    ],
)
def test_bad_options_are_refused_with_the_fix(options, message):
    with pytest.raises(ValueError) as caught:
        LongPoll(**options)
    assert str(caught.value) == message


def test_the_websocket_mount_takes_true_false_or_options():
    handler = lambda info, accepted: None  # noqa: E731
    assert WebSocket(handler).longpoll is None
    assert WebSocket(handler, longpoll=False).longpoll is None
    assert isinstance(WebSocket(handler, longpoll=True).longpoll, LongPoll)
    options = LongPoll(window=2.0)
    assert WebSocket(handler, longpoll=options).longpoll is options
    with pytest.raises(TypeError) as caught:
        WebSocket(handler, longpoll="yes")
    assert str(caught.value) == "longpoll must be True, False or a web.transports.longpoll.LongPoll(...); got 'yes'"


async def test_a_long_poll_path_taken_by_another_mount_is_refused_when_the_endpoint_starts():
    chat = phoenix_socket(ChatSocket, pubsub=PUBSUB, longpoll=True)
    other = phoenix_socket(ChatSocket, pubsub=PUBSUB, path="/socket/longpoll")
    with pytest.raises(ValueError) as caught:
        await Endpoint.start_link(not_found, websocket=[chat, other])
    assert str(caught.value) == "the long-poll path '/socket/longpoll' of the mount '/socket/websocket' is already another mount's path"
    with pytest.raises(ValueError, match="does not end in /websocket"):
        await Endpoint.start_link(not_found, websocket=phoenix_socket(ChatSocket, pubsub=PUBSUB, path="/ws", longpoll=True))


# ---------------------------------------------------------------- opening a session


async def test_the_first_get_opens_a_session_410_with_a_token_and_json_headers():
    port = await serve_demo()
    polls = await HTTPClient.open(port)
    response = await polls.request("GET", "/socket/longpoll?user=alice&vsn=2.0.0&")
    assert response.status == 200
    assert {k: response.headers[k] for k in ("content-type", "cache-control", "access-control-allow-origin")} == {
        "content-type": "application/json", "cache-control": "no-store", "access-control-allow-origin": "*",
    }
    answer = json.loads(response.body)
    assert answer == {"status": 410, "token": answer["token"], "messages": []}
    assert isinstance(answer["token"], str) and len(answer["token"]) > 20


@pytest.mark.parametrize("query", ["user=alice", "user=alice&vsn=1.0.0", "vsn=2.0.0", "user=no!&vsn=2.0.0"])
async def test_a_refused_connect_or_a_wrong_vsn_is_403_and_starts_no_session(query):
    port = await serve_demo()
    client = LongPollClient(port, query)
    client.polls = await HTTPClient.open(port)
    await client.polls.request("OPTIONS", "/socket/longpoll")  # the connection's process is there
    await trio.testing.wait_all_tasks_blocked()
    before = set(otp.processes())
    assert await client.open() == {"status": 403}
    await trio.testing.wait_all_tasks_blocked()
    assert set(otp.processes()) == before


async def test_a_foreign_origin_is_403_and_the_preflight_is_answered():
    port = await serve_demo()
    client = LongPollClient(port)
    assert await client.get(headers=[("origin", "http://evil.example")]) == {"status": 403}
    assert (await client.get(headers=[("origin", f"http://127.0.0.1:{port}")]))["status"] == 410
    preflight = await client.polls.request("OPTIONS", "/socket/longpoll?vsn=2.0.0")
    assert preflight.status == 200 and preflight.body == b""
    assert preflight.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    assert "x-phoenix-authtoken" in preflight.headers["access-control-allow-headers"]
    other = await client.polls.request("DELETE", "/socket/longpoll")
    assert (other.status, other.headers["allow"]) == (405, "GET, POST, OPTIONS")


# ---------------------------------------------------------------- frames both ways


async def test_join_then_ping_reply_heartbeat_and_presence_over_long_poll():
    port = await serve_demo()
    alice = LongPollClient(port)
    await alice.open()
    join = await alice.join()
    assert await alice.frame_where(lambda f: f[3] == "phx_reply") == [join, join, "room:lobby", "phx_reply", JOIN_OK]
    state = await alice.frame_where(lambda f: f[3] == "presence_state")
    assert state[:3] == [join, None, "room:lobby"] and list(state[4]) == ["alice"]
    assert await alice.post([join, "7", "room:lobby", "ping", {"n": [1, None]}], [None, "8", "phoenix", "heartbeat", {}]) == {"status": 200}
    replies = [await alice.frame_where(lambda f: f[3] == "phx_reply") for _ in range(2)]
    # (in either order: the socket answers the heartbeat, the channel the ping)
    assert sorted(replies, key=lambda f: f[1]) == [
        [join, "7", "room:lobby", "phx_reply", {"status": "ok", "response": {"n": [1, None]}}],
        [None, "8", "phoenix", "phx_reply", {"status": "ok", "response": {}}],
    ]


async def test_a_broadcast_reaches_a_poll_that_waits_for_it():
    port = await serve_chat(window=10.0)
    alice, bob = LongPollClient(port), LongPollClient(port, "user=bob&vsn=2.0.0")
    for client in (alice, bob):
        await client.open()
        await client.joined()
    bob.pending.clear()
    async with trio.open_nursery() as nursery:
        answers = []

        async def wait_for_it():
            answers.append(await bob.get())

        nursery.start_soon(wait_for_it)
        await trio.testing.wait_all_tasks_blocked()  # bob's poll waits, with nothing to take
        started = trio.current_time()
        await alice.post([None, "9", "room:lobby", "shout", {"body": "now"}])
    assert trio.current_time() - started < 5.0  # answered when the shout came, not after the window
    [answer] = answers
    frames = [orjson.loads(m) for m in answer["messages"]]
    assert answer["status"] == 200 and answer["token"] == SessionToken(bob.token)
    assert [None, None, "room:lobby", "shout", {"body": "now", "user": "alice"}] in frames


async def test_frames_that_come_between_polls_are_answered_together_in_order():
    port = await serve_chat(window=0.5)
    alice, bob = LongPollClient(port), LongPollClient(port, "user=bob&vsn=2.0.0")
    for client in (alice, bob):
        await client.open()
        await client.joined()
    while (await bob.get())["status"] != 204:  # until bob has taken every frame there is
        pass
    shouts = [[None, str(n), "room:lobby", "shout", {"body": f"m{n}"}] for n in range(5)]
    assert await alice.post(*shouts) == {"status": 200}
    await alice.frame_where(lambda f: f[4] == {"body": "m4", "user": "alice"})  # every shout is out
    answer = await bob.get()
    assert answer["status"] == 200
    assert [orjson.loads(m) for m in answer["messages"]] == [
        [None, None, "room:lobby", "shout", {"body": f"m{n}", "user": "alice"}] for n in range(5)
    ]


async def test_a_poll_with_nothing_to_say_is_204_after_the_window_with_the_token():
    port = await serve_chat(window=0.2)
    alice = LongPollClient(port)
    await alice.open()
    started = trio.current_time()
    assert await alice.get() == {"status": 204, "token": SessionToken(alice.token), "messages": []}
    assert trio.current_time() - started >= 0.2
    assert alice.last_headers == {
        "content-type": "application/json", "cache-control": "no-store", "access-control-allow-origin": "*",
        "content-length": str(len(orjson.dumps({"status": 204, "token": alice.token, "messages": []}))),
    }


async def test_a_second_poll_replaces_the_first_which_is_answered_204_at_once():
    port = await serve_chat(window=10.0)
    alice = LongPollClient(port)
    await alice.open()
    first = LongPollClient(port)
    first.token = alice.token
    answers = {}
    async with trio.open_nursery() as nursery:

        async def poll(name, client):
            answers[name] = (await client.get(), trio.current_time())

        nursery.start_soon(poll, "first", first)
        await trio.testing.wait_all_tasks_blocked()  # the first poll waits
        nursery.start_soon(poll, "second", alice)
        await trio.testing.wait_all_tasks_blocked()  # the second replaced it
        assert answers["first"][0] == {"status": 204, "token": SessionToken(alice.token), "messages": []}
        replaced_at = answers["first"][1]
        await alice.post([None, "1", "phoenix", "heartbeat", {}])
    assert replaced_at - trio.current_time() < 5.0
    reply = [None, "1", "phoenix", "phx_reply", {"status": "ok", "response": {}}]
    assert answers["second"][0] == {"status": 200, "token": SessionToken(alice.token), "messages": [orjson.dumps(reply).decode()]}


async def test_a_binary_push_arrives_as_base64_and_reaches_the_channel_as_binary(caplog):
    port = await serve_demo()
    alice = LongPollClient(port)
    await alice.open()
    join = await alice.joined()
    fields = [join.encode(), b"9", b"room:lobby", b"ping"]
    frame = bytes([0, *map(len, fields)]) + b"".join(fields) + b"\x00\xffraw"
    with caplog.at_level(logging.WARNING, logger="web.transports"):
        assert await alice.post(base64.b64encode(frame)) == {"status": 200}
        # The chat answers a binary ping with a binary reply, which long-poll cannot carry: dropped, said once.
        await alice.post([join, "10", "room:lobby", "ping", {"after": True}])
        reply = await alice.frame_where(lambda f: f[3] == "phx_reply" and f[1] in ("9", "10"))
    assert reply == [join, "10", "room:lobby", "phx_reply", {"status": "ok", "response": {"after": True}}]
    lines = [r.getMessage() for r in caplog.records if r.name == "web.transports"]
    assert len(lines) == 1 and "long-poll carries text frames only" in lines[0], lines


async def test_leave_replies_then_closes_and_the_channel_process_ends_left():
    port = await serve_demo()
    alice = LongPollClient(port)
    await alice.open()
    join = await alice.joined()
    pid = await channel_pid()
    ref = otp.monitor(pid)
    await alice.post([join, "20", "room:lobby", "phx_leave", {}])
    assert await alice.frame_where(lambda f: f[1] == "20") == [join, "20", "room:lobby", "phx_reply", {"status": "ok", "response": {}}]
    assert await alice.frame_where(lambda f: f[3] == "phx_close") == [join, join, "room:lobby", "phx_close", {}]
    down = await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == ref, timeout=5)
    assert down.reason == Shutdown("left")


async def test_a_crashed_channel_sends_phx_error_and_the_session_lives_on():
    port = await serve_demo()
    alice = LongPollClient(port)
    await alice.open()
    join = await alice.joined()
    with otp.testing.capture_crash_reports():
        await alice.post([join, "30", "room:lobby", "crash", {}])
        error = await alice.frame_where(lambda f: f[3] == "phx_error")
    assert error == [join, join, "room:lobby", "phx_error", {"reason": "channel_crash"}]
    await alice.post([None, "31", "phoenix", "heartbeat", {}])
    assert (await alice.frame_where(lambda f: f[1] == "31"))[4] == {"status": "ok", "response": {}}


# ---------------------------------------------------------------- how sessions end


async def test_a_session_not_polled_for_one_and_a_half_windows_ends_its_channels():
    port = await serve_chat(window=1.0)
    alice, bob = LongPollClient(port), LongPollClient(port, "user=bob&vsn=2.0.0")
    await alice.open()
    await alice.joined()
    last_poll = trio.current_time()  # alice's last poll: from here she is silent
    ref = otp.monitor(await channel_pid())
    await bob.open()
    await bob.joined()

    async def bob_sees_alice_leave():
        await bob.frame_where(lambda f: f[3] == "presence_diff" and "alice" in f[4]["leaves"], timeout=10)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(bob_sees_alice_leave)  # bob polls on; alice's session ends, her channel with it
        down = await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == ref, timeout=10)
        ended_after = trio.current_time() - last_poll
    assert down.reason == Shutdown("closed")
    assert 1.45 <= ended_after < 5.0, ended_after
    assert await alice.post([None, "1", "phoenix", "heartbeat", {}]) == {"status": 410}


async def test_a_disconnect_broadcast_ends_the_session_and_the_waiting_poll_is_answered_410():
    port = await serve_chat(window=10.0)
    alice = LongPollClient(port)
    await alice.open()
    await alice.joined()
    ref = otp.monitor(await channel_pid())
    async with trio.open_nursery() as nursery:
        answers = []

        async def poll():
            answers.append(await alice.get())

        nursery.start_soon(poll)
        await trio.testing.wait_all_tasks_blocked()
        disconnect(PUBSUB, "users_socket:alice")
    assert answers == [{"status": 410}]
    down = await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == ref, timeout=5)
    assert down.reason == Shutdown("closed")


@pytest.mark.parametrize(
    "token",
    ["forged", "", sign("another secret", "longpoll session /socket/longpoll", "x" * 24)],
    ids=["forged", "none", "signed with another secret"],
)
async def test_a_post_with_a_bad_token_is_410_and_a_get_opens_a_new_session(token):
    port = await serve_chat()
    client = LongPollClient(port)
    client.token = token or None
    assert await client.post([None, "1", "phoenix", "heartbeat", {}]) == {"status": 410}
    answer = await client.get()
    assert answer == {"status": 410, "token": answer["token"], "messages": []}
    assert answer["token"] != token


async def test_an_expired_token_of_a_live_session_is_410(monkeypatch):
    port = await serve_chat()
    client = LongPollClient(port)
    await client.open()
    session_id = session_of(client.token)
    now = itsdangerous.timed.time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now - web.transports.longpoll.TOKEN_MAX_AGE - 5)
    old = sign(SECRET, "longpoll session /socket/longpoll", session_id)
    monkeypatch.undo()
    with pytest.raises(InvalidToken) as caught:
        verify(SECRET, "longpoll session /socket/longpoll", old, max_age=web.transports.longpoll.TOKEN_MAX_AGE)
    assert caught.value.reason == "expired"
    live = client.token
    client.token = old
    assert await client.post([None, "1", "phoenix", "heartbeat", {}]) == {"status": 410}
    client.token = live
    assert await client.post([None, "2", "phoenix", "heartbeat", {}]) == {"status": 200}


async def test_the_session_token_may_come_in_a_header():
    port = await serve_chat()
    client = LongPollClient(port)
    await client.open()
    token, client.token = client.token, None
    assert await client.post([None, "1", "phoenix", "heartbeat", {}], headers=[*NDJSON, ("x-phoenix-longpoll-token", token)]) == {"status": 200}


class TokenSocket(Socket):
    """Connects with the params it got, so the test can see them; refuses a wrong ``token`` param."""

    channels = {}
    seen: list = []

    async def connect(self, params, connect_info):
        TokenSocket.seen.append((params, connect_info["token"]))
        return {} if params.get("token") in ("user-token", None) else None


async def test_a_connect_param_named_token_reaches_connect_beside_the_session_token():
    TokenSocket.seen = []
    port = await serve_chat(TokenSocket)
    client = LongPollClient(port, "token=user-token&vsn=2.0.0")
    assert (await client.open())["status"] == 410
    # The session is gone (the token is of another session): connect runs again, with the socket's own token.
    client.token = sign(SECRET, "longpoll session /socket/longpoll", "a session long gone")
    assert (await client.get(headers=[("x-phoenix-authtoken", "bearer")]))["status"] == 410
    assert TokenSocket.seen == [({"token": "user-token"}, None), ({"token": "user-token"}, "bearer")]


# ---------------------------------------------------------------- what a client may cost


async def test_a_body_over_max_body_size_is_refused_by_http_413():
    port = await serve_chat(endpoint_options={"max_body_size": 1000})
    client = LongPollClient(port)
    await client.open()
    client.posts = await HTTPClient.open(port)
    response = await client.posts.request("POST", client.url(), headers=NDJSON, body=b"[" + b" " * 1000 + b"]")
    assert response.status == 413


@pytest.mark.parametrize(
    "lines, status",
    [
        ([b'["1","1","room:lobby","phx_join",{"pad":"' + b"x" * 2000 + b'"}]'], 413),  # a text frame over max_message_size
        ([base64.b64encode(b"\x00" * 2001)], 413),  # a binary one
        ([b'[null,"1","phoenix","heartbeat",{}]'] * (MAX_BATCH + 1), 413),  # one frame too many
        ([b"not base64 at all!"], 400),
        ([b'["1","1","\xff"]'], 400),  # not UTF-8
    ],
)
async def test_a_post_the_transport_will_not_take_is_refused_and_ends_the_session(lines, status):
    port = await serve_chat(websocket_options={"max_message_size": 2000})
    client = LongPollClient(port)
    await client.open()
    await client.joined()
    ref = otp.monitor(await channel_pid())
    assert await client.post(*lines) == {"status": status}
    down = await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == ref, timeout=5)
    assert down.reason == Shutdown("closed")
    assert await client.post([None, "2", "phoenix", "heartbeat", {}]) == {"status": 410}


async def test_frames_a_client_does_not_poll_for_are_bounded_past_that_its_session_is_shed(caplog):
    endpoint = await start_chat(websocket_options={"max_outbound_bytes": 3000})
    port = Endpoint.address(endpoint)[1]
    alice, bob = LongPollClient(port), LongPollClient(port, "user=bob&vsn=2.0.0")
    await alice.open()
    await alice.joined()
    ref = otp.monitor(await channel_pid())
    await bob.open()
    await bob.joined()  # from here alice polls no more
    with caplog.at_level(logging.WARNING, logger="web.transports"):
        for n in range(6):  # each shout is ~1 KB for alice too: the 3rd or 4th passes her 3000 bytes
            await bob.post([None, str(n), "room:lobby", "shout", {"body": str(n) * 1000}])
            await bob.frame_where(lambda f, n=n: f[3] == "shout" and f[4]["body"][0] == str(n))
        down = await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == ref, timeout=5)
    assert down.reason == Shutdown("closed")
    lines = [r.getMessage() for r in caplog.records if r.name == "web.transports"]
    opener = tuple(alice.polls.stream.socket.getsockname()[:2])  # the session is named by the peer that opened it
    assert lines == [f"ending the long-poll session of {opener}: the client does not poll and its frames passed max_outbound_bytes"]
    statistics = Endpoint.statistics(endpoint)
    assert (statistics.outbound_overflows, statistics.outbound_queued) == (1, 0)  # bob has taken all of his
    assert await alice.post([None, "9", "phoenix", "heartbeat", {}]) == {"status": 410}


async def test_sessions_are_bounded_and_those_never_polled_make_room_first():
    port = await serve_chat(window=0.2, max_sessions=2)
    first, second, third = (LongPollClient(port, f"user=u{n}&vsn=2.0.0") for n in range(3))
    for client in (first, second):
        assert (await client.open())["status"] == 410
    assert (await third.open())["status"] == 410  # the first, never polled, made room
    assert await first.post([None, "1", "phoenix", "heartbeat", {}]) == {"status": 410}
    for client in (second, third):
        assert await client.get() == {"status": 204, "token": SessionToken(client.token), "messages": []}
    fourth = LongPollClient(port, "user=u4&vsn=2.0.0")
    assert await fourth.open() == {"status": 500, "reason": "too many sessions"}  # both polled: none makes room
    for client in (second, third):
        assert await client.post([None, "2", "phoenix", "heartbeat", {}]) == {"status": 200}


async def test_shutting_the_endpoint_down_ends_its_sessions_and_their_channels():
    endpoint = await start_chat()
    alice = LongPollClient(Endpoint.address(endpoint)[1])
    await alice.open()
    await alice.joined()
    channel = await channel_pid()
    session = [pid for pid in otp.processes() if "run_session" in str(otp.process_info(pid))]
    assert len(session) == 1
    ref, session_ref = otp.monitor(channel), otp.monitor(session[0])
    await Endpoint.stop(endpoint)
    downs = [await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref in (ref, session_ref), timeout=5) for _ in range(2)]
    assert {d.ref for d in downs} == {ref, session_ref}


async def test_a_client_that_closes_the_connection_of_its_waiting_poll_has_left_its_channels_end_at_once():
    port = await serve_chat(window=10.0)
    alice = LongPollClient(port)
    await alice.open()
    await alice.joined()
    ref = otp.monitor(await channel_pid())
    async with trio.open_nursery() as nursery:

        async def poll():
            with pytest.raises((trio.BrokenResourceError, trio.ClosedResourceError, h11.RemoteProtocolError)):
                await alice.get()

        nursery.start_soon(poll)
        await trio.testing.wait_all_tasks_blocked()  # the poll waits
        closed_at = trio.current_time()
        await alice.polls.aclose()  # as phoenix.js aborts it on disconnect(), or a browser when the page goes
        down = await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == ref, timeout=5)
    assert down.reason == Shutdown("closed")
    assert trio.current_time() - closed_at < 1.0
    assert await alice.post([None, "1", "phoenix", "heartbeat", {}]) == {"status": 410}


async def test_a_join_of_an_unmatched_topic_is_refused_over_long_poll():
    port = await serve_chat()
    alice = LongPollClient(port)
    await alice.open()
    ref = await alice.join("lobby")
    assert await alice.frame() == [None, ref, "lobby", "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}]


async def test_a_session_knows_its_process_as_soon_as_it_is_spawned_so_a_post_at_once_finds_it():
    from web._limits import ConnectionContext, ConnectionCounters, ConnectionLimits
    from web.transports._longpoll_session import LongPollSession
    from web.transports.longpoll import _spawn_session
    from web.transports.websocket import SocketHandler

    context = ConnectionContext(not_found, ConnectionLimits(), ConnectionCounters())
    session = LongPollSession("an id", LongPoll(), 1000, context, ("127.0.0.1", 1), lambda session: None)
    pid = await _spawn_session(session, SocketHandler())
    assert session.pid == pid  # before the process has run at all: a POST now is queued in its mailbox
    otp.exit(pid, otp.KILL)


class Crashing(SocketHandler):
    """A socket handler whose every text frame is a bug."""

    async def on_text(self, text):
        raise ValueError(f"cannot take {text}")


async def test_a_callback_that_raises_crashes_its_session_alone_with_a_crash_report():
    endpoint = await Endpoint.start_link(not_found, websocket=WebSocket(lambda info, accepted: Crashing(), longpoll=True))
    port = Endpoint.address(endpoint)[1]
    crashing, other = LongPollClient(port), LongPollClient(port)
    await crashing.open()
    await other.open()
    with otp.testing.capture_crash_reports() as reports:
        assert await crashing.post(b'["1"]') == {"status": 410}  # the session ended under its POST
        await trio.testing.wait_all_tasks_blocked()
    report, supervisor_report = reports  # the session's crash, and its supervisor's word (a temporary child)
    assert (report.name, report.exc_info[0], report.exc_text.splitlines()[-1]) == (
        "web.transports", ValueError, "ValueError: cannot take [\"1\"]",
    )
    assert "long-poll session: <LongPollSession" in report.getMessage()
    assert supervisor_report.name == "otp.supervisor" and "not restarted" in supervisor_report.getMessage()
    assert await crashing.post(b'["2"]') == {"status": 410}
    assert otp.is_alive(endpoint)
    assert await other.post() == {"status": 200}  # (no frame: only whether its session lives)


async def test_junk_requests_get_precise_answers_and_no_crash_report(caplog):
    port = await serve_demo()
    client = LongPollClient(port)
    await client.open()
    junk_client = LongPollClient(port)
    with otp.testing.capture_crash_reports() as reports:
        assert await junk_client.get(headers=[("origin", "http://[")]) == {"status": 403}
        junk_client.token = "%ff%00" * 50
        assert await junk_client.post(b"[") == {"status": 410}
        assert await client.post(b"[", b"{}", b"[1,2]", headers=[("content-type", "application/x-ndjson; charset=utf-8")]) == {"status": 400}
        other = LongPollClient(port)
        await other.open()
        assert await other.post(b'["not a frame"]') == {"status": 200}  # handed on; the socket closes on it (1011)
        reopened = await other.get()  # the session is gone: a GET with its token opens another
        assert reopened["status"] == 410
        assert session_of(reopened["token"], signed_with_secret=False) != session_of(other.token, signed_with_secret=False)
        assert await other.post(headers=[("content-type", "text/plain")]) == {"status": 410}
    assert reports == []
