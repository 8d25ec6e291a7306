"""permessage-deflate (RFC 7692) for the WebSocket transport: the options, the negotiation, the codec.

:class:`Deflate` is documented and exported by :mod:`web.transports.websocket`
(its ``compress`` option); the manual, with the memory figures behind the
defaults, is there under "Compression". This module holds three pieces:

* :class:`Deflate`, the options of a mount;
* :func:`negotiate_deflate`, a pure function from the client's
  ``Sec-WebSocket-Extensions`` header to the :class:`DeflateAgreement` (or
  None: no compression on this connection);
* :class:`DeflateCodec`, the wsproto extension a connection runs with once
  an agreement was made: it compresses what we send and inflates what we
  receive, never more than ``max_message_size`` bytes of one message.

Why our own codec rather than wsproto's ``PerMessageDeflate``: that one
inflates whatever arrives without a bound (64 KiB read from the socket can
become 64 MiB before anyone counts), makes a compressor of 256 KiB per
message when there is no context takeover, and forgets it is inside a
compressed message when a ping arrives between two of its fragments.
"""

from __future__ import annotations

import zlib

import attrs
from wsproto.extensions import Extension
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol, Opcode, RsvBits

__all__ = ["Deflate", "DeflateAgreement", "DeflateCodec", "deflate_option", "negotiate_deflate", "EXTENSION"]

EXTENSION = "permessage-deflate"
#: What RFC 7692 §7.2.1 has the sender strip from the end of every message and the receiver put back.
_TAIL = b"\x00\x00\xff\xff"
_DATA_OPCODES = (Opcode.TEXT, Opcode.BINARY)
_NO_RSV = RsvBits(False, False, False)
_RSV1 = RsvBits(True, False, False)


# ---------------------------------------------------------------- the options


def _window_bits(instance, attribute, value) -> None:
    # RFC 7692 allows 8, but zlib cannot make a raw deflate stream with a
    # 256-byte window (it silently uses 512), so 8 would be a promise broken.
    if isinstance(value, bool) or not isinstance(value, int) or not 9 <= value <= 15:
        raise ValueError(f"Deflate {attribute.name} must be an int from 9 to 15 (a window of 2**bits bytes); got {value!r}")


def _int_in(low: int, high: int, what: str):
    def check(instance, attribute, value) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"Deflate {attribute.name} must be an int from {low} to {high} ({what}); got {value!r}")

    return check


@attrs.frozen
class Deflate:
    """How a WebSocket mount compresses: ``WebSocket(..., compress=Deflate(server_max_window_bits=12))``.

    Compression is off by default, as in Phoenix (``compress=False`` or
    None); ``compress=True`` is ``Deflate()``. Once on, it is used only
    with clients that offer it (browsers do); the others get plain frames.
    See "Compression" in :mod:`web.transports.websocket` for what each
    choice costs.

    Attributes:
        server_context_takeover: keep our compressor from one message to
            the next, so a frame like the last one costs a few bytes (a
            chat message ~10 bytes instead of ~90). It holds a window of
            ``2**server_max_window_bits`` bytes and zlib's tables per
            socket (about 10 KiB with the defaults, measured). False: each
            message is compressed alone with one compressor the whole node
            shares (no memory per socket; small frames barely shrink, and
            a message that would not shrink is sent plain). A client that
            asks for ``server_no_context_takeover`` gets that whatever this says.
        server_max_window_bits: our window: how far back a repeat may be
            found (9..15). A client may ask for less.
        client_context_takeover: let the client keep its compressor between
            messages. False (the default) asks it not to, so that our
            inflater exists only while a compressed message is arriving,
            instead of ``2**client_max_window_bits`` bytes plus 7 KiB per
            socket for good. Clients send little: this costs little.
        client_max_window_bits: the window we ask the client to stay within,
            when it says it can (browsers do), which is what inflating one
            of its messages may need.
        level: zlib's compression level, 1 (fastest) to 9 (smallest).
        mem_level: zlib's memory level, 1 to 9: how big its match-finding
            tables are (1: about 1 KiB per compressor; 8, zlib's default:
            128 KiB). Small frames compress as well with 1.
    """

    server_context_takeover: bool = True
    server_max_window_bits: int = attrs.field(default=10, validator=_window_bits)
    client_context_takeover: bool = False
    client_max_window_bits: int = attrs.field(default=15, validator=_window_bits)
    level: int = attrs.field(default=6, validator=_int_in(1, 9, "1 is fastest, 9 smallest"))
    mem_level: int = attrs.field(default=1, validator=_int_in(1, 9, "zlib's memLevel"))


