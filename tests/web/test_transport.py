"""The endpoint over real loopback sockets: HTTP/1.1, the WebSocket upgrade, frames, limits.

Every test starts its endpoint in its own body (the test is the root process
of a fresh node) on a free port, and waits for events (a response, a close,
a message from the handler), never for time to pass.
"""

import logging

import pytest
import trio

import otp
from otp import Supervisor
from otp.testing import assert_down, assert_receive, capture_crash_reports, refute_receive
from web import ConnectInfo, Endpoint, Listening, Response, SocketHandler, WebSocket, serve

from _clients import Closed, HTTPClient, WSClient, auth_token_protocol, raw_exchange


async def app(request):
    if request.path == "/boom":
        raise RuntimeError("boom")
    if request.path == "/echo":
        return Response(200, {"content-type": "application/octet-stream"}, request.body)
    body = f"{request.method} {request.path} {sorted(request.query.items())} {request.headers.get('x-test')}"
    return Response(200, {"content-type": "text/plain"}, body)


class Echo(SocketHandler):
    """Echoes every message; tells the test process (``notify``) what happened."""

    def __init__(self, notify, info=None, accepted=None):
        self.notify, self.info, self.accepted = notify, info, accepted

    async def on_open(self, sender):
        self.sender = sender
        otp.send(self.notify, ("open", self.info, self.accepted))

    async def on_text(self, text):
        if text == "flood":
            chunk = b"x" * 16384
            while self.sender.send_binary(chunk):
                await trio.sleep(0)  # the writer runs; the peer does not read
            otp.send(self.notify, ("flood stopped", self.sender.closed))
        elif text == "crash":
            raise ValueError("handler crashed")
        elif text == "bye":
            self.sender.close(4000, "bye")
        else:
            self.sender.send_text(text)

    async def on_binary(self, data):
        self.sender.send_binary(data)

    async def on_close(self, code):
        otp.send(self.notify, ("closed", code))


def equal(value):
    return lambda message: message == value


def echo_socket(**options):
    me = otp.current_pid()
    return WebSocket(handler=lambda info, accepted: Echo(me, info, accepted), **options)


async def start(websocket=None, **options):
    options.setdefault("idle_timeout", 2.0)  # a failing test must not hang for the default 60 s
    endpoint = await Endpoint.start_link(app, port=0, websocket=websocket, **options)
    host, port = Endpoint.address(endpoint)
    assert host == "127.0.0.1" and port > 0
    return endpoint, port


# ---------------------------------------------------------------- HTTP


async def test_get_with_query_and_headers_gets_the_handlers_body():
    endpoint, port = await start()
    client = await HTTPClient.open(port)
    response = await client.request("GET", "/hello?name=ann&x=", headers=[("X-Test", "yes")])
    assert response.status == 200
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["content-length"] == str(len(response.body))
    assert response.body == b"GET /hello [('name', 'ann'), ('x', '')] yes"


async def test_post_body_reaches_the_handler():
    endpoint, port = await start()
    client = await HTTPClient.open(port)
    response = await client.request("POST", "/echo", body=b"\x00payload\xff")
    assert (response.status, response.body) == (200, b"\x00payload\xff")


async def test_keep_alive_serves_two_requests_on_one_connection():
    endpoint, port = await start()
    client = await HTTPClient.open(port)
    first = await client.request("GET", "/one")
    second = await client.request("GET", "/two")
    assert (first.status, first.body) == (200, b"GET /one [] None")
    assert (second.status, second.body) == (200, b"GET /two [] None")
    stats = Endpoint.statistics(endpoint)
    assert (stats.accepted, stats.requests, stats.active) == (1, 2, 1)


