"""Timeouts, hibernate and their shapes: every callback result OTP allows with ``Timeout | hibernate``.

The server below returns whatever result it is sent and tells the test what
it handled and when (trio's clock); under the autojump clock a timeout of
5 s costs no real time and fires exactly 5 virtual seconds later.
"""

import math

import pytest
import trio

import otp
from otp import TIMEOUT, Continue, GenServer, NoReply, Reply, Stop
from otp.lowlevel import release_mailbox
from otp.testing import assert_down, assert_receive, capture_crash_reports, refute_receive

RESULTS = (NoReply, Reply, Continue, Stop)


def result_or_none(value):
    """What a callback returns for ``value``: ``value`` itself if it is a result shape, else None."""
    return value if isinstance(value, RESULTS) else None


class Idle(GenServer):
    """Returns the result it is sent; tells the test ``(callback, what, when)`` for every callback."""

    async def init(self, arg):
        self.test, result = arg
        return result

    async def handle_call(self, request, caller):
        self.tell("call", request)
        if request == "reply later":
            self.caller = caller
            return NoReply(timeout=2.0)
        return request

    async def handle_cast(self, request):
        self.tell("cast", request)
        return result_or_none(request)

    async def handle_info(self, message):
        self.tell("info", message)
        if message is TIMEOUT and hasattr(self, "caller"):
            GenServer.reply(self.caller, "answered at the timeout")
        return result_or_none(message)

    async def handle_continue(self, arg):
        self.tell("continue", arg)
        return result_or_none(arg)

    def tell(self, callback, what):
        otp.send(self.test, (callback, what, trio.current_time()))


async def start(result=None):
    return await Idle.start_link((otp.current_pid(), result))


async def told(callback, what, *, timeout=60.0):
    """The next report of ``callback`` handling ``what``; returns when it happened."""
    _, _, when = await assert_receive(lambda m: m[:2] == (callback, what), timeout=timeout)
    return when


# ---------------------------------------------------------------- timeouts from each callback


async def test_a_timeout_from_init_delivers_TIMEOUT_to_handle_info_when_nothing_arrives(autojump_clock):
    started = trio.current_time()
    await start(NoReply(timeout=5.0))
    assert await told("info", TIMEOUT) == pytest.approx(started + 5.0)
    await refute_receive(tuple, timeout=60.0)  # once: a TIMEOUT's own result (None) sets no new one


@pytest.mark.parametrize("how", ["cast", "info", "continue"])
async def test_a_timeout_from_handle_cast_handle_info_and_handle_continue(how, autojump_clock):
    pid = await start()
    result = NoReply(timeout=3.0)
    if how == "cast":
        GenServer.cast(pid, result)
    elif how == "info":
        otp.send(pid, result)
    else:
        GenServer.cast(pid, Continue(result))
    handled = await told(how, result)
    assert await told("info", TIMEOUT) == pytest.approx(handled + 3.0)


async def test_reply_with_a_timeout_answers_at_once_then_times_out(autojump_clock):
    pid = await start()
    asked = trio.current_time()
    assert await GenServer.call(pid, Reply("now", timeout=2.5)) == "now"
    assert trio.current_time() == asked  # the reply did not wait for the timeout
    assert await told("info", TIMEOUT) == pytest.approx(asked + 2.5)


async def test_noreply_with_a_timeout_from_handle_call_can_answer_when_it_expires(autojump_clock):
    pid = await start()
    asked = trio.current_time()
    assert await GenServer.call(pid, "reply later") == "answered at the timeout"
    assert trio.current_time() == pytest.approx(asked + 2.0)


async def test_timeouts_in_a_row_make_a_periodic_tick(autojump_clock):
    pid = await start()
    otp.send(pid, NoReply(timeout=1.0))
    first = await told("info", NoReply(timeout=1.0))
    # handle_info(TIMEOUT) returns None: to tick again, the server returns a new timeout each time.
    assert await told("info", TIMEOUT) == pytest.approx(first + 1.0)
    otp.send(pid, NoReply(timeout=1.0))
    second = await told("info", NoReply(timeout=1.0))
    assert await told("info", TIMEOUT) == pytest.approx(second + 1.0)


