"""The HTTP layer against hostile clients (issue #12): bounded bodies, deadlines, connection limits, resets.

Every test talks raw bytes to a real endpoint over loopback TCP and checks
the exact answer, that the connection is closed after it (read until EOF),
the endpoint's counters, and that nobody else was affected. Deadlines run
on the autojump clock, so "10 s" costs no real time; where the server's
deadline could race the kernel delivering our bytes, the test is shaped so
the deadline can only start after the server has read them (a keep-alive
connection's second request, a body after its head).
"""

import json
import logging
import math
import os
import subprocess
import sys
import textwrap
import tracemalloc
from http import HTTPStatus

import pytest
import trio
from _clients import HTTPClient, open_stream, raw_exchange, read_until_eof

import otp
from otp.testing import assert_down, capture_crash_reports, wait_all_tasks_blocked
from web import Endpoint, Response
from web._limits import ConnectionLimits, default_max_connections


def refusal(status: int, *, client_closes: bool = False) -> bytes:
    """The exact bytes of the endpoint's refusal with ``status`` (the reason phrase as this Python spells it).

    ``client_closes``: the request said ``connection: close`` or was HTTP/1.0,
    and h11 writes the close header its own way.
    """
    phrase = HTTPStatus(status).phrase.encode()
    if client_closes:
        return b"HTTP/1.1 %d %s\r\ncontent-length: 0\r\nConnection: close\r\n\r\n" % (status, phrase)
    return b"HTTP/1.1 %d %s\r\nconnection: close\r\ncontent-length: 0\r\n\r\n" % (status, phrase)


BAD_REQUEST, TIMED_OUT, TOO_LARGE, BAD_VERSION = map(refusal, (400, 408, 413, 505))
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class App:
    """Records the paths it served; ``/echo`` answers the body, ``/big`` 4 MiB, ``/wait`` waits for ``go``."""

    def __init__(self):
        self.paths = []
        self.go = trio.Event()

    async def __call__(self, request):
        self.paths.append(request.path)
        if request.path == "/echo":
            return Response(200, {"content-type": "application/octet-stream"}, request.body)
        if request.path == "/big":
            return Response(200, {}, b"x" * (4 << 20))
        if request.path == "/wait":
            await self.go.wait()
        return Response(200, {"content-type": "text/plain"}, f"{request.method} {request.path}")


def ok(body: bytes, content_type: bytes = b"text/plain", *, close: bool = False) -> bytes:
    """The exact bytes of a 200 from :class:`App` (h11 adds ``Connection: close`` when the client asked for it)."""
    close_header = b"Connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n%s" % (
        content_type, len(body), close_header, body
    )


def echoed(body: bytes, *, close: bool = False) -> bytes:
    return ok(body, b"application/octet-stream", close=close)


async def start(app=None, **options):
    options.setdefault("idle_timeout", 60.0)
    options.setdefault("telemetry_period", None)
    app = app or App()
    endpoint = await Endpoint.start_link(app, port=0, **options)
    return endpoint, Endpoint.address(endpoint)[1], app


def stats(endpoint, *names):
    snapshot = Endpoint.statistics(endpoint)
    return tuple(getattr(snapshot, name) for name in names)


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


async def send_while_reading(stream, data: bytes) -> bytes:
    """Send ``data`` (quietly stopping if the server closes first) and read all it answers until EOF."""

    async def send():
        try:
            await stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async with trio.open_nursery() as nursery:
        nursery.start_soon(send)
        answer = await read_until_eof(stream)
        nursery.cancel_scope.cancel()
    return answer


async def trickle_until_closed(stream, data: bytes, every: float = 1.0) -> tuple[bytes, float]:
    """Send ``data`` one byte every ``every`` s; return the server's answer and the time from the first byte to EOF."""

    async def trickle():
        try:
            for i in range(len(data)):
                await stream.send_all(data[i : i + 1])
                await trio.sleep(every)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    started = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trickle)
        answer = await read_until_eof(stream)
        nursery.cancel_scope.cancel()
    return answer, trio.current_time() - started


