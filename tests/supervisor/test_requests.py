"""The calls a supervisor answers are message classes with one dispatch for both kinds;
anything else is answered with a TypeError naming what is accepted, and the supervisor runs on."""

from otp import DynamicSupervisor, GenServer, Supervisor, is_alive
from otp.supervisor._requests import CountChildren, DeleteChild, RestartChild, WhichChildren

from ._workers import Worker, spec


async def test_a_supervisor_answers_its_requests_as_classes():
    sup = await Supervisor.start_link([spec("a")])
    rows = await GenServer.call(sup, WhichChildren())
    assert [(row.id, row.type.value) for row in rows] == [("a", "worker")]
    counts = await GenServer.call(sup, CountChildren())
    assert (counts.specs, counts.active) == (1, 1)


async def test_an_old_tuple_request_fails_the_caller_with_what_is_accepted():
    sup = await Supervisor.start_link([spec("a")])
    answer = await GenServer.call(sup, ("which_children",))
    assert type(answer).__name__ == "Failed"
    assert type(answer.error) is TypeError
    assert str(answer.error) == (
        "a supervisor answers WhichChildren, CountChildren, StartChild, TerminateChild, "
        "RestartChild, DeleteChild; got ('which_children',)"
    )
    assert is_alive(sup)
    assert [row.id for row in await Supervisor.which_children(sup)] == ["a"]


async def test_a_dynamic_supervisor_refuses_restart_and_delete():
    sup = await DynamicSupervisor.start_link()
    pid = await DynamicSupervisor.start_child(sup, (Worker, {}))
    for request in (RestartChild(pid), DeleteChild(pid)):
        answer = await GenServer.call(sup, request)
        assert str(answer.error) == (
            f"a dynamic supervisor answers WhichChildren, CountChildren, StartChild, TerminateChild; got {request!r}"
        )
    assert [row.pid for row in await DynamicSupervisor.which_children(sup)] == [pid]
