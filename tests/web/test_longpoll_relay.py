"""Long-poll across mounts: a request for a session another mount holds is relayed to it (web.transports._longpoll_relay).

One node serves the chat socket on two endpoints, A and B, with the same
``LongPoll(secret=SECRET)``, as two workers do (tests/web/test_demo_workers.py
runs it across real OS processes). Each mount has a relay of its own, so a
request through B with the token of a session opened on A goes the way a
request reaching another node goes: to A's relay, which does it there. The
client sees one session whichever endpoint answers; a session that is not
there any more is replaced by a new one where the poll lands.
"""

from __future__ import annotations

import h11
import orjson
import pytest
import trio
from test_longpoll import JOIN_OK, NDJSON, SECRET, LongPollClient, SessionToken, channel_pid, not_found, session_of

import otp
from otp import PubSub, Shutdown
from otp.testing import wait_for_restart
from web import Endpoint
from web.demo.chat import PRESENCE, PUBSUB, ChatSocket
from web.presence import Presence
from web.socket import disconnect
from web.token import sign
from web.transports.longpoll import MAX_BATCH, LongPoll
from web.transports.phoenix import phoenix_socket

pytestmark = pytest.mark.slow

SALT = "longpoll session /socket/longpoll"
HEARTBEAT = [None, "1", "phoenix", "heartbeat", {}]


# ---------------------------------------------------------------- two endpoints, one session


async def two_endpoints(window: float = 10.0) -> tuple[otp.Pid, otp.Pid]:
    """Endpoints A and B on one node, mounting the same chat socket and long-poll options (two mounts, two relays)."""
    await PubSub.start_link(PUBSUB)
    await Presence.start_link(pubsub=PUBSUB, name=PRESENCE, broadcast_period=0.05)
    mount = phoenix_socket(ChatSocket, pubsub=PUBSUB, longpoll=LongPoll(secret=SECRET, window=window))
    first = await Endpoint.start_link(not_found, websocket=mount)
    return first, await Endpoint.start_link(not_found, websocket=mount)


async def two_ports(window: float = 10.0) -> tuple[int, int]:
    """The ports of :func:`two_endpoints`."""
    first, second = await two_endpoints(window)
    return Endpoint.address(first)[1], Endpoint.address(second)[1]


def through(port: int, client: LongPollClient) -> LongPollClient:
    """A client of the session ``client`` holds, whose requests reach ``port`` (on connections of its own)."""
    other = LongPollClient(port, client.query, client.path)
    other.token = client.token
    return other


def relay_of(token: str) -> str:
    """The name of the relay that holds the session ``token`` names (the payload is ``[id, node, relay]``)."""
    return session_of(token)[2]


def is_reply_to(ref: str):
    return lambda frame: frame[3] == "phx_reply" and frame[1] == ref


async def ended(monitor: otp.Ref, *, timeout: float = 5.0) -> otp.Down:
    """The Down of ``monitor``, waited for."""
    return await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == monitor, timeout=timeout)


async def the_session_process() -> otp.Pid:
    """The one long-poll session process of the node."""
    [session] = [pid for pid in otp.processes() if "run_session" in str(otp.process_info(pid))]
    return session


# ---------------------------------------------------------------- one session through either endpoint


async def test_a_session_opened_on_one_endpoint_is_joined_and_polled_through_the_other():
    port_a, port_b = await two_ports()
    home = LongPollClient(port_a)
    opened = await home.open()
    assert opened == {"status": 410, "token": opened["token"], "messages": []}
    session_id, node, relay = session_of(home.token)
    assert node is None and relay.startswith("web.longpoll /socket/longpoll ")  # (a node not distributed)
    away = through(port_b, home)

    join = await away.join()
    answer = await away.get()
    assert answer == {"status": 200, "token": SessionToken(home.token), "messages": answer["messages"]}
    assert session_of(answer["token"]) == [session_id, None, relay]  # B gives back a token of A's session
    away.pending += [orjson.loads(message) for message in answer["messages"]]
    assert await away.frame_where(is_reply_to(join)) == [join, join, "room:lobby", "phx_reply", JOIN_OK]
    state = await away.frame_where(lambda f: f[3] == "presence_state")
    assert state[:4] == [join, None, "room:lobby", "presence_state"] and list(state[4]) == ["alice"]

    assert await away.post([join, "7", "room:lobby", "ping", {"n": 1}]) == {"status": 200}
    assert await home.frame_where(is_reply_to("7")) == [join, "7", "room:lobby", "phx_reply", {"status": "ok", "response": {"n": 1}}]
    assert await home.post([join, "8", "room:lobby", "ping", {"n": 2}]) == {"status": 200}
    assert await away.frame_where(is_reply_to("8")) == [join, "8", "room:lobby", "phx_reply", {"status": "ok", "response": {"n": 2}}]