async def only_connection(endpoint):
    [child] = await otp.DynamicSupervisor.which_children(Endpoint.connection_supervisor(endpoint))
    return child.pid


def reset(stream):
    """Close with an RST (SO_LINGER 0), as a client that crashes or drops does."""
    stream.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    stream.socket.close()


# ---------------------------------------------------------------- bodies (issue #12 item 2)


def one_byte_chunks(n: int) -> bytes:
    return b"POST /echo HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n" + b"1\r\na\r\n" * n + b"0\r\n\r\n"


async def test_a_body_in_one_byte_chunks_is_refused_early_in_bounded_memory():
    endpoint, port, app = await start()
    attack = one_byte_chunks(100_000)  # 600 KB on the wire: 100,000 h11 events if read to the end
    tracemalloc.start()
    try:
        answer = await send_while_reading(await open_stream(port), attack)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert answer == BAD_REQUEST
    assert stats(endpoint, "bad_requests", "requests") == (1, 0) and app.paths == []
    assert peak < 1_000_000, f"{peak:,} bytes at the peak"  # was 6.5 MB (a bytes object and a list slot per chunk)


@pytest.mark.parametrize("chunks, refused", [(1040, False), (1041, True)])
async def test_the_chunk_rule_edge_is_1024_chunks_plus_one_per_64_bytes(chunks, refused):
    endpoint, port, app = await start()
    request = one_byte_chunks(chunks).replace(b"host: a\r\n", b"host: a\r\nconnection: close\r\n")
    answer = await send_while_reading(await open_stream(port), request)
    assert answer == (refusal(400, client_closes=True) if refused else echoed(b"a" * chunks, close=True))


async def test_a_real_clients_chunked_megabyte_in_16_kib_chunks_is_served():
    endpoint, port, app = await start()
    body = bytes(range(256)) * 4096  # 1 MiB: max_body_size exactly
    head = b"POST /echo HTTP/1.1\r\nhost: a\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n"
    pieces = [body[i : i + 16384] for i in range(0, len(body), 16384)]
    answer = await send_while_reading(await open_stream(port), head + chunked(*pieces))
    assert answer == echoed(body, close=True)


async def test_a_content_length_over_max_body_size_is_answered_413_before_the_body_is_sent():
    endpoint, port, app = await start(max_body_size=10)
    answer = await raw_exchange(port, b"POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 11\r\n\r\n")
    assert answer == TOO_LARGE
    assert stats(endpoint, "bad_requests", "requests") == (1, 0)


async def test_a_body_over_max_body_size_sent_at_once_still_gets_its_413():
    # The server stops reading at the limit; it must not reset the client
    # (unread data at close) before the client has read the answer.
    endpoint, port, app = await start(max_body_size=1000)
    head = b"POST /echo HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n"
    answer = await send_while_reading(await open_stream(port), head + chunked(*[b"x" * 1000] * 2000))
    assert answer == TOO_LARGE


async def test_expect_100_continue_with_a_huge_content_length_gets_413_and_no_100():
    endpoint, port, app = await start()
    head = b"POST /echo HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 1000000000\r\n\r\n"
    assert await raw_exchange(port, head) == TOO_LARGE
    assert app.paths == []


async def test_expect_100_continue_gets_100_then_the_body_is_read():
    endpoint, port, app = await start()
    stream = await open_stream(port)
    await stream.send_all(b"POST /echo HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n")
    with trio.fail_after(5):  # an upper bound: before the fix, no 100 ever came
        interim = b""
        while len(interim) < len(CONTINUE):
            interim += await stream.receive_some(len(CONTINUE) - len(interim))
    assert interim == CONTINUE
    await stream.send_all(b"hello")
    response = await stream.receive_some(65536)
    assert response == echoed(b"hello")


# ---------------------------------------------------------------- deadlines (issue #12 item 6)


