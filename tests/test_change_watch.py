"""Guarded-file changes are seen the moment the writer closes the file (inotify on the directories), for
plain writes, an editor's write-and-rename and deletions; without inotify the watcher fails over to polling."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from omni_tui.core import inotify
from omni_tui.core.workspace import Workspace
from omni_tui.ui.messages import FileChanged
from omni_tui.ui.workers import WorkspaceWatcher

pytestmark = pytest.mark.skipif(not inotify.available(), reason="inotify is Linux only")


def test_a_closed_write_a_rename_and_a_delete_are_reported(tmp_path: Path) -> None:
    target = tmp_path / "devenv.nix"
    target.write_text("{ }\n")
    with inotify.DirectoryWatch([str(tmp_path)]) as watch:
        assert watch.wait(0.01) == []
        with open(target, "w") as fh:
            fh.write("{ a = 1; }\n")
        assert str(target) in watch.wait(5)
        tmp = tmp_path / ".devenv.nix.swp"
        tmp.write_text("{ b = 2; }\n")
        os.replace(tmp, target)  # how many editors save
        assert str(target) in watch.wait(5)
        target.unlink()
        assert str(target) in watch.wait(5)


def test_a_wait_in_another_thread_ends_at_once_when_interrupted(tmp_path: Path) -> None:
    """Quitting the cockpit stops its watcher: the thread must not sit out its wait's timeout first."""
    results: list[list[str]] = []
    with inotify.DirectoryWatch([str(tmp_path)]) as watch:
        thread = threading.Thread(target=lambda: results.append(watch.wait(60.0)), daemon=True)
        thread.start()
        watch.interrupt()
        thread.join(20)  # an upper bound only: it returns as soon as the interrupt lands
        assert not thread.is_alive() and results == [[]]
        (tmp_path / "f").write_text("x")  # and the watch still reports what happens next
        assert set(watch.wait(20.0)) == {str(tmp_path / "f")}
    watch.interrupt()  # after close: nothing to wake, no error