async def test_malformed_request_gets_400_and_the_server_serves_others():
    endpoint, port = await start()
    answer = await raw_exchange(port, b"NOT AN HTTP REQUEST\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.endswith(b"content-length: 0\r\n\r\n")
    client = await HTTPClient.open(port)
    assert (await client.request("GET", "/after")).status == 200
    assert Endpoint.statistics(endpoint).bad_requests == 1


async def test_oversize_headers_get_431_and_the_listener_goes_on():
    endpoint, port = await start(max_header_size=4096)
    answer = await raw_exchange(port, b"GET / HTTP/1.1\r\nhost: a\r\nx-big: " + b"a" * 8000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    answer = await raw_exchange(port, b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nhost: a\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert (await (await HTTPClient.open(port)).request("GET", "/")).status == 200


async def test_body_over_the_limit_gets_413():
    endpoint, port = await start(max_body_size=10)
    client = await HTTPClient.open(port)
    response = await client.request("POST", "/echo", body=b"x" * 11)
    assert (response.status, response.body) == (413, b"")
    assert await client.at_eof()


async def test_handler_that_raises_gets_500_and_only_its_connection_ends():
    endpoint, port = await start()
    other = await HTTPClient.open(port)
    assert (await other.request("GET", "/before")).status == 200
    failing = await HTTPClient.open(port)
    assert (await failing.request("GET", "/before")).status == 200
    children = await otp.DynamicSupervisor.which_children(Endpoint.connection_supervisor(endpoint))
    ref = otp.monitor(children[0].pid)  # newest first: the failing connection's process
    with capture_crash_reports() as reports:
        response = await failing.request("GET", "/boom")
        assert (response.status, response.headers["connection"], response.body) == (500, "close", b"")
        assert await failing.at_eof()
        await assert_down(ref, RuntimeError, timeout=1)
    assert reports[0].getMessage().startswith(f"Process {children[0].pid!r} crashed: RuntimeError('boom')\n")
    assert reports[0].name == "web.http"
    assert (await other.request("GET", "/after")).body == b"GET /after [] None"
    assert otp.is_alive(endpoint)
    assert Endpoint.statistics(endpoint).handler_errors == 1


async def test_handler_returning_a_non_response_gets_500():
    async def bad(request):
        return "not a response"

    endpoint = await Endpoint.start_link(bad)
    with capture_crash_reports():
        answer = await raw_exchange(Endpoint.address(endpoint)[1], b"GET / HTTP/1.1\r\nhost: a\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")


async def test_idle_keep_alive_connection_is_closed():
    endpoint, port = await start(idle_timeout=0.05)
    client = await HTTPClient.open(port)
    assert (await client.request("GET", "/")).status == 200
    assert await client.at_eof()


async def test_bind_failure_is_a_start_error():
    endpoint, port = await start()
    with pytest.raises(otp.StartError) as info:
        await Endpoint.start_link(app, port=port)
    assert isinstance(info.value.reason, OSError)


# ---------------------------------------------------------------- supervision


async def test_endpoint_under_a_supervisor_and_serve_in_a_nursery():
    sup = await Supervisor.start_link([Endpoint.child_spec(app, port=0, name="web")])
    [child] = await Supervisor.which_children(sup)
    assert child.pid == otp.whereis("web")
    port = Endpoint.address("web")[1]
    assert (await (await HTTPClient.open(port)).request("GET", "/")).status == 200

    async with trio.open_nursery() as nursery:
        listening = await nursery.start(serve, app, "127.0.0.1", 0)
        assert isinstance(listening, Listening) and listening.port > 0
        assert (await (await HTTPClient.open(listening.port)).request("GET", "/")).status == 200
        nursery.cancel_scope.cancel()
    ref = otp.monitor(listening.pid)
    await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == ref, timeout=1)


async def test_connections_are_temporary_children_of_the_connection_supervisor():
    endpoint, port = await start()
    client = await HTTPClient.open(port)
    await client.request("GET", "/")
    connections = Endpoint.connection_supervisor(endpoint)
    [child] = await otp.DynamicSupervisor.which_children(connections)
    ref = otp.monitor(child.pid)
    await client.aclose()
    await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == ref and m.reason == otp.NORMAL, timeout=1)
    assert await otp.DynamicSupervisor.which_children(connections) == []


async def test_stopping_the_endpoint_closes_websockets_with_1012_and_the_listening_socket():
    endpoint, port = await start(echo_socket())
    client = await WSClient.connect(port)
    await assert_receive(tuple, timeout=1)
    connections = Endpoint.connection_supervisor(endpoint)
    await Endpoint.stop(endpoint)
    assert await client.receive() == Closed(1012)
    assert not otp.is_alive(connections)
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", port)


async def test_a_crashed_acceptor_takes_the_endpoint_down_for_its_supervisor_to_restart():
    sup = await Supervisor.start_link([Endpoint.child_spec(app, port=0, name="web")])
    first = otp.whereis("web")
    ref = otp.monitor(first)
    with capture_crash_reports():
        otp.exit(_acceptor_of(first), "boom")
        await assert_down(ref, "boom", timeout=1)
    [child] = await Supervisor.which_children(sup)
    assert child.pid not in (None, first) and child.pid == otp.whereis("web")
    assert (await (await HTTPClient.open(Endpoint.address("web")[1])).request("GET", "/")).status == 200


def _acceptor_of(endpoint):
    [acceptor] = [pid for pid in otp.process_info(endpoint).links if "_accept_loop" in otp.process_info(pid).function]
    return acceptor


# ---------------------------------------------------------------- WebSocket: upgrade


async def test_upgrade_then_echo_text_and_binary():
    endpoint, port = await start(echo_socket())
    client = await WSClient.connect(port, "/socket/websocket?user=ann&vsn=2.0.0")
    assert client.subprotocol is None
    _, info, accepted = await assert_receive(lambda m: m[0] == "open", timeout=1)
    assert isinstance(info, ConnectInfo) and accepted is True
    assert (info.path, info.params, info.token) == ("/socket/websocket", {"user": "ann", "vsn": "2.0.0"}, None)
    assert info.peer[0] == "127.0.0.1" and info.headers["upgrade"] == "websocket"

    await client.send_text("héllo")
    assert await client.receive() == "héllo"
    await client.send_binary(b"\x00\x01\xff")
    assert await client.receive() == b"\x00\x01\xff"
    await client.ping(b"p")
    assert (await client.receive()).payload == b"p"  # the pong
    assert await client.close(1000) == Closed(1000)
    await assert_receive(equal(("closed", 1000)), timeout=1)
    assert Endpoint.statistics(endpoint).upgrades == 1


async def test_server_close_code_reaches_the_client():
    endpoint, port = await start(echo_socket())
    client = await WSClient.connect(port)
    await client.send_text("bye")
    assert await client.receive() == Closed(4000, "bye")
    await assert_receive(equal(("closed", 4000)), timeout=1)


async def test_accept_hook_refusal_is_403_with_an_empty_body():
    seen = []

    async def accept(info):
        seen.append(info.params)
        return info.params.get("user") == "ann"

    endpoint, port = await start(echo_socket(accept=accept))
    refused = await WSClient.connect(port, "/socket/websocket?user=bob")
    assert (refused.status, refused.body) == (403, b"")
    client = await WSClient.connect(port, "/socket/websocket?user=ann")
    assert isinstance(client, WSClient)
    assert seen == [{"user": "bob"}, {"user": "ann"}]
    stats = Endpoint.statistics(endpoint)
    assert (stats.refused, stats.upgrades) == (1, 1)


async def test_accept_hook_value_is_handed_to_the_handler_factory():
    endpoint, port = await start(echo_socket(accept=lambda info: {"user_id": 7}))
    await WSClient.connect(port)
    _, _, accepted = await assert_receive(lambda m: m[0] == "open", timeout=1)
    assert accepted == {"user_id": 7}


@pytest.mark.parametrize(
    "origin, check_origin, status",
    [
        ("http://evil.example", True, 403),
        ("http://127.0.0.1:1234", True, 101),
        (None, True, 101),
        ("http://evil.example", False, 101),
        ("https://app.example.com", ["//*.example.com"], 101),
        ("https://app.example.org", ["//*.example.com"], 403),
    ],
)
async def test_origin_check(origin, check_origin, status):
    endpoint, port = await start(echo_socket(check_origin=check_origin))
    headers = [("origin", origin)] if origin else []
    result = await WSClient.connect(port, headers=headers)
    if status == 101:
        assert isinstance(result, WSClient)
    else:
        assert (result.status, result.body) == (status, b"")


async def test_non_get_upgrade_gets_400():
    endpoint, port = await start(echo_socket())
    request = (
        b"POST /socket/websocket HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\ncontent-length: 0\r\n\r\n"
    )
    answer = await raw_exchange(port, request)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n") and answer.endswith(b"\r\n\r\n")
    plain = await raw_exchange(port, b"GET /socket/websocket HTTP/1.1\r\nhost: a\r\n\r\n")
    assert plain.startswith(b"HTTP/1.1 400 ")


async def test_phoenix_subprotocol_is_selected_and_the_token_decoded():
    endpoint, port = await start(echo_socket(accept=lambda info: info.token == "s3cret:token/ü"))
    offered = ["phoenix", auth_token_protocol("s3cret:token/ü")]
    client = await WSClient.connect(port, subprotocols=offered)
    assert client.subprotocol == "phoenix"
    _, info, _ = await assert_receive(lambda m: m[0] == "open", timeout=1)
    assert (info.token, info.subprotocol) == ("s3cret:token/ü", "phoenix")
    refused = await WSClient.connect(port, subprotocols=["phoenix", auth_token_protocol("wrong")])
    assert refused.status == 403


async def test_undecodable_token_is_400():
    endpoint, port = await start(echo_socket())
    refused = await WSClient.connect(port, subprotocols=["phoenix", "base64url.bearer.phx.%%%"])
    assert refused.status == 400


# ---------------------------------------------------------------- WebSocket: limits


async def test_message_over_the_max_size_closes_with_1009():
    endpoint, port = await start(echo_socket(max_message_size=1000))
    client = await WSClient.connect(port)
    await client.send_text("a" * 1000)
    assert await client.receive() == "a" * 1000
    await client.send_text("é" * 501)  # 1002 bytes
    assert await client.receive() == Closed(1009, "message too big")
    await assert_receive(equal(("closed", 1009)), timeout=1)
    assert Endpoint.statistics(endpoint).messages_too_big == 1


async def test_idle_websocket_is_closed_with_1001():
    endpoint, port = await start(echo_socket(idle_timeout=0.05))
    client = await WSClient.connect(port)
    assert await client.receive() == Closed(1001, "idle timeout")
    await assert_receive(equal(("closed", 1001)), timeout=1)
    assert Endpoint.statistics(endpoint).idle_timeouts == 1


async def test_peer_that_never_answers_the_close_is_dropped_after_close_timeout():
    endpoint, port = await start(echo_socket(idle_timeout=0.02, close_timeout=0.05))
    client = await WSClient.connect(port)
    await assert_receive(equal(("closed", 1001)), timeout=1)  # the client never read nor answered
    assert await client.receive() == Closed(1001, "idle timeout")


async def test_slow_reader_overflowing_the_outbound_buffer_is_reset_and_counted(caplog):
    caplog.set_level(logging.WARNING, logger="web")
    endpoint, port = await start(echo_socket(max_outbound_bytes=64 * 1024))
    client = await WSClient.connect(port, receive_buffer=4096)
    await client.send_text("flood")
    await assert_receive(equal(("flood stopped", True)), timeout=2)
    await assert_receive(equal(("closed", 1006)), timeout=1)
    assert Endpoint.statistics(endpoint).outbound_overflows == 1
    assert "outbound buffer passed 65536 bytes" in caplog.text
    # What the client does get is whole frames, then the end of the stream.
    while True:
        message = await client.receive()
        if isinstance(message, Closed):
            break
        assert message == b"x" * 16384
    assert message == Closed(1006)


async def test_handler_crash_closes_with_1011_and_crashes_only_that_connection():
    endpoint, port = await start(echo_socket())
    other = await WSClient.connect(port)
    failing = await WSClient.connect(port)
    with capture_crash_reports() as reports:
        await failing.send_text("crash")
        assert await failing.receive() == Closed(1011, "internal error")
        await refute_receive(equal(("closed", 1011)), timeout=0.05)
    assert any(isinstance(r.otp_reason, ValueError) for r in reports)
    await other.send_text("still here")
    assert await other.receive() == "still here"


async def test_many_concurrent_connections_each_echo():
    endpoint, port = await start(echo_socket())
    results = {}

    async def one(n):
        client = await WSClient.connect(port)
        for i in range(3):
            await client.send_text(f"{n}:{i}")
            assert await client.receive() == f"{n}:{i}"
        await client.send_binary(bytes([n]))
        results[n] = await client.receive()
        assert await client.close(1000) == Closed(1000)

    async with trio.open_nursery() as nursery:
        for n in range(50):
            nursery.start_soon(one, n)
    assert results == {n: bytes([n]) for n in range(50)}
    assert Endpoint.statistics(endpoint).upgrades == 50


# ---------------------------------------------------------------- WebSocket: the connection process's mail


class Mailed(Echo):
    """An echo that also takes its process's mail: each message is written to the client as ``info:<message>``."""

    async def on_open(self, sender):
        self.sender = sender
        otp.send(self.notify, ("open", otp.current_pid()))

    async def on_text(self, text):
        if text == "slow":
            await otp.receive(equal("go on"))  # busy in a callback: mail for it waits, then comes in order
            self.sender.send_text("done")
        else:
            await super().on_text(text)

    async def on_info(self, message):
        self.sender.send_text(f"info:{message}")


def mailed_socket(**options):
    me = otp.current_pid()
    return WebSocket(handler=lambda info, accepted: Mailed(me), **options)


async def test_mail_to_the_connection_process_wakes_it_from_its_read_and_goes_to_on_info():
    endpoint, port = await start(mailed_socket(idle_timeout=60.0))
    client = await WSClient.connect(port)
    (_, connection) = await assert_receive(lambda m: m[0] == "open", timeout=1)
    otp.send(connection, "first")
    otp.send(connection, "second")
    assert [await client.receive(), await client.receive()] == ["info:first", "info:second"]
    assert otp.process_info(connection).message_queue_len == 0
    await client.send_text("still reading")  # the read goes on after the mail, no byte lost
    assert await client.receive() == "still reading"
    await client.send_text("slow")
    await trio.testing.wait_all_tasks_blocked()
    otp.send(connection, "meanwhile")  # queued while on_text runs: taken after it, not during
    otp.send(connection, "go on")  # taken by the receive in on_text
    assert [await client.receive(), await client.receive()] == ["done", "info:meanwhile"]
    assert await client.close(1000) == Closed(1000)


async def test_mail_does_not_count_as_the_peer_being_heard_from(autojump_clock):
    endpoint, port = await start(mailed_socket(idle_timeout=1.0), telemetry_period=None)
    client = await WSClient.connect(port)
    (_, connection) = await assert_receive(lambda m: m[0] == "open", timeout=1)
    opened = trio.current_time()
    for n in range(3):
        await trio.sleep(0.3)
        otp.send(connection, n)
        assert await client.receive() == f"info:{n}"
    assert await client.receive() == Closed(1001, "idle timeout")
    assert trio.current_time() - opened == 1.0  # an idle_timeout after the last bytes read, mail or not
    assert Endpoint.statistics(endpoint).idle_timeouts == 1


async def test_a_handler_without_on_info_leaves_the_mail_in_the_mailbox():
    endpoint, port = await start(echo_socket())
    client = await WSClient.connect(port)
    await assert_receive(lambda m: m[0] == "open", timeout=1)
    [child] = await otp.DynamicSupervisor.which_children(Endpoint.connection_supervisor(endpoint))
    otp.send(child.pid, "unread")
    await client.send_text("hello")  # the read is not disturbed by it
    assert await client.receive() == "hello"
    assert otp.lowlevel.queued_messages(child.pid) == ["unread"]


# ---------------------------------------------------------------- WebSocket: writes


class Burst(SocketHandler):
    """Gives the test its sender; on "burst <n>", sends n numbered frames of 10,000 bytes at once."""

    def __init__(self, notify):
        self.notify = notify

    async def on_open(self, sender):
        self.sender = sender
        otp.send(self.notify, ("sender", sender))

    async def on_text(self, text):
        if text.startswith("burst "):
            for n in range(int(text.split()[1])):
                assert self.sender.send_text(f"{n:05d}" + "x" * 9995)
        else:
            self.sender.send_text(text)


def burst_socket(**options):
    me = otp.current_pid()
    return WebSocket(handler=lambda info, accepted: Burst(me), **options)


async def test_a_frame_is_written_in_the_senders_own_task_at_once():
    endpoint, port = await start(burst_socket())
    client = await WSClient.connect(port)
    (_, sender) = await assert_receive(lambda m: m[0] == "sender", timeout=1)
    before = Endpoint.statistics(endpoint).bytes_out
    assert sender.send_text("now")
    assert Endpoint.statistics(endpoint).bytes_out == before + 5  # on the wire already: no task switch, no queue
    assert await client.receive() == "now"


async def test_what_the_socket_does_not_take_is_written_by_the_connection_once_the_peer_reads():
    endpoint, port = await start(burst_socket())
    client = await WSClient.connect(port, receive_buffer=4096)
    await assert_receive(lambda m: m[0] == "sender", timeout=1)
    await client.send_text("burst 300")  # 3 MB at once: far more than the socket's buffers take
    await trio.testing.wait_all_tasks_blocked()
    assert Endpoint.statistics(endpoint).outbound_queued > 0  # the rest waits in the outbox
    received = [await client.receive() for _ in range(300)]
    assert [frame[:5] for frame in received] == [f"{n:05d}" for n in range(300)]  # whole, in order
    assert all(len(frame) == 10_000 for frame in received)
    await client.send_text("and then")  # read again once the outbox is empty
    assert await client.receive() == "and then"
    assert Endpoint.statistics(endpoint).outbound_queued == 0
