"""The pure half of the WebSocket transport: upgrade checks, Origin, the auth-token subprotocol; web's exports."""

import doctest

import pytest

import web
import web.transports.websocket
from web import ConnectInfo, Request, Response, WebSocket
from web.transports.websocket import Offer, negotiate, origin_allowed

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GOOD = {
    "host": "example.com:4000",
    "upgrade": "websocket",
    "connection": "keep-alive, Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": KEY,
}
OPTIONS = WebSocket(handler=None)


def request(method="GET", drop=(), **headers):
    merged = {k: v for k, v in {**GOOD, **headers}.items() if k not in drop}
    return Request(method, "/socket/websocket", {"vsn": "2.0.0"}, merged, ("127.0.0.1", 5000))


def test_the_module_doctests_pass():
    assert doctest.testmod(web.transports.websocket).failed == 0


def test_a_good_request_gives_the_offer_with_the_rfc_accept_key():
    offer = negotiate(request(), OPTIONS)
    assert offer == Offer(
        ConnectInfo(request().headers, ("127.0.0.1", 5000), "/socket/websocket", {"vsn": "2.0.0"}, None, None),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",  # RFC 6455 §1.3's example
    )


@pytest.mark.parametrize(
    "bad, status",
    [
        (request("POST"), 400),
        (request("PUT"), 400),
        (request(drop=("upgrade",)), 400),
        (request(upgrade="h2c"), 400),
        (request(connection="keep-alive"), 400),
        (request(drop=("sec-websocket-key",)), 400),
        (request(**{"sec-websocket-version": "8"}), 400),
        (request(origin="https://evil.com"), 403),
        (request(**{"sec-websocket-protocol": "phoenix, base64url.bearer.phx.!!"}), 400),
        (request(**{"sec-websocket-protocol": "phoenix, base64url.bearer.phx.__8"}), 400),  # not UTF-8
    ],
)
def test_each_failed_check_gives_its_refusal(bad, status):
    assert negotiate(bad, OPTIONS) == Response(status)


@pytest.mark.parametrize(
    "offered, subprotocol, token",
    [
        ("phoenix, base64url.bearer.phx.dXNlcjox", "phoenix", "user:1"),
        ("phoenix", "phoenix", None),
        ("base64url.bearer.phx.dXNlcjox", None, "user:1"),  # token without phoenix: decoded, nothing selected
        ("mqtt", None, None),
        ("phoenix, base64url.bearer.phx.fn5-", "phoenix", "~~~"),  # the URL-safe alphabet decodes too
    ],
)
def test_subprotocol_selection_and_token(offered, subprotocol, token):
    info = negotiate(request(**{"sec-websocket-protocol": offered}), OPTIONS).connect_info
    assert (info.subprotocol, info.token) == (subprotocol, token)


@pytest.mark.parametrize(
    "origin, host, check, allowed",
    [
        (None, "a.com", True, True),
        ("https://a.com", "a.com:4000", True, True),
        ("https://b.com", "a.com", True, False),
        ("null", "a.com", True, False),
        ("https://b.com", "a.com", False, True),
        ("https://a.com", "x", ["https://a.com"], True),
        ("http://a.com", "x", ["https://a.com"], False),
        ("https://a.com:8443", "x", ["https://a.com:443"], False),
        ("https://a.com:8443", "x", ["//a.com"], True),
        ("https://deep.sub.a.com", "x", ["//*.a.com"], True),
        ("https://nota.com", "x", ["//*.a.com"], False),
        ("https://a.com", "x", [], False),
    ],
)
def test_origin_check_matrix(origin, host, check, allowed):
    assert origin_allowed(origin, host, check) is allowed


def test_check_origin_option_is_validated_with_a_teaching_message():
    with pytest.raises(TypeError, match="check_origin must be True"):
        WebSocket(handler=None, check_origin="example.com")


def test_web_exports_are_complete_and_say_web():
    assert [name for name in web.__all__ if not hasattr(web, name)] == []
    assert repr(web.Endpoint) == "<class 'web.Endpoint'>"
    assert web.Response(404, [("X-A", "1")], "nope") == web.Response(404, {"x-a": "1"}, b"nope")


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("http://[", "check_origin: 'http://[' is not an origin (Invalid IPv6 URL)"),
        ("//example.com:99999", "check_origin: '//example.com:99999' is not an origin (Port out of range 0-65535)"),
        ("https://", "check_origin: 'https://' names no host"),
    ],
)
def test_an_origin_pattern_that_could_never_match_is_refused_when_the_mount_is_made(pattern, message):
    with pytest.raises(ValueError) as raised:
        WebSocket(handler=None, check_origin=["https://example.com", pattern])
    assert str(raised.value).startswith(message)


def test_good_origin_patterns_are_accepted():
    mount = WebSocket(handler=None, check_origin=["https://example.com", "//*.example.com", "example.org:8443"])
    assert mount.check_origin == ["https://example.com", "//*.example.com", "example.org:8443"]
