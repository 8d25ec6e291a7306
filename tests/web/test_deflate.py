"""permessage-deflate (RFC 7692): the negotiation matrix, and the codec over real loopback sockets.

The wire tests speak the protocol by hand (a raw handshake, frames built
here, RSV1 read off the server's frames), so that what the server puts on
the wire is what is checked; ``test_a_real_client_...`` uses the
``websockets`` library, a client written by others.
"""

import base64
import os
import struct
import tracemalloc
import zlib

import pytest
import trio
from _clients import HOST, open_stream

import otp
from otp.testing import assert_receive, capture_crash_reports
from web import Endpoint, SocketHandler, WebSocket
from web.transports._deflate import DeflateAgreement, negotiate_deflate
from web.transports.websocket import Deflate

CHROMIUM_OFFER = "permessage-deflate; client_max_window_bits"
DEFAULT = Deflate()


# ---------------------------------------------------------------- the negotiation matrix (pure)


@pytest.mark.parametrize(
    "offer, options, response",
    [
        # Not offered, or turned off: no compression.
        (None, DEFAULT, None),
        ("", DEFAULT, None),
        ("x-webkit-deflate-frame", DEFAULT, None),
        (CHROMIUM_OFFER, None, None),
        # What browsers offer: Chromium (and Safari) say they can take a client window; Firefox offers it bare.
        (
            CHROMIUM_OFFER,
            DEFAULT,
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15",
        ),
        ("permessage-deflate", DEFAULT, "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"),
        ("Permessage-Deflate ;  Client_Max_Window_Bits", DEFAULT, "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15"),
        # The client's limits are kept: a smaller server window, no server context takeover.
        ("permessage-deflate; server_max_window_bits=9", DEFAULT, "permessage-deflate; client_no_context_takeover; server_max_window_bits=9"),
        ("permessage-deflate; server_max_window_bits=12", DEFAULT, "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"),
        ('permessage-deflate; server_max_window_bits="12"', DEFAULT, "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"),
        (
            "permessage-deflate; server_no_context_takeover",
            DEFAULT,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10",
        ),
        ("permessage-deflate; client_max_window_bits=11", DEFAULT, "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11"),
        ("permessage-deflate; client_max_window_bits=8", DEFAULT, "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8"),
        # Our options.
        ("permessage-deflate", Deflate(server_max_window_bits=15), "permessage-deflate; client_no_context_takeover"),
        (
            "permessage-deflate",
            Deflate(server_context_takeover=False),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10",
        ),
        (CHROMIUM_OFFER, Deflate(client_context_takeover=True, client_max_window_bits=12), "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12"),
        # Declined offers (RFC 7692 §7): the next one is tried.
        ("permessage-deflate; server_max_window_bits=8, permessage-deflate", DEFAULT, "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"),
        ("permessage-deflate; server_max_window_bits=8", DEFAULT, None),  # zlib cannot keep to 256 bytes
        ("permessage-deflate; server_max_window_bits", DEFAULT, None),  # needs a value
        ("permessage-deflate; server_max_window_bits=16", DEFAULT, None),
        ("permessage-deflate; client_max_window_bits=7", DEFAULT, None),
        ("permessage-deflate; client_max_window_bits=010", DEFAULT, None),  # no leading zero
        ("permessage-deflate; client_max_window_bits=abc", DEFAULT, None),
        ("permessage-deflate; client_max_window_bits=١٠", DEFAULT, None),  # digits, not ASCII ones
        ("permessage-deflate; server_no_context_takeover=1", DEFAULT, None),  # takes no value
        ("permessage-deflate; client_no_context_takeover; client_no_context_takeover", DEFAULT, None),  # twice
        ("permessage-deflate; mystery", DEFAULT, None),  # unknown
        ("permessage-deflate; ;; =", DEFAULT, None),
    ],
)
def test_negotiation_matrix(offer, options, response):
    agreement = negotiate_deflate(offer, options)
    assert (None if agreement is None else agreement.response) == response


def test_the_agreement_says_what_each_side_does():
    agreed = negotiate_deflate("permessage-deflate; server_max_window_bits=9; client_max_window_bits=12", DEFAULT)
    assert agreed == DeflateAgreement(
        response="permessage-deflate; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12",
        server_context_takeover=True,
        server_window_bits=9,
        client_context_takeover=False,
        client_window_bits=12,
        level=6,
        mem_level=1,
    )


