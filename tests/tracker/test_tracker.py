"""The Tracker on one node (Local PubSub): client API, handle_diff's exact diffs, automatic untrack."""

import pytest

import otp
from otp import GenServer, NotRegistered, ServerExited, Supervisor, pubsub
from otp.testing import assert_receive, capture_crash_reports, kill_and_wait, refute_receive
from otp.tracker import AlreadyTracked, NotTracked, Tracker
from otp.tracker._shard import SHARDS

PUBSUB, NAME = "tracker_pubsub", "presence"


class Recorder(Tracker):
    """Sends every diff, and every other message, to the test."""

    async def init(self, test):
        self.test = test

    async def handle_diff(self, diff):
        otp.send(self.test, ("diff", diff))

    async def handle_info(self, message):
        otp.send(self.test, ("info", message))


async def start(**options):
    await pubsub.start_link(PUBSUB)
    return await Recorder.start_link(otp.current_pid(), pubsub=PUBSUB, name=NAME, **options)


async def next_diff():
    return (await assert_receive(lambda m: isinstance(m, tuple) and m[0] == "diff"))[1]


async def no_diff():
    await refute_receive(lambda m: isinstance(m, tuple) and m[0] == "diff", timeout=0.05)


def sleeper():
    return otp.spawn(otp.receive)  # lives until it is killed


# ---------------------------------------------------------------- track, list


async def test_track_lists_the_presence_and_reports_a_join_with_its_phx_ref():
    await start()
    me = otp.current_pid()
    ref = await Tracker.track(NAME, me, "room:1", "alice", {"status": "away"})
    meta = {"status": "away", "phx_ref": ref}
    assert isinstance(ref, str) and len(ref) >= 8
    assert await next_diff() == {"room:1": ([("alice", meta)], [])}
    assert Tracker.list(NAME, "room:1") == [("alice", meta)]
    assert Tracker.get_by_key(NAME, "room:1", "alice") == [(me, meta)]
    assert Tracker.list(NAME, "room:2") == [] and Tracker.get_by_key(NAME, "room:1", "bob") == []


async def test_topics_counts_the_presences_of_each_topic():
    await start()
    me = otp.current_pid()
    await Tracker.track(NAME, me, "room:1", "alice", {})
    await Tracker.track(NAME, me, "room:1", "bob", {})
    await Tracker.track(NAME, me, "room:2", "alice", {})
    assert Tracker.topics(NAME) == {"room:1": 2, "room:2": 1}
    await Tracker.untrack(NAME, me, "room:2", "alice")
    assert Tracker.topics(NAME) == {"room:1": 2}


async def test_reads_take_the_tracker_s_pid_too_and_send_no_message():
    tracker = await start()
    await Tracker.track(tracker, otp.current_pid(), "room", "alice", {})
    await next_diff()
    assert [key for key, _ in Tracker.list(tracker, "room")] == ["alice"]
    assert otp.process_info(tracker).message_queue_len == 0


async def test_one_process_under_many_keys_and_many_processes_under_one_key():
    await start()
    me, other = otp.current_pid(), sleeper()
    await Tracker.track(NAME, me, "room", "alice", {"device": "phone"})
    await Tracker.track(NAME, me, "room", "alice-bot", {})
    await Tracker.track(NAME, other, "room", "alice", {"device": "laptop"})
    assert [(key, meta["device"]) for key, meta in Tracker.list(NAME, "room") if "device" in meta] == [
        ("alice", "phone"),
        ("alice", "laptop"),
    ]
    assert [pid for pid, _ in Tracker.get_by_key(NAME, "room", "alice")] == [me, other]


async def test_tracking_the_same_pid_topic_and_key_twice_raises_already_tracked(autojump_clock):
    await start()
    me = otp.current_pid()
    await Tracker.track(NAME, me, "room", "alice", {})
    await next_diff()
    with pytest.raises(AlreadyTracked) as raised:
        await Tracker.track(NAME, me, "room", "alice", {"again": True})
    assert (raised.value.pid, raised.value.topic, raised.value.key) == (me, "room", "alice")
    assert str(raised.value) == (
        f"{me!r} is already tracked under topic 'room' with key 'alice'; "
        f"call update() to change its meta, or untrack() first"
    )
    await no_diff()
    assert len(Tracker.list(NAME, "room")) == 1


# ---------------------------------------------------------------- untrack


async def test_untrack_one_presence_reports_its_leave():
    await start()
    me = otp.current_pid()
    ref = await Tracker.track(NAME, me, "room", "alice", {})
    ref2 = await Tracker.track(NAME, me, "lobby", "alice", {})
    await next_diff(), await next_diff()
    await Tracker.untrack(NAME, me, "room", "alice")
    assert await next_diff() == {"room": ([], [("alice", {"phx_ref": ref})])}
    assert Tracker.list(NAME, "room") == [] and Tracker.list(NAME, "lobby") == [("alice", {"phx_ref": ref2})]