def test_stopping_the_watcher_and_the_poller_ends_their_threads_without_waiting_out_a_step(project: Path) -> None:
    from omni_tui.core.gate import Gate
    from omni_tui.core.proposals import ProposalStore
    from omni_tui.ui.workers import ProcessPoller

    ws = Workspace.open(project, env={}, cwd=project)
    app = _App()
    watcher = WorkspaceWatcher(app, ws, Gate(ws), ProposalStore(ws))  # type: ignore[arg-type]
    poller = ProcessPoller(app, project, interval_s=3600.0)  # type: ignore[arg-type]  # its next scan: in an hour
    threads = [threading.Thread(target=worker.run, daemon=True) for worker in (watcher, poller)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while watcher._watch is None or poller._monitor is None or not app.posted:  # both are in their wait
        assert time.monotonic() < deadline, "the watcher and the poller never started"
        time.sleep(0.01)
    watcher.stop()
    poller.stop()
    for thread in threads:
        thread.join(20)  # an upper bound: they end as soon as they are told
    assert not any(thread.is_alive() for thread in threads)


def test_a_missing_directory_is_an_oserror_so_the_cockpit_polls(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        inotify.DirectoryWatch([str(tmp_path / "missing")])


class _App:
    def __init__(self) -> None:
        self.posted: list[object] = []

    def post_message(self, message: object) -> bool:
        self.posted.append(message)
        return True


def test_the_workspace_watcher_posts_the_new_text_once_the_file_is_closed(project: Path) -> None:
    from omni_tui.core.gate import Gate
    from omni_tui.core.proposals import ProposalStore

    ws = Workspace.open(project, env={}, cwd=project)
    app = _App()
    watcher = WorkspaceWatcher(app, ws, Gate(ws), ProposalStore(ws))  # type: ignore[arg-type]
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        nix = project / "devenv.nix"
        marker = "# seen by the watcher"
        deadline = time.monotonic() + 20

        def seen() -> bool:
            return any(isinstance(m, FileChanged) and any(marker in (f.current or "") for f in m.files) for m in app.posted)

        # The watch may not be set up yet when the first write lands: write again until it is seen.
        while not seen():
            assert time.monotonic() < deadline, "the write was never reported"
            nix.write_text(nix.read_text() + f"\n{marker}\n")
            time.sleep(0.2)
    finally:
        watcher.stop_event.set()
        thread.join(5)
    assert not thread.is_alive()


def test_the_process_scan_waits_while_a_change_is_being_drawn(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write's way to the screen is not shared with a process scan: the poller waits out the window."""
    from omni_tui.core import processes
    from omni_tui.ui import workers

    scans: list[float] = []

    class Monitor:
        def collect(self) -> object:
            scans.append(time.monotonic())
            return processes.ProcessSnapshot("psutil")

        def wait_for_change(self, timeout_s: float, stop: threading.Event) -> bool:
            stop.wait(timeout_s)
            return False

    monkeypatch.setattr(processes, "monitor_for", lambda *a, **k: Monitor())
    app = _App()
    poller = workers.ProcessPoller(app, project, interval_s=0.2)  # type: ignore[arg-type]
    workers._Quiet.hush(1.0)
    hushed_until = workers._Quiet.until
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not scans:
            assert time.monotonic() < deadline, "the poller never scanned"
            time.sleep(0.02)
    finally:
        poller.stop_event.set()
        thread.join(5)
    assert scans[0] >= hushed_until


def test_a_closed_write_is_reported_without_waiting_and_an_editors_save_in_one_piece(tmp_path: Path) -> None:
    """A write closed in place is whole: reported at once (no settle time on the write→diff path).
    An editor's save that starts by moving the file away waits for the rest of the save."""
    target = tmp_path / "devenv.nix"
    target.write_text("{ }\n")
    with inotify.DirectoryWatch([str(tmp_path)]) as watch:
        target.write_text("{ a = 1; }\n")
        assert watch.wait(5, settle_s=60) == [str(target)]  # a 60 s settle would time the test out
        backup = tmp_path / "devenv.nix~"
        target.rename(backup)
        threading.Timer(0.2, lambda: target.write_text("{ a = 2; }\n")).start()
        seen = watch.wait(5, settle_s=10.0)  # returns once the save is whole, long before
        assert seen[0] == str(target) and seen[-1] == str(target) and len(seen) >= 3, seen


def test_the_gate_is_read_after_the_new_text_is_drawn(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watcher posts the new text, then waits for the app to draw it before reading the gate's state
    (that read would share the GIL with the frame); an app that never says so delays the gate only briefly."""
    from omni_tui.core.gate import Gate
    from omni_tui.core.proposals import ProposalStore
    from omni_tui.ui import workers
    from omni_tui.ui.messages import GateChanged

    ws = Workspace.open(project, env={}, cwd=project)
    app = _App()
    watcher = WorkspaceWatcher(app, ws, Gate(ws), ProposalStore(ws))  # type: ignore[arg-type]
    monkeypatch.setattr(workers, "_DRAWN_WAIT_S", 60.0)  # however slow this machine, only `drawn` ends the wait
    thread = threading.Thread(target=watcher.handle, args=(True, False), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not any(isinstance(m, FileChanged) for m in app.posted):
        assert time.monotonic() < deadline, "the new text was never posted"
        time.sleep(0.01)
    changed = next(m for m in app.posted if isinstance(m, FileChanged))
    assert changed.drawn is not None
    time.sleep(0.05)
    assert not any(isinstance(m, GateChanged) for m in app.posted)  # not before the frame
    changed.drawn.set()  # what the app does after the frame that shows the text
    thread.join(20)
    assert isinstance(app.posted[-1], GateChanged)

    app.posted.clear()
    monkeypatch.setattr(workers, "_DRAWN_WAIT_S", 0.1)
    started = time.monotonic()
    watcher.handle(True, False)  # nobody draws: the gate is read after the short wait all the same
    assert isinstance(app.posted[-1], GateChanged)
    assert time.monotonic() - started >= workers._DRAWN_WAIT_S