async def test_a_fresh_connection_that_sends_nothing_is_closed_at_header_timeout(autojump_clock):
    endpoint, port, app = await start(header_timeout=10.0, idle_timeout=60.0)
    answer, elapsed = await trickle_until_closed(await open_stream(port), b"")
    assert answer == b""
    assert 10.0 <= elapsed < 11.0
    assert stats(endpoint, "request_timeouts", "bad_requests", "requests") == (1, 0, 0)


async def test_a_head_trickled_a_byte_a_second_gets_408_at_header_timeout_from_its_first_byte(autojump_clock):
    endpoint, port, app = await start(header_timeout=10.0, idle_timeout=60.0)
    client = await HTTPClient.open(port)
    assert (await client.request("GET", "/first")).status == 200  # the server now waits for the next request
    answer, elapsed = await trickle_until_closed(client.stream, b"GET /second HTTP/1.1\r\nhost: a\r\nx-slow: 1\r\n")
    assert answer == TIMED_OUT
    assert 10.0 <= elapsed < 11.0  # every byte came within the idle timeout: only the head's deadline ends it
    assert stats(endpoint, "request_timeouts", "requests") == (1, 1) and app.paths == ["/first"]


async def test_a_fresh_connections_trickled_head_gets_408(autojump_clock):
    endpoint, port, app = await start(header_timeout=10.0, idle_timeout=60.0)
    answer, elapsed = await trickle_until_closed(await open_stream(port), b"GET /slow HTTP/1.1\r\nhost: a\r\nx-slow: 1\r\n")
    assert answer == TIMED_OUT
    assert 10.0 <= elapsed < 11.0
    assert app.paths == []


async def test_a_keep_alive_connection_may_stay_silent_for_idle_timeout_between_requests(autojump_clock):
    endpoint, port, app = await start(header_timeout=10.0, idle_timeout=60.0)
    client = await HTTPClient.open(port)
    assert (await client.request("GET", "/first")).status == 200
    await trio.sleep(30.0)  # past header_timeout, within idle_timeout
    assert (await client.request("GET", "/second")).status == 200
    answer, elapsed = await trickle_until_closed(client.stream, b"")
    assert (answer, 60.0 <= elapsed < 61.0) == (b"", True)
    assert stats(endpoint, "request_timeouts") == (0,)


async def test_a_body_trickled_past_body_timeout_gets_408(autojump_clock):
    endpoint, port, app = await start(body_timeout=30.0, idle_timeout=60.0)
    stream = await open_stream(port)
    await stream.send_all(b"POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\n")
    answer, elapsed = await trickle_until_closed(stream, b"x" * 100)
    assert answer == TIMED_OUT
    assert 30.0 <= elapsed < 31.0
    assert stats(endpoint, "request_timeouts", "requests") == (1, 0) and app.paths == []


async def test_a_slow_body_within_body_timeout_is_served(autojump_clock):
    endpoint, port, app = await start(body_timeout=30.0, idle_timeout=60.0)
    stream = await open_stream(port)
    await stream.send_all(b"POST /echo HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 20\r\n\r\n")
    answer, _ = await trickle_until_closed(stream, b"y" * 20)
    assert answer == echoed(b"y" * 20, close=True)


async def test_a_peer_that_does_not_read_its_responses_is_closed_after_idle_timeout(autojump_clock):
    endpoint, port, app = await start(idle_timeout=20.0)
    stream = await open_stream(port, receive_buffer=4096)
    await stream.send_all(b"GET /first HTTP/1.1\r\nhost: a\r\n\r\n")
    first = await stream.receive_some(65536)
    assert first == ok(b"GET /first")
    pid = await only_connection(endpoint)
    ref = otp.monitor(pid)
    await stream.send_all(b"GET /big HTTP/1.1\r\nhost: a\r\n\r\n" * 3)  # 12 MiB of answers nobody reads
    started = trio.current_time()
    await assert_down(ref, otp.NORMAL, timeout=25.0)
    assert 20.0 <= trio.current_time() - started < 21.0


