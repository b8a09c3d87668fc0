"""The cockpit's background work that runs for its whole life: the workspace watcher (with its
fallback to polling), the process poller, and the start-up recovery of an orphaned rebuild.

`Background` belongs to the app: `start()` once the first frame is on screen (importing watchfiles
and the first process scan would delay it by 30-50 ms, docs/performance.md), `stop()` on unmount or
quit. Each piece is a thread worker that reports only through messages (`omni_tui.ui.workers`).
"""

from __future__ import annotations

import gc
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import Worker

from omni_tui.ui.workers import ProcessPoller, WorkspaceWatcher, reap_orphans

if TYPE_CHECKING:
    from omni_tui.ui.app import CockpitApp


class Background:
    """The watcher, the poller and the orphan reaper of one cockpit (see the module docstring)."""

    def __init__(self, app: CockpitApp) -> None:
        self.app = app
        self.watcher: WorkspaceWatcher | None = None
        self.poller: ProcessPoller | None = None
        self.watcher_polling = False  # the watcher fell back to polling (inotify failed)
        self.stopped = False

    def start(self) -> None:
        app = self.app
        if self.stopped:
            return
        if app.freeze_gc_after_first_frame:
            # The widgets, styles and first listing live as long as the cockpit: frozen, the cyclic
            # collector no longer walks them on each full collection (a streaming rebuild makes many).
            # `cmd_cockpit` left collection off until now: ≈ 60 collections before the first frame.
            gc.freeze()
            # A young generation of 10,000 objects, not 700: each frame makes thousands of short-lived
            # containers (Textual's strips and their caches) and a streaming rebuild's batches are large
            # lists, which every young collection walks again (500k lines: 210 collections, ≈ 65 ms →
            # 9, ≈ 35 ms). Cycles still go within a frame or two; refcounting frees the rest at once.
            gc.set_threshold(10_000, 10, 10)
            gc.enable()
        app.where.start()
        app.unguarded.files_read(app.workspace.files.values())  # after the first frame: it may load the Nix parser
        if app.watch_files:
            app.run_worker(partial(reap_orphans, app, app.gate), thread=True, group="recover", exit_on_error=False)
            watcher = self.watcher = WorkspaceWatcher(app, app.ws, app.gate, app.store)
            # A thread: watchfiles' blocking watch, stopped by stop_event (set on unmount, also before it starts).
            app.run_worker(watcher.run, name="watch workspace", group="watch", thread=True, exit_on_error=False)
            # Whatever changed between the first read and the watcher starting is picked up here, as the
            # watcher would (in guard mode a direct edit is captured) — once a long queue's first read is done.
            catch_up = partial(app.run_worker, partial(watcher.handle, True, True), thread=True, group="refresh", exit_on_error=False)
            app.set_timer(0.5, lambda: app.workspace.after_first_listing(catch_up))
        if app.poll_processes:
            processes = app.ws.config.processes
            self.poller = ProcessPoller(app, app.ws.root, processes.poll_interval_s, unmanaged_after_s=processes.unmanaged_after_s)
            app.run_worker(self.poller.run, name="poll processes", group="processes", thread=True, exit_on_error=False)

    def stop(self) -> None:
        self.stopped = True
        self.app.where.stop()
        if self.watcher is not None:
            self.watcher.stop()
        if self.poller is not None:
            self.poller.stop()

    def worker_failed(self, worker: Worker[object]) -> None:
        """A worker died: say so in one line (toast and Rebuild log); a failed watch goes on by polling, once."""
        text = f"{worker.name or 'background task'} failed: {worker.error}"
        self.app.notify(text, severity="error", timeout=10)
        self.app.main.log_view.write_lines([f"✗ {text}"])
        if worker.group == "watch" and self.watcher is not None and not self.watcher_polling:
            self.watcher_polling = True
            self.app.notify("Watching the workspace by polling instead", severity="warning")
            self.app.run_worker(
                partial(self.watcher.run, force_polling=True),
                name="watch workspace (polling)",
                group="watch",
                thread=True,
                exit_on_error=False,
            )
