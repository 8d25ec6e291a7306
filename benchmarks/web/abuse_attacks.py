"""The attacks of ``python -m benchmarks abuse``, one async function each (the manual is in ``abuse.py``).

An attack gets an :class:`Arena` (the server's port, and
:meth:`Arena.under_attack` to hold its pressure until the watchers of
``abuse_watch.py`` have been served a few times under it) and its sizes as
keyword arguments. It does its damage, holds, cleans up after itself (every
connection it opened is closed or reset when it returns, so that what the
server keeps afterwards is what it failed to let go of) and returns its own
findings: a dict of counts, plus ``unexpected``, the list of things the
server did that it should not have (empty when it behaved).

:data:`ATTACKS` lists them in the order they run, each with its sizes at
``--quick`` and at full size.
"""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from time import perf_counter
from typing import Awaitable, Callable
from urllib.parse import urlencode

import attrs
import orjson
import trio

from .._harness.servers import HOST
from .._harness.web_client import PhxClient, Refused, ServerClosed, http_get
from .abuse_wire import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    ServerFrames,
    UpgradeRefused,
    close_code,
    exchange,
    open_phx,
    open_stream,
    open_websocket,
    phx_frame,
    receive_until_closed,
    reset,
    statuses,
    upgrade_request,
    ws_frame,
)

__all__ = ["Arena", "Attack", "ATTACKS"]

ANSWER_LIMIT = 1.0  # seconds to wait for the server's answer to one hostile request or frame
CONNECT_CONCURRENCY = 64  # connections being opened at once
SLOW_RECEIVE_BUFFER = 4096  # SO_RCVBUF of a peer that never reads: the kernel buffers little for it
SHOUT_BODY = "x" * 4000  # the largest shout is 4,096 characters (DEMO_CHAT's limit)
# A broadcaster's pace, kept under the demo's rate limit (200 messages/s per socket,
# bursts of 400): 300 shouts at once, then 180 a second.
SHOUT_BURST, SHOUTS_PER_TICK, TICK = 300, 18, 0.1
FLOOD_LIMIT = 30.0  # seconds a flood may take to go out before it is cut short (a server that stops reading)


@attrs.frozen
class Arena:
    """What an attack is given: where the server listens, and a way to hold until the watchers were served."""

    port: int
    hold: Callable[[], Awaitable[None]]

    async def under_attack(self) -> None:
        """Keep the pressure on until fresh and existing clients were served (or failed) twice under it."""
        await self.hold()


@attrs.frozen
class Attack:
    """One attack: its name, what it does in a line, its function, its sizes (``fd_limit`` goes to the server)."""

    name: str
    what: str
    run: Callable[..., Awaitable[dict]]
    quick: dict
    full: dict

    def sizes(self, quick: bool) -> dict:
        return dict(self.quick if quick else self.full)


def chat_target(user: str) -> str:
    return f"/socket/websocket?vsn=2.0.0&user={user}"


async def _open_many(count: int, open_one) -> list:
    """``open_one(i)`` for i in range(count), a bounded number at a time; failures are left as their exception."""
    opened: list = [None] * count
    limit = trio.Semaphore(CONNECT_CONCURRENCY)

    async def one(index: int) -> None:
        async with limit:
            try:
                opened[index] = await open_one(index)
            except Exception as error:  # refused, reset, not joined: counted by the attack, the others go on
                opened[index] = error

    async with trio.open_nursery() as nursery:
        for index in range(count):
            nursery.start_soon(one, index)
    return opened


async def _reset_all(streams) -> None:
    for stream in streams:
        if isinstance(stream, trio.SocketStream):
            await reset(stream)


def _failed(opened: list) -> int:
    return sum(1 for item in opened if isinstance(item, Exception))


async def _send_until_stopped(stream: trio.SocketStream, batch: bytes, batches: int) -> tuple[int, bool]:
    """Send ``batch`` up to ``batches`` times; how many went out, and whether the server closed first."""
    sent = 0
    with trio.move_on_after(FLOOD_LIMIT):
        for _ in range(batches):
            try:
                await stream.send_all(batch)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return sent, True
            sent += 1
    return sent, False


async def _send_on_every_stream(arena: Arena, streams: list, data: bytes, times: int) -> list[tuple[int, bool]]:
    """Send ``data`` ``times`` over on every stream at once, then let the attack's window pass; reset them all.

    Returns each stream's ``(times sent, closed by the server)``.
    """
    outcomes = []

    async def send(stream):
        outcomes.append(await _send_until_stopped(stream, data, times))

    try:
        async with trio.open_nursery() as nursery:
            for stream in streams:
                nursery.start_soon(send, stream)
        await arena.under_attack()
    finally:
        await _reset_all(streams)
    return outcomes


