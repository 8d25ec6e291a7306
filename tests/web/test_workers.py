"""web.workers with real worker OS processes: one port, one cluster, restarts, stopping, and orphans.

The app is tests/_web_workers_app.py. A client reaches a chosen worker by
keeping an HTTP connection open (keep-alive): on the shared port the kernel
picks a worker per connection, and ``GET /node`` says which. Whether an OS
process has ended is waited for on a pidfd, never by sleeping.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import trio
from _redis import free_port

import otp
from otp import StartError, Supervisor
from otp.port import ProgramExited
from otp.program import Program
from otp.pubsub.broker import Broker
from otp.testing import capture_crash_reports, wait_for_restart
from web import workers

APP = "_web_workers_app:children"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "pidfd_open") or not hasattr(socket, "SO_REUSEPORT"), reason="Linux only"),
]


class Client:
    """One keep-alive HTTP connection: it stays on the worker the kernel gave it."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream, self.buffer = stream, b""

    @classmethod
    async def open(cls, port: int) -> Client:
        return cls(await trio.open_tcp_stream("127.0.0.1", port))

    async def get(self, path: str) -> str:
        await self.stream.send_all(f"GET {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += await self._more()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        while len(self.buffer) < length:
            self.buffer += await self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        assert head.startswith(b"HTTP/1.1 200"), head
        return body.decode()

    async def _more(self) -> bytes:
        data = await self.stream.receive_some(65536)
        assert data, "the server closed the connection"
        return data


async def one_client_per_worker(port: int, count: int) -> dict[str, Client]:
    """Connections until every worker has one (by its node name); the others are closed."""
    by_node: dict[str, Client] = {}
    for _ in range(200):
        client = await Client.open(port)
        node = await client.get("/node")
        if node in by_node:
            await client.stream.aclose()
        else:
            by_node[node] = client
        if len(by_node) == count:
            return by_node
    raise AssertionError(f"200 connections reached only {sorted(by_node)}")


async def os_process_ended(pid: int, timeout: float = 10.0) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        with trio.fail_after(timeout):
            await trio.lowlevel.wait_readable(fd)
    finally:
        os.close(fd)


def can_bind(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            assert error.errno == errno.EADDRINUSE
            return False
    return True


async def worker_os_pids(tree: otp.Pid) -> dict[str, int]:
    children = await Supervisor.which_children(tree)
    return {child.id: await Program.os_pid(child.pid) for child in children if str(child.id).startswith("worker-")}


def node(index: int) -> str:
    return f"worker-{index}@{socket.gethostname()}"


async def test_two_workers_share_the_port_and_a_broadcast_on_one_reaches_a_subscriber_on_the_other():
    tree = await workers.start_link(APP, workers=2, port=0)
    host, port = workers.address(tree)
    assert host == "127.0.0.1" and port != 0
    clients = await one_client_per_worker(port, 2)
    assert sorted(clients) == [node(1), node(2)]
    served_by = {int(await client.get("/pid")) for client in clients.values()}
    assert served_by == set((await worker_os_pids(tree)).values())
    async with trio.open_nursery() as nursery:
        heard = []

        async def wait_on_worker_1():
            heard.append(await clients[node(1)].get("/wait?topic=news"))

        nursery.start_soon(wait_on_worker_1)
        # Until worker 1's subscriber is in place, a broadcast would reach nobody: say it again until heard.
        while not heard:
            assert await clients[node(2)].get("/say?topic=news&message=hello+from+2") == "said"
            with trio.move_on_after(0.05):
                while not heard:
                    await trio.sleep(0.005)
    assert heard == ["hello from 2"]


async def test_a_worker_that_dies_is_restarted_and_the_port_serves_both_again():
    tree = await workers.start_link(APP, workers=2, port=0)
    port = workers.address(tree)[1]
    before = await worker_os_pids(tree)
    [old] = [child.pid for child in await Supervisor.which_children(tree) if child.id == "worker-1"]
    with capture_crash_reports() as reports:
        os.kill(before["worker-1"], signal.SIGKILL)
        new = await wait_for_restart(tree, "worker-1", old, timeout=30)
    assert new != old
    after = await worker_os_pids(tree)
    assert after["worker-1"] != before["worker-1"] and after["worker-2"] == before["worker-2"]
    # The port's crash report, the Program's, and the supervisor's report of its restart: each says why.
    argv = (sys.executable, "-m", "web.workers", "--worker")
    assert [(r.name, r.otp_reason) for r in reports] == [
        ("otp.process", ProgramExited(argv, -9)), ("otp.genserver", ProgramExited(argv, -9)),
        ("otp.supervisor", ProgramExited(argv, -9)),
    ]
    assert sorted(await one_client_per_worker(port, 2)) == [node(1), node(2)]


async def test_stopping_the_tree_stops_every_worker_in_order_and_frees_the_port():
    tree = await workers.start_link(APP, workers=2, port=0)
    port = workers.address(tree)[1]
    os_pids = await worker_os_pids(tree)
    [broker] = [child.pid for child in await Supervisor.which_children(tree) if child.id == "broker"]
    bus = Path(Broker.url(broker).removeprefix("unix://"))
    assert bus.is_socket() and oct(bus.parent.stat().st_mode & 0o777) == "0o700"  # a private directory
    ref = otp.monitor(tree)
    otp.unlink(tree)
    otp.exit(tree, otp.SHUTDOWN)
    await otp.testing.assert_down(ref, otp.SHUTDOWN, timeout=30)
    for os_pid in os_pids.values():
        await os_process_ended(os_pid)
    assert can_bind(port)
    assert not bus.parent.exists()


async def test_one_worker_runs_the_app_in_this_process():
    tree = await workers.start_link(APP, workers=1, port=0)
    port = workers.address(tree)[1]
    client = await Client.open(port)
    assert await client.get("/node") == "single"
    assert int(await client.get("/pid")) == os.getpid()
    assert [child.id for child in await Supervisor.which_children(tree)][-1] == "web.workers.keeper"


@pytest.mark.parametrize(
    ("app", "options", "error"),
    [
        (APP, {"workers": 0}, "web.workers: workers must be a positive number of processes (or None: one per core); got 0"),
        ("no_colon", {}, "web.workers: app is 'package.module:function' (a factory of the children); got 'no_colon'"),
    ],
)
async def test_malformed_arguments_are_refused_precisely(app, options, error):
    with pytest.raises(ValueError) as refused:
        await workers.start_link(app, port=0, **options)
    assert str(refused.value) == error


async def test_an_app_defined_in_main_cannot_be_imported_by_a_worker_and_nothing_is_left_behind(tmp_path, monkeypatch):
    def children(worker):
        return []

    children.__module__ = "__main__"
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the bus's directory would be made
    port = free_port()
    with pytest.raises(ValueError, match="cannot import"):
        await workers.start_link(children, workers=2, port=port)
    assert list(tmp_path.iterdir()) == [] and can_bind(port)


async def test_a_port_taken_by_another_server_is_an_os_error_before_any_worker_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError) as refused:
            await workers.start_link(APP, workers=2, port=taken.getsockname()[1])
    assert refused.value.errno == errno.EADDRINUSE


async def test_a_worker_that_cannot_start_fails_the_start_and_leaves_nothing_running():
    lines = []
    with capture_crash_reports():
        with pytest.raises(StartError):
            await workers.start_link(
                APP, workers=2, port=0, options={"fail": True},
                on_output=lambda label, line, stream: lines.append((label, line)),
            )
    assert ("worker-1", "RuntimeError: this app cannot start") in lines
    assert [label for label, _ in lines] and {label for label, _ in lines} == {"worker-1"}


async def test_workers_whose_parent_is_killed_exit_within_a_second_and_free_the_port():
    parent = start_parent()
    try:
        port = int(listening_line(parent).rsplit(":", 1)[1])
        worker_pids = children_of(parent.pid)
        assert len(worker_pids) == 2
        watched = [os.pidfd_open(pid) for pid in worker_pids]
        parent.kill()  # SIGKILL: no goodbye to anyone
        killed_at = time.monotonic()
        for fd in watched:
            with trio.fail_after(5):
                await trio.lowlevel.wait_readable(fd)
            os.close(fd)
        took = time.monotonic() - killed_at
        assert took < 1.0, f"the workers took {took:.2f} s to exit"
        assert can_bind(port)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_sigterm_or_ctrl_c_stops_the_workers_then_the_parent_and_frees_the_port(signum):
    parent = start_parent()
    try:
        port = int(listening_line(parent).rsplit(":", 1)[1])
        watched = [os.pidfd_open(pid) for pid in children_of(parent.pid)]
        parent.send_signal(signum)
        for fd in watched:  # each worker stopped (by the parent, in order)...
            with trio.fail_after(30):
                await trio.lowlevel.wait_readable(fd)
            os.close(fd)
        assert await trio.to_thread.run_sync(parent.wait, 30) == 0  # ...then the parent ended, well
        assert can_bind(port)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


def start_parent() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "web.workers", APP, "--workers", "2", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=Path(__file__).parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )


def listening_line(parent: subprocess.Popen) -> str:
    line = parent.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line
    return line


def children_of(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children