@pytest.mark.parametrize(
    "options, message",
    [
        ({"header_timeout": 0}, "header_timeout must be a number of seconds > 0 (math.inf: never); got 0"),
        ({"body_timeout": -1}, "body_timeout must be a number of seconds > 0 (math.inf: never); got -1"),
        ({"max_header_count": 0}, "max_header_count must be an int >= 1 (headers in one request); got 0"),
    ],
)
def test_the_new_limits_are_checked_with_the_fix(options, message):
    with pytest.raises(ValueError) as caught:
        ConnectionLimits(**options)
    assert str(caught.value) == message


def test_the_new_limits_defaults():
    limits = ConnectionLimits()
    assert (limits.header_timeout, limits.body_timeout, limits.max_header_count) == (10.0, 60.0, 100)


# ---------------------------------------------------------------- max_connections (issue #12 item 6)


@pytest.mark.parametrize(
    "fd_limit, expected",
    [(64, 32), (256, 192), (1024, 922), (20_000, 18_000), (1 << 20, 943_719), (math.inf, math.inf)],
)
def test_the_default_max_connections_leaves_a_reserve_of_descriptors(fd_limit, expected):
    assert default_max_connections(fd_limit) == expected


async def test_past_max_connections_new_connections_are_closed_at_once_counted_and_logged_once(caplog):
    endpoint, port, app = await start(max_connections=2)
    held = [await HTTPClient.open(port) for _ in range(2)]
    for client in held:
        assert (await client.request("GET", "/held")).status == 200
    with caplog.at_level(logging.WARNING, logger="web"):
        for _ in range(50):
            assert await raw_exchange(port, b"GET / HTTP/1.1\r\nhost: a\r\n\r\n") == b""
    assert stats(endpoint, "accepted", "rejected", "active") == (52, 50, 2)
    warnings = [r for r in caplog.records if r.name == "web.endpoint" and r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"endpoint {endpoint!r} on 127.0.0.1:{port} refused 1 connection(s): max_connections (2) reached"
        " (logged at most every 10 s)"
    ]
    assert len(await otp.DynamicSupervisor.which_children(Endpoint.connection_supervisor(endpoint))) == 2
    for client in held:
        assert (await client.request("GET", "/after")).status == 200


