"""otp.upgrade: a real module file, imported, rewritten, reloaded; its live servers move to the new code.

Every test writes version 1 of a module into its own temporary directory,
imports it, starts servers from it, then writes version 2 and upgrades.
"""

import importlib
import os
import sys
import textwrap

import pytest

import otp
from otp import DynamicSupervisor, GenServer, Supervisor, Task
from otp.lowlevel import take_queued
from otp.sys import CallbackFailed
from otp.testing import capture_crash_reports, kill_and_wait

V1 = '''
__version__ = "1.0"

import otp
from otp import GenServer


class Counter(GenServer):
    async def init(self, start):
        self.count = start
        self.casts = 0

    async def handle_call(self, request, caller):
        if request == "version":
            return 1
        self.count += 1
        return self.count

    async def handle_cast(self, request):
        self.casts += 1


class Other(GenServer):
    async def handle_call(self, request, caller):
        return "other v1"
'''

# Version 2 counts by ten, renames count to total in code_change, and
# refuses to move a server whose count is 13.
V2 = '''
__version__ = "2.0"

import otp
from otp import GenServer


class Counter(GenServer):
    async def init(self, start):
        self.total = start
        self.casts = 0

    async def handle_call(self, request, caller):
        if request == "version":
            return 2
        if request == "upgraded from":
            return self.upgraded_from
        self.total += 10
        return self.total

    async def handle_cast(self, request):
        self.casts += 1

    async def code_change(self, old_vsn, extra):
        self.upgraded_from = (old_vsn, extra)
        self.total = self.count
        if self.count == 13:
            raise ValueError("13 is unlucky")
        del self.count


class Other(GenServer):
    async def handle_call(self, request, caller):
        return "other v2"
'''


class Source:
    """A module file of our own: ``write(code)`` puts a new version on disk for the next reload."""

    def __init__(self, directory, name):
        self.path = directory / f"{name}.py"
        self.name = name
        self.mtime = 1_000_000_000

    def write(self, code):
        self.path.write_text(textwrap.dedent(code))
        # Python trusts its cached bytecode when the source's mtime (in whole
        # seconds) and size are unchanged: two versions written in the same
        # second must not look alike.
        self.mtime += 10
        os.utime(self.path, (self.mtime, self.mtime))


@pytest.fixture
def source(tmp_path, request):
    """Version 1 written and imported as a module named after the test; removed afterwards."""
    name = "upgraded_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")
    source = Source(tmp_path, name)
    source.write(V1)
    sys.path.insert(0, str(tmp_path))
    try:
        source.module = importlib.import_module(name)
        yield source
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


# ---------------------------------------------------------------- the state kept, the new code running


async def test_live_servers_take_the_new_code_and_keep_their_state(source):
    module = source.module
    old_class = module.Counter
    pids = [await module.Counter.start_link(start) for start in (0, 100)]
    other = await module.Other.start_link()
    assert [await GenServer.call(pid, "incr") for pid in pids] == [1, 101]

    source.write(V2)
    report = await otp.upgrade(module, extra="hello")

    assert module.Counter is not old_class
    assert (report.module, report.upgraded, report.failed, report.classes) == (
        source.name, (*pids, other), {}, ("Counter", "Other")
    )
    assert report.ok and len(report.pauses) == 3 and all(pause > 0 for pause in report.pauses)
    assert [await GenServer.call(pid, "incr") for pid in pids] == [11, 111]  # by ten, from where they were
    assert [await GenServer.call(pid, "version") for pid in pids] == [2, 2]
    assert await GenServer.call(pids[0], "upgraded from") == ("1.0", "hello")  # the module's __version__
    state = await otp.sys.get_state(pids[0])
    assert type(state) is module.Counter and vars(state) == {"total": 11, "casts": 0, "upgraded_from": ("1.0", "hello")}
    assert await GenServer.call(other, "x") == "other v2"


async def test_under_call_load_every_call_is_answered_and_no_message_is_lost(source):
    module = source.module
    pid = await module.Counter.start_link(0)
    me = otp.current_pid()

    async def hammer():
        """Calls and casts without a pause; tells the test when it is well under way, ends 500 calls after 'done'."""
        values, extra = [], None
        while extra is None or extra > 0:
            values.append(await GenServer.call(pid, "incr"))
            GenServer.cast(pid, "one more")
            if len(values) == 300:
                otp.send(me, "under way")
            if extra is None and take_queued(lambda m: m == "upgraded") is not None:
                extra = 500
            elif extra is not None:
                extra -= 1
        return values

    task = Task.spawn(hammer)
    await otp.receive(lambda m: m == "under way")
    source.write(V2)
    report = await otp.upgrade(module)
    otp.send(task.pid, "upgraded")
    values = await task.result(timeout=30)

    assert report.upgraded == (pid,) and report.failed == {}
    steps = [b - a for a, b in zip([0, *values], values, strict=False)]
    first_ten = steps.index(10)
    # Every call answered, in order: +1 each by the old code, then +10 each by the new, from the same count.
    assert steps[:first_ten] == [1] * first_ten and steps[first_ten:] == [10] * (len(steps) - first_ten)
    assert first_ten >= 300 and len(steps) - first_ten >= 500
    state = await otp.sys.get_state(pid)
    assert state.casts == len(values)  # every cast handled, by one version or the other


# ---------------------------------------------------------------- a refused code_change