async def test_untrack_a_process_from_everything_reports_every_leave():
    await start()
    me = otp.current_pid()
    refs = [await Tracker.track(NAME, me, topic, "alice", {}) for topic in ("room", "lobby")]
    await next_diff(), await next_diff()
    await Tracker.untrack(NAME, me)
    assert await next_diff() == {
        "room": ([], [("alice", {"phx_ref": refs[0]})]),
        "lobby": ([], [("alice", {"phx_ref": refs[1]})]),
    }
    assert Tracker.list(NAME, "room") == Tracker.list(NAME, "lobby") == []


async def test_untracking_what_is_not_tracked_does_nothing(autojump_clock):
    await start()
    await Tracker.untrack(NAME, otp.current_pid())
    await Tracker.untrack(NAME, otp.current_pid(), "room", "nobody")
    await no_diff()


async def test_untrack_needs_both_topic_and_key_or_neither():
    await start()
    with pytest.raises(TypeError, match=r"untrack\(tracker, pid\) or untrack\(tracker, pid, topic, key\)"):
        await Tracker.untrack(NAME, otp.current_pid(), "room")


# ---------------------------------------------------------------- update


async def test_update_reports_the_old_meta_leaving_and_the_new_joining():
    await start()
    me = otp.current_pid()
    ref = await Tracker.track(NAME, me, "room", "alice", {"status": "away"})
    await next_diff()
    new_ref = await Tracker.update(NAME, me, "room", "alice", {"status": "here"})
    old = {"status": "away", "phx_ref": ref}
    new = {"status": "here", "phx_ref": new_ref, "phx_ref_prev": ref}
    assert new_ref != ref
    assert await next_diff() == {"room": ([("alice", new)], [("alice", old)])}
    assert Tracker.list(NAME, "room") == [("alice", new)]


async def test_update_with_a_function_of_the_old_meta():
    await start()
    me = otp.current_pid()
    await Tracker.track(NAME, me, "room", "alice", {"count": 1})
    await next_diff()
    await Tracker.update(NAME, me, "room", "alice", lambda meta: {"count": meta["count"] + 1})
    ((_, meta),) = Tracker.list(NAME, "room")
    assert meta["count"] == 2


async def test_update_of_a_presence_that_is_not_tracked_raises_not_tracked():
    await start()
    me = otp.current_pid()
    with pytest.raises(NotTracked) as raised:
        await Tracker.update(NAME, me, "room", "alice", {})
    assert (raised.value.pid, raised.value.topic, raised.value.key) == (me, "room", "alice")
    assert isinstance(raised.value, LookupError)


async def test_an_update_function_that_fails_raises_in_the_caller_and_the_tracker_lives_on():
    tracker = await start()
    await Tracker.track(NAME, otp.current_pid(), "room", "alice", {})
    with pytest.raises(ZeroDivisionError):
        await Tracker.update(NAME, otp.current_pid(), "room", "alice", lambda meta: 1 / 0)
    with pytest.raises(TypeError, match=r"the function given to update\(\) returned 'nope'; a presence's meta must"):
        await Tracker.update(NAME, otp.current_pid(), "room", "alice", lambda meta: "nope")
    assert otp.is_alive(tracker) and len(Tracker.list(NAME, "room")) == 1


# ---------------------------------------------------------------- processes that end


async def test_a_tracked_process_that_ends_is_untracked_and_its_leaves_reported():
    await start()
    worker = sleeper()
    refs = [await Tracker.track(NAME, worker, topic, "bob", {}) for topic in ("room", "lobby")]
    await next_diff(), await next_diff()
    await kill_and_wait(worker)
    assert await next_diff() == {
        "room": ([], [("bob", {"phx_ref": refs[0]})]),
        "lobby": ([], [("bob", {"phx_ref": refs[1]})]),
    }
    assert Tracker.list(NAME, "room") == Tracker.list(NAME, "lobby") == []


async def test_a_process_untracked_before_it_ends_leaves_once(autojump_clock):
    await start()
    worker = sleeper()
    await Tracker.track(NAME, worker, "room", "bob", {})
    await next_diff()
    await Tracker.untrack(NAME, worker)
    await next_diff()
    await kill_and_wait(worker)
    await no_diff()


async def test_tracking_a_process_that_already_ended_untracks_it_at_once():
    await start()
    worker = sleeper()
    await kill_and_wait(worker)
    ref = await Tracker.track(NAME, worker, "room", "ghost", {})
    assert await next_diff() == {"room": ([("ghost", {"phx_ref": ref})], [])}
    assert await next_diff() == {"room": ([], [("ghost", {"phx_ref": ref})])}
    assert Tracker.list(NAME, "room") == []


# ---------------------------------------------------------------- callbacks, options, errors


async def test_other_messages_go_to_handle_info():
    tracker = await start()
    otp.send(tracker, "hello")
    assert await assert_receive(tuple) == ("info", "hello")