async def test_at_max_connections_the_oldest_connection_still_sending_its_first_head_makes_room(caplog):
    endpoint, port, app = await start(max_connections=3)
    trickling = [await open_stream(port) for _ in range(3)]
    for stream in trickling:  # a slowloris: three seats held with heads never finished
        await stream.send_all(b"GET / HTTP/1.1\r\nHo")
    await wait_all_tasks_blocked()
    assert stats(endpoint, "active") == (3,)
    with caplog.at_level(logging.WARNING, logger="web"):
        for _ in range(3):
            # The first newcomer takes the oldest trickler's seat; the next ones find a seat
            # free (the first one's, once it was answered) and evict nobody.
            answer = await raw_exchange(port, b"GET /fresh HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
            assert answer == ok(b"GET /fresh", close=True)
        await trickling[2].send_all(b"st: a\r\n\r\n")  # the youngest trickler finishes its head
    assert await read_until_eof(trickling[0]) == b""  # evicted: closed without an answer
    assert stats(endpoint, "accepted", "evicted", "rejected") == (6, 1, 0)
    assert [r for r in caplog.records if r.name.startswith("web")] == []  # evictions are counted, not logged
    assert await trickling[2].receive_some(1000) == ok(b"GET /")  # and is served: only the oldest was evicted
    assert app.paths == ["/fresh"] * 3 + ["/"]


async def test_at_max_connections_connections_that_completed_a_request_are_never_evicted():
    endpoint, port, app = await start(max_connections=2)
    held = [await HTTPClient.open(port) for _ in range(2)]
    for client in held:
        assert (await client.request("GET", "/held")).status == 200  # now idle on keep-alive
    assert await raw_exchange(port, b"GET /fresh HTTP/1.1\r\nhost: a\r\n\r\n") == b""  # refused
    assert stats(endpoint, "evicted", "rejected") == (0, 1)
    for client in held:
        assert (await client.request("GET", "/after")).status == 200


# ---------------------------------------------------------------- the descriptor limit, in a process of its own

SERVER = textwrap.dedent(
    """
    import json, logging, resource, sys
    import trio, otp
    from web import Endpoint, Response
    from web.endpoint import _state_of

    soft, hard, max_connections = json.loads(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")

    async def hello(request):
        return Response(200, {}, "hello")

    async def main():
        options = {} if max_connections is None else {"max_connections": max_connections}
        endpoint = await Endpoint.start_link(hello, port=0, telemetry_period=None, **options)
        report = {"port": Endpoint.address(endpoint)[1], "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
                  "max_connections": _state_of(endpoint).max_connections}
        print(json.dumps(report), flush=True)
        stdin = trio.lowlevel.FdStream(0)
        while await stdin.receive_some(1):  # one byte: print the statistics; EOF: stop
            statistics = Endpoint.statistics(endpoint)
            counts = {name: getattr(statistics, name) for name in ("accepted", "rejected", "active")}
            print(json.dumps(counts), flush=True)

    otp.run(main)
    """
)


class ServerProcess:
    """A server in a subprocess with its own descriptor limit; stdout lines are JSON, stderr its log."""

    def __init__(self, soft, hard, max_connections=None):
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, json.dumps([soft, hard, max_connections])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=os.getcwd(),
        )
        self.started = self.read_json()
        self.log: list[str] = []

    def read_json(self):
        line = self.process.stdout.readline()
        assert line, self.process.stderr.read().decode()
        return json.loads(line)

    def statistics(self):
        self.process.stdin.write(b"?")
        self.process.stdin.flush()
        return self.read_json()

    def wait_for_log(self, text: str) -> str:
        """The first line of the server's log holding ``text``, once it is written (blocks: run in a thread)."""
        while True:
            line = self.process.stderr.readline().decode()
            assert line, "\n".join(self.log)
            self.log.append(line.rstrip("\n"))
            if text in line:
                return line

    def stop(self) -> list[str]:
        """Stop the server; return its whole log, line by line."""
        self.process.stdin.close()
        self.process.wait(timeout=10)
        return self.log + self.process.stderr.read().decode().splitlines()


@pytest.mark.slow
async def test_the_default_max_connections_comes_from_the_raised_descriptor_limit():
    server = await trio.to_thread.run_sync(ServerProcess, 100, 200)
    try:
        assert server.started["nofile"] == [200, 200]  # the soft limit was raised to the hard one
        assert server.started["max_connections"] == 136  # 200 - max(200 // 10, min(64, 200 // 2))
        port = server.started["port"]
        held = [await HTTPClient.open(port) for _ in range(136)]
        for client in held:
            assert (await client.request("GET", "/")).status == 200
        assert await raw_exchange(port, b"GET / HTTP/1.1\r\nhost: a\r\n\r\n") == b""
        assert await trio.to_thread.run_sync(server.statistics) == {"accepted": 137, "rejected": 1, "active": 136}
        for client in held:
            await client.aclose()
    finally:
        log = await trio.to_thread.run_sync(server.stop)
    assert not any("Traceback" in line or "Too many open files" in line for line in log), log


