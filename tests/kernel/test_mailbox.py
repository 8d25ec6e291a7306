"""send / receive / receive_nowait: selective receive, ordering, timeouts."""

import pytest
import trio

import otp
from otp.lowlevel import queued_messages
from otp.testing import assert_receive, flush_mailbox, refute_receive


async def test_receive_without_patterns_takes_the_oldest_message():
    me = otp.current_pid()
    for n in range(3):
        otp.send(me, n)
    assert [await otp.receive() for _ in range(3)] == [0, 1, 2]


async def test_selective_receive_leaves_non_matching_messages_in_order():
    me = otp.current_pid()
    for message in ["a", 1, "b", 2, "c"]:
        otp.send(me, message)
    assert await otp.receive(int) == 1
    assert await otp.receive(int) == 2
    assert queued_messages() == ["a", "b", "c"]
    assert flush_mailbox() == ["a", "b", "c"]


async def test_predicate_patterns_and_type_patterns_combine_as_alternatives():
    me = otp.current_pid()
    for message in ["x", 2.5, 7, None]:
        otp.send(me, message)
    assert await otp.receive(float, lambda m: m == 7) == 2.5
    assert await otp.receive(float, lambda m: m == 7) == 7
    assert flush_mailbox() == ["x", None]


async def test_parked_receiver_skips_messages_that_do_not_match_and_wakes_on_a_match():
    me = otp.current_pid()

    async def sender():
        otp.send(me, "noise")
        otp.send(me, ("reply", 42))

    otp.spawn(sender)
    assert await otp.receive(tuple) == ("reply", 42)
    assert flush_mailbox() == ["noise"]


async def test_messages_from_one_sender_arrive_in_send_order():
    me = otp.current_pid()

    async def sender(tag):
        for n in range(100):
            otp.send(me, (tag, n))

    for tag in "abc":
        otp.spawn(sender, tag)
    received = [await otp.receive() for _ in range(300)]
    for tag in "abc":
        assert [n for t, n in received if t == tag] == list(range(100))


async def test_send_to_a_dead_pid_is_dropped_silently():
    pid, ref = otp.spawn_monitor(lambda: None)
    await assert_receive(otp.Down)
    otp.send(pid, "into the void")
    assert not otp.is_alive(pid)


async def test_receive_timeout_raises_receive_timeout_and_consumes_nothing(autojump_clock):
    me = otp.current_pid()
    otp.send(me, "other")
    start = trio.current_time()
    with pytest.raises(otp.ReceiveTimeout) as raised:
        await otp.receive(int, timeout=2.0)
    assert trio.current_time() - start == pytest.approx(2.0)
    assert raised.value.timeout == 2.0
    assert raised.value.patterns == (int,)
    assert str(raised.value) == "no message matching int arrived within 2.0 s"
    assert isinstance(raised.value, TimeoutError)
    assert flush_mailbox() == ["other"]


async def test_receive_timeout_zero_checks_without_waiting(autojump_clock):
    me = otp.current_pid()
    start = trio.current_time()
    with pytest.raises(otp.ReceiveTimeout):
        await otp.receive(timeout=0)
    otp.send(me, "here")
    assert await otp.receive(timeout=0) == "here"
    assert trio.current_time() == start


async def test_a_message_arriving_before_the_timeout_is_returned(autojump_clock):
    me = otp.current_pid()
    otp.send_after(me, "late but in time", 0.5)
    assert await otp.receive(timeout=1.0) == "late but in time"


async def test_receive_cancelled_by_trio_deadline_consumes_nothing(autojump_clock):
    me = otp.current_pid()
    with trio.move_on_after(1):
        await otp.receive(int)
    otp.send(me, 5)
    assert await otp.receive(int) == 5


async def test_receive_nowait_raises_would_block_when_nothing_matches():
    otp.send(otp.current_pid(), "text")
    with pytest.raises(otp.WouldBlock):
        otp.receive_nowait(int)
    with pytest.raises(trio.WouldBlock):
        otp.receive_nowait(int)
    assert otp.receive_nowait(str) == "text"
    with pytest.raises(otp.WouldBlock):
        otp.receive_nowait()


async def test_a_pattern_that_is_neither_type_nor_callable_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"patterns must be types or predicates.*got 42.*lambda m: m == 42"):
        await otp.receive(42)


async def test_a_raising_predicate_fails_in_the_receiver_not_in_the_sender():
    me = otp.current_pid()

    def picky(message):
        return message["key"] == 1  # raises TypeError for non-dicts

    async def sender():
        otp.send(me, "not a dict")
        otp.send(me, "sent after it")

    otp.spawn_link(sender)
    with pytest.raises(TypeError):
        await otp.receive(picky)
    # The sender was not hurt, the messages are all still queued.
    assert flush_mailbox() == ["not a dict", "sent after it"]


async def test_receive_outside_a_process_raises_not_a_process():
    errors = []

    async def helper_task():
        try:
            await otp.receive()
        except otp.NotAProcess as e:
            errors.append(e)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(helper_task)
    assert len(errors) == 1
    assert "own task" in str(errors[0])


async def test_a_mailbox_is_unbounded_and_send_never_blocks():
    me = otp.current_pid()
    for n in range(50_000):
        otp.send(me, n)
    assert otp.process_info(me).message_queue_len == 50_000
    assert await otp.receive(lambda m: m == 49_999) == 49_999
    assert otp.receive_nowait() == 0


async def test_a_process_parked_in_receive_is_ended_by_an_exit_signal():
    pid, ref = otp.spawn_monitor(otp.receive)
    await refute_receive(otp.Down, timeout=0)
    otp.exit(pid, "stop")
    down = await assert_receive(otp.Down)
    assert down == otp.Down(ref, pid, "stop")