def deflate_option(value: bool | Deflate | None) -> Deflate | None:
    """``WebSocket(compress=...)``: True is ``Deflate()``, False or None is no compression.

    Raises:
        TypeError: anything else.
    """
    if value is True:
        return Deflate()
    if value is False or value is None:
        return None
    if isinstance(value, Deflate):
        return value
    raise TypeError(f"compress must be True, False or a web.transports.websocket.Deflate(...); got {value!r}")


# ---------------------------------------------------------------- the negotiation (pure)


@attrs.frozen
class DeflateAgreement:
    """What server and client agreed for one connection, and the response header that says it.

    Attributes:
        response: the ``Sec-WebSocket-Extensions`` value of our 101.
        server_context_takeover: whether we keep our compressor between messages.
        server_window_bits: our compressor's window.
        client_context_takeover: whether the client may refer to its earlier messages.
        client_window_bits: the largest window the client's messages may need.
        level, mem_level: zlib's settings for our compressor.
    """

    response: str
    server_context_takeover: bool
    server_window_bits: int
    client_context_takeover: bool
    client_window_bits: int
    level: int = 6
    mem_level: int = 1


_PARAMETERS = ("server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits")


def negotiate_deflate(header: str | None, options: Deflate | None) -> DeflateAgreement | None:
    """The agreement for the client's ``Sec-WebSocket-Extensions`` header; None for no compression.

    The client lists its offers, most wanted first; the first one we can
    accept is taken (RFC 7692 §5). An offer with a parameter we do not know,
    a parameter twice, or a value out of range is declined (§7), as is a
    window of 8 bits for our side (see :class:`Deflate`). Other extensions
    are ignored. Never raises, whatever the header holds.

    >>> agreed = negotiate_deflate("permessage-deflate; client_max_window_bits", Deflate())
    >>> agreed.response
    'permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15'
    >>> negotiate_deflate("permessage-deflate; server_max_window_bits=8, permessage-deflate", Deflate()).response
    'permessage-deflate; client_no_context_takeover; server_max_window_bits=10'
    >>> negotiate_deflate("x-webkit-deflate-frame", Deflate()) is None
    True
    >>> negotiate_deflate("permessage-deflate", None) is None
    True
    """
    if options is None or not header:
        return None
    for offer in header.split(","):
        name, _, parameters = offer.partition(";")
        if name.strip().lower() != EXTENSION:
            continue
        offered = _parameters(parameters)
        if offered is not None:
            agreement = _agree(offered, options)
            if agreement is not None:
                return agreement
    return None


def _parameters(text: str) -> dict[str, str | None] | None:
    """``"a; b=10"`` as ``{"a": None, "b": "10"}``; None if a name is repeated or unknown."""
    found: dict[str, str | None] = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        name, equals, value = item.partition("=")
        name = name.strip().lower()
        if name not in _PARAMETERS or name in found:
            return None
        found[name] = value.strip().strip('"') if equals else None
    return found


class _Declined(ValueError):
    """An offer we cannot accept as it is: the next one is tried."""