@pytest.mark.slow
async def test_accept_failing_for_want_of_descriptors_is_logged_once_and_accepting_resumes():
    # An explicit max_connections above what the descriptors allow: accept() runs out (EMFILE).
    server = await trio.to_thread.run_sync(ServerProcess, 40, 40, 1000)
    try:
        port = server.started["port"]
        clients = [await HTTPClient.open(port) for _ in range(60)]  # the kernel queues what is not accepted
        line = await trio.to_thread.run_sync(server.wait_for_log, "accept()")
        assert line.startswith("ERROR web.endpoint endpoint ")
        assert "accept() failed 1 time(s) ([Errno 24] Too many open files); retrying every 100 ms" in line
        accepted = (await trio.to_thread.run_sync(server.statistics))["accepted"]
        assert 20 < accepted < 40  # the queue is first in, first out: these are the first ones
        for client in clients[:accepted]:
            assert (await client.request("GET", "/")).status == 200
            await client.aclose()
        for client in clients[accepted:]:  # accepted once descriptors were freed
            assert (await client.request("GET", "/")).status == 200
    finally:
        log = await trio.to_thread.run_sync(server.stop)
    assert [line for line in log if "accept()" in line] == [line.rstrip("\n")], log
    assert not any("Traceback" in line for line in log)


# ---------------------------------------------------------------- smuggling and resets (issue #12 item 9)


async def test_content_length_with_transfer_encoding_is_400_and_the_smuggled_request_is_not_served():
    endpoint, port, app = await start()
    smuggler = (
        b"POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 39\r\ntransfer-encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: a\r\n\r\n"
    )
    assert await raw_exchange(port, smuggler) == BAD_REQUEST
    assert app.paths == []
    assert stats(endpoint, "bad_requests", "requests") == (1, 0)