def test_a_client_not_told_a_window_may_use_the_largest():
    assert negotiate_deflate("permessage-deflate", DEFAULT).client_window_bits == 15


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(server_max_window_bits=8), "Deflate server_max_window_bits must be an int from 9 to 15 (a window of 2**bits bytes); got 8"),
        (dict(client_max_window_bits=16), "Deflate client_max_window_bits must be an int from 9 to 15 (a window of 2**bits bytes); got 16"),
        (dict(level=0), "Deflate level must be an int from 1 to 9 (1 is fastest, 9 smallest); got 0"),
        (dict(mem_level=True), "Deflate mem_level must be an int from 1 to 9 (zlib's memLevel); got True"),
    ],
)
def test_bad_options_are_refused_with_what_was_expected(options, message):
    with pytest.raises(ValueError) as raised:
        Deflate(**options)
    assert str(raised.value) == message


def test_compress_takes_true_false_or_deflate():
    assert WebSocket(handler=None).compress is None  # off by default, as in Phoenix
    assert WebSocket(handler=None, compress=True).compress == Deflate()
    assert WebSocket(handler=None, compress=False).compress is None
    assert WebSocket(handler=None, compress=None).compress is None
    assert WebSocket(handler=None, compress=Deflate(level=1)).compress == Deflate(level=1)
    with pytest.raises(TypeError, match=r"compress must be True, False or a web.transports.websocket.Deflate\(...\); got 'yes'"):
        WebSocket(handler=None, compress="yes")


# ---------------------------------------------------------------- the wire, by hand


class Echo(SocketHandler):
    """Echoes text; ``"many <n> <size>"`` answers n messages of ``size`` bytes at once; tells the test process."""

    def __init__(self, notify):
        self.notify = notify

    async def on_open(self, sender):
        self.sender = sender

    async def on_text(self, text):
        if text.startswith("many "):
            _, count, size = text.split()
            sent = [self.sender.send_text("a" * int(size)) for _ in range(int(count))]
            otp.send(self.notify, ("sent", sent.count(True)))
        else:
            self.sender.send_text(text)

    async def on_binary(self, data):
        self.sender.send_binary(data)

    async def on_close(self, code):
        otp.send(self.notify, ("closed", code))


def equal(value):
    return lambda message: message == value


async def start(**options):
    """An :class:`Echo` endpoint whose mount compresses (``compress=True``, what these tests are about) unless ``options`` say otherwise."""
    options.setdefault("compress", True)
    return await start_mount(**options)


async def start_mount(**options):
    """An :class:`Echo` endpoint on ``WebSocket(**options)``: the transport's defaults for what is not given (but a 5 s idle timeout)."""
    me = otp.current_pid()
    options.setdefault("idle_timeout", 5.0)
    websocket = WebSocket(handler=lambda info, accepted: Echo(me), **options)
    endpoint = await Endpoint.start_link(None, port=0, websocket=websocket)
    return endpoint, Endpoint.address(endpoint)[1]


class RawSocket:
    """A WebSocket client written here: frames built and parsed by hand, so the test sees the wire."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = bytearray()

    @classmethod
    async def connect(cls, port, extensions=CHROMIUM_OFFER, target="/socket/websocket"):
        client = cls(await open_stream(port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {target} HTTP/1.1",
            f"host: {HOST}:{port}",
            "upgrade: websocket",
            "connection: Upgrade",
            "sec-websocket-version: 13",
            f"sec-websocket-key: {key}",
        ]
        if extensions is not None:
            lines.append(f"sec-websocket-extensions: {extensions}")
        await client.stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await client._read_until(b"\r\n\r\n")
        status, *header_lines = head.decode().split("\r\n")
        client.status = int(status.split()[1])
        client.headers = dict(line.lower().split(": ", 1) for line in header_lines if line)
        return client

    async def _read_until(self, marker):
        while marker not in self.buffer:
            data = await self.stream.receive_some(65536)
            if not data:
                raise EOFError("the server closed the connection")
            self.buffer += data
        head, _, rest = bytes(self.buffer).partition(marker)
        self.buffer = bytearray(rest)
        return head

    async def _read_exactly(self, count):
        while len(self.buffer) < count:
            data = await self.stream.receive_some(65536)
            if not data:
                raise EOFError("the server closed the connection")
            self.buffer += data
        data, self.buffer = bytes(self.buffer[:count]), self.buffer[count:]
        return data

    async def send_frame(self, opcode, payload, *, fin=True, rsv1=False):
        await self.stream.send_all(frame(opcode, payload, fin=fin, rsv1=rsv1))

    async def receive_frame(self):
        """``(fin, rsv1, opcode, payload)`` of the server's next frame (servers do not mask)."""
        first, second = await self._read_exactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self._read_exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._read_exactly(8))
        return bool(first & 0x80), bool(first & 0x40), first & 0x0F, await self._read_exactly(length)

    async def receive_close_code(self, *, answer=True):
        """The code of the server's close frame, skipping any data frame before it; answered by ours.

        ``answer=False`` leaves it unanswered (the caller ends the connection itself).
        """
        while True:
            _, _, opcode, payload = await self.receive_frame()
            if opcode == CLOSE:
                if answer:
                    await self.send_frame(CLOSE, payload[:2])
                return struct.unpack("!H", payload[:2])[0]


TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def frame(opcode, payload, *, fin=True, rsv1=False, mask=b"\x01\x02\x03\x04"):
    """A client frame (masked, as RFC 6455 §5.3 wants)."""
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    length = len(payload)
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 else _mask_fast(payload, mask)
    return head + mask + masked


def _mask_fast(payload, mask):
    key = int.from_bytes((mask * (len(payload) // 4 + 1))[: len(payload)], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(len(payload), "big")


def deflate(data, compressor=None):
    """``data`` as one message's payload (RFC 7692 §7.2.1: sync flush, the 4-byte tail stripped)."""
    compressor = compressor or zlib.compressobj(6, zlib.DEFLATED, -15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def inflate(payload, inflater=None):
    inflater = inflater or zlib.decompressobj(-15)
    return inflater.decompress(payload + b"\x00\x00\xff\xff")


async def test_the_101_agrees_and_a_compressed_message_round_trips():
    endpoint, port = await start()
    client = await RawSocket.connect(port)
    assert client.status == 101
    agreed = "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15"
    assert client.headers["sec-websocket-extensions"] == agreed
    text = '{"topic":"room:lobby","event":"new_msg","payload":{"body":"hello hello hello hello"}}'
    await client.send_frame(TEXT, deflate(text.encode()), rsv1=True)
    fin, rsv1, opcode, payload = await client.receive_frame()
    assert (fin, rsv1, opcode) == (True, True, TEXT)
    assert len(payload) < len(text)
    assert inflate(payload).decode() == text


async def test_without_an_offer_or_with_compress_false_frames_go_plain():
    for compress, offer in [(True, None), (False, CHROMIUM_OFFER)]:
        endpoint, port = await start(compress=compress)
        client = await RawSocket.connect(port, extensions=offer)
        assert client.status == 101 and "sec-websocket-extensions" not in client.headers
        await client.send_frame(TEXT, b"a" * 500)
        assert await client.receive_frame() == (True, False, TEXT, b"a" * 500)
        # RSV1 without an agreement is a protocol error (RFC 6455 §5.2).
        await client.send_frame(TEXT, deflate(b"hi"), rsv1=True)
        assert await client.receive_close_code() == 1002


async def test_a_default_mount_declines_the_offer_and_sends_plain_frames():
    """Off by default, as in Phoenix: a client offering permessage-deflate as Chromium does gets none."""
    endpoint, port = await start_mount()
    client = await RawSocket.connect(port, extensions=CHROMIUM_OFFER)
    assert client.status == 101 and "sec-websocket-extensions" not in client.headers
    text = b'[null,null,"room:lobby","new_msg",{"user":"alice","body":"hello number 1, how are you?"}]'
    for _ in range(2):  # a repeat, which our context would compress to a few bytes: plain too
        await client.send_frame(TEXT, text)
        assert await client.receive_frame() == (True, False, TEXT, text)
    await client.send_frame(TEXT, deflate(b"hi"), rsv1=True)  # nothing was agreed: RSV1 is a protocol error
    assert await client.receive_close_code() == 1002


@pytest.mark.slow
async def test_the_demo_as_shipped_does_not_compress():
    """As a generated Phoenix app: neither of its sockets agrees to an offer."""
    from otp import Supervisor
    from web.demo.app import chat_children

    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    port = int(lines[0].rsplit(":", 1)[1])
    for target in ["/socket/websocket?vsn=2.0.0&user=ann", "/live/websocket?vsn=2.0.0"]:
        client = await RawSocket.connect(port, target=target)
        assert client.status == 101 and "sec-websocket-extensions" not in client.headers, (target, client.headers)
        await client.stream.aclose()


async def test_an_uncompressed_message_is_welcome_after_the_agreement():
    endpoint, port = await start()
    client = await RawSocket.connect(port)
    await client.send_frame(TEXT, b"plain")  # RSV1 unset: this one is not compressed (RFC 7692 §6)
    fin, rsv1, opcode, payload = await client.receive_frame()
    assert inflate(payload) == b"plain"


async def test_context_takeover_makes_a_repeat_cost_a_few_bytes():
    """Ours is kept between messages (default); the client's is not (it was told client_no_context_takeover)."""
    endpoint, port = await start()
    client = await RawSocket.connect(port)
    text = b'[null,null,"room:lobby","new_msg",{"user":"alice","body":"hello number 1, how are you?"}]'
    inflater = zlib.decompressobj(-10)
    sizes = []
    for _ in range(3):
        await client.send_frame(TEXT, deflate(text), rsv1=True)  # a fresh compressor each time: no takeover
        _, rsv1, _, payload = await client.receive_frame()
        assert rsv1 and inflate(payload, inflater) == text
        sizes.append(len(payload))
    assert sizes[0] > 60 and sizes[1] < 15 and sizes[2] < 15


async def test_without_server_context_takeover_each_message_is_compressed_alone_or_sent_plain():
    endpoint, port = await start(compress=Deflate(server_context_takeover=False))
    client = await RawSocket.connect(port)
    assert client.headers["sec-websocket-extensions"].startswith("permessage-deflate; server_no_context_takeover;")
    big = b'{"rows":[' + b",".join(b'{"id":%d,"title":"todo item"}' % i for i in range(40)) + b"]}"
    for _ in range(2):
        await client.send_frame(TEXT, big)
        _, rsv1, _, payload = await client.receive_frame()
        assert rsv1 and len(payload) < len(big) // 3
        assert inflate(payload) == big  # a fresh inflater each time: nothing refers to the message before
    await client.send_frame(TEXT, b"tiny")
    assert await client.receive_frame() == (True, False, TEXT, b"tiny")  # would not shrink: sent as it is


async def test_a_compressed_message_in_fragments_with_a_ping_between_arrives_whole():
    endpoint, port = await start()
    client = await RawSocket.connect(port)
    text = ("fragmented " * 200).encode()
    payload = deflate(text)
    third = len(payload) // 3
    await client.send_frame(TEXT, payload[:third], fin=False, rsv1=True)
    await client.send_frame(PING, b"between")
    await client.send_frame(CONTINUATION, payload[third : 2 * third], fin=False)
    await client.send_frame(CONTINUATION, payload[2 * third :])
    assert await client.receive_frame() == (True, False, PONG, b"between")
    _, rsv1, _, echoed = await client.receive_frame()
    assert inflate(echoed) == text


@pytest.mark.parametrize(
    "frames, code",
    [
        ([(PING, b"x", True, True)], 1002),  # RSV1 on a control frame
        ([(TEXT, deflate(b"ab"), False, True), (CONTINUATION, b"\x00", True, True)], 1002),  # RSV1 on a continuation
        ([(TEXT, b"\xff\xff\xff\xff not deflate", True, True)], 1007),  # not a deflate stream
    ],
)
async def test_bad_compressed_frames_close_with_their_code_and_no_crash_report(frames, code):
    endpoint, port = await start()
    with capture_crash_reports() as reports:
        client = await RawSocket.connect(port)
        for opcode, payload, fin, rsv1 in frames:
            await client.send_frame(opcode, payload, fin=fin, rsv1=rsv1)
        assert await client.receive_close_code(answer=False) == code
        await client.stream.aclose()  # wsproto reads nothing after a frame it refused: our close would go unread
        await assert_receive(equal(("closed", code)), timeout=5)
        other = await RawSocket.connect(port)  # the endpoint serves on
        await other.send_frame(TEXT, b"still here")
        assert inflate((await other.receive_frame())[3]) == b"still here"
    assert reports == []


# ---------------------------------------------------------------- a zip bomb


def bomb(inflated_size, chunk=1 << 20):
    """A deflate stream of ``inflated_size`` zero bytes: ~1 KiB per MiB (deflate's ratio tops out near 1032:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(chunk)
    parts = [compressor.compress(zeros) for _ in range(inflated_size // chunk)]
    parts.append(compressor.flush(zlib.Z_SYNC_FLUSH)[:-4])
    return b"".join(parts)


@pytest.mark.slow
async def test_a_zip_bomb_is_refused_with_1009_before_it_inflates():
    """256 MiB in 255 KiB on the wire: refused once past max_message_size, never held whole, never 64 KiB x 1032 at once."""
    limit = 256 * 1024
    endpoint, port = await start(max_message_size=limit)
    payload = bomb(256 << 20)
    assert len(payload) < 270_000
    wire = frame(BINARY, payload, rsv1=True)
    client = await RawSocket.connect(port)
    with capture_crash_reports() as reports:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            async with trio.open_nursery() as nursery:
                # The server closes after reading a fraction: the rest may not be taken.
                nursery.start_soon(_send_ignoring_reset, client.stream, wire)
                assert await client.receive_close_code(answer=False) == 1009
                nursery.cancel_scope.cancel()
            await client.stream.aclose()  # the close cannot be answered after half a frame: the connection ends
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        await assert_receive(equal(("closed", 1009)), timeout=5)
    # What one read may cost: 64 KiB read, its unmasked copy, at most limit + 1
    # inflated, the message gathered so far (< limit). Unbounded, one 64 KiB read
    # of this stream inflates to 64 MiB.
    assert peak < 6 * limit, peak
    assert Endpoint.statistics(endpoint).messages_too_big == 1
    assert reports == []


async def test_a_message_inflating_past_the_limit_over_many_frames_is_refused_with_1009():
    limit = 64 * 1024
    endpoint, port = await start(max_message_size=limit)
    client = await RawSocket.connect(port)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    piece = os.urandom(16 * 1024)  # incompressible: each frame inflates to 16 KiB
    await client.send_frame(BINARY, compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH), fin=False, rsv1=True)
    for _ in range(3):
        await client.send_frame(CONTINUATION, compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH), fin=False)
    # 64 KiB so far: exactly the limit, still fine; one more byte is one too many.
    await client.send_frame(CONTINUATION, compressor.compress(b"x") + compressor.flush(zlib.Z_SYNC_FLUSH), fin=False)
    assert await client.receive_close_code() == 1009
    assert Endpoint.statistics(endpoint).messages_too_big == 1


async def test_a_message_of_exactly_max_message_size_inflated_is_delivered():
    limit = 64 * 1024
    endpoint, port = await start(max_message_size=limit)
    client = await RawSocket.connect(port)
    data = os.urandom(limit)
    await client.send_frame(BINARY, deflate(data), rsv1=True)
    _, _, opcode, payload = await client.receive_frame()
    assert (opcode, inflate(payload)) == (BINARY, data)


async def _send_ignoring_reset(stream, data):
    try:
        await stream.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


# ---------------------------------------------------------------- the outbound budget


async def test_the_outbound_budget_counts_compressed_bytes():
    """What is queued for a peer is what is held: the compressed frames, not the text they carry.

    200 messages of 10 KB (2 MB of text) are queued at once for a peer not
    reading yet; compressed (a repeat costs a few bytes with context
    takeover) they fit in a 64 KiB budget, so the peer is not shed and gets
    every one. Plain, the same budget sheds it at the seventh.
    """
    endpoint, port = await start(max_outbound_bytes=64 * 1024)
    client = await RawSocket.connect(port)
    await client.send_frame(TEXT, deflate(b"many 200 10000"), rsv1=True)
    await assert_receive(equal(("sent", 200)), timeout=5)
    inflater = zlib.decompressobj(-10)
    for _ in range(200):
        _, rsv1, _, payload = await client.receive_frame()
        assert inflate(payload, inflater) == b"a" * 10000
    stats = Endpoint.statistics(endpoint)
    assert stats.outbound_overflows == 0
    assert stats.bytes_out < 20_000  # 2 MB of text

    plain = await RawSocket.connect(port, extensions=None)
    written_before = Endpoint.statistics(endpoint).bytes_out
    await plain.send_frame(TEXT, b"many 200 10000")
    sent = (await assert_receive(lambda m: m[0] == "sent", timeout=5))[1]
    stats = Endpoint.statistics(endpoint)
    assert stats.outbound_overflows == 1 and sent < 200
    # What the socket did not take at once was queued, up to the budget, and one frame more was refused.
    frame = 10_000 + 4  # (a 2-byte header and a 2-byte length)
    queued = sent * frame - (stats.bytes_out - written_before)
    assert queued <= 64 * 1024 < queued + frame


# ---------------------------------------------------------------- memory per socket


async def _traced_bytes_per_socket(compress, offer, count=20):
    endpoint, port = await start(compress=compress)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        clients = []
        for _ in range(count):
            client = await RawSocket.connect(port, extensions=offer)
            # One message each way, compressed where agreed, so each codec has made what it keeps.
            text = b'{"event":"hello","payload":{"body":"how are you?"}}'
            await client.send_frame(TEXT, deflate(text) if offer else text, rsv1=bool(offer))
            await client.receive_frame()
            clients.append(client)
        return (tracemalloc.get_traced_memory()[0] - before) / count
    finally:
        tracemalloc.stop()
        for client in clients:
            await client.stream.aclose()


async def test_what_compression_costs_per_open_socket():
    """Measured with tracemalloc (zlib allocates through Python's raw allocator, which it traces).

    Default (our context kept, window 2**10, memLevel 1): about 10 KiB more (10,486 B measured)
    than a plain socket; without server context takeover: nothing kept but
    the codec object. The client's inflater is dropped after each message
    either way.
    """
    plain = await _traced_bytes_per_socket(True, None)
    kept = await _traced_bytes_per_socket(True, CHROMIUM_OFFER)
    alone = await _traced_bytes_per_socket(Deflate(server_context_takeover=False), CHROMIUM_OFFER)
    assert 9_000 < kept - plain < 14_000
    assert alone - plain < 1_000


# ---------------------------------------------------------------- a client written by others


async def test_a_real_client_agrees_and_round_trips_compressed():
    """The ``websockets`` library (its sync client, in a thread): it offers permessage-deflate by default."""
    websockets_client = pytest.importorskip("websockets.sync.client")
    endpoint, port = await start()
    texts = [f'{{"event":"new_msg","payload":{{"body":"message {i} of a chat that repeats itself"}}}}' for i in range(50)]

    def talk():
        with websockets_client.connect(f"ws://{HOST}:{port}/socket/websocket") as ws:
            echoed = []
            for text in texts:
                ws.send(text)
                echoed.append(ws.recv(timeout=10))
            ws.send(b"\x00" * 100_000)
            echoed_binary = ws.recv(timeout=10)
            return ws.response.headers["Sec-WebSocket-Extensions"], echoed, echoed_binary

    agreed, echoed, echoed_binary = await trio.to_thread.run_sync(talk)
    assert agreed == "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15"
    assert echoed == texts and echoed_binary == b"\x00" * 100_000
    await assert_receive(equal(("closed", 1000)), timeout=5)
    stats = Endpoint.statistics(endpoint)
    raw = sum(len(t) for t in texts) + 100_000
    # Both ways compressed: the client's 100 KB of zeros too (a window of 2**15 at most, as agreed).
    assert stats.bytes_out < raw // 10 and stats.bytes_in < raw // 10


# ---------------------------------------------------------------- Chromium


@pytest.mark.slow
async def test_chromium_agrees_and_the_demo_counter_works_over_compressed_frames():
    """The demo's counter page in headless Chromium with the official client; what went over the wire is ours to count.

    The demo ships without compression: its LiveView pages are served here
    by their router with ``router.websocket(compress=True)``.
    """
    from _node_tools import run_js

    from otp import DynamicSupervisor, PubSub
    from otp.testing import TelemetryEvent, forward_telemetry
    from web._telemetry import WEBSOCKET_CLOSE
    from web.demo.app import CHANNELS, pages
    from web.demo.chat import PUBSUB
    from web.demo.live import live_router

    await PubSub.start_link(PUBSUB)
    await DynamicSupervisor.start_link(name=CHANNELS)
    router = live_router(pubsub=PUBSUB, channel_supervisor=CHANNELS)
    endpoint = await Endpoint.start_link(router.http(pages), host=HOST, port=0, websocket=router.websocket(compress=True))
    base = "http://{}:{}".format(*Endpoint.address(endpoint))
    with forward_telemetry(WEBSOCKET_CLOSE):
        result = await run_js("browser_deflate.mjs", base, chromium=True, package="playwright-core")
        closed = await assert_receive(lambda m: isinstance(m, TelemetryEvent) and m.metadata["path"] == "/live/websocket", timeout=10)
    stderr = result.pop("stderr")
    received = result.pop("textBytesReceived")
    frames = result.pop("framesReceived")
    assert result == {
        "ok": True,
        "liveSockets": 1,
        "extensions": "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15",
        "counts": ["1", "2"],
        "errors": [],
    }, stderr
    # The join reply (the page's statics) and two diffs: 1,495 bytes of text went
    # over the wire in 711 when measured, frame headers included.
    assert frames >= 3
    assert closed.measurements["bytes_out"] < 0.6 * received, (closed.measurements, received)
