"""process_info, processes, is_alive."""

import trio
import trio.testing

import otp


async def test_process_info_describes_a_waiting_process():
    me = otp.current_pid()

    async def worker():
        otp.trap_exits(True)
        await otp.receive(int)

    pid = otp.spawn_link(worker)
    ref = otp.monitor(pid)
    otp.register("info_worker", pid)
    otp.send(pid, "queued, not an int")
    await trio.testing.wait_all_tasks_blocked()
    info = otp.process_info(pid)
    assert info == otp.ProcessInfo(
        pid=pid,
        status="waiting",
        message_queue_len=1,
        links=(me,),
        monitors=(),
        monitored_by=(me,),
        registered_name="info_worker",
        function=f"{__name__}.test_process_info_describes_a_waiting_process.<locals>.worker",
        trap_exit=True,
        messages_received=0,
        kind=None,
        current_function=f"{__name__}.test_process_info_describes_a_waiting_process.<locals>.worker",
        memory=info.memory,
    )
    assert info.memory > 0
    otp.demonitor(ref)
    assert otp.process_info(pid).monitored_by == ()
    assert otp.process_info(me).monitors == ()
    otp.send(pid, 0)  # let it finish, rather than make the node wait for it


async def test_process_info_of_the_caller_says_running_and_of_a_dead_pid_is_none():
    assert otp.process_info(otp.current_pid()).status == "running"
    pid, ref = otp.spawn_monitor(lambda: None)
    await otp.receive(otp.Down)
    assert otp.process_info(pid) is None
    assert not otp.is_alive(pid)


async def test_process_info_is_frozen():
    info = otp.process_info(otp.current_pid())
    try:
        info.status = "x"
    except AttributeError:
        pass
    else:
        raise AssertionError("ProcessInfo must be frozen")


async def test_processes_lists_live_pids_oldest_first():
    me = otp.current_pid()
    a = otp.spawn(otp.receive)
    b = otp.spawn(otp.receive)
    assert otp.processes() == [me, a, b]
    otp.exit(a, otp.KILL)
    await trio.testing.wait_all_tasks_blocked()
    assert otp.processes() == [me, b]


async def test_messages_received_counts_messages_taken_from_the_mailbox():
    me = otp.current_pid()
    for n in range(3):
        otp.send(me, n)
    await otp.receive()
    otp.receive_nowait()
    assert otp.process_info(me).messages_received == 2
