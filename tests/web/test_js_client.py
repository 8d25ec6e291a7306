"""The demo chat app driven by the official `phoenix` npm client (1.8.16) in Node, over a real WebSocket.

tests/js/chat_client.mjs runs one scenario against the server started here
(in the test's node, port 0) and prints what the client observed as JSON.
`make test` installs the client (`npm ci` in tests/js); without Node or the
packages these tests skip, except in CI (CI=true), where they fail.
"""

import pytest
from _node_tools import run_js

import otp
import otp.testing
from otp import Supervisor
from web.demo.app import chat_children

pytestmark = pytest.mark.slow


async def run_scenario(scenario: str) -> dict:
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    port = int(lines[0].rsplit(":", 1)[1])
    output = await run_js("chat_client.mjs", scenario, f"ws://127.0.0.1:{port}/socket")
    assert output["ok"], output.get("error", "") + "\n" + output["stderr"]
    return output["result"]


async def test_join_ping_presence_shout_count_and_errors_with_the_official_client():
    result = await run_scenario("basic")
    assert result == {
        "joined": {"status": "ok", "response": {"room": "lobby", "user": "alice"}},
        "ping": {"status": "ok", "response": {"n": 1, "nested": {"ok": True}}},
        "users": ["alice"],
        "heard": {"body": "hello", "user": "alice"},
        "invalid": {"status": "error", "response": {"reason": "invalid body"}},
        "count": {"status": "ok", "response": {"members": 1}},
        "unknown": {"status": "error", "response": {"reason": "unknown event"}},
    }


async def test_an_invalid_user_is_refused_before_the_websocket_opens():
    assert await run_scenario("refused") == {"errored": True, "connected": False}


async def test_the_secret_room_refuses_then_accepts_the_password():
    assert await run_scenario("secret") == {
        "refused": {"status": "error", "response": {"reason": "unauthorized"}},
        "accepted": {"status": "ok", "response": {"room": "secret", "user": "alice"}},
    }


async def test_a_crash_gives_phx_error_and_the_client_rejoins_while_other_channels_live_on():
    with otp.testing.capture_crash_reports():
        result = await run_scenario("crash_rejoin")
    assert result == {
        "reason": {"reason": "channel_crash"},
        "state": "joined",
        "stillUp": {"status": "ok", "response": {"alive": True}},
        "afterRejoin": {"status": "ok", "response": {"again": True}},
    }


async def test_two_clients_see_each_other_typing_shouting_and_leaving():
    assert await run_scenario("two_clients") == {
        "seenByBob": ["alice", "bob"],
        "typed": {"user": "alice"},
        "heard": {"body": "hi bob", "user": "alice"},
        "afterLeave": ["bob"],
    }


async def test_an_unmatched_topic_is_refused_and_a_closed_socket_leaves_within_1_s():
    assert await run_scenario("close_and_unmatched") == {
        "unmatched": {"status": "error", "response": {"reason": "unmatched topic"}},
        "afterClose": ["bob"],
        "leftWithin1s": True,
    }