async def test_a_relayed_poll_with_nothing_to_say_is_204_after_the_window_with_the_sessions_token():
    port_a, port_b = await two_ports(window=0.2)
    home = LongPollClient(port_a)
    await home.open()
    away = through(port_b, home)
    started = trio.current_time()
    assert await away.get() == {"status": 204, "token": SessionToken(home.token), "messages": []}
    assert trio.current_time() - started >= 0.2
    assert await home.get() == {"status": 204, "token": SessionToken(home.token), "messages": []}


async def test_a_broadcast_reaches_a_relayed_poll_that_waits_for_it():
    port_a, port_b = await two_ports()
    alice, bob = LongPollClient(port_a), LongPollClient(port_a, "user=bob&vsn=2.0.0")
    for client in (alice, bob):
        await client.open()
        await client.joined()
    bob_away = through(port_b, bob)
    async with trio.open_nursery() as nursery:
        answers = []

        async def wait_for_it():
            answers.append(await bob_away.get())

        nursery.start_soon(wait_for_it)
        await trio.testing.wait_all_tasks_blocked()  # bob's poll waits through B, with nothing to take
        await alice.post([None, "9", "room:lobby", "shout", {"body": "now"}])
    [answer] = answers
    assert answer == {"status": 200, "token": SessionToken(bob.token), "messages": answer["messages"]}
    assert [None, None, "room:lobby", "shout", {"body": "now", "user": "alice"}] in [orjson.loads(m) for m in answer["messages"]]


# ---------------------------------------------------------------- a session that is not there any more


async def disconnected(endpoint_a: otp.Pid) -> None:
    """End alice's session with a "disconnect" broadcast; return once its channel has ended."""
    monitor = otp.monitor(await channel_pid())
    disconnect(PUBSUB, "users_socket:alice")
    assert (await ended(monitor)).reason == Shutdown("closed")


async def endpoint_stopped(endpoint_a: otp.Pid) -> None:
    """Stop endpoint A; return once its session process has ended."""
    monitor = otp.monitor(await the_session_process())
    await Endpoint.stop(endpoint_a)
    await ended(monitor)


@pytest.mark.parametrize("end", [disconnected, endpoint_stopped], ids=["disconnected", "its endpoint stopped"])
async def test_a_poll_through_the_other_endpoint_for_a_session_gone_opens_a_new_one_there(end):
    endpoint_a, endpoint_b = await two_endpoints()
    home = LongPollClient(Endpoint.address(endpoint_a)[1])
    await home.open()
    await home.joined()
    await end(endpoint_a)
    away = through(Endpoint.address(endpoint_b)[1], home)

    assert await away.post(HEARTBEAT) == {"status": 410}
    reopened = await away.get()
    assert reopened == {"status": 410, "token": reopened["token"], "messages": []}
    new_id, _, new_relay = session_of(reopened["token"])
    old_id, _, old_relay = session_of(home.token)
    assert new_id != old_id and new_relay != old_relay  # a new session, held by B
    away.token = reopened["token"]
    assert await away.post(HEARTBEAT) == {"status": 200}
    assert await away.frame() == [None, "1", "phoenix", "phx_reply", {"status": "ok", "response": {}}]


@pytest.mark.parametrize(
    "payload",
    [["no such session", None, "web.longpoll /socket/longpoll 000000000000"], ["a session", "worker-9@nowhere", "a relay"]],
    ids=["its relay is not there", "its node is not reachable"],
)
async def test_a_token_naming_a_relay_or_node_not_there_is_a_session_gone(payload):
    _, port_b = await two_ports()
    client = LongPollClient(port_b)
    client.token = sign(SECRET, SALT, payload)
    assert await client.post(HEARTBEAT) == {"status": 410}
    reopened = await client.get()
    assert reopened == {"status": 410, "token": reopened["token"], "messages": []}
    assert session_of(reopened["token"]) != payload
    client.token = reopened["token"]
    assert await client.post(HEARTBEAT) == {"status": 200}