async def test_transfer_encoding_on_http_1_0_is_400():
    endpoint, port, app = await start()
    answer = await raw_exchange(port, b"POST /echo HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    assert answer == refusal(400, client_closes=True)
    assert app.paths == []


async def test_a_reset_in_the_middle_of_a_response_is_a_normal_close_without_crash_report():
    endpoint, port, app = await start()
    stream = await open_stream(port, receive_buffer=4096)
    await stream.send_all(b"GET /first HTTP/1.1\r\nhost: a\r\n\r\n")
    assert await stream.receive_some(65536) == ok(b"GET /first")
    ref = otp.monitor(await only_connection(endpoint))
    with capture_crash_reports() as reports:
        await stream.send_all(b"GET /big HTTP/1.1\r\nhost: a\r\n\r\n")
        assert (await stream.receive_some(100)).startswith(b"HTTP/1.1 200 OK\r\n")  # it is writing 4 MiB
        reset(stream)
        await assert_down(ref, otp.NORMAL, timeout=5)
    assert reports == []


async def test_a_reset_before_the_handlers_answer_is_written_is_a_normal_close():
    endpoint, port, app = await start()
    stream = await open_stream(port)
    await stream.send_all(b"GET /first HTTP/1.1\r\nhost: a\r\n\r\n")
    assert await stream.receive_some(65536) == ok(b"GET /first")
    ref = otp.monitor(await only_connection(endpoint))
    with capture_crash_reports() as reports:
        await stream.send_all(b"GET /wait HTTP/1.1\r\nhost: a\r\n\r\n")
        while app.paths != ["/first", "/wait"]:
            await trio.testing.wait_all_tasks_blocked()
        reset(stream)
        app.go.set()
        await assert_down(ref, otp.NORMAL, timeout=5)
    assert reports == []


async def test_a_reset_while_the_body_is_read_is_a_normal_close():
    endpoint, port, app = await start()
    stream = await open_stream(port)
    await stream.send_all(b"GET /first HTTP/1.1\r\nhost: a\r\n\r\n")
    assert await stream.receive_some(65536) == ok(b"GET /first")
    ref = otp.monitor(await only_connection(endpoint))
    with capture_crash_reports() as reports:
        await stream.send_all(b"POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 1000\r\n\r\nonly a part")
        reset(stream)
        await assert_down(ref, otp.NORMAL, timeout=5)
    assert reports == [] and stats(endpoint, "bad_requests") == (0,)


@pytest.mark.parametrize(
    "bad_request",
    [
        pytest.param(b"NONSENSE\r\n\r\n", id="malformed"),
        pytest.param(b"POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 99999999\r\n\r\n", id="too large"),
    ],
)
async def test_a_reset_while_a_refusal_is_written_or_lingered_on_is_a_normal_close(bad_request):
    endpoint, port, app = await start()
    stream = await open_stream(port)
    await stream.send_all(b"GET /first HTTP/1.1\r\nhost: a\r\n\r\n")
    assert await stream.receive_some(65536) == ok(b"GET /first")
    ref = otp.monitor(await only_connection(endpoint))
    with capture_crash_reports() as reports:
        await stream.send_all(bad_request)
        reset(stream)
        await assert_down(ref, otp.NORMAL, timeout=5)
    assert reports == []


async def test_head_gets_the_headers_get_would_get_and_no_body():
    endpoint, port, app = await start()
    client = await HTTPClient.open(port)
    with capture_crash_reports() as reports:
        await client.stream.send_all(b"HEAD /page HTTP/1.1\r\nhost: a\r\n\r\nGET /next HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
        answer = await read_until_eof(client.stream)
    assert answer == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 10\r\n\r\n"
        + ok(b"GET /next", close=True)
    )
    assert reports == []


# ---------------------------------------------------------------- the rest of the hostile repertoire


async def test_pipelined_requests_are_answered_in_order():
    endpoint, port, app = await start()
    requests = b"".join(b"GET /%d HTTP/1.1\r\nhost: a\r\n\r\n" % i for i in range(3))
    answer = await raw_exchange(port, requests + b"GET /last HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
    expected = ok(b"GET /0") + ok(b"GET /1") + ok(b"GET /2")
    assert answer == expected + ok(b"GET /last", close=True)


async def test_a_malformed_request_in_a_pipeline_ends_it_there():
    endpoint, port, app = await start()
    answer = await raw_exchange(port, b"GET /a HTTP/1.1\r\nhost: a\r\n\r\nNONSENSE\r\n\r\nGET /c HTTP/1.1\r\nhost: a\r\n\r\n")
    assert answer == ok(b"GET /a") + BAD_REQUEST
    assert app.paths == ["/a"]


async def test_requests_after_connection_close_are_not_served():
    endpoint, port, app = await start()
    answer = await raw_exchange(port, b"GET /a HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\nGET /b HTTP/1.1\r\nhost: a\r\n\r\n")
    assert answer == ok(b"GET /a", close=True)
    assert app.paths == ["/a"]


@pytest.mark.parametrize("count, answer", [(100, ok(b"GET /", close=True)), (101, refusal(431, client_closes=True))])
async def test_at_most_max_header_count_headers(count, answer):
    endpoint, port, app = await start()
    headers = b"host: a\r\nconnection: close\r\n" + b"".join(b"x%d: y\r\n" % i for i in range(count - 2))
    assert await raw_exchange(port, b"GET / HTTP/1.1\r\n" + headers + b"\r\n") == answer


@pytest.mark.parametrize(
    "request_bytes, answer",
    [
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", BAD_VERSION),  # the HTTP/2 preface
        (b"GET / HTTP/3.0\r\nhost: a\r\n\r\n", BAD_VERSION),
        (b"CONNECT a:443 HTTP/1.1\r\nhost: a\r\n\r\n", refusal(501)),  # a proxy's method: its 200 would switch protocols
        (b"G(T / HTTP/1.1\r\nhost: a\r\n\r\n", BAD_REQUEST),
        (b"GET /\x01 HTTP/1.1\r\nhost: a\r\n\r\n", BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n", BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nhost: a\r\ncontent-length: -1\r\n\r\n", BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 1, 2\r\n\r\n", BAD_REQUEST),
    ],
)
async def test_absurd_requests_get_a_precise_status_and_only_their_connection_ends(request_bytes, answer):
    endpoint, port, app = await start()
    other = await HTTPClient.open(port)
    with capture_crash_reports() as reports:
        assert await raw_exchange(port, request_bytes) == answer
    assert reports == [] and app.paths == []
    assert (await other.request("GET", "/other")).status == 200
