"""The WebSocket upgrade against hostile clients (issue #12 item 10): no input raises, each bad one gets 400.

``negotiate`` is pure, so most of this is a matrix of requests and a
property (no header values whatsoever make it raise); then the same inputs
over real TCP, to see the exact answer and the connection closed after it,
and the peer resetting while the refusal or the 101 is written.
"""

import pytest
import trio
from _clients import open_stream, raw_exchange, read_until_eof
from hypothesis import given, settings
from hypothesis import strategies as st

import otp
from otp.testing import assert_down, capture_crash_reports
from web import Endpoint, Request, Response, SocketHandler, WebSocket
from web.transports.websocket import Offer, negotiate

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GOOD = {
    "host": "example.com:4000",
    "upgrade": "websocket",
    "connection": "Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": KEY,
}
OPTIONS = WebSocket(handler=None)
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"


def request(method="GET", drop=(), http_version="1.1", **headers):
    merged = {k: v for k, v in {**GOOD, **headers}.items() if k not in drop}
    return Request(method, "/socket/websocket", {}, merged, ("127.0.0.1", 5000), http_version=http_version)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(request(**{"sec-websocket-key": "dGhlIHNhbXBsZSBub25j\xe9ZQ=="}), id="non-ASCII key"),
        pytest.param(request(**{"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ"}), id="key without padding"),
        pytest.param(request(**{"sec-websocket-key": "c2hvcnQ="}), id="key of 5 bytes"),
        pytest.param(request(**{"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZSE="}), id="key of 17 bytes"),
        pytest.param(request(**{"sec-websocket-key": "not base64 at all!!!!!!!"}), id="key not base64"),
        pytest.param(request(**{"sec-websocket-key": f"{KEY}, {KEY}"}), id="two keys"),
        pytest.param(request(**{"sec-websocket-key": ""}), id="empty key"),
        pytest.param(request(**{"sec-websocket-key": "A" * 16000}), id="huge key"),
        pytest.param(request(**{"sec-websocket-version": "13, 13"}), id="two versions"),
        pytest.param(request(**{"sec-websocket-version": "8, 13"}), id="a version list"),
        pytest.param(request(**{"sec-websocket-version": ""}), id="empty version"),
        pytest.param(request(upgrade=""), id="empty upgrade"),
        pytest.param(request(connection=""), id="empty connection"),
        pytest.param(request(origin="http://["), id="origin http://["),
        pytest.param(request(origin="http://a.com:99999"), id="origin port out of range"),
        pytest.param(request(origin="http://a.com:port"), id="origin port not a number"),
        pytest.param(request(origin="http://\uff03evil.com"), id="origin that NFKC-normalises to a #"),
        pytest.param(request(host="["), id="host ["),
        pytest.param(request(host="[", origin="http://example.com"), id="host [ with an origin"),
        pytest.param(request(host="a.com:99999", origin="http://a.com"), id="host port out of range"),
        pytest.param(request(http_version="1.0"), id="HTTP/1.0"),
        pytest.param(request("POST"), id="POST"),
    ],
)
def test_each_malformed_upgrade_is_refused_with_400(bad):
    assert negotiate(bad, OPTIONS) == Response(400)


def test_origin_lists_with_ports_do_not_raise_on_a_bad_origin_port():
    options = WebSocket(handler=None, check_origin=["//example.com:4000"])
    assert negotiate(request(origin="http://example.com:70000"), options) == Response(400)
    assert isinstance(negotiate(request(origin="http://example.com:4000"), options), Offer)


def test_a_good_request_still_gets_its_offer():
    assert isinstance(negotiate(request(origin="https://example.com"), OPTIONS), Offer)


TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)
HEADER_NAMES = st.sampled_from(
    ["host", "origin", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol"]
)


@settings(max_examples=500, deadline=None)
@given(
    headers=st.dictionaries(HEADER_NAMES, TEXT),
    method=st.sampled_from(["GET", "POST", "HEAD"]),
    version=st.sampled_from(["1.0", "1.1"]),
    check_origin=st.one_of(st.booleans(), st.lists(TEXT, max_size=3)),
)
def test_no_header_values_make_negotiate_raise(headers, method, version, check_origin):
    # Whatever h11 lets through (latin-1 text, repeated headers joined with ", ") gets an answer.
    # (An origin pattern that could never match is refused when the mount is made.)
    try:
        mount = WebSocket(handler=None, check_origin=check_origin)
    except ValueError as error:
        assert str(error).startswith("check_origin: ")
        return
    result = negotiate(
        Request(method, "/socket/websocket", {}, {**GOOD, **headers}, ("127.0.0.1", 1), http_version=version), mount
    )
    assert isinstance(result, Offer) or result.status in (400, 403)


# ---------------------------------------------------------------- over TCP


class Quiet(SocketHandler):
    pass


def upgrade_bytes(*, version=b"1.1", key=KEY.encode(), extra=b""):
    return (
        b"GET /socket/websocket HTTP/" + version + b"\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\n"
        b"connection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: " + key + b"\r\n" + extra + b"\r\n"
    )


async def start(**options):
    websocket = WebSocket(handler=lambda info, accepted: Quiet(), **options)
    endpoint = await Endpoint.start_link(lambda request: None, port=0, websocket=websocket, telemetry_period=None)
    return endpoint, Endpoint.address(endpoint)[1]


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(upgrade_bytes(key=b"dGhlIHNhbXBsZSBub25j\xe9ZQ=="), id="non-ASCII key"),
        pytest.param(upgrade_bytes(key=b"c2hvcnQ="), id="key of 5 bytes"),
        pytest.param(upgrade_bytes(extra=b"origin: http://[\r\n"), id="origin http://["),
        pytest.param(upgrade_bytes().replace(b"host: 127.0.0.1", b"host: [") + b"", id="host ["),
        pytest.param(upgrade_bytes(extra=b"origin: http://127.0.0.1\r\n").replace(b"host: 127.0.0.1", b"host: ["),
                     id="host [ with an origin"),
    ],
)
async def test_each_malformed_upgrade_gets_400_and_is_closed(request_bytes):
    endpoint, port = await start()
    with capture_crash_reports() as reports:
        assert await raw_exchange(port, request_bytes) == BAD_REQUEST
    assert reports == []
    snapshot = Endpoint.statistics(endpoint)
    assert (snapshot.refused, snapshot.upgrades) == (1, 0)


async def test_an_upgrade_over_http_1_0_gets_400_and_is_closed():
    endpoint, port = await start()
    with capture_crash_reports() as reports:
        answer = await raw_exchange(port, upgrade_bytes(version=b"1.0"))
    # (h11 writes the close its own way to an HTTP/1.0 client)
    assert answer == b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nConnection: close\r\n\r\n"
    assert reports == []
    snapshot = Endpoint.statistics(endpoint)
    assert (snapshot.refused, snapshot.upgrades) == (1, 0)


@pytest.mark.parametrize("accepted", [False, True], ids=["the refusal", "the 101"])
async def test_a_peer_reset_while_the_answer_is_written_is_a_normal_close(accepted):
    answer_now = trio.Event()
    asked = trio.Event()

    async def accept(info):
        asked.set()
        await answer_now.wait()
        return accepted

    endpoint, port = await start(accept=accept)
    stream = await open_stream(port)
    await stream.send_all(upgrade_bytes())
    await asked.wait()
    [child] = await otp.DynamicSupervisor.which_children(Endpoint.connection_supervisor(endpoint))
    ref = otp.monitor(child.pid)
    with capture_crash_reports() as reports:
        stream.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        stream.socket.close()
        answer_now.set()
        await assert_down(ref, otp.NORMAL, timeout=5)
    assert reports == []


async def test_a_post_to_the_upgrade_path_with_a_body_is_400():
    endpoint, port = await start()
    stream = await open_stream(port)
    await stream.send_all(upgrade_bytes(extra=b"content-length: 4\r\n").replace(b"GET", b"POST") + b"body")
    assert await read_until_eof(stream) == BAD_REQUEST