async def test_a_code_change_that_raises_leaves_that_server_on_the_old_code(source):
    module = source.module
    old_class = module.Counter
    lucky, unlucky = await module.Counter.start_link(0), await module.Counter.start_link(12)
    await GenServer.call(unlucky, "incr")  # 13

    source.write(V2)
    with capture_crash_reports() as reports:
        report = await otp.upgrade(module)

    assert report.upgraded == (lucky,) and list(report.failed) == [unlucky] and not report.ok
    failure = report.failed[unlucky]
    assert type(failure) is CallbackFailed and failure.callback == "code_change"
    assert repr(failure.reason) == "ValueError('13 is unlucky')"
    state = await otp.sys.get_state(unlucky)
    # The old class, and the attributes as they were: upgraded_from and total, set before the raise, are gone.
    assert type(state) is old_class and vars(state) == {"count": 13, "casts": 0}
    assert await GenServer.call(unlucky, "incr") == 14 and await GenServer.call(unlucky, "version") == 1
    assert (await otp.sys.get_status(unlucky)).status == "running"
    assert await GenServer.call(lucky, "incr") == 10
    assert reports == []  # nothing crashed


async def test_code_change_must_return_none(source):
    module = source.module
    pid = await module.Counter.start_link(0)
    source.write(V1.replace("class Other", "    async def code_change(self, old_vsn, extra):\n        return 'done'\n\n\nclass Other"))
    report = await otp.upgrade(module)
    assert str(report.failed[pid].reason) == (
        "Counter.code_change returned 'done'; expected None (change the attributes on self; raise to refuse the upgrade)"
    )


async def test_a_class_the_new_code_lacks_is_reported_and_keeps_running(source):
    module = source.module
    old_other = module.Other
    pid = await module.Other.start_link()
    source.write(V1.split("class Other")[0])
    report = await otp.upgrade(module)
    assert type(report.failed[pid]) is LookupError
    assert str(report.failed[pid]) == (
        f"the new code of {source.name} has no class Other (by that qualified name) to replace the old one with; "
        f"the server keeps the old code"
    )
    assert type(await otp.sys.get_state(pid)) is old_other
    assert await GenServer.call(pid, "x") == "other v1"


async def test_new_code_that_does_not_import_changes_nothing(source):
    module = source.module
    old_class = module.Counter
    pid = await module.Counter.start_link(0)
    source.write(V2 + "\nraise RuntimeError('broken at import')\n")
    with pytest.raises(RuntimeError, match="broken at import"):
        await otp.upgrade(module)
    assert module.Counter is old_class and module.__version__ == "1.0"  # the namespace put back
    assert sys.modules[source.name] is module
    assert await GenServer.call(pid, "incr") == 1 and await GenServer.call(pid, "version") == 1
    assert (await otp.sys.get_status(pid)).status == "running"


# ---------------------------------------------------------------- versions


async def test_a_class_vsn_is_given_as_old_vsn(source):
    source.write(V1.replace("class Counter(GenServer):\n", "class Counter(GenServer):\n    vsn = 7\n"))
    module = importlib.reload(source.module)
    assert module.Counter.vsn == 7 and module.Other.vsn == "1.0"  # the module's __version__ when it was defined
    pid = await module.Counter.start_link(0)
    source.write(V2)
    await otp.upgrade(source.name, extra=None)  # by name, too
    assert await GenServer.call(pid, "upgraded from") == (7, None)


async def test_upgrade_takes_an_imported_module():
    with pytest.raises(LookupError) as info:
        await otp.upgrade("not_imported_anywhere")
    assert str(info.value) == "upgrade: the module 'not_imported_anywhere' is not imported; there is nothing running its code"
    with pytest.raises(TypeError):
        await otp.upgrade(42)


# ---------------------------------------------------------------- supervisors follow the new code


async def test_a_supervisor_restarts_a_child_with_the_new_code(source):
    module = source.module
    sup = await Supervisor.start_link([module.Counter.child_spec(5, name="counter")])
    source.write(V2)
    await otp.upgrade(module)
    with capture_crash_reports():
        await kill_and_wait(otp.whereis("counter"))
        [child] = await Supervisor.which_children(sup)
    assert child.pid == otp.whereis("counter")
    assert type(await otp.sys.get_state("counter")) is module.Counter
    assert await GenServer.call("counter", "incr") == 15  # the new init (total = 5), the new handle_call


async def test_specs_written_before_the_upgrade_start_the_new_code(source):
    module = source.module
    spec = module.Counter.child_spec(0, id="late")
    nested = Supervisor.child_spec([(module.Counter, 1)], id="nested")
    sup = await Supervisor.start_link([])
    dynamic = await DynamicSupervisor.start_link()
    source.write(V2)
    await otp.upgrade(module)

    late = await Supervisor.start_child(sup, spec)
    inner = await Supervisor.start_child(sup, nested)
    [inner_child] = await Supervisor.which_children(inner)
    added = await DynamicSupervisor.start_child(dynamic, spec)
    for pid in (late, inner_child.pid, added):
        assert await GenServer.call(pid, "version") == 2


async def test_servers_of_other_modules_are_left_alone(source):
    class Local(GenServer):
        async def handle_call(self, request, caller):
            return "local"

    pid = await Local.start_link()
    source.write(V2)
    report = await otp.upgrade(source.module)
    assert pid not in report.upgraded and pid not in report.failed
    assert (await otp.sys.get_status(pid)).status == "running"
