"""FileWatcher (otp/watcher.py) on real files: events, debouncing, globs, recovery, subscribers, supervision."""

from __future__ import annotations

import shutil

import pytest

import otp
from otp import KILL, NORMAL, SHUTDOWN, Down, ExitSignal, StartError, Supervisor
from otp.lowlevel import queued_messages
from otp.testing import assert_down, assert_receive, capture_crash_reports

watchfiles = pytest.importorskip("watchfiles")

from otp.watcher import FileEvent, FileWatcher, Watch  # noqa: E402

WAIT = 10.0  # inotify and the debounce are quick; this is only an upper bound on a loaded machine


async def next_event() -> FileEvent:
    return await assert_receive(FileEvent, timeout=WAIT)


async def events_until(path, kinds_wanted) -> list[FileEvent]:
    """Every event up to and including the first one for ``path`` that has ``kinds_wanted``."""
    seen = []
    while True:
        event = await next_event()
        seen.append(event)
        if event.path == str(path) and kinds_wanted <= event.kinds:
            return seen


async def watching(tmp_path, **options) -> otp.Pid:
    watcher = await FileWatcher.start_link(Watch([tmp_path], **options))
    await FileWatcher.subscribe(watcher)
    return watcher


async def test_added_modified_and_deleted_files_are_reported_with_absolute_paths(tmp_path):
    watcher = await watching(tmp_path)
    note = tmp_path / "note.txt"
    note.write_text("one")
    [event] = await events_until(note, {"added"})
    assert event.watcher == watcher and event.path == str(tmp_path.resolve() / "note.txt")
    note.write_text("two")
    assert (await events_until(note, {"modified"}))[-1].kinds == {"modified"}
    note.unlink()
    assert (await events_until(note, {"deleted"}))[-1].kinds == {"deleted"}


async def test_a_burst_of_writes_to_one_file_is_one_event(tmp_path):
    await watching(tmp_path, debounce=0.2)
    burst = tmp_path / "burst.txt"
    with open(burst, "w") as file:
        for n in range(20):
            file.write(f"line {n}\n")
            file.flush()
    [event] = await events_until(burst, {"added"})
    assert event.kinds in ({"added"}, {"added", "modified"})
    assert queued_messages() == []


async def test_only_paths_matching_the_patterns_and_not_the_ignore_globs_are_reported(tmp_path):
    await watching(tmp_path, patterns=["*.py", "*.html"], ignore=["*_test.py"])
    (tmp_path / "notes.txt").write_text("not watched")
    (tmp_path / "app_test.py").write_text("ignored")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "cached.py").write_text("always ignored")
    (tmp_path / "page.html").write_text("<p>")
    (tmp_path / "app.py").write_text("print()")
    events = await events_until(tmp_path.resolve() / "app.py", {"added"})
    if len(events) == 1:  # page.html may come in the same batch or the next
        events.append(await next_event())
    assert sorted(e.path.rsplit("/", 1)[1] for e in events) == ["app.py", "page.html"]


async def test_a_removed_and_recreated_directory_is_watched_again(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    await watching(folder)
    shutil.rmtree(folder)
    await events_until(folder.resolve(), {"deleted"})
    folder.mkdir()
    await events_until(folder.resolve(), {"added"})
    (folder / "again.html").write_text("back")
    await events_until(folder.resolve() / "again.html", {"added"})


async def test_a_subscriber_that_ends_or_unsubscribes_is_forgotten(tmp_path):
    watcher = await FileWatcher.start_link(Watch(tmp_path))
    other = otp.spawn(otp.receive)
    await FileWatcher.subscribe(watcher, other)
    ref = otp.monitor(other)
    otp.send(other, "stop")
    await assert_down(ref, NORMAL)
    await FileWatcher.subscribe(watcher)
    (tmp_path / "a.txt").write_text("a")
    await events_until(tmp_path.resolve() / "a.txt", {"added"})
    await FileWatcher.unsubscribe(watcher)
    assert otp.process_info(watcher).monitors == ()  # neither the ended subscriber nor this one
    await FileWatcher.subscribe(watcher)  # subscribing twice is one subscription
    await FileWatcher.subscribe(watcher)
    (tmp_path / "b.txt").write_text("b")
    await events_until(tmp_path.resolve() / "b.txt", {"added"})
    assert [m for m in queued_messages() if isinstance(m, FileEvent) and m.path.endswith("b.txt")] == []


async def test_a_path_that_does_not_exist_is_a_start_error(tmp_path):
    with capture_crash_reports():
        with pytest.raises(StartError) as info:
            await FileWatcher.start_link(Watch(tmp_path / "missing"))
    assert isinstance(info.value.reason, FileNotFoundError)
    assert str(info.value.reason) == f"cannot watch {str(tmp_path.resolve() / 'missing')!r}: it does not exist"


def test_watch_options_are_checked():
    with pytest.raises(ValueError, match="Watch needs at least one path to watch"):
        Watch([])
    with pytest.raises(ValueError, match=r"Watch debounce must be more than 0 seconds; got 0"):
        Watch(".", debounce=0)
    assert Watch("src", patterns="*.py").patterns == ("*.py",)
    assert Watch("src", patterns=["templates/*.html"]).wanted("/app/templates/index.html")
    assert not Watch("src", patterns=["templates/*.html"]).wanted("/app/static/index.html")


async def test_a_supervised_watcher_is_restarted_when_a_path_watcher_dies(tmp_path):
    supervisor = await Supervisor.start_link([FileWatcher.child_spec(Watch(tmp_path), name="reloader")])
    first = otp.whereis("reloader")
    [path_watcher] = [pid for pid in otp.process_info(first).links if pid != supervisor]
    ref = otp.monitor(first)
    with capture_crash_reports():
        otp.exit(path_watcher, KILL)
        await assert_down(ref, otp.KILLED, timeout=WAIT)
    [child] = await Supervisor.which_children(supervisor)
    assert child.pid not in (None, first)
    await FileWatcher.subscribe("reloader")
    (tmp_path / "after-restart.txt").write_text("x")
    await events_until(tmp_path.resolve() / "after-restart.txt", {"added"})


async def test_the_watcher_ends_its_path_watchers_when_it_stops(tmp_path):
    otp.trap_exits(True)
    watcher = await FileWatcher.start_link(Watch(tmp_path))
    [path_watcher] = [pid for pid in otp.process_info(watcher).links if pid != otp.current_pid()]
    ref = otp.monitor(path_watcher)
    await FileWatcher.stop(watcher)
    down = await assert_receive(Down, timeout=WAIT)
    assert down.ref == ref and down.reason == SHUTDOWN
    assert await assert_receive(ExitSignal) == ExitSignal(watcher, NORMAL)
