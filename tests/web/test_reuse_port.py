"""Endpoint(reuse_port=True): endpoints listening on one port, the kernel spreading connections among them."""

import errno

import pytest
import trio

from otp import StartError
from otp.testing import capture_crash_reports
from web._http import Response
from web.endpoint import Endpoint


def answering(name: str):
    async def handler(request):
        return Response(200, {"content-type": "text/plain"}, name)

    return handler


async def get(port: int) -> bytes:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    answer = b""
    while chunk := await stream.receive_some(4096):
        answer += chunk
    await stream.aclose()
    return answer.rsplit(b"\r\n\r\n", 1)[1]


async def test_two_endpoints_share_a_port_and_both_are_served():
    first = await Endpoint.start_link(answering("first"), port=0, reuse_port=True)
    port = Endpoint.address(first)[1]
    second = await Endpoint.start_link(answering("second"), port=port, reuse_port=True)
    assert Endpoint.address(second) == ("127.0.0.1", port)
    served = [await get(port) for _ in range(64)]  # each from a new source port: a new hash
    assert set(served) == {b"first", b"second"}


async def test_without_reuse_port_a_taken_port_is_a_start_error():
    first = await Endpoint.start_link(answering("first"), port=0, reuse_port=True)
    port = Endpoint.address(first)[1]
    with capture_crash_reports():
        with pytest.raises(StartError) as taken:
            await Endpoint.start_link(answering("second"), port=port)
    assert isinstance(taken.value.reason, OSError) and taken.value.reason.errno == errno.EADDRINUSE