async def test_alone_on_its_node_the_tracker_heartbeats_quietly(autojump_clock):
    await start(broadcast_period=0.5)
    await Tracker.track(NAME, otp.current_pid(), "room", "alice", {})
    await next_diff()
    await refute_receive(timeout=10.0)  # twenty periods
    assert len(Tracker.list(NAME, "room")) == 1 and Tracker.replicas(NAME) == {}


def test_callbacks_must_be_async():
    with pytest.raises(TypeError, match=r"Sync.handle_diff must be an async function \(async def handle_diff"):

        class Sync(Tracker):
            def handle_diff(self, diff):
                pass


class Returns(Tracker):
    async def handle_diff(self, diff):
        return "ok"


async def test_handle_diff_must_return_none():
    await pubsub.start_link(PUBSUB)
    otp.trap_exits(True)
    await Returns.start_link(pubsub=PUBSUB, name=NAME)
    with capture_crash_reports() as reports, pytest.raises(ServerExited) as raised:
        await Tracker.track(NAME, otp.current_pid(), "room", "alice", {})
    assert isinstance(raised.value.reason, TypeError)
    assert str(raised.value.reason) == (
        "Returns.handle_diff must return None; got 'ok'. Keep the tracker's state on self."
    )
    assert len(reports) == 1


async def test_reads_of_a_tracker_that_is_not_running_raise():
    with pytest.raises(NotRegistered):
        Tracker.list("nobody", "room")
    tracker = await start()
    await GenServer.stop(tracker)
    with pytest.raises(NotRegistered):
        Tracker.list(NAME, "room")
    with pytest.raises(LookupError, match="is not a running tracker"):
        Tracker.get_by_key(tracker, "room", "alice")


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"down_period": 1.0},
            r"down_period must be at least twice the longest silence between heartbeats "
            r"\(2 × broadcast_period × max_silent_periods = 30 s\)",
        ),
        (
            {"broadcast_period": 0.1, "max_silent_periods": 2, "down_period": 0.3},
            r"= 0.4 s\), or healthy nodes would be taken down; got 0.3",
        ),
        (
            {"down_period": 40.0, "permdown_period": 40.0},
            r"permdown_period must be longer than down_period \(40 s\); got 40",
        ),
        ({"broadcast_period": 0}, r"broadcast_period must be > 0 and max_silent_periods an int >= 1"),
        ({"max_silent_periods": 0}, r"got 1.5 and 0"),
    ],
)
async def test_start_link_checks_that_the_periods_fit_together(options, message):
    await pubsub.start_link(PUBSUB)
    with pytest.raises(ValueError, match=message):
        await Recorder.start_link(None, pubsub=PUBSUB, name=NAME, **options)


async def test_arguments_are_checked_in_the_caller():
    await start()
    me = otp.current_pid()
    with pytest.raises(TypeError, match="track\\(\\) needs meta as a dict"):
        await Tracker.track(NAME, me, "room", "alice", ["not", "a", "dict"])
    with pytest.raises(TypeError, match="a tracker topic must be a str; got 42"):
        await Tracker.track(NAME, me, 42, "alice", {})
    with pytest.raises(TypeError, match="a tracked process must be given as a Pid; got 'me'"):
        await Tracker.track(NAME, "me", "room", "alice", {})
    with pytest.raises(TypeError, match="update\\(\\) needs meta as a dict, or a function"):
        await Tracker.update(NAME, me, "room", "alice", 3)
    with pytest.raises(TypeError, match="a tracker needs name= and pubsub= as str"):
        await Recorder.start_link(pubsub=PUBSUB, name=("not", "a", "str"))


async def test_a_tracker_runs_under_a_supervisor():
    await pubsub.start_link(PUBSUB)
    spec = Recorder.child_spec(otp.current_pid(), pubsub=PUBSUB, name=NAME)
    assert spec.id == (Recorder, NAME)
    await Supervisor.start_link([spec])
    await Tracker.track(NAME, otp.current_pid(), "room", "alice", {})
    assert (await next_diff())["room"][0][0][0] == "alice"


async def test_the_crash_report_state_is_a_summary():
    tracker = await start()
    await Tracker.track(NAME, otp.current_pid(), "room", "alice", {})
    status = SHARDS[tracker].format_status()
    assert status["tracker"] == "Recorder" and status["presences"] == 1 and status["replicas"] == {}
    assert status["replica"][0] == pubsub.node_name(PUBSUB)


async def test_a_request_the_tracker_does_not_know_fails_the_caller_and_the_tracker_runs_on():
    tracker = await start()
    answer = await GenServer.call(tracker, ("track", otp.current_pid(), "room", "k", {}))
    assert type(answer).__name__ == "Failed"
    assert str(answer.error) == (
        "a tracker answers Track, Untrack and Update; got ('track', " + repr(otp.current_pid()) + ", 'room', 'k', {})"
    )
    await Tracker.track(NAME, otp.current_pid(), "room", "k", {})
    assert [key for key, _ in Tracker.list(NAME, "room")] == ["k"]