def _agree(offered: dict[str, str | None], options: Deflate) -> DeflateAgreement | None:
    """Accept one offer (its parameter names already checked) on our terms; None to decline it."""
    try:
        _no_value(offered, "server_no_context_takeover")
        _no_value(offered, "client_no_context_takeover")
        server_limit = _window_offered(offered, "server_max_window_bits", lowest=9, needs_value=True)
        client_limit = _window_offered(offered, "client_max_window_bits", lowest=8, needs_value=False)
    except _Declined:
        return None
    server_bits = min(options.server_max_window_bits, server_limit)
    server_takeover = options.server_context_takeover and "server_no_context_takeover" not in offered
    client_takeover = options.client_context_takeover
    response = [EXTENSION]
    if not server_takeover:
        response.append("server_no_context_takeover")
    if not client_takeover:
        response.append("client_no_context_takeover")
    if server_bits < 15 or "server_max_window_bits" in offered:
        response.append(f"server_max_window_bits={server_bits}")
    client_bits = 15  # a client that did not say it can be told a window may use the largest
    if "client_max_window_bits" in offered:
        client_bits = min(options.client_max_window_bits, client_limit)
        response.append(f"client_max_window_bits={client_bits}")
    return DeflateAgreement(
        "; ".join(response), server_takeover, server_bits, client_takeover, client_bits, options.level, options.mem_level
    )


def _no_value(offered: dict[str, str | None], name: str) -> None:
    if offered.get(name) is not None:
        raise _Declined(f"{name} takes no value")


def _window_offered(offered: dict[str, str | None], name: str, *, lowest: int, needs_value: bool) -> int:
    """The window bits offered under ``name``; 15 when absent (or, where allowed, given without a value).

    Raises:
        _Declined: a value that is not a number from ``lowest`` to 15, or none where one is needed.
    """
    if name not in offered:
        return 15
    value = offered[name]
    if value is None:
        if needs_value:
            raise _Declined(f"{name} needs a value")
        return 15
    if not (value.isascii() and value.isdigit() and value[0] != "0" and lowest <= int(value) <= 15):
        raise _Declined(f"{name}={value!r} is not from {lowest} to 15 (no leading zero)")
    return int(value)


# ---------------------------------------------------------------- the codec (one per connection)


#: Compressors for messages sent without context takeover, shared by every
#: connection of the node, one per (level, window bits, memory level). A
#: message is compressed and flushed in one synchronous call, so no other
#: task can use the compressor in between, and Z_FULL_FLUSH forgets
#: everything before it: the next message starts with an empty window, as
#: RFC 7692 §7.1.1.1 requires. Making a compressor per message instead
#: costs 65 us (zlib clears 256 KiB); reusing one, a few.
_shared_compressors: dict[tuple[int, int, int], zlib._Compress] = {}


def _shared_compressor(level: int, bits: int, mem_level: int) -> zlib._Compress:
    key = (level, bits, mem_level)
    compressor = _shared_compressors.get(key)
    if compressor is None:
        compressor = _shared_compressors[key] = zlib.compressobj(level, zlib.DEFLATED, -bits, mem_level)
    return compressor