# ---------------------------------------------------------------- 1. pings nobody reads


async def ping_flood(arena: Arena, sockets: int, pings: int) -> dict:
    """WebSocket pings (125-byte payloads) as fast as the server takes them, never reading a pong."""
    per_batch = 1000
    batch = ws_frame(OP_PING, b"p" * 125) * per_batch
    opened = await _open_many(
        sockets, lambda i: open_websocket(arena.port, chat_target(f"pinger{i}"), receive_buffer=SLOW_RECEIVE_BUFFER)
    )
    streams = [s for s in opened if isinstance(s, trio.SocketStream)]
    outcomes = await _send_on_every_stream(arena, streams, batch, pings // per_batch)
    return {
        "sockets": len(streams),
        "refused": _failed(opened),
        "pings_sent": sum(sent for sent, _ in outcomes) * per_batch,
        "closed_by_server": sum(closed for _, closed in outcomes),
        "unexpected": [],
    }


# ---------------------------------------------------------------- 2. a body of 1-byte chunks


async def chunked_body(arena: Arena, connections: int, chunks: int) -> dict:
    """``POST /`` with a chunked body of one-byte chunks × N, on several connections at once.

    A whole body over ``max_body_size`` (1 MiB) must be refused (413, or 400
    for a server that refuses such chunks outright), one within it answered
    405 (``/`` takes only GET) or refused the same way. A body cut short by
    :data:`FLOOD_LIMIT` (a server too slow to take it in) is counted apart.
    """
    head = f"POST / HTTP/1.1\r\nHost: {HOST}:{arena.port}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    body = b"1\r\na\r\n" * chunks
    answers: Counter = Counter()
    all_sent, held = trio.Event(), trio.Event()
    sent, cut_short = [0], [0]

    async def post(index: int) -> None:
        stream = await open_stream(arena.port)
        try:
            await stream.send_all(head)
            whole, closed = await _send_until_stopped(stream, body, 1)
            cut_short[0] += not (whole or closed)
            sent[0] += 1
            if sent[0] == connections:
                all_sent.set()
            if not closed:
                await held.wait()  # the body is in: hold it there until the watchers were served
                await _send_until_stopped(stream, b"0\r\n\r\n", 1)
            # The server may still be parsing what the others sent: give it as long as sending took.
            answer = _answer(await receive_until_closed(stream, FLOOD_LIMIT))
            answers[answer if whole or closed else f"cut short: {answer}"] += 1
        finally:
            await reset(stream)

    async with trio.open_nursery() as nursery:
        for index in range(connections):
            nursery.start_soon(post, index)
        await all_sent.wait()
        await arena.under_attack()
        held.set()
    refusals = {"400 closed", "413 closed"}
    allowed = refusals if chunks > 1 << 20 else refusals | {"405"}
    unexpected = [f"answered {a}" for a in answers if a not in allowed and not a.startswith("cut short")]
    return {
        "connections": connections,
        "chunks": chunks,
        "bodies_cut_short": cut_short[0],
        "answers": dict(answers),
        "unexpected": unexpected,
    }


def _answer(outcome: tuple[bytes, bool]) -> str:
    """``"400 closed"``, ``"405"``, ``"closed"``, ``"nothing"``: the statuses answered and whether it closed."""
    data, closed = outcome
    parts = [str(status) for status in statuses(data)] + (["closed"] if closed else [])
    return " ".join(parts) or "nothing"


# ---------------------------------------------------------------- 3. a message that never ends


async def unfinished_fragments(arena: Arena, sockets: int, fragments: int, fragment_size: int) -> dict:
    """A text frame with FIN=0, then continuation fragments, never the last one; on many sockets."""
    piece = b"x" * fragment_size
    message = ws_frame(OP_TEXT, piece, fin=False) + ws_frame(OP_CONTINUATION, piece, fin=False) * (fragments - 1)
    opened = await _open_many(sockets, lambda i: open_websocket(arena.port, chat_target(f"fragments{i}")))
    streams = [s for s in opened if isinstance(s, trio.SocketStream)]
    outcomes = await _send_on_every_stream(arena, streams, message, 1)
    return {
        "sockets": len(streams),
        "refused": _failed(opened),
        "bytes_per_socket": fragments * fragment_size,
        "closed_by_server": sum(closed for _, closed in outcomes),
        "unexpected": [],
    }


# ---------------------------------------------------------------- 4. open and close, over and over


async def ws_churn(arena: Arena, cycles: int, workers: int) -> dict:
    """Connect, join, then close cleanly (even cycles) or reset (odd ones), from several workers at once."""
    remaining, done, errors = [cycles], [0], Counter()

    async def cycle(number: int) -> None:
        client = await open_phx(arena.port, chat_target(f"churn{number % 100}"))
        try:
            _, answer = await client.join(f"room:churn{number % 10}")
            if answer.get("status") != "ok":
                errors[f"join answered {answer.get('status')}"] += 1
            if number % 2 == 0:
                code = await client.close(1000)
                if code != 1000:
                    errors[f"closed with {code}"] += 1
        finally:
            await reset(client.stream)

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            try:
                await cycle(remaining[0])
                done[0] += 1
            except Exception as error:  # refused, reset, garbled: counted by kind, the churn goes on
                errors[type(error).__name__] += 1

    start = perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(workers):
            nursery.start_soon(worker)
        await arena.under_attack()
    elapsed = perf_counter() - start
    return {
        "cycles": done[0],
        "cycles_per_s": round(done[0] / elapsed, 1),
        "errors": dict(errors),
        "unexpected": [f"{count} cycles failed: {error}" for error, count in errors.items()],
    }


# ---------------------------------------------------------------- 5. readers that never read


async def slow_consumers(arena: Arena, consumers: int, broadcasters: int, shouts: int) -> dict:
    """Clients join ``room:lobby`` and never read; broadcasters flood the room; the slow ones must be shed."""
    join = phx_frame("1", "1", "room:lobby", "phx_join", {})

    async def open_consumer(index: int) -> trio.SocketStream:
        stream = await open_websocket(arena.port, chat_target(f"slow{index}"), receive_buffer=SLOW_RECEIVE_BUFFER)
        await stream.send_all(join)
        return stream

    opened = await _open_many(consumers, open_consumer)
    streams = [s for s in opened if isinstance(s, trio.SocketStream)]
    senders = await _open_many(broadcasters, lambda i: _joined(arena.port, f"shouter{i}", "room:lobby"))
    clients = [c for c in senders if isinstance(c, tuple)]
    sent = [0]
    try:
        async with trio.open_nursery() as readers:
            for client, _ in clients:
                readers.start_soon(_drain, client)
            async with trio.open_nursery() as nursery:
                for client, join_ref in clients:
                    nursery.start_soon(_shout, client, join_ref, shouts, sent)
            await arena.under_attack()
            shed = await _count_shed(streams)
            readers.cancel_scope.cancel()
    finally:
        await _reset_all(streams)
        for client, _ in clients:
            await client.aclose()
    return {
        "consumers": len(streams),
        "broadcasters": len(clients),
        "shouts_sent": sent[0],
        "bytes_broadcast": sent[0] * len(SHOUT_BODY),
        "shed": shed,
        "unexpected": [] if shed == len(streams) else [f"{len(streams) - shed} slow consumers were not shed"],
    }


async def _joined(port: int, user: str, topic: str) -> tuple[PhxClient, str]:
    client = await open_phx(port, chat_target(user))
    join_ref, answer = await client.join(topic)
    if answer.get("status") != "ok":
        await client.aclose()
        raise RuntimeError(f"joining {topic} answered {answer}")
    return client, join_ref


async def _drain(client: PhxClient) -> None:
    try:
        while True:
            await client.receive()
    except (ServerClosed, trio.BrokenResourceError, trio.ClosedResourceError):
        pass


async def _shout(client: PhxClient, join_ref: str, shouts: int, sent: list[int]) -> None:
    """``shouts`` big shouts, as fast as the rate limit allows: a fast talker, not one the server closes."""
    batch, left = SHOUT_BURST, shouts
    try:
        while left > 0:
            for _ in range(min(batch, left)):
                await client.send_frame(join_ref, client.next_ref(), "room:lobby", "shout", {"body": SHOUT_BODY})
                sent[0] += 1
            left -= batch
            batch = SHOUTS_PER_TICK
            await trio.sleep(TICK)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # shed itself: it did not read fast enough either


async def _count_shed(streams: list[trio.SocketStream]) -> int:
    """How many of the never-reading consumers the server has dropped (a reset, or EOF, shows on the next read)."""
    shed = [0]

    async def check(stream):
        _, closed = await receive_until_closed(stream, ANSWER_LIMIT)
        shed[0] += closed

    async with trio.open_nursery() as nursery:
        for stream in streams:
            nursery.start_soon(check, stream)
    return shed[0]


# ---------------------------------------------------------------- 6. slowloris, and running out of descriptors


async def slowloris(arena: Arena, connections: int, seconds: float, fd_limit: int | None = None) -> dict:
    """Many connections trickling a request head, one byte a second, never finishing it."""
    start_line = f"GET / HTTP/1.1\r\nHost: {HOST}:{arena.port}\r\nX-Slow: ".encode()
    opened = await _open_many(connections, lambda i: open_stream(arena.port))
    streams = [s for s in opened if isinstance(s, trio.SocketStream)]
    closed_at: list[float] = []
    start = perf_counter()

    async def trickle(stream):
        try:
            await stream.send_all(start_line)
            for _ in range(int(seconds)):
                await trio.sleep(1.0)
                await stream.send_all(b"a")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            closed_at.append(perf_counter() - start)

    try:
        async with trio.open_nursery() as nursery:
            for stream in streams:
                nursery.start_soon(trickle, stream)
            await arena.under_attack()
    finally:
        await _reset_all(streams)
    return {
        "connections": len(streams),
        "connect_failed": _failed(opened),
        "closed_by_server": len(closed_at),
        "first_closed_s": round(min(closed_at), 2) if closed_at else None,
        "server_fd_limit": fd_limit,
        "unexpected": [],
    }


# ---------------------------------------------------------------- 7. heartbeats and messages in a burst


async def message_flood(arena: Arena, messages: int, read: bool) -> dict:
    """Heartbeats and room pings in one burst on one socket; replies read (or not); what stops it."""
    stream = await open_websocket(arena.port, chat_target("flooder"), receive_buffer=None if read else SLOW_RECEIVE_BUFFER)
    frames = ServerFrames()
    seen = {"replies": 0, "close": None}
    await stream.send_all(phx_frame("1", "1", "room:flood", "phx_join", {}))
    per_batch = 1000
    batch = (phx_frame(None, "h", "phoenix", "heartbeat", {}) + phx_frame("1", "p", "room:flood", "ping", {"n": 1})) * (
        per_batch // 2
    )

    async def read_replies():
        while seen["close"] is None:
            try:
                data = await stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                seen["close"] = seen["close"] or 1006
                return
            for opcode, payload in frames.feed(data):
                if opcode == OP_TEXT and b'"phx_reply"' in payload:
                    seen["replies"] += 1
                elif opcode == OP_CLOSE:
                    seen["close"] = close_code(payload)

    start = perf_counter()
    try:
        async with trio.open_nursery() as nursery:
            if read:
                nursery.start_soon(read_replies)
            sent, closed = await _send_until_stopped(stream, batch, max(1, messages // per_batch))
            elapsed = perf_counter() - start
            await arena.under_attack()
            nursery.cancel_scope.cancel()
    finally:
        await reset(stream)
    return {
        "messages_sent": sent * per_batch,
        "send_s": round(elapsed, 3),
        "replies_read": seen["replies"] if read else None,
        "close_code": seen["close"],
        "send_failed": closed,
        "unexpected": [],
    }


# ---------------------------------------------------------------- 8. guessing the secret room's password


async def join_brute_force(arena: Arena, sockets: int, seconds: float) -> dict:
    """Joins of ``room:secret`` with wrong passwords from several sockets; a closed socket reconnects."""
    counts = Counter()
    rng = random.Random(12)

    async def guesser(index: int) -> None:
        while True:
            try:
                client = await open_phx(arena.port, chat_target(f"guesser{index}"))
            except (OSError, Refused) as error:
                counts[f"connect failed: {type(error).__name__}"] += 1
                await trio.sleep(0.05)
                continue
            try:
                while True:
                    _, answer = await client.join("room:secret", {"password": f"{rng.getrandbits(64):x}"})
                    counts[_verdict(answer)] += 1
            except (ServerClosed, trio.BrokenResourceError, trio.ClosedResourceError):
                counts["reconnects"] += 1
            finally:
                await client.aclose()

    start = perf_counter()
    async with trio.open_nursery() as nursery:
        for index in range(sockets):
            nursery.start_soon(guesser, index)
        await trio.sleep(seconds)
        await arena.under_attack()
        nursery.cancel_scope.cancel()
    elapsed = perf_counter() - start
    answered = counts["unauthorized"] + counts["accepted"]
    return {
        "sockets": sockets,
        "guesses_answered": answered,
        "guesses_per_s": round(answered / elapsed, 1),
        "accepted": counts["accepted"],
        "reconnects": counts["reconnects"],
        "other": {k: v for k, v in counts.items() if k not in ("unauthorized", "accepted", "reconnects")},
        "unexpected": [f"{counts['accepted']} wrong passwords accepted"] if counts["accepted"] else [],
    }


def _verdict(answer: dict) -> str:
    if answer.get("status") == "ok":
        return "accepted"
    if answer.get("response") == {"reason": "unauthorized"}:
        return "unauthorized"
    return f"answered {str(answer)[:60]}"


# ---------------------------------------------------------------- 9. HTTP smuggling and malformed requests


def _http_cases(port: int) -> dict[str, tuple[bytes, str]]:
    """name → (bytes sent on a new connection, the answer expected as :func:`_answer` spells it)."""
    host = f"Host: {HOST}:{port}\r\n"
    smuggled = f"GET /smuggled HTTP/1.1\r\n{host}\r\n"
    chat = chat_target("smuggler")
    return {
        "cl-te": (f"POST / HTTP/1.1\r\n{host}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}", "400 closed"),
        "te-cl": (f"POST / HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\n{smuggled}", "400 closed"),
        "two-lengths": (f"POST / HTTP/1.1\r\n{host}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "400 closed"),
        "te-not-chunked": (f"POST / HTTP/1.1\r\n{host}Transfer-Encoding: gzip\r\n\r\n{smuggled}", "501 closed"),
        "oversize-head": (f"GET / HTTP/1.1\r\n{host}X-Big: {'b' * 65536}\r\n\r\n", "431 closed"),
        "many-headers": (f"GET / HTTP/1.1\r\n{host}" + "X-A: b\r\n" * 5000 + "\r\n", "431 closed"),
        "bad-request-line": ("GET\r\n\r\n", "400 closed"),
        "binary-garbage": (bytes(random.Random(9).getrandbits(8) for _ in range(512)).decode("latin-1") + "\r\n\r\n", "400 closed"),
        "huge-content-length": (f"POST / HTTP/1.1\r\n{host}Content-Length: 99999999999\r\n\r\n", "413 closed"),
        "upgrade-http-1.0": (upgrade_request(port, chat, http="1.0").decode(), "400 closed"),
        "upgrade-bad-key": (upgrade_request(port, chat, key="not a key!").decode(), "400 closed"),
        "upgrade-version-8": (upgrade_request(port, chat, version="8").decode(), "400 closed"),
        "upgrade-foreign-origin": (upgrade_request(port, chat, headers=(("Origin", "http://evil.example"),)).decode(), "403 closed"),
        "upgrade-no-user": (upgrade_request(port, "/socket/websocket?vsn=2.0.0").decode(), "403 closed"),
    }


async def http_abuse(arena: Arena, repeats: int, resets: int) -> dict:
    """Smuggling (CL+TE), malformed and oversize heads, bad upgrades; then requests reset mid-response."""
    answers: dict[str, Counter] = {}
    for _ in range(repeats):
        for name, (data, _) in _http_cases(arena.port).items():
            outcome = await exchange(arena.port, data.encode("latin-1"), ANSWER_LIMIT)
            answers.setdefault(name, Counter())[_answer(outcome)] += 1
    reset_errors = await _reset_mid_response(arena.port, resets)
    await arena.under_attack()
    expected = {name: answer for name, (_, answer) in _http_cases(arena.port).items()}
    unexpected = [
        f"{name}: {answer} (expected {expected[name]})"
        for name, counts in answers.items()
        for answer in counts
        if answer != expected[name]
    ]
    return {
        "answers": {name: dict(counts) for name, counts in answers.items()},
        "mid_response_resets": resets,
        "reset_connect_errors": reset_errors,
        "unexpected": unexpected,
    }


async def _reset_mid_response(port: int, count: int) -> int:
    """Ask for the biggest file the demo serves and reset before reading it; connect errors counted."""
    request = f"GET /phoenix_live_view.min.js HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    errors = 0
    for _ in range(count):
        try:
            stream = await open_stream(port, receive_buffer=SLOW_RECEIVE_BUFFER)
        except OSError:
            errors += 1
            continue
        try:
            await stream.send_all(request)
            await stream.receive_some(1)  # the response has started
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await reset(stream)
    return errors


# ---------------------------------------------------------------- 10. hostile frames


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _text(message: str) -> bytes:
    # surrogatepass: a lone surrogate written as UTF-8 bytes, which no valid UTF-8 text contains
    return ws_frame(OP_TEXT, message.encode("utf-8", "surrogatepass"))


def _chat_cases() -> dict[str, bytes]:
    """name → the frame sent on a socket joined to ``room:hostile`` (join_ref "1", the hostile ref "9")."""
    room = "room:hostile"
    text = _text
    return {
        "deep-nesting": text(f'["1","9","{room}","ping",{_deep(100_000)}]'),
        "deep-nesting-object": text(f'["1","9","{room}","ping",' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "]"),
        "lone-surrogate-body": text(f'["1","9","{room}","shout",{{"body":"\\ud800"}}]'),
        "lone-surrogate-topic": text('["1","9","room:\\udc00","phx_join",{}]'),
        "lone-surrogate-raw": text(f'["1","9","{room}","shout",{{"body":"\ud800"}}]'),
        "invalid-utf8": ws_frame(OP_TEXT, b'["1","9","room:hostile","ping",{"x":"\xff\xfe"}]'),
        "not-a-list": text('{"topic":"room:hostile","event":"ping"}'),
        "short-list": text('["1","9"]'),
        "wrong-types": text("[1,9,5,[],null]"),
        "event-not-a-string": text(f'["1","9","{room}",{{"e":1}},{{}}]'),
        "payload-a-list": text(f'["1","9","{room}","shout",["body"]]'),
        "payload-a-string": text(f'["1","9","{room}","ping","hello"]'),
        "body-a-number": text(f'["1","9","{room}","shout",{{"body":5}}]'),
        "join-payload-a-list": text('["9","9","room:secret","phx_join",["letmein"]]'),
        "huge-topic": text(f'["9","9","room:{"a" * 100_000}","phx_join",{{}}]'),
        "not-json": text("[[[}{"),
        "random-binary": ws_frame(OP_BINARY, random.Random(3).randbytes(256)),
        "random-bytes": random.Random(4).randbytes(256),
        "reserved-opcode": ws_frame(0x3, b"x"),
        "oversize-ping": ws_frame(OP_PING, b"p" * 200),
        "unmasked-frame": b"\x81\x05hello",
    }


async def hostile_frames(arena: Arena, repeats: int) -> dict:
    """Frames no client should send, each on a socket of its own; then: does that socket still answer?"""
    outcomes: dict[str, Counter] = {}
    for _ in range(repeats):
        for name, frame in _chat_cases().items():
            outcome = await _hostile_chat(arena.port, frame)
            outcomes.setdefault(name, Counter())[outcome] += 1
        for name, outcome in (await _hostile_live(arena.port)).items():
            outcomes.setdefault(name, Counter())[outcome] += 1
    await arena.under_attack()
    unexpected = [
        f"{name}: {outcome}"
        for name, counts in outcomes.items()
        for outcome in counts
        if not _acceptable(outcome)
    ]
    return {"outcomes": {name: dict(counts) for name, counts in outcomes.items()}, "unexpected": unexpected}


# The codes a server closes with for a client that broke the protocol: 1002 (bad
# frame), 1003 (data it cannot take), 1007 (not UTF-8), 1008 (policy), 1009 (too
# big), 1011 (what Phoenix uses for a channel protocol error; a crash behind it
# shows as a crash report, counted apart).
PROTOCOL_CLOSES = ("1002", "1003", "1007", "1008", "1009", "1011")


def _acceptable(outcome: str) -> bool:
    """Refused with an error reply and still serving, or closed for a protocol error; never crashed nor silent."""
    if outcome.startswith("closed "):
        return outcome.split()[1].rstrip(";") in PROTOCOL_CLOSES and "crashed" not in outcome
    return "phx_error" not in outcome and "crashed" not in outcome and outcome.endswith("; alive")


async def _hostile_chat(port: int, frame: bytes) -> str:
    try:
        stream = await open_websocket(port, chat_target("hostile"))
    except (OSError, UpgradeRefused) as error:
        return f"connect failed: {type(error).__name__}"
    try:
        frames = ServerFrames()
        await stream.send_all(phx_frame("1", "1", "room:hostile", "phx_join", {}))
        await _read_until(stream, frames, lambda texts: any('"1","1"' in t for t in texts))
        return await _after_hostile(stream, frames, frame)
    finally:
        await reset(stream)


async def _after_hostile(stream: trio.SocketStream, frames: ServerFrames, frame: bytes) -> str:
    """Send ``frame`` then a heartbeat; say what came back: the hostile ref's reply, phx_error, alive or closed."""
    try:
        await stream.send_all(frame + phx_frame(None, "beat", "phoenix", "heartbeat", {}))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # closed before the heartbeat went out: what it said is still to be read
    texts, code = await _read_until(stream, frames, lambda texts: any('"beat"' in t for t in texts))
    parts = [part for part in map(_hostile_answer, texts) if part is not None]
    if code is not None:
        return f"closed {code}" + "".join(f"; {p}" for p in parts)
    alive = any('"beat"' in t for t in texts)
    return "; ".join(parts + ["alive" if alive else "no answer"])


def _hostile_answer(text: str) -> str | None:
    """What a frame says about the hostile one: its reply (``error {...}``), a ``phx_error``; else None."""
    try:
        join_ref, ref, _, event, payload = orjson.loads(text)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return f"garbled frame {text[:40]!r}"
    if ref == "9" and event == "phx_reply" and isinstance(payload, dict):
        return f"{payload.get('status')} {orjson.dumps(payload.get('response')).decode()[:60]}"
    if event == "phx_error":
        return "phx_error"
    return None


async def _read_until(stream, frames: ServerFrames, done) -> tuple[list[str], int | None]:
    """Text frames until ``done(texts)``, a close (its code; 1006 for EOF or reset) or :data:`ANSWER_LIMIT`."""
    texts: list[str] = []
    with trio.move_on_after(ANSWER_LIMIT):
        while not done(texts):
            try:
                data = await stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                return texts, 1006
            for opcode, payload in frames.feed(data):
                if opcode == OP_CLOSE:
                    return texts, close_code(payload)
                if opcode == OP_TEXT:
                    texts.append(payload.decode("utf-8", "replace"))
    return texts, None


_CONTAINER = re.compile(r'<div id="([^"]+)" data-phx-main data-phx-session="([^"]+)"')
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


async def _live_page(port: int, path: str) -> tuple[str, str, str]:
    """(view id, signed session, CSRF token) of a LiveView page's dead render."""
    status, page = await http_get(HOST, port, path)
    container, csrf = _CONTAINER.search(page), _CSRF.search(page)
    if status != 200 or container is None or csrf is None:
        raise RuntimeError(f"GET {path} answered {status}, not a LiveView page")
    return html.unescape(container.group(1)), html.unescape(container.group(2)), html.unescape(csrf.group(1))


LIVE_CASES = (
    "lv-join-payload-a-list",
    "lv-join-wrong-types",
    "lv-join-step-superscript",
    "lv-event-wrong-types",
    "lv-event-payload-a-list",
    "lv-event-unknown",
)


def _live_case(name: str, port: int, session: str, csrf: str) -> tuple[object, object]:
    """(join payload, then an event payload or None) of case ``name``: wrong types where the client sends JSON."""
    url = f"http://{HOST}:{port}/live/counter"
    good = {"url": url, "params": {"_csrf_token": csrf}, "session": session, "static": None}
    return {
        "lv-join-payload-a-list": ([url, session], None),
        "lv-join-wrong-types": ({"url": 5, "params": [], "session": 7, "static": {}}, None),
        "lv-join-step-superscript": ({**good, "url": url + "?step=%C2%B2"}, None),
        "lv-event-wrong-types": (good, {"type": 5, "event": ["inc"], "value": "x"}),
        "lv-event-payload-a-list": (good, [1, 2]),
        "lv-event-unknown": (good, {"type": "click", "event": "no-such-event", "value": {}}),
    }[name]


async def _hostile_live(port: int) -> dict[str, str]:
    outcomes = {}
    for name in LIVE_CASES:
        view_id, session, csrf = await _live_page(port, "/live/counter")  # a dead render each: its own view id
        join, event = _live_case(name, port, session, csrf)
        outcomes[name] = await _hostile_live_one(port, view_id, csrf, join, event)
    return outcomes


async def _hostile_live_one(port: int, view_id: str, csrf: str, join: object, event: object) -> str:
    target = "/live/websocket?" + urlencode({"_csrf_token": csrf, "vsn": "2.0.0"})
    try:
        stream = await open_websocket(port, target)
    except (OSError, UpgradeRefused) as error:
        return f"connect failed: {type(error).__name__}"
    topic = f"lv:{view_id}"
    try:
        frames = ServerFrames()
        if event is None:
            return await _after_hostile(stream, frames, phx_frame("9", "9", topic, "phx_join", join))
        await stream.send_all(phx_frame("1", "1", topic, "phx_join", join))
        await _read_until(stream, frames, lambda texts: any('"1","1"' in t for t in texts))
        return await _after_hostile(stream, frames, phx_frame("1", "9", topic, "event", event))
    finally:
        await reset(stream)


# ---------------------------------------------------------------- 11. the dashboard


async def dashboard_kill(arena: Arena, targets: tuple[str, ...]) -> dict:
    """Open the demo's dashboard (no auth in the demo) and kill the root process through its kill button."""
    view_id, session, csrf = await _live_page(arena.port, "/dashboard/processes")
    client = await open_phx(arena.port, "/live/websocket?" + urlencode({"_csrf_token": csrf, "vsn": "2.0.0"}))
    topic = f"lv:{view_id}"
    url = f"http://{HOST}:{arena.port}/dashboard/processes"
    answers = {}
    try:
        join_ref, answer = await client.join(topic, {"url": url, "params": {"_csrf_token": csrf}, "session": session, "static": None})
        if answer.get("status") != "ok":
            return {"joined": False, "answers": {"join": answer.get("status")}, "unexpected": []}
        for pid in targets:
            for event in ("kill", "confirm-kill"):
                value = {"type": "click", "event": event, "value": {"pid": pid}}
                with trio.move_on_after(ANSWER_LIMIT):
                    answers[f"{event} {pid}"] = (await client.call(join_ref, topic, "event", value)).get("status")
        await arena.under_attack()
    except (ServerClosed, trio.BrokenResourceError, trio.ClosedResourceError, OSError) as error:
        answers["closed"] = f"{type(error).__name__}: {error}"[:80]
    finally:
        await client.aclose()
    return {"joined": True, "answers": answers, "unexpected": []}


# ---------------------------------------------------------------- the list


ATTACKS = (
    Attack("ping-flood", "WebSocket pings, pongs never read", ping_flood,
           quick={"sockets": 2, "pings": 50_000}, full={"sockets": 4, "pings": 250_000}),
    Attack("chunked-body", "POST / with a body of 1-byte chunks, several connections", chunked_body,
           quick={"connections": 4, "chunks": 100_000}, full={"connections": 8, "chunks": 1_100_000}),
    Attack("fragments", "a text message of continuation fragments never finished, many sockets", unfinished_fragments,
           quick={"sockets": 20, "fragments": 10_000, "fragment_size": 8},
           full={"sockets": 100, "fragments": 20_000, "fragment_size": 8}),
    Attack("ws-churn", "connect, join, close or reset, over and over", ws_churn,
           quick={"cycles": 300, "workers": 10}, full={"cycles": 3_000, "workers": 10}),
    Attack("slow-consumers", "joined to room:lobby, never reading, while the room is flooded", slow_consumers,
           quick={"consumers": 5, "broadcasters": 5, "shouts": 450},
           full={"consumers": 50, "broadcasters": 8, "shouts": 1_000}),
    Attack("slowloris", "request heads trickled one byte a second", slowloris,
           quick={"connections": 200, "seconds": 2}, full={"connections": 1_000, "seconds": 20}),
    Attack("slowloris-fds", "slowloris past the server's descriptor limit", slowloris,
           quick={"connections": 300, "seconds": 2, "fd_limit": 128},
           full={"connections": 1_000, "seconds": 10, "fd_limit": 256}),
    Attack("message-flood", "heartbeats and room pings in one burst, replies read", message_flood,
           quick={"messages": 20_000, "read": True}, full={"messages": 500_000, "read": True}),
    Attack("message-flood-unread", "the same burst, replies never read", message_flood,
           quick={"messages": 20_000, "read": False}, full={"messages": 500_000, "read": False}),
    Attack("join-brute-force", "room:secret joins with wrong passwords, 8 sockets", join_brute_force,
           quick={"sockets": 8, "seconds": 1.0}, full={"sockets": 8, "seconds": 10.0}),
    Attack("http-abuse", "CL+TE smuggling, malformed and oversize heads, bad upgrades, mid-response resets",
           http_abuse, quick={"repeats": 1, "resets": 20}, full={"repeats": 10, "resets": 500}),
    Attack("hostile-frames", "deep nesting, lone surrogates, wrong types (chat and LiveView), random bytes",
           hostile_frames, quick={"repeats": 1}, full={"repeats": 5}),
    Attack("dashboard-kill", "the dashboard's kill button on the root process and the top supervisor",
           dashboard_kill, quick={"targets": ("<0.1.0>", "<0.2.0>")}, full={"targets": ("<0.1.0>", "<0.2.0>")}),
)