async def test_stopping_an_endpoint_ends_its_relay():
    endpoint_a, _ = await two_endpoints()
    home = LongPollClient(Endpoint.address(endpoint_a)[1])
    await home.open()
    monitor = otp.monitor(otp.whereis(relay_of(home.token)))
    await Endpoint.stop(endpoint_a)
    await ended(monitor, timeout=2.0)
    assert otp.whereis(relay_of(home.token)) is None


async def test_a_relay_that_crashes_comes_back_under_its_name_and_serves_the_sessions_still_there():
    port_a, port_b = await two_ports()
    home = LongPollClient(port_a)
    await home.open()
    name = relay_of(home.token)
    crashed = otp.whereis(name)
    [supervisor] = otp.process_info(crashed).links  # the sessions' DynamicSupervisor, its only link
    otp.exit(crashed, otp.KILLED)
    restarted = await wait_for_restart(supervisor, None, crashed, timeout=5)
    assert otp.whereis(name) == restarted
    away = through(port_b, home)
    join = await away.join()
    assert await away.frame_where(is_reply_to(join)) == [join, join, "room:lobby", "phx_reply", JOIN_OK]


# ---------------------------------------------------------------- ending a session through the other endpoint


@pytest.mark.parametrize(
    "lines, status",
    [([b"not base64 at all!"], 400), ([orjson.dumps(HEARTBEAT)] * (MAX_BATCH + 1), 413)],
    ids=["a line that is no frame", "one frame too many"],
)
async def test_a_post_refused_through_the_other_endpoint_ends_the_session_where_it_lives(lines, status):
    port_a, port_b = await two_ports()
    home = LongPollClient(port_a)
    await home.open()
    await home.joined()
    monitor = otp.monitor(await channel_pid())
    assert await through(port_b, home).post(*lines) == {"status": status}
    assert (await ended(monitor)).reason == Shutdown("closed")
    assert await home.post(HEARTBEAT) == {"status": 410}
    reopened = await home.get()  # gone: the poll opens a new session
    assert reopened == {"status": 410, "token": reopened["token"], "messages": []}
    assert session_of(reopened["token"])[0] != session_of(home.token)[0]


async def test_a_client_that_closes_its_poll_waiting_through_the_other_endpoint_has_left_at_once():
    port_a, port_b = await two_ports()
    home, bob = LongPollClient(port_a), LongPollClient(port_a, "user=bob&vsn=2.0.0")
    await home.open()
    await home.joined()
    monitor = otp.monitor(await channel_pid())
    await bob.open()
    await bob.joined()
    await home.frame_where(lambda f: f[3] == "presence_diff" and "bob" in f[4]["joins"])  # alice has taken all hers
    away = through(port_b, home)
    async with trio.open_nursery() as nursery:

        async def poll():
            with pytest.raises((trio.BrokenResourceError, trio.ClosedResourceError, h11.RemoteProtocolError)):
                await away.get()

        nursery.start_soon(poll)
        await trio.testing.wait_all_tasks_blocked()  # the poll waits, relayed to A
        closed_at = trio.current_time()
        await away.polls.aclose()
        down = await ended(monitor)
    assert down.reason == Shutdown("closed")
    assert trio.current_time() - closed_at < 1.0
    leave = await bob.frame_where(lambda f: f[3] == "presence_diff" and "alice" in f[4]["leaves"])
    assert leave[4]["joins"] == {}
    assert await home.post(HEARTBEAT) == {"status": 410}


# ---------------------------------------------------------------- tokens


async def test_a_token_signed_with_another_secret_is_not_relayed_it_opens_a_new_session_where_it_lands():
    port_a, port_b = await two_ports()
    home = LongPollClient(port_a)
    await home.open()
    forged = through(port_b, home)
    forged.token = sign("another secret", SALT, session_of(home.token))  # names A's session, but not with our secret
    assert await forged.post(HEARTBEAT, headers=NDJSON) == {"status": 410}
    reopened = await forged.get()
    assert reopened == {"status": 410, "token": reopened["token"], "messages": []}
    assert session_of(reopened["token"])[0] != session_of(home.token)[0]
    assert relay_of(reopened["token"]) != relay_of(home.token)  # opened on B
    assert await home.post(HEARTBEAT) == {"status": 200}  # A's session lives on, untouched
    assert await home.frame() == [None, "1", "phoenix", "phx_reply", {"status": "ok", "response": {}}]