class DeflateCodec(Extension):
    """The wsproto extension of one connection that agreed to permessage-deflate (server side).

    Inflating is bounded: a compressed message may not inflate past
    ``max_message_size`` bytes, and zlib is never asked for more than one
    byte past what is left of it, so a message of a few KiB that would
    inflate to gigabytes (a "zip bomb") costs at most ``max_message_size``
    before the connection is closed with 1009.
    """

    name = EXTENSION

    def __init__(self, agreement: DeflateAgreement, max_message_size: int) -> None:
        self.agreement = agreement
        self.max_message_size = max_message_size
        self._compressor: zlib._Compress | None = None  # ours, kept with context takeover
        self._inflater: zlib._Decompress | None = None
        self._inbound_compressed: bool | None = None  # None between messages; else whether this one is
        self._frame_is_data = False  # the frame being read is part of a data message (not a control frame)
        self._inflated = 0  # bytes inflated of the message being read

    def enabled(self) -> bool:
        return True

    def offer(self) -> bool | str:
        raise NotImplementedError("the server answers offers; it makes none")

    # ------------------------------------------------------------ receiving

    def frame_inbound_header(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, payload_length: int
    ) -> CloseReason | RsvBits:
        if opcode.iscontrol():
            # Control frames may come between a message's fragments: they
            # leave the message's state alone. RSV1 on them is an error (§6).
            self._frame_is_data = False
            return CloseReason.PROTOCOL_ERROR if rsv.rsv1 else _RSV1
        self._frame_is_data = True
        if opcode is Opcode.CONTINUATION:
            return CloseReason.PROTOCOL_ERROR if rsv.rsv1 else _RSV1  # only a message's first frame says (§6.1)
        self._inbound_compressed = rsv.rsv1
        self._inflated = 0
        if rsv.rsv1 and self._inflater is None:
            self._inflater = zlib.decompressobj(-max(self.agreement.client_window_bits, 9))
        return _RSV1

    def frame_inbound_payload_data(self, proto: FrameDecoder | FrameProtocol, data: bytes) -> bytes | CloseReason:
        if not (self._frame_is_data and self._inbound_compressed):
            return data
        return self._inflate(data)

    def frame_inbound_complete(self, proto: FrameDecoder | FrameProtocol, fin: bool) -> bytes | CloseReason | None:
        if not (self._frame_is_data and fin):
            return None
        compressed, self._inbound_compressed = self._inbound_compressed, None
        if not compressed:
            return None
        data = self._inflate(_TAIL)
        if isinstance(data, CloseReason):
            return data
        assert self._inflater is not None  # made by the message's first frame
        if not self.agreement.client_context_takeover or self._inflater.eof:
            # Dropped between messages: held only while one arrives. (A
            # stream ended with a final block cannot go on either.)
            self._inflater = None
        return data

    def _inflate(self, data: bytes) -> bytes | CloseReason:
        """Inflate ``data``, at most one byte past what the message may still grow by."""
        assert self._inflater is not None
        room = self.max_message_size - self._inflated
        try:
            inflated = self._inflater.decompress(data, room + 1)  # room + 1 >= 1: never 0, zlib's "no limit"
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        if len(inflated) > room:
            self._inflater = None  # the rest of its input stays with it: drop it now
            return CloseReason.MESSAGE_TOO_BIG
        self._inflated += len(inflated)
        return inflated

    # ------------------------------------------------------------ sending

    def frame_outbound(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        if opcode.iscontrol():
            return rsv, data
        if fin and opcode in _DATA_OPCODES and not self.agreement.server_context_takeover:
            return self._compress_alone(rsv, data)
        # A message with a compressor of its own: kept with context
        # takeover, else made for a message sent in fragments and dropped after it.
        if self._compressor is None:
            self._compressor = self._new_compressor()
        compressed = self._compressor.compress(data)
        if fin:
            compressed += self._compressor.flush(zlib.Z_SYNC_FLUSH)[:-4]  # ends in _TAIL: stripped (§7.2.1)
            if not self.agreement.server_context_takeover:
                self._compressor = None
        return (_with_rsv1(rsv) if opcode in _DATA_OPCODES else rsv), compressed

    def _compress_alone(self, rsv: RsvBits, data: bytes) -> tuple[RsvBits, bytes]:
        """A whole message without context takeover: the node's shared compressor; plain if that is no smaller."""
        agreement = self.agreement
        compressor = _shared_compressor(agreement.level, agreement.server_window_bits, agreement.mem_level)
        compressed = compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)[:-4]
        if len(compressed) >= len(data):
            return rsv, data  # RSV1 unset: the client reads it as it is (§6)
        return _with_rsv1(rsv), compressed

    def _new_compressor(self) -> zlib._Compress:
        agreement = self.agreement
        return zlib.compressobj(agreement.level, zlib.DEFLATED, -agreement.server_window_bits, agreement.mem_level)

    def __repr__(self) -> str:
        return f"<DeflateCodec {self.agreement.response!r}>"


def _with_rsv1(rsv: RsvBits) -> RsvBits:
    return RsvBits(True, rsv.rsv2, rsv.rsv3)
