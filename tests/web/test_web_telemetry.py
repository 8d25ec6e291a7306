"""The endpoint's WebSocket telemetry over real loopback sockets: connect, open, close with bytes, shed, statistics.

The rest of the events (and the telemetry API) are tested in tests/test_telemetry.py.
"""

import json

import attrs
import trio

import otp
from otp import PubSub
from otp.testing import TelemetryEvent, assert_receive, forward_telemetry
from web import Endpoint, EndpointStatistics, Response, SocketHandler, WebSocket
from web.channel import Channel, Ok
from web.socket import Socket
from web.transports.phoenix import phoenix_socket

from _clients import Closed, WSClient

PUBSUB = "web_telemetry_pubsub"
SOCKET_CONNECT = ("web", "socket", "connect")
WS_OPEN = ("web", "websocket", "open")
WS_CLOSE = ("web", "websocket", "close")
WS_SHED = ("web", "websocket", "shed")
STATISTICS = ("web", "endpoint", "statistics")


def event_named(name):
    return lambda m: isinstance(m, TelemetryEvent) and m.name == name


class EchoChannel(Channel):
    async def handle_in(self, event, payload, socket):
        return Ok(payload)


class UserSocket(Socket):
    channels = {"echo:*": EchoChannel}

    async def connect(self, params, connect_info):
        return {"user": params["user"]} if params.get("user") else None


async def no_pages(request):
    return Response(404)


async def start(websocket, **options):
    endpoint = await Endpoint.start_link(no_pages, port=0, websocket=websocket, idle_timeout=2.0, **options)
    return endpoint, Endpoint.address(endpoint)[1]


async def test_a_phoenix_socket_emits_connect_open_and_close_with_its_bytes_and_frames():
    await PubSub.start_link(PUBSUB)
    endpoint, port = await start(phoenix_socket(UserSocket, pubsub=PUBSUB))
    with forward_telemetry(SOCKET_CONNECT, WS_OPEN, WS_CLOSE):
        refused = await WSClient.connect(port, "/socket/websocket?vsn=2.0.0")
        refusal = await assert_receive(event_named(SOCKET_CONNECT), timeout=2.0)
        client = await WSClient.connect(port, "/socket/websocket?user=ann&vsn=2.0.0")
        connected = await assert_receive(event_named(SOCKET_CONNECT))
        opened = await assert_receive(event_named(WS_OPEN))
        join = json.dumps(["1", "1", "echo:1", "phx_join", {}])
        await client.send_text(join)
        reply = await client.receive()
        assert await client.close(1000) == Closed(1000)
        closed = await assert_receive(event_named(WS_CLOSE), timeout=2.0)  # (upper bounds: events arrive at once)
    assert refused.status == 403 and refusal.metadata["result"] == "error"
    peer = connected.metadata["peer"]
    assert connected.metadata == {"socket": UserSocket, "result": "ok", "peer": peer}
    assert connected.measurements.keys() == {"duration"}
    assert opened.measurements == {"upgrades": 1}
    assert opened.metadata == {"endpoint": endpoint, "peer": peer, "path": "/socket/websocket"}
    assert closed.metadata == {"endpoint": endpoint, "peer": peer, "path": "/socket/websocket", "code": 1000}
    measured = closed.measurements
    assert measured.keys() == {"duration", "bytes_in", "bytes_out", "frames_in", "frames_out"}
    assert (measured["frames_in"], measured["frames_out"]) == (1, 1)  # the join; its reply (the close frame is not a message)
    # In: the masked join frame (6 header bytes here) and the close frame; out: the reply and the close frame.
    assert measured["bytes_in"] == (2 + 4 + len(join)) + (2 + 4 + 2)
    assert measured["bytes_out"] == (2 + len(reply)) + (2 + 2)
    statistics = Endpoint.statistics(endpoint)
    assert (statistics.bytes_in, statistics.bytes_out) == (measured["bytes_in"], measured["bytes_out"])


class Flood(SocketHandler):
    async def on_open(self, sender):
        self.sender = sender

    async def on_text(self, text):
        while self.sender.send_binary(b"x" * 16384):
            await trio.sleep(0)  # the writer runs; the peer does not read


async def test_a_slow_consumer_reset_is_a_shed_event():
    endpoint, port = await start(WebSocket(handler=lambda info, accepted: Flood(), max_outbound_bytes=64 * 1024))
    client = await WSClient.connect(port, receive_buffer=4096)
    with forward_telemetry(WS_SHED, WS_CLOSE):
        await client.send_text("flood")
        shed = await assert_receive(event_named(WS_SHED), timeout=2.0)
        closed = await assert_receive(event_named(WS_CLOSE), timeout=2.0)
    assert shed.metadata == {
        "endpoint": endpoint, "peer": shed.metadata["peer"], "path": "/socket/websocket", "limit": "max_outbound_bytes"
    }
    assert shed.measurements["max_outbound_bytes"] == 64 * 1024
    assert 48 * 1024 < shed.measurements["queued_bytes"] <= 64 * 1024
    assert closed.metadata["code"] == 1006


async def test_the_endpoint_emits_its_counters_every_telemetry_period(autojump_clock):
    endpoint, port = await start(None, telemetry_period=0.5)
    with forward_telemetry(STATISTICS):
        first = await assert_receive(event_named(STATISTICS), timeout=0.6)
        second = await assert_receive(event_named(STATISTICS), timeout=0.6)
    assert first.metadata == {"endpoint": endpoint, "address": ("127.0.0.1", port)}
    assert first.measurements == attrs.asdict(Endpoint.statistics(endpoint))
    assert first.measurements.keys() == {field.name for field in attrs.fields(EndpointStatistics)}
    assert second.measurements == first.measurements