# ---------------------------------------------------------------- what cancels a timeout, and what does not


@pytest.mark.parametrize("message", ["call", "cast", "info"])
async def test_any_message_before_the_deadline_cancels_the_timeout(message, autojump_clock):
    pid = await start(NoReply(timeout=5.0))
    await trio.sleep(4.0)
    if message == "call":
        assert await GenServer.call(pid, "a call") == "a call"
    elif message == "cast":
        GenServer.cast(pid, "a cast")
    else:
        otp.send(pid, "a message")
    await told(message, f"a {message}" if message != "info" else "a message")
    await refute_receive(lambda m: m[1] is TIMEOUT, timeout=60.0)


async def test_system_messages_keep_the_deadline_where_it_was(autojump_clock):
    # A dashboard reading the server every second must not keep it from timing out.
    started = trio.current_time()
    pid = await start(NoReply(timeout=5.0))
    for _ in range(4):
        await trio.sleep(1.0)
        assert (await otp.sys.get_status(pid)).status == "running"
    assert await told("info", TIMEOUT) == pytest.approx(started + 5.0)


async def test_a_deadline_passed_while_suspended_fires_on_resume_if_nothing_is_queued(autojump_clock):
    pid = await start(NoReply(timeout=1.0))
    await otp.sys.suspend(pid)
    await trio.sleep(10.0)
    await refute_receive(tuple, timeout=0)  # suspended: no callback ran
    resumed = trio.current_time()
    await otp.sys.resume(pid)
    assert await told("info", TIMEOUT) == pytest.approx(resumed)


async def test_a_message_queued_while_suspended_cancels_a_passed_deadline(autojump_clock):
    pid = await start(NoReply(timeout=1.0))
    await otp.sys.suspend(pid)
    GenServer.cast(pid, "waited")
    await trio.sleep(10.0)
    await otp.sys.resume(pid)
    await told("cast", "waited")
    await refute_receive(lambda m: m[1] is TIMEOUT, timeout=60.0)


async def test_timeout_zero_times_out_at_once_unless_a_message_is_queued(autojump_clock):
    pid = await start()
    otp.send(pid, NoReply(timeout=0))
    handled = await told("info", NoReply(timeout=0))
    assert await told("info", TIMEOUT) == handled

    # Queued before the callback returns: taken instead of TIMEOUT.
    class Queues(Idle):
        async def handle_cast(self, request):
            otp.send(otp.current_pid(), "already here")
            return NoReply(timeout=0)

    queues = await Queues.start_link((otp.current_pid(), None))
    GenServer.cast(queues, "go")
    await told("info", "already here")
    await refute_receive(lambda m: m[1] is TIMEOUT, timeout=60.0)


async def test_a_timeout_of_math_inf_is_no_timeout(autojump_clock):
    assert NoReply(timeout=math.inf) == NoReply()
    await start(NoReply(timeout=math.inf))
    await refute_receive(tuple, timeout=3600.0)


# ---------------------------------------------------------------- hibernate


class Hibernates(GenServer):
    """Queues a burst to itself, handles it, then hibernates; answers what it holds."""

    async def handle_cast(self, request):
        if request == "burst":
            for n in range(1000):
                otp.send(otp.current_pid(), n)
            return None
        return NoReply(hibernate=True)

    async def handle_info(self, n):
        return None

    async def handle_call(self, request, caller):
        return Reply("hibernating", hibernate=True)


def mailbox_storage(pid):
    """The kernel's mailbox deque of ``pid`` (None once given back), read from its process record."""
    return pid._process.mailbox


async def test_hibernate_gives_back_the_mailbox_and_the_last_message():
    pid = await Hibernates.start_link()
    GenServer.cast(pid, "burst")
    await otp.testing.wait_all_tasks_blocked()  # the thousand messages handled
    assert mailbox_storage(pid) is not None and len(mailbox_storage(pid)) == 0
    assert (await otp.sys.get_status(pid)).last_message == 999

    GenServer.cast(pid, "sleep")
    await otp.testing.wait_all_tasks_blocked()
    assert mailbox_storage(pid) is None
    status = await otp.sys.get_status(pid)  # served while hibernating: it hibernates again after
    assert status.last_message is None
    assert await GenServer.call(pid, "hi") == "hibernating"  # and it wakes for any message


