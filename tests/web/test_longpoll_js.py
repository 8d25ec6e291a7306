"""The demo chat over long-poll, driven by the official `phoenix` npm client (1.8.16) in Node forced to `LongPoll`.

The scenarios of tests/js/chat_client.mjs (docs/demo/chat.md's rows), as
tests/web/test_js_client.py runs them over a WebSocket, with the client's
transport set to ``LongPoll``: it polls ``/socket/longpoll`` and posts its
pushes there. Every result must be the one the WebSocket gives.

All but ``close_and_unmatched``, whose "the others see the leave within
1 s" holds when a WebSocket closes: a long-poll client that disconnects
tells the server nothing. Its session ends at once when it aborts a poll
that waits (tests/web/test_longpoll.py), which is nearly always the case,
but ``disconnect()`` called between an answer and the next poll, as that
scenario does, leaves the session to end after ``1.5 * window`` (15 s), as
in Phoenix.
"""

import pytest
from _node_tools import run_js

import otp.testing
from otp import Supervisor
from web.demo.app import chat_children

pytestmark = pytest.mark.slow


async def run_scenario(scenario: str) -> dict:
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    port = int(lines[0].rsplit(":", 1)[1])
    output = await run_js("chat_client.mjs", scenario, f"ws://127.0.0.1:{port}/socket", "longpoll")
    assert output["ok"], output.get("error", "") + "\n" + output["stderr"]
    return output["result"]


async def test_join_ping_presence_shout_count_and_errors_over_long_poll():
    assert await run_scenario("basic") == {
        "joined": {"status": "ok", "response": {"room": "lobby", "user": "alice"}},
        "ping": {"status": "ok", "response": {"n": 1, "nested": {"ok": True}}},
        "users": ["alice"],
        "heard": {"body": "hello", "user": "alice"},
        "invalid": {"status": "error", "response": {"reason": "invalid body"}},
        "count": {"status": "ok", "response": {"members": 1}},
        "unknown": {"status": "error", "response": {"reason": "unknown event"}},
    }


async def test_an_invalid_user_is_refused_over_long_poll():
    assert await run_scenario("refused") == {"errored": True, "connected": False}


async def test_the_secret_room_refuses_then_accepts_the_password_over_long_poll():
    assert await run_scenario("secret") == {
        "refused": {"status": "error", "response": {"reason": "unauthorized"}},
        "accepted": {"status": "ok", "response": {"room": "secret", "user": "alice"}},
    }


async def test_a_crash_gives_phx_error_and_the_client_rejoins_over_long_poll():
    with otp.testing.capture_crash_reports():
        result = await run_scenario("crash_rejoin")
    assert result == {
        "reason": {"reason": "channel_crash"},
        "state": "joined",
        "stillUp": {"status": "ok", "response": {"alive": True}},
        "afterRejoin": {"status": "ok", "response": {"again": True}},
    }


async def test_two_clients_see_each_other_typing_shouting_and_leaving_over_long_poll():
    assert await run_scenario("two_clients") == {
        "seenByBob": ["alice", "bob"],
        "typed": {"user": "alice"},
        "heard": {"body": "hi bob", "user": "alice"},
        "afterLeave": ["bob"],
    }
