"""Agent (otp/agent.py): a value behind a process, read and changed by functions sent to it."""

import pytest
import trio

import otp
from otp import NORMAL, Agent, AlreadyStarted, CallTimeout, Registry, ServerExited, StartError, Supervisor, Task
from otp.lowlevel import queued_messages
from otp.testing import assert_down, capture_crash_reports


class Boom(Exception):
    pass


async def test_get_update_get_and_update_and_cast_act_on_one_value_in_order():
    agent = await Agent.start_link(lambda: [])
    assert await Agent.update(agent, lambda items: [*items, "a"]) is None
    Agent.cast(agent, lambda items: [*items, "b"])
    assert await Agent.get_and_update(agent, lambda items: (len(items), [*items, "c"])) == 2
    assert await Agent.get(agent, lambda items: items) == ["a", "b", "c"]
    assert queued_messages() == []


async def test_the_functions_run_inside_the_agent_process_one_at_a_time():
    agent = await Agent.start_link(lambda: 0)
    assert await Agent.get(agent, lambda _: otp.current_pid()) == agent

    async def slow_increment(n):
        await trio.sleep(0)  # yields to the callers below: they still wait their turn
        return n + 1

    callers = [Task.spawn(Agent.update, agent, slow_increment) for _ in range(50)]
    for caller in callers:
        assert await caller.result() is None
    assert await Agent.get(agent, lambda n: n) == 50


async def test_async_functions_are_awaited_in_the_agent():
    async def initial():
        return {"hits": 1}

    async def read(value):
        await trio.sleep(0)
        return value["hits"]

    agent = await Agent.start_link(initial)
    assert await Agent.get(agent, read) == 1


async def test_a_registered_name_and_a_via_name_address_the_agent():
    agent = await Agent.start_link(lambda: 7, name="seven")
    assert otp.whereis("seven") == agent
    assert await Agent.get("seven", lambda n: n * 6) == 42
    with pytest.raises(AlreadyStarted) as info:
        await Agent.start_link(lambda: 8, name="seven")
    assert info.value.pid == agent

    await Registry.start_link(keys=Registry.UNIQUE, name="agents")
    via = Registry.via("agents", "cart:1")
    cart = await Agent.start_link(lambda: [], name=via)
    await Agent.update(via, lambda items: [*items, "tea"])
    assert await Agent.get(cart, lambda items: items) == ["tea"]


async def test_a_function_that_raises_crashes_the_agent_and_the_caller_gets_the_exception():
    agent = await Agent.start(lambda: {"secret": 1})
    ref = otp.monitor(agent)
    boom = Boom("while reading")

    def fail(value):
        raise boom

    with capture_crash_reports() as reports:
        with pytest.raises(ServerExited) as info:
            await Agent.get(agent, fail)
        await assert_down(ref, Boom)
    assert info.value.reason is boom
    assert len(reports) == 1
    assert "crashed: Boom('while reading')\n" in reports[0].getMessage()
    assert reports[0].exc_info[1] is boom
    assert reports[0].exc_text.endswith("Boom: while reading")  # the traceback
    assert "{'value': {'secret': 1}}" in reports[0].getMessage()  # the report shows the agent's value


async def test_get_and_update_must_return_a_pair_or_the_agent_crashes_with_a_type_error():
    agent = await Agent.start(lambda: 1)
    with capture_crash_reports() as reports:
        with pytest.raises(ServerExited) as info:
            await Agent.get_and_update(agent, lambda n: n + 1)
    assert isinstance(info.value.reason, TypeError)
    assert str(info.value.reason) == "an Agent.get_and_update function must return (reply, new_value); it returned 2"
    assert len(reports) == 1
    assert not otp.is_alive(agent)


async def test_an_init_that_raises_is_a_start_error_and_leaves_no_process():
    def init():
        raise Boom("no value")

    with capture_crash_reports():
        with pytest.raises(StartError) as info:
            await Agent.start_link(init, name="never")
    assert isinstance(info.value.reason, Boom)
    assert otp.whereis("never") is None


async def test_a_call_that_outlasts_its_timeout_is_call_timeout_and_the_late_reply_is_dropped(autojump_clock):
    agent = await Agent.start_link(lambda: 0)

    async def slow(n):
        await trio.sleep(10)
        return n + 1

    with pytest.raises(CallTimeout):
        await Agent.update(agent, slow, timeout=1.0)
    assert await Agent.get(agent, lambda n: n, timeout=20.0) == 1  # the agent finished the update
    assert queued_messages() == []


async def test_a_cast_to_a_dead_agent_is_dropped_and_stop_waits_for_the_exit():
    agent = await Agent.start(lambda: 0)
    ref = otp.monitor(agent)
    await Agent.stop(agent)
    assert not otp.is_alive(agent)
    await assert_down(ref, NORMAL)
    Agent.cast(agent, lambda n: n + 1)  # never fails
    with pytest.raises(otp.NoProc):
        await Agent.get(agent, lambda n: n)


async def test_the_request_shapes_are_the_agents_own():
    agent = await Agent.start(lambda: 0)
    with capture_crash_reports() as reports:
        with pytest.raises(ServerExited) as info:
            await otp.GenServer.call(agent, "get")
    assert str(info.value.reason) == "an agent takes requests from Agent.get/update/get_and_update only; got 'get'"
    assert len(reports) == 1


async def test_a_supervised_agent_is_restarted_with_a_fresh_value_after_a_crash():
    supervisor = await Supervisor.start_link([Agent.child_spec(lambda: 0, name="count")])
    [child] = await Supervisor.which_children(supervisor)
    assert child.id == "count"
    await Agent.update("count", lambda n: n + 5)
    first = otp.whereis("count")
    ref = otp.monitor(first)

    def fail(value):
        raise Boom("bad update")

    with capture_crash_reports():
        Agent.cast("count", fail)
        await assert_down(ref, Boom)
    [child] = await Supervisor.which_children(supervisor)
    assert child.pid not in (None, first)
    assert await Agent.get("count", lambda n: n) == 0


def test_an_unnamed_child_spec_has_the_id_agent_and_overrides_apply():
    spec = Agent.child_spec(dict, restart=otp.Restart.TRANSIENT, shutdown=1.0)
    assert (spec.id, spec.restart, spec.shutdown) == (Agent, otp.Restart.TRANSIENT, 1.0)
    assert spec.start[1] is dict
    assert Agent.child_spec(dict, id="cache").id == "cache"


def test_agent_is_not_instantiated():
    with pytest.raises(TypeError, match=r"Agent is used through its static methods"):
        Agent()