async def test_reply_with_hibernate_replies_first():
    pid = await Hibernates.start_link()
    assert await GenServer.call(pid, "anything") == "hibernating"
    await otp.testing.wait_all_tasks_blocked()
    assert mailbox_storage(pid) is None


async def test_release_mailbox_gives_back_only_an_empty_mailbox():
    me = otp.current_pid()
    assert release_mailbox() is False  # never used
    otp.send(me, "one")
    assert release_mailbox() is False  # not empty
    assert await otp.receive() == "one"
    assert release_mailbox() is True
    assert mailbox_storage(me) is None
    otp.send(me, "two")  # a new one is made as needed
    assert await otp.receive() == "two"


# ---------------------------------------------------------------- wrong shapes


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: NoReply(timeout=-1), ValueError, "NoReply(timeout=...) takes seconds >= 0; got -1"),
        (lambda: NoReply(timeout=math.nan), ValueError, "NoReply(timeout=...) takes seconds >= 0; got nan"),
        (lambda: Reply(1, timeout="5"), TypeError, "Reply(timeout=...) takes seconds (an int or a float) or None; got '5'"),
        (lambda: NoReply(timeout=True), TypeError, "NoReply(timeout=...) takes seconds (an int or a float) or None; got True"),
        (lambda: NoReply(hibernate="yes"), TypeError, "NoReply(hibernate=...) takes True or False; got 'yes'"),
        (
            lambda: Reply(1, timeout=1, hibernate=True),
            TypeError,
            "Reply() takes timeout= or hibernate=True, not both: a hibernating server waits for its next message "
            "however long it takes",
        ),
    ],
    ids=["negative", "nan", "str", "bool", "hibernate-str", "both"],
)
def test_wrong_options_fail_where_they_are_written(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert str(info.value) == message


async def test_a_wrong_option_in_a_callback_crashes_the_server_with_that_error():
    class Negative(GenServer):
        async def handle_cast(self, request):
            return NoReply(timeout=-1.0)

    pid = await Negative.start()
    ref = otp.monitor(pid)
    with capture_crash_reports() as reports:
        GenServer.cast(pid, "go")
        down = await assert_down(ref, ValueError)
    assert str(down.reason) == "NoReply(timeout=...) takes seconds >= 0; got -1.0"
    assert len(reports) == 1


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("cast", "Idle.handle_cast returned Reply(1, timeout=1.0); expected None, NoReply(), Continue(arg) or "
                 "Stop(reason) (there is no caller to reply to; NoReply(timeout=..., hibernate=...) takes the same "
                 "options)"),
        ("init", "Idle.init returned Reply(1, timeout=1.0); expected None, NoReply(timeout=t | hibernate=True), "
                 "Continue(arg), Stop(reason) or Ignore() (only handle_call replies)"),
    ],
)
async def test_reply_outside_handle_call_is_a_type_error_naming_the_callback(how, message):
    with capture_crash_reports() as reports:
        if how == "init":
            with pytest.raises(otp.StartError) as info:
                await Idle.start((otp.current_pid(), Reply(1, timeout=1.0)))
            reason = info.value.reason
        else:
            pid = await Idle.start((otp.current_pid(), None))
            ref = otp.monitor(pid)
            GenServer.cast(pid, Reply(1, timeout=1.0))
            reason = (await assert_down(ref, TypeError)).reason
    assert type(reason) is TypeError and str(reason) == message
    assert len(reports) == 1


def test_the_shapes_read_as_written():
    assert repr(NoReply(timeout=5)) == "NoReply(timeout=5.0)"
    assert repr(NoReply(hibernate=True)) == "NoReply(hibernate=True)"
    assert repr(Reply("r")) == "Reply('r')"
    assert repr(Reply("r", timeout=0)) == "Reply('r', timeout=0.0)"
    assert repr(TIMEOUT) == "TIMEOUT"
    assert NoReply(timeout=1) == NoReply(timeout=1.0) != NoReply(timeout=2.0)
    assert Reply(1, hibernate=True) == Reply(1, hibernate=True) != Reply(1)
