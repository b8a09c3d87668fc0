"""The cockpit: `CockpitApp` (layout, bindings, state, the approval flow) and `run_cockpit(ws)` for the CLI.

The app owns the state (guarded files, proposals, validations, gate state, processes, the running
rebuild) and wires it to widgets; reading, scanning, validating and rebuilding happen in
`omni_tui.ui.workers`, which report back with `omni_tui.ui.messages`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from omni_tui.core.errors import ConfigError, OmniError, RebuildError
from omni_tui.core.gate import Gate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.rebuild import resolve_command
from omni_tui.core.workspace import default_who
from omni_tui.ui import presenters
from omni_tui.ui.commands import CockpitCommands
from omni_tui.ui.keys import ACTIONS, ACTIONS_BY_ID, default_bindings, keymap_from_config
from omni_tui.ui.messages import (
    ActionDone,
    FileChanged,
    GateChanged,
    GuardedFile,
    ProcessesRefreshed,
    ProcessLogLines,
    ProposalsChanged,
    RebuildFinished,
    RebuildLines,
    RebuildStage,
    RebuildStarted,
    RemoteRebuildEnded,
    RemoteRebuildLog,
    ValidationReady,
)
from omni_tui.ui.themes import apply_log_palette, register_themes, start_theme, theme_variable_defaults
from omni_tui.ui.widgets.diff_view import CSS_PATH as DIFF_VIEW_CSS
from omni_tui.ui.widgets.diff_view import DiffView
from omni_tui.ui.widgets.file_tabs import FileTabs
from omni_tui.ui.widgets.gate_header import GateHeader
from omni_tui.ui.widgets.log_view import LogView
from omni_tui.ui.widgets.process_table import ProcessTable
from omni_tui.ui.widgets.proposal_detail import ProposalDetail
from omni_tui.ui.widgets.proposal_queue import ProposalQueue, plain, state_label
from omni_tui.ui.workers import (
    DIRECT_EDITS,
    ProcessLogFollower,
    ProcessPoller,
    RebuildJob,
    RemoteRebuildFollower,
    WorkspaceWatcher,
    post_workspace,
    read_guarded,
    read_proposals,
    run_action,
    validate_direct_edits,
    validate_proposal,
    validate_texts,
)

if TYPE_CHECKING:
    from omni_tui.ui.screens.process_log import ProcessLogScreen
    from omni_tui.ui.screens.summaries import ApprovalSummary


def screens() -> Any:
    """The modal screens, imported on first use: the first frame does not need them (start-up time)."""
    import omni_tui.ui.screens as module

    return module


# The ValidationReady key prefix of the check of an edited / partly chosen proposal's final texts.
FINAL_CHECK = "final:"

PANELS = ("changes-panel", "proposals-panel", "processes-panel", "rebuild-panel")
PANEL_FOCUS = {
    "changes-panel": "#changes-diff",
    "proposals-panel": "#queue",
    "processes-panel": "#process-table",
    "rebuild-panel": "#rebuild-log",
}
PANEL_TITLES = {"changes-panel": "Changes", "proposals-panel": "Proposals", "processes-panel": "Processes", "rebuild-panel": "Rebuild log"}
HELP_GROUPS = {
    "global": "Cockpit",
    "proposals": "Proposals",
    "changes": "Changes and diffs",
    "processes": "Processes",
    "rebuild": "Rebuild",
}
FINAL_LABELS = {
    "applied": "applied and built",
    "failed": "rebuild FAILED — press b to roll back",
    "rolled_back": "rebuild failed — rolled back",
    "stale": "stale: the file changed since the proposal; nothing applied",
    "rejected": "rejected",
}


class Panel(Vertical):
    """One of the four cockpit panels: a titled, maximisable box."""

    ALLOW_MAXIMIZE = True

    def __init__(self, *children: Widget, title: str, id: str) -> None:
        super().__init__(*children, id=id, classes="panel")
        self.border_title = title


class Panels(Container):
    """The four panels' grid; notes the keys its widgets saw (see `CockpitApp.on_key`)."""

    def on_key(self, event: events.Key) -> None:
        self.app.keys_from_panels.add(event)  # type: ignore[attr-defined]


def _live(handler: Callable[..., None]) -> Callable[..., None]:
    """Drop worker messages that arrive while the app is shutting down (the screens are gone)."""

    @wraps(handler)
    def guarded(self: "CockpitApp", message: Any) -> None:
        # `_running` goes False as `_shutdown` starts pruning screens, which under `run_test` runs
        # beside the message loop: a message handled then would find its widgets gone.
        if not self._running or not self.screen_stack or self._closing or self._closed:
            return
        handler(self, message)

    return guarded


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CockpitApp(App[int]):
    """The omni-tui cockpit on one workspace.

    Test and snapshot hooks: `clock` (ages and elapsed times), `watch` (watchfiles on the workspace),
    `poll_processes` (the 1 s process refresh), `display_root` (the path shown in the header), `who`
    (the name decisions are recorded under).
    """

    # Absolute, so subclasses defined elsewhere (tests, the demo) find the stylesheets too.
    CSS_PATH = [Path(__file__).with_name("cockpit.tcss"), DIFF_VIEW_CSS]
    AUTO_FOCUS = "#queue"
    TITLE = "omni-tui"
    BINDINGS: ClassVar[list[Binding]] = default_bindings()
    COMMANDS = App.COMMANDS | {CockpitCommands}

    def __init__(
        self,
        ws: Any,
        *,
        clock: Callable[[], datetime] | None = None,
        watch: bool = True,
        poll_processes: bool = True,
        display_root: str | None = None,
        who: str | None = None,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.ws = ws
        self.clock = clock or _utc_now
        self.frozen_clock = clock is not None
        # Elapsed times (the rebuild progress row) follow the same clock, so a frozen clock freezes them too.
        self.monotonic: Callable[[], float] = (lambda: self.clock().timestamp()) if clock is not None else time.monotonic
        self.watch_files = watch
        self.poll_processes = poll_processes
        self.display_root = display_root or str(ws.root)
        self.who = who or default_who()
        self.requested_theme = theme or ws.config.ui.theme
        self.keymap = keymap_from_config(ws.config.keys)
        self.store = ProposalStore(ws)
        self.gate = Gate(ws, who=self.who, store=self.store)
        # state
        self.files: dict[str, GuardedFile] = {}
        self.changes_path: str | None = None
        self.gate_state: Any = None
        self.entries: dict[str, Any] = {}
        self.quarantined: dict[str, Any] = {}
        self.history: dict[str, Any] = {}  # proposal id → the change the gate wrote (core.history), or None
        self.validations: dict[str, tuple[Any, str | None]] = {}
        self._validation_gen: dict[str, int] = {}
        self.selected_key: str | None = None
        self.hunks: dict[tuple[str, str], set[int]] = {}
        self.edited: dict[str, dict[str, str]] = {}
        self.job: RebuildJob | None = None
        self.processes: Any = None
        self.selected_process: str | None = None
        self.rebuild_command: str | None = None
        self.rebuild_problem: str | None = None
        self._known_pending: set[str] | None = None
        self._watcher: WorkspaceWatcher | None = None
        self._poller: ProcessPoller | None = None
        self._background_stopped = False
        self._log_follower: ProcessLogFollower | None = None
        self._log_screen: ProcessLogScreen | None = None
        self.keys_from_panels: weakref.WeakSet[events.Key] = weakref.WeakSet()  # see on_key
        # The open approve / accept modal (updated in place when its validation arrives): (key, screen).
        self._approve_screen: tuple[str, Any] | None = None
        # The check of what approving an edited / partly chosen proposal would write: pid → (validation, error).
        self.final_validations: dict[str, tuple[Any, str | None]] = {}
        self._remote: RemoteRebuildFollower | None = None  # following another process's rebuild log
        self.last_outcome: str = ""
        self._binding_signature: tuple[object, ...] = ()
        self._quit_when_idle = False
        self._quit_screen: Any = None  # the open "quit while a rebuild runs?" modal
        self._watcher_polling = False
        # Themes before the first stylesheet parse (without Textual's watchers, which would re-parse it).
        loaded = register_themes(self)
        self._theme_problems = list(loaded.errors)
        problem = start_theme(self, self.requested_theme)
        if problem:
            self._theme_problems.append(problem)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications are plain text by default here: they quote agents' titles, paths and errors
        (control characters made inert too: an escape sequence must not reach the person's terminal)."""
        super().notify(plain(message, multiline=True), title=plain(title), severity=severity, timeout=timeout, markup=markup)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # The `$diff-*` / `$log-*` variables, derived for themes that do not set them (Textual's own).
        defaults = theme_variable_defaults(self.current_theme)
        # Textual's ansi-* themes generate no $foreground-disabled (a DiffView's left-out hunks): without
        # it, choosing one stops the app with a stylesheet error. Their $text-disabled is the same idea.
        generated = self.current_theme.to_color_system().generate()
        if "foreground-disabled" not in generated:
            defaults["foreground-disabled"] = generated.get("text-disabled", generated["foreground-muted"])
        return defaults

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield GateHeader(self.display_root, id="gate-header")
        with Panels(id="panels"):
            yield Panel(FileTabs(id="changes-files"), DiffView(id="changes-diff", auto_split=True, choosable=False), title="Changes", id="changes-panel")
            yield Panel(ProposalQueue(id="queue"), ProposalDetail(id="detail"), title="Proposals", id="proposals-panel")
            yield Panel(
                Static("", id="process-note"), ProcessTable(id="process-table"), title="Processes", id="processes-panel"
            )
            # A frozen clock (tests, snapshots) freezes the progress row; with the real one the row ends
            # on the measured duration, the one the decision records.
            log_clock = self.monotonic if self.frozen_clock else None
            yield Panel(LogView(id="rebuild-log", clock=log_clock), title="Rebuild log", id="rebuild-panel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for problem in self._theme_problems:
            self.notify(problem, severity="error", timeout=8)
        self.theme_changed_signal.subscribe(self, lambda theme: apply_log_palette(self, theme))
        if self.keymap:
            self.set_keymap(self.keymap)
        self._resolve_rebuild_command()
        # First picture synchronously (small reads), so the first frame already shows the workspace.
        self._apply_files(read_guarded(self.ws))
        entries, quarantined, history = read_proposals(self.store)
        self._apply_proposals(entries, quarantined, history, initial=True)
        self._apply_gate(self.gate.state())
        self._process_note()
        # Watching and polling start once the first frame is on screen: importing watchfiles and the
        # first process scan would delay it by 30-50 ms (docs/performance.md).
        self.call_after_refresh(self._start_background)
        if not self.frozen_clock:
            self.set_interval(10, self._refresh_ages, name="queue ages")

    def on_unmount(self) -> None:
        self._stop_background()

    def _start_background(self) -> None:
        if self._background_stopped:
            return
        if self.watch_files:
            watcher = self._watcher = WorkspaceWatcher(self, self.ws, self.gate, self.store)
            # A thread: watchfiles' blocking watch, stopped by stop_event (set on unmount, also before it starts).
            self.run_worker(watcher.run, name="watch workspace", group="watch", thread=True, exit_on_error=False)
            # Whatever changed between the first read and the watcher starting is picked up here, as the
            # watcher would (in guard mode a direct edit is captured).
            self.set_timer(0.5, lambda: self.run_worker(
                partial(watcher.handle, True, True), thread=True, group="refresh", exit_on_error=False))
        if self.poll_processes:
            self._poller = ProcessPoller(self, self.ws.root, self.ws.config.processes.poll_interval_s,
                                         unmanaged_after_s=self.ws.config.processes.unmanaged_after_s)
            self.run_worker(self._poller.run, name="poll processes", group="processes", thread=True, exit_on_error=False)

    def _stop_background(self) -> None:
        self._background_stopped = True
        if self._watcher is not None:
            self._watcher.stop_event.set()
        if self._poller is not None:
            self._poller.stop_event.set()
        if self._log_follower is not None:
            self._log_follower.stop_event.set()
        if self._remote is not None:
            self._remote.stop_event.set()
        if self.job is not None:
            self.job.cancel()

    def _resolve_rebuild_command(self) -> None:
        try:
            self.rebuild_command = resolve_command(self.ws.config.rebuild)
        except RebuildError as exc:
            self.rebuild_problem = str(exc)
            self.notify(f"{exc}. Diffs, proposals and processes still work; approving needs a rebuild command.", severity="warning", timeout=10)
            self.log_view.write_lines([f"omni-tui: {exc}", "Diffs, proposals, rejections and processes work; approving needs a rebuild command."])

    @property
    def monitor(self) -> Any:
        """The project's process monitor (imported on first use: psutil and the socket clients)."""
        from omni_tui.core.processes import monitor_for

        return monitor_for(self.ws.root)

    # -- widget accessors ------------------------------------------------------------------------

    @property
    def main(self) -> Screen:
        """The cockpit screen (queries go here, not to a modal on top of it)."""
        return self.screen_stack[0]

    @property
    def log_view(self) -> LogView:
        return self.main.query_one("#rebuild-log", LogView)

    @property
    def changes_diff(self) -> DiffView:
        return self.main.query_one("#changes-diff", DiffView)

    @property
    def detail(self) -> ProposalDetail:
        return self.main.query_one("#detail", ProposalDetail)

    @property
    def queue(self) -> ProposalQueue:
        return self.main.query_one("#queue", ProposalQueue)

    @property
    def process_table(self) -> ProcessTable:
        return self.main.query_one("#process-table", ProcessTable)

    @property
    def header(self) -> GateHeader:
        return self.main.query_one("#gate-header", GateHeader)

    # -- files -----------------------------------------------------------------------------------

    @on(FileChanged)
    @_live
    def _on_file_changed(self, message: FileChanged) -> None:
        self._apply_files(message.files)

    def _apply_files(self, files: tuple[GuardedFile, ...]) -> None:
        changed_paths = {f.path for f in files if self.files.get(f.path) != f}
        self.files = {f.path: f for f in files}
        differing = [f.path for f in files if f.differs]
        if self.changes_path not in differing:
            self.changes_path = differing[0] if differing else (files[0].path if files else None)
        self._show_changes()
        if changed_paths:
            self._revalidate(changed_paths)
        self._bindings_may_have_changed()

    def _show_changes(self) -> None:
        differing = [path for path, f in self.files.items() if f.differs]
        tabs = self.main.query_one("#changes-files", FileTabs)
        tabs.set_files(differing, self.changes_path)
        panel = self.main.query_one("#changes-panel", Panel)
        path = self.changes_path
        if path is None:
            panel.border_subtitle = "no guarded files"
            return
        shown = self.files[path]
        self.changes_diff.set_diff(path, shown.baseline, shown.current)
        if not differing:
            panel.border_subtitle = "no changes against the baseline"
        else:
            unapproved = set(self._unapproved())
            what = "UNAPPROVED · A accept · u revert" if path in unapproved else "applied, not yet built"
            panel.border_subtitle = f"{path} · {what}" if len(differing) == 1 else f"{len(differing)} files differ · {what}"

    @on(FileTabs.FileSelected)
    @_live
    def _on_file_selected(self, message: FileTabs.FileSelected) -> None:
        if message.tabs.id == "changes-files":
            self.changes_path = message.path
            self._show_changes()
        else:
            self._show_detail(path=message.path)

    # -- gate ------------------------------------------------------------------------------------

    @on(GateChanged)
    @_live
    def _on_gate_changed(self, message: GateChanged) -> None:
        self._apply_gate(message.state)

    def _apply_gate(self, state: Any) -> None:
        self.gate_state = state
        kind = state.kind
        if self.job is not None:
            kind = "rebuilding"
        note = ""
        if state.holder is not None and self.job is None:
            note = self._describe_holder(state.holder)
        elif state.failed is not None:
            note = f"{state.failed.proposal_id}: {state.failed.reason}"
        self.header.show_state(kind, len(state.pending), state.unapproved, note)
        self._follow_remote_rebuild(state.holder)
        self._show_changes()
        self._bindings_may_have_changed()

    # -- a rebuild run by another cockpit (or `omni-tui rebuild`) ---------------------------------

    def _remote_holder(self) -> Any | None:
        """The gate's holder when it is another process (this cockpit's own rebuild is `self.job`)."""
        state = self.gate_state
        holder = state.holder if state is not None else None
        if holder is None or self.job is not None or holder.pid == os.getpid():
            return None
        return holder

    def _follow_remote_rebuild(self, holder: Any | None) -> None:
        """Stream, read-only, the log of a rebuild another process runs; end it when the gate is released."""
        remote = self._remote_holder()
        if remote is not None and self._remote is None:
            try:
                since = datetime.fromisoformat(remote.since.replace("Z", "+00:00")).timestamp() if remote.since else time.time()
            except ValueError:
                since = time.time()
            self._remote = RemoteRebuildFollower(self, self.ws.paths.logs, remote.proposal_id, since)
            self.log_view.clear()
            entry = self.entries.get(remote.proposal_id) if remote.proposal_id else None
            what = f"{remote.action} “{plain(entry.proposal.title)}”" if entry is not None else remote.action
            self.log_view.start_progress(f"{what} by {plain(remote.who or 'another cockpit')}")
            self.log_view.write_lines([f"▶ {self._describe_holder(remote)} — in another cockpit; following its log (read-only)"])
            self.main.query_one("#rebuild-panel", Panel).border_subtitle = "REBUILDING in another cockpit · read-only"
            self.run_worker(self._remote.run, name="follow the other rebuild", group="remote-rebuild", thread=True, exit_on_error=False)
        elif holder is None and self._remote is not None:
            self._remote.stop_event.set()

    @on(RemoteRebuildLog)
    @_live
    def _on_remote_log(self, message: RemoteRebuildLog) -> None:
        if self._remote is not None:
            self.log_view.set_log_path(message.path and presenters.project_path(self.ws.root, message.path))

    @on(RemoteRebuildEnded)
    @_live
    def _on_remote_ended(self, message: RemoteRebuildEnded) -> None:
        self._remote = None
        state = self.gate_state
        last = state.last_rebuild if state is not None else None
        panel = self.main.query_one("#rebuild-panel", Panel)
        if last and (message.path is None or last.get("log_path") == message.path):
            status = str(last.get("status"))
            label = FINAL_LABELS.get(status, "rebuilt" if status == "ok" else status)
            figures = [f"exit {last['exit_code']}"] if last.get("exit_code") is not None else []
            if last.get("duration_s") is not None:
                figures.append(f"{float(last['duration_s']):.1f} s")
            mark = "✓" if last.get("ok") else "✗"
            who = f" by {last['who']}" if last.get("who") else ""
            text = f"{mark} {label}{who}" + (f" ({', '.join(figures)})" if figures else "")
            if last.get("reason") and not last.get("ok"):
                text += f" — {last['reason']}"
            self.log_view.finish(last.get("exit_code"), duration_s=last.get("duration_s"))
            panel.border_subtitle = label
        else:
            text = "■ the other cockpit released the gate"
            self.log_view.finish(None, error="ended in another cockpit")
            panel.border_subtitle = "ended in another cockpit"
        self.log_view.write_lines([text])
        self._refresh_workspace()
        # The gate may be held again already (a queue of approvals in the other cockpit).
        self._follow_remote_rebuild(state.holder if state is not None else None)

    def _unapproved(self) -> list[str]:
        state = self.gate_state
        return list(state.unapproved) if state is not None else []

    def _refresh_workspace(self) -> None:
        """Re-read files, proposals and gate state in a thread (after our own actions, watcher or not)."""
        self.run_worker(
            partial(post_workspace, self, self.ws, self.gate, self.store), thread=True, group="refresh", exit_on_error=False
        )

    # -- proposals -------------------------------------------------------------------------------

    @on(ProposalsChanged)
    @_live
    def _on_proposals_changed(self, message: ProposalsChanged) -> None:
        self._apply_proposals(message.entries, message.quarantined, message.history)

    def _apply_proposals(
        self, entries: tuple[Any, ...], quarantined: tuple[Any, ...], history: dict[str, Any], initial: bool = False
    ) -> None:
        was_pending = self.selected_key is not None and self.selected_key in (self._known_pending or ())
        self.entries = {entry.proposal.id: entry for entry in entries}
        self.history = history
        self.quarantined = {presenters.quarantine_key(item): item for item in quarantined}
        pending = {pid for pid, entry in self.entries.items() if entry.status == "pending"}
        new: list[Any] = []
        if self._known_pending is not None and not initial:
            new = [self.entries[pid].proposal for pid in pending - self._known_pending]
            if new:
                self.bell()
                if len(new) == 1:
                    self.notify(f"{new[0].agent}: {new[0].title}", title="New proposal")
                else:
                    self.notify(f"{len(new)} new proposals", title="New proposals")
        self._known_pending = pending
        for pid in pending:
            if pid not in self.validations and pid not in self._validation_gen:
                self._validate(pid)
        self._show_queue()
        if pending and self.selected_key not in pending and (was_pending or new):
            # The selected proposal was just decided, or one arrived while nothing pending was
            # selected: move on to the one waiting (the oldest; a new one when it is alone).
            oldest = min(pending, key=lambda pid: self.entries[pid].proposal.created_at)
            self.queue.select_key(oldest)

    def _show_queue(self) -> None:
        rows = presenters.queue_rows(self.entries.values(), self.quarantined.values(), self.validations, self.clock())
        self.queue.show_rows(rows)
        key = self.queue.selected_key
        if key != self.selected_key or key is None:
            self.selected_key = key
        self._show_detail()
        self._bindings_may_have_changed()

    def _refresh_ages(self) -> None:
        self._show_queue()

    @on(ProposalQueue.Selected)
    @_live
    def _on_queue_selected(self, message: ProposalQueue.Selected) -> None:
        self.selected_key = message.key
        self._show_detail()
        self._bindings_may_have_changed()

    @on(DataTable.RowSelected, "#queue")
    @_live
    def _on_queue_enter(self, _message: DataTable.RowSelected) -> None:
        # enter on a proposal: into its diff, to scroll it line by line (tab moves on to the next panel)
        if self.detail.view is not None and self.detail.shown_path is not None:
            self.detail.diff.focus()

    def _current_texts(self) -> dict[str, str | None]:
        return {path: f.current for path, f in self.files.items()}

    def _show_detail(self, path: str | None = None) -> None:
        key = self.selected_key
        detail = self.detail
        if key is None:
            detail.show(None)
            return
        if key in self.quarantined:
            detail.show(presenters.quarantine_view(self.quarantined[key]))
            return
        entry = self.entries.get(key)
        if entry is None:
            detail.show(None)
            return
        validation, error = self.validations.get(key, (None, None))
        view = presenters.proposal_view(
            entry, self._current_texts(), validation, error, self.edited.get(key, {}), self.clock(), self.history.get(key),
            {path: f.baseline for path, f in self.files.items()},
        )
        same = detail.view is not None and detail.view == view and path in (None, detail.shown_path)
        if same:
            return
        detail.show(view, path or (detail.shown_path if detail.view and detail.view.key == key else None))
        self._restore_hunks()

    def _restore_hunks(self) -> None:
        """Put back the person's hunk choice for the shown proposal file (the DiffView starts with all)."""
        detail = self.detail
        if detail.view is None or detail.shown_path is None or detail.view.state != "pending":
            return  # a decided proposal's diff is what was applied: no choice to put back
        chosen = self.hunks.get((detail.view.key, detail.shown_path))
        if chosen is not None:
            detail.diff.select_hunks(set(chosen))

    @on(DiffView.HunkSelectionChanged)
    @_live
    def _on_hunks_changed(self, message: DiffView.HunkSelectionChanged) -> None:
        detail = self.detail
        if message.control is not detail.diff or detail.view is None or detail.shown_path is None:
            return
        if detail.view.state != "pending":
            return  # the diff of a decided proposal: its hunks are not choices
        key = (detail.view.key, detail.shown_path)
        selected = detail.diff.selected_hunks
        if len(selected) == detail.diff.hunk_count:
            self.hunks.pop(key, None)  # all hunks: approve the proposal as proposed
        else:
            self.hunks[key] = selected

    # -- validation ------------------------------------------------------------------------------

    def _validate(self, pid: str) -> None:
        entry = self.entries.get(pid)
        if entry is None or entry.status != "pending":
            return
        generation = self._validation_gen.get(pid, 0) + 1
        self._validation_gen[pid] = generation
        self.run_worker(
            partial(validate_proposal, self, self.gate, entry.proposal, generation),
            thread=True,
            group="validate",
            exit_on_error=False,
        )

    def _revalidate(self, paths: set[str]) -> None:
        """A guarded file changed: every pending proposal touching it is checked again (base may be stale now)."""
        for pid, entry in self.entries.items():
            if entry.status == "pending" and paths & set(entry.proposal.paths):
                self.validations.pop(pid, None)
                self._validate(pid)

    @on(ValidationReady)
    @_live
    def _on_validation(self, message: ValidationReady) -> None:
        if message.generation != self._validation_gen.get(message.proposal_id):
            return  # an older run finished after a newer one started
        if message.proposal_id == DIRECT_EDITS:
            self._update_approve_screen(DIRECT_EDITS, self._direct_summary(message.validation, message.error))
            return
        if message.proposal_id.startswith(FINAL_CHECK):
            pid = message.proposal_id[len(FINAL_CHECK):]
            self.final_validations[pid] = (message.validation, message.error)
            entry = self.entries.get(pid)
            if entry is not None and entry.status == "pending":
                self._update_approve_screen(pid, self._approval_summary(entry))
            return
        self.validations[message.proposal_id] = (message.validation, message.error)
        self._show_queue()
        entry = self.entries.get(message.proposal_id)
        if entry is not None and entry.status == "pending":
            self._update_approve_screen(message.proposal_id, self._approval_summary(entry))

    def _update_approve_screen(self, key: str, summary: ApprovalSummary) -> None:
        """The approve / accept modal for `key`, still open, shows the validation that just finished."""
        if self._approve_screen is None:
            return
        shown, screen = self._approve_screen
        if shown == key and screen.is_attached and screen in self.screen_stack:
            screen.update_summary(summary)

    # -- selection helpers -----------------------------------------------------------------------

    def _selected_entry(self) -> Any | None:
        key = self.selected_key
        return self.entries.get(key) if key else None

    def _selected_pending(self) -> Any | None:
        entry = self._selected_entry()
        return entry if entry is not None and entry.status == "pending" else None

    def _focused_panel(self) -> str | None:
        node = self.screen.focused if self.screen is self.screen_stack[0] else None
        while node is not None:
            if isinstance(node, Panel):
                return node.id
            node = node.parent  # type: ignore[assignment]
        return None

    def _focused_diff(self) -> DiffView | None:
        panel = self._focused_panel()
        if panel == "changes-panel":
            return self.changes_diff
        if panel == "proposals-panel" and self.detail.view is not None and self.detail.shown_path is not None:
            return self.detail.diff
        return None

    # -- action availability ---------------------------------------------------------------------

    def action_keys(self) -> dict[str, str]:
        """Action id → the key shown for it now (after `[keys]`)."""
        shown: dict[str, str] = {}
        for spec in ACTIONS:
            key = self.keymap.get(spec.id, spec.key).split(",")[0]
            shown[spec.id] = self.get_key_display(Binding(key, spec.id))
        return shown

    def _on_main_screen(self) -> bool:
        return len(self.screen_stack) == 1 and not isinstance(self.screen, ModalScreen)

    def why_unavailable(self, action: str) -> str | None:
        """None when `action` can run now, else one line saying why not (what the footer greys out)."""
        rebuilding = self.job is not None or (self.gate_state is not None and self.gate_state.kind == "rebuilding")
        if action in ("approve", "reject", "edit"):
            entry = self._selected_entry()
            if entry is None:
                return "No proposal selected: pick one in the Proposals panel" if not self.selected_key else "That is an invalid (quarantined) file, not a proposal"
            if entry.status != "pending":
                return f"This proposal is {entry.status}, no longer pending"
            if action != "reject" and rebuilding:
                return self._busy_reason()
            if action != "reject" and self.rebuild_problem:
                return self.rebuild_problem
            return None
        if action == "toggle_hunk":
            if self._focused_panel() != "proposals-panel":
                return "Hunks are chosen in a proposal's diff: move to the Proposals panel (tab)"
            if self._selected_pending() is None:
                return "Select a pending proposal to choose its hunks"
            if self.selected_key in self.edited and self.detail.shown_path in self.edited[self.selected_key]:
                return "You edited this file; the edited text is applied whole"
            return None
        if action in ("next_hunk", "previous_hunk", "toggle_split", "next_file"):
            if self._focused_diff() is None:
                return "Move to the Changes panel or a proposal's diff first (tab)"
            if action == "next_file":
                tabs = self._focused_file_tabs()
                if tabs is None or len(tabs.paths) < 2:
                    return "Only one file differs here"
            return None
        if action in ("accept_direct", "revert_direct"):
            if not self._unapproved():
                return "No unapproved direct edits"
            if rebuilding:
                return self._busy_reason()
            if action == "accept_direct" and self.rebuild_problem:
                return self.rebuild_problem
            return None
        if action == "cancel_rebuild":
            return None if self.job is not None else "No rebuild is running in this cockpit"
        if action == "rollback":
            if rebuilding:
                return self._busy_reason()
            return None if self._failed_proposal() else "Nothing to roll back: no failed rebuild"
        if action in ("restart_process", "stop_process", "process_log"):
            if self._focused_panel() != "processes-panel":
                return "Process actions work in the Processes panel: move there with tab"
            if self.selected_process is None:
                return "No process selected"
            if action != "process_log":
                verb = "restart" if action == "restart_process" else "stop"
                control = getattr(self.processes, "control", None)
                if control is not None and verb not in getattr(control, "actions", frozenset({verb})):
                    return f"The {getattr(control, 'name', 'current')} backend cannot {verb} processes"
            return None
        return None

    def _describe_holder(self, holder: Any) -> str:
        """Who holds the gate, naming the proposal by its title (people know titles, not ids)."""
        entry = self.entries.get(holder.proposal_id) if holder.proposal_id else None
        if entry is None:
            return holder.describe()
        by = f" by {plain(holder.who)}" if holder.who else ""
        pid = f" (pid {holder.pid})" if holder.pid else ""
        return f"{holder.action} of “{plain(entry.proposal.title)}”{by}{pid}"

    def _busy_reason(self) -> str:
        remote = self._remote_holder()
        if remote is not None:
            return f"The gate is busy: {self._describe_holder(remote)} is running in another cockpit; wait for it to finish"
        return "A rebuild is running; wait for it or cancel it (c)"

    # Actions that are hidden (not just greyed) in the footer outside their panel.
    _CONTEXT_ACTIONS = frozenset(
        {"toggle_hunk", "next_hunk", "previous_hunk", "toggle_split", "next_file", "restart_process", "stop_process", "process_log"}
    )
    # Rare, state-bound actions: shown only in their state (a rebuild running, a failed rebuild).
    _STATE_ACTIONS = frozenset({"cancel_rebuild", "rollback"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in ACTIONS_BY_ID:
            return True
        if action in ("next_panel", "previous_panel"):
            return self._on_main_screen()
        if self.why_unavailable(action) is None:
            return True
        if action in self._CONTEXT_ACTIONS and not self._in_context(action):
            return False  # hidden: it belongs to another panel (pressing it still says why)
        if action in self._STATE_ACTIONS:
            return False
        if action in ("accept_direct", "revert_direct") and self.main.has_class("-narrow"):
            return False  # at 80 columns two dimmed keys would push the palette key off the footer
        return None

    def _in_context(self, action: str) -> bool:
        panel = self._focused_panel()
        if action == "next_file":
            tabs = self._focused_file_tabs()
            return tabs is not None and len(tabs.paths) > 1
        if action == "toggle_hunk":
            return panel == "proposals-panel" and self._selected_pending() is not None
        if action in ("next_hunk", "previous_hunk", "toggle_split"):
            return self._focused_diff() is not None
        return panel == "processes-panel"

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        """Pressing an unavailable cockpit action says why instead of doing nothing."""
        target, name, _params = self._parse_action(action, self if default_namespace is None else default_namespace, namespaces)
        if target is self and name in ACTIONS_BY_ID and self._on_main_screen():
            reason = self.why_unavailable(name)
            if reason is not None:
                self.notify(reason, severity="warning", timeout=4)
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def _bindings_may_have_changed(self) -> None:
        """Refresh the footer only when some action's availability really changed (it recomposes)."""
        if not self.screen_stack:
            return
        signature = tuple(self.check_action(spec.id, ()) for spec in ACTIONS)
        if signature != self._binding_signature:
            self._binding_signature = signature
            self.refresh_bindings()

    def on_key(self, event: events.Key) -> None:
        # A burst (tmux send-keys, a paste, a fast typist: `r`, the reason, enter) is forwarded to the
        # focused panel widget before `r` opens the reject modal; the keys after `r` then bubble here
        # with the modal on top, where they would be dropped. Send them again, in order, to the modal.
        # (This handler runs before App's own key handling; prevent_default skips that.)
        if event in self.keys_from_panels and getattr(self.screen, "TYPE_AHEAD", False):
            event.stop()
            event.prevent_default()
            self.post_message(events.Key(event.key, event.character))

    @_live
    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        self._bindings_may_have_changed()

    @_live
    def on_resize(self, event: events.Resize) -> None:
        # Short terminals (80x24) give the top row and the proposal's diff more of the height.
        self.main.set_class(event.size.height < 30, "-short")
        narrow = event.size.width < 100
        if narrow != self.main.has_class("-narrow"):
            self.main.set_class(narrow, "-narrow")
            # ^p stays bound and listed in help; at 80 columns its footer slot would crop q Quit
            self.main.query_one(Footer).show_command_palette = not narrow
            self.refresh_bindings()

    # -- panels ----------------------------------------------------------------------------------

    def _focus_panel(self, panel_id: str) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        widget = self.main.query_one(PANEL_FOCUS[panel_id])
        if not widget.display:
            widget = self.main.query_one(f"#{panel_id}")
        widget.focus()

    def action_next_panel(self) -> None:
        self._step_panel(1)

    def action_previous_panel(self) -> None:
        self._step_panel(-1)

    def _step_panel(self, step: int) -> None:
        current = self._focused_panel()
        index = PANELS.index(current) if current in PANELS else -1
        self._focus_panel(PANELS[(index + step) % len(PANELS)])

    def action_maximize(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        panel = self._focused_panel() or "proposals-panel"
        self.screen.maximize(self.main.query_one(f"#{panel}", Panel), container=False)

    def action_help(self) -> None:
        groups = {spec.id: HELP_GROUPS[spec.panel] for spec in ACTIONS}
        self.push_screen(screens().HelpScreen(screens().help_sections(self, groups=groups)))

    # -- diff actions ----------------------------------------------------------------------------

    def action_next_hunk(self) -> None:
        diff = self._focused_diff()
        if diff is not None:
            diff.next_hunk()

    def action_previous_hunk(self) -> None:
        diff = self._focused_diff()
        if diff is not None:
            diff.previous_hunk()

    def action_toggle_split(self) -> None:
        diff = self._focused_diff()
        if diff is not None:
            diff.toggle_mode()  # the person's choice: from now on the pane's width does not choose

    def action_toggle_hunk(self) -> None:
        self.detail.diff.toggle_hunk()

    def _focused_file_tabs(self) -> FileTabs | None:
        panel = self._focused_panel()
        if panel == "changes-panel":
            return self.main.query_one("#changes-files", FileTabs)
        if panel == "proposals-panel":
            return self.detail.file_tabs
        return None

    def action_next_file(self) -> None:
        tabs = self._focused_file_tabs()
        if tabs is None:
            return
        path = tabs.next_path()
        if path is None:
            return
        if tabs.id == "changes-files":
            self.changes_path = path
            self._show_changes()
        else:
            self._show_detail(path=path)

    # -- approve / edit / reject -----------------------------------------------------------------

    def _final_content(self, pid: str, change: Any) -> tuple[str | None, set[int] | None]:
        """What approval would write for one file of a proposal, and the chosen hunks (None = all / edited)."""
        edited = self.edited.get(pid, {})
        if change.path in edited:
            return edited[change.path], None
        chosen = self.hunks.get((pid, change.path))
        return change.new_content, chosen

    def _differs_from_proposal(self, entry: Any) -> bool:
        """Whether approving would write something else than proposed (edited, or some hunks left out)."""
        pid = entry.proposal.id
        return bool(self.edited.get(pid)) or any((pid, c.path) in self.hunks for c in entry.proposal.changes)

    def _final_texts(self, entry: Any) -> dict[str, str]:
        """Exactly what approving would write, per path (edited text, or the chosen hunks applied)."""
        from omni_tui.core.textdiff import apply_hunks

        pid = entry.proposal.id
        current = self._current_texts()
        texts = {}
        for change in entry.proposal.changes:
            content, chosen = self._final_content(pid, change)
            if chosen is not None:
                content = apply_hunks(current.get(change.path) or "", change.new_content, chosen)
            texts[change.path] = content or ""
        return texts

    def _approval_validation(self, entry: Any) -> tuple[Any, str | None]:
        """The proposal's check, or, when it was edited / partly chosen, the check of what will be written
        (plus the proposal's stale base, which still holds)."""
        pid = entry.proposal.id
        validation, error = self.validations.get(pid, (None, None))
        if error is not None or not self._differs_from_proposal(entry):
            return validation, error
        final = self.final_validations.get(pid)
        if final is None or final[1] is not None:
            return final if final is not None else (None, None)
        from omni_tui.core.validate import Validation

        stale = tuple(issue for issue in (validation.issues if validation is not None else ()) if issue.kind == "stale")
        return Validation(stale + tuple(final[0].issues), final[0].nix_checked, final[0].notes), None

    def _approval_summary(self, entry: Any) -> ApprovalSummary:
        pid = entry.proposal.id
        current = self._current_texts()
        pairs = []
        for change in entry.proposal.changes:
            content, chosen = self._final_content(pid, change)
            pairs.append((change.path, current.get(change.path), content, chosen))
        validation, error = self._approval_validation(entry)
        cfg = self.ws.config.rebuild
        return screens().ApprovalSummary(
            title=entry.proposal.title,
            files=presenters.files_summary(pairs),
            checks=presenters.approval_checks(validation, error, paths=entry.proposal.paths),  # "validating…" while it runs
            rebuild_command=self.rebuild_command,
            restart_command=cfg.restart_command if cfg.restart_after else None,
            agent=entry.proposal.agent,
            proposal_id=pid,
            edited=bool(self.edited.get(pid)),
        )

    def action_approve(self) -> None:
        entry = self._selected_pending()
        if entry is None:
            return
        pid = entry.proposal.id
        self.final_validations.pop(pid, None)
        if self._differs_from_proposal(entry):
            key = FINAL_CHECK + pid
            generation = self._validation_gen.get(key, 0) + 1
            self._validation_gen[key] = generation
            texts = self._final_texts(entry)
            max_bytes = self.ws.config.guard.max_bytes
            self.run_worker(
                partial(validate_texts, self, key, texts, max_bytes, generation), thread=True, group="validate", exit_on_error=False
            )
        screen = screens().ApproveScreen(self._approval_summary(entry))
        self._approve_screen = (pid, screen)
        self.push_screen(screen, partial(self._approve_confirmed, pid))

    def _approve_confirmed(self, pid: str, confirmed: bool | None) -> None:
        self._approve_screen = None
        if not confirmed:
            return
        entry = self.entries.get(pid)
        if entry is None or entry.status != "pending":
            self.notify("The proposal is no longer pending", severity="warning")
            return
        edited = dict(self.edited.get(pid, {}))
        hunks: dict[str, set[int]] = {}
        for change in entry.proposal.changes:
            chosen = self.hunks.get((pid, change.path))
            if change.path not in edited and chosen is not None:
                hunks[change.path] = set(chosen)
        title = f"approve “{plain(entry.proposal.title)}” ({plain(entry.proposal.agent)})"

        def operation(step: Callable[[], Any], on_stage: Callable[[str], None]) -> Any:
            return self.gate.approve(
                pid, rebuild=step, hunks=hunks or None, edited=edited or None, on_stage=on_stage, command=self.rebuild_command
            )

        name = entry.proposal.title
        self._start_job(title, operation, run_id=pid, short=f"approve “{name if len(name) <= 24 else name[:23] + '…'}”")

    def action_reject(self) -> None:
        entry = self._selected_pending()
        if entry is None:
            return
        pid = entry.proposal.id
        self.push_screen(screens().RejectScreen(entry.proposal.title), partial(self._reject_confirmed, pid))

    def _reject_confirmed(self, pid: str, reason: str | None) -> None:
        if not reason:
            return

        def reject() -> str:
            decision = self.gate.reject(pid, reason)
            post_workspace(self, self.ws, self.gate, self.store)
            return f"Rejected: {decision.reason}"

        self.run_worker(partial(run_action, self, reject, "Reject failed"), thread=True, group="gate", exit_on_error=False)

    def action_edit(self) -> None:
        entry = self._selected_pending()
        if entry is None:
            return
        pid = entry.proposal.id
        path = self.detail.shown_path if self.detail.view and self.detail.view.key == pid else None
        change = next((c for c in entry.proposal.changes if c.path == path), entry.proposal.changes[0])
        content, chosen = self._final_content(pid, change)
        if chosen is not None:
            # Some hunks are left out: edit what approving would write, not the whole proposal.
            from omni_tui.core.textdiff import apply_hunks

            current = self.files[change.path].current if change.path in self.files else None
            content = apply_hunks(current or "", change.new_content, chosen)
        content = content or ""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if editor:
            edited = self._edit_externally(editor, change.path, content)
            if edited is not None:
                self._edit_done(pid, change.path, edited)
                return
        self.push_screen(screens().EditScreen(change.path, content), partial(self._edit_done, pid, change.path))

    def _edit_externally(self, editor: str, path: str, content: str) -> str | None:
        """Run $EDITOR on a temp copy with the terminal handed over; None when it cannot run here."""
        suffix = Path(path).suffix or ".txt"
        with tempfile.TemporaryDirectory(prefix="omni-tui-edit-") as tmp:
            target = Path(tmp) / f"proposed{suffix}"
            target.write_text(content, encoding="utf-8")
            try:
                with self.suspend():
                    result = subprocess.run([*shlex.split(editor), str(target)])
            except SuspendNotSupported:
                return None
            except OSError as exc:
                self.notify(f"$EDITOR ({editor}) did not start: {exc}; using the built-in editor", severity="warning")
                return None
            if result.returncode != 0:
                self.notify(f"$EDITOR exited with {result.returncode}; the edit is discarded", severity="warning")
                return content
            return target.read_text(encoding="utf-8", errors="replace")

    def _edit_done(self, pid: str, path: str, text: str | None) -> None:
        if text is None:
            return
        entry = self.entries.get(pid)
        if entry is None or entry.status != "pending":
            return
        original = entry.proposal.change(path).new_content
        edits = self.edited.setdefault(pid, {})
        if text == original:
            edits.pop(path, None)
        else:
            edits[path] = text
            self.hunks.pop((pid, path), None)
        if not edits:
            self.edited.pop(pid, None)
        self._show_detail(path=path)
        self._bindings_may_have_changed()
        if text != original:
            self.action_approve()

    # -- direct edits ----------------------------------------------------------------------------

    def _direct_summary(self, validation: Any = None, error: str | None = None) -> ApprovalSummary:
        """The accept modal's summary: the direct edits against the baseline, and their check (None: running)."""
        paths = self._unapproved()
        pairs = [(path, self.files[path].baseline if path in self.files else None, self.files[path].current if path in self.files else None, None) for path in paths]
        cfg = self.ws.config.rebuild
        return screens().ApprovalSummary(
            title=", ".join(paths) if paths else "the direct edits",
            files=presenters.files_summary(pairs),
            checks=presenters.approval_checks(validation, error, base=False, paths=paths),
            rebuild_command=self.rebuild_command,
            restart_command=cfg.restart_command if cfg.restart_after else None,
            agent="direct edit",
            action="Accept edits",
        )

    def action_accept_direct(self) -> None:
        paths = self._unapproved()
        if not paths:
            return
        generation = self._validation_gen.get(DIRECT_EDITS, 0) + 1
        self._validation_gen[DIRECT_EDITS] = generation
        self.run_worker(
            partial(validate_direct_edits, self, self.ws, paths, generation), thread=True, group="validate", exit_on_error=False
        )
        screen = screens().ApproveScreen(self._direct_summary())
        self._approve_screen = (DIRECT_EDITS, screen)
        self.push_screen(screen, self._accept_confirmed)

    def _accept_confirmed(self, confirmed: bool | None) -> None:
        self._approve_screen = None
        if not confirmed:
            return

        def operation(step: Callable[[], Any], on_stage: Callable[[str], None]) -> Any:
            return self.gate.accept_direct(rebuild=step, on_stage=on_stage, command=self.rebuild_command)

        self._start_job("accept direct edits", operation, run_id="direct", short="accept edits")

    def action_revert_direct(self) -> None:
        paths = self._unapproved()
        if not paths:
            return
        detail = "Restores " + ", ".join(paths) + " to the last approved content. The direct edits are lost."
        self.push_screen(screens().ConfirmScreen("Revert the direct edits?", detail, yes_label="Revert", danger=True), self._revert_confirmed)

    def _revert_confirmed(self, confirmed: bool | None) -> None:
        if not confirmed:
            return

        def revert() -> str:
            reverted = self.gate.revert_direct()
            post_workspace(self, self.ws, self.gate, self.store)
            return "Reverted to the baseline: " + ", ".join(reverted) if reverted else "Nothing to revert"

        self.run_worker(partial(run_action, self, revert, "Revert failed"), thread=True, group="gate", exit_on_error=False)

    # -- rebuilds --------------------------------------------------------------------------------

    def _start_job(self, title: str, operation: Callable[..., Any], *, run_id: str, short: str | None = None) -> None:
        job = RebuildJob(self, self.ws, title, operation, run_id=run_id)
        self.job = job
        self.log_view.clear()
        # The progress row leads with a short title, so phase, counts and time stay in view.
        self.log_view.start_progress(short or title)
        self.log_view.write_lines([f"▶ {title}"])
        self.header.show_state("rebuilding")
        self._bindings_may_have_changed()
        self.run_worker(job.run, name=title, group="rebuild", thread=True, exit_on_error=False)

    @on(RebuildStarted)
    @_live
    def _on_rebuild_started(self, message: RebuildStarted) -> None:
        self.log_view.write_lines([f"$ {message.command}"])
        if self.job is not None and self.job.runner is not None:
            self.log_view.set_log_path(presenters.project_path(self.ws.root, self.job.runner.log_path))
        self.main.query_one("#rebuild-panel", Panel).border_subtitle = "REBUILDING · c cancel"

    @on(RebuildStage)
    @_live
    def _on_rebuild_stage(self, message: RebuildStage) -> None:
        self.log_view.write_lines([f"· {state_label(message.stage)}"])

    @on(RebuildLines)
    @_live
    def _on_rebuild_lines(self, message: RebuildLines) -> None:
        self.log_view.write_lines(list(message.lines))
        if self.job is not None or self._remote is not None:
            self.log_view.set_progress(message.progress)

    @on(RebuildFinished)
    @_live
    def _on_rebuild_finished(self, message: RebuildFinished) -> None:
        self.job = None
        decision = message.decision
        panel = self.main.query_one("#rebuild-panel", Panel)
        outcome = message.outcome
        if message.progress is not None:
            self.log_view.set_progress(message.progress)
        if outcome is not None:
            self.log_view.finish(
                outcome.exit_code,
                cancelled=outcome.cancelled,
                timed_out=outcome.timed_out,
                error=outcome.error,
                duration_s=decision.duration_s if decision is not None and decision.duration_s is not None else outcome.duration_s,
            )
        elif message.error:
            self.log_view.finish(None, error=message.error)
        if decision is None:
            text = f"✗ {message.title}: {message.error}"
            self.log_view.write_lines([text])
            self.notify(message.error or "failed", title="Not applied", severity="error", timeout=8)
            panel.border_subtitle = "not applied"
        else:
            label = FINAL_LABELS.get(decision.status, decision.status)
            figures = []
            if decision.exit_code is not None:
                figures.append(f"exit {decision.exit_code}")
            if decision.duration_s is not None:
                figures.append(f"{decision.duration_s:.1f} s")
            mark = "✓" if decision.status == "applied" else "✗"
            text = f"{mark} {label}" + (f" ({', '.join(figures)})" if figures else "")
            if decision.reason and decision.status != "applied":
                text += f" — {decision.reason}"
            lines = [text]
            if decision.log_path:
                lines.append(f"full log: {presenters.project_path(self.ws.root, decision.log_path)}")
            self.log_view.write_lines(lines)
            severity = "information" if decision.status == "applied" else ("warning" if decision.status == "rolled_back" else "error")
            self.notify(text, title=message.title, severity=severity, timeout=8)
            panel.border_subtitle = label
        self.last_outcome = text
        if self._quit_screen is not None and self.screen is self._quit_screen:  # dismiss pops the top screen
            # The question "quit while a rebuild runs?" no longer applies: close it; q now just quits.
            self._quit_screen.dismiss(None)
            self.notify("The rebuild ended while you were asked; q quits now", timeout=6)
        if self._quit_when_idle:
            # The person quit mid-rebuild: say on the terminal what became of the change.
            self._stop_background()
            self.exit(0, message=Text(f"omni-tui: quit during a rebuild ({message.title}): {text}"))
            return
        self.edited_cleanup()
        self._refresh_workspace()
        self._bindings_may_have_changed()

    def edited_cleanup(self) -> None:
        """Forget edits and hunk choices of proposals that are no longer pending."""
        for pid in list(self.edited):
            entry = self.entries.get(pid)
            if entry is None or entry.status != "pending":
                self.edited.pop(pid, None)

    def action_cancel_rebuild(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.log_view.write_lines(["■ cancelling: SIGINT to the rebuild's process group…"])

    def _failed_proposal(self) -> str | None:
        state = self.gate_state
        if state is None or state.kind != "failed":
            return None
        return state.failed.proposal_id if state.failed is not None else None

    def action_rollback(self) -> None:
        pid = self._failed_proposal()
        if pid is None:
            return

        def rollback() -> str:
            decision = self.gate.rollback(pid)
            post_workspace(self, self.ws, self.gate, self.store)
            return f"Rolled back: {decision.status}"

        self.log_view.write_lines([f"↺ rolling back {pid}"])
        self.run_worker(partial(run_action, self, rollback, "Rollback failed"), thread=True, group="gate", exit_on_error=False)

    # -- processes -------------------------------------------------------------------------------

    @on(ProcessesRefreshed)
    @_live
    def _on_processes(self, message: ProcessesRefreshed) -> None:
        self.processes = message.snapshot
        self.process_table.update(message.snapshot)
        self._process_note()
        self._bindings_may_have_changed()

    def _process_note(self) -> None:
        note = self.main.query_one("#process-note", Static)
        panel = self.main.query_one("#processes-panel", Panel)
        snapshot = self.processes
        if not self.poll_processes:
            note.update("process polling is off")
            note.display = True
            return
        if snapshot is None:
            note.update("looking for the project's processes…")
            note.display = True
            return
        backend = snapshot.backend or "none"
        panel.border_subtitle = f"{len(snapshot.processes)} via {backend}"
        if snapshot.error:
            note.update(Text(f"⚠ {snapshot.error}"))
            note.display = True
        elif not snapshot.processes:
            note.update("No processes found for this project (start them with `devenv up`).")
            note.display = True
        else:
            note.display = False

    @on(ProcessTable.Selected)
    @_live
    def _on_process_selected(self, message: ProcessTable.Selected) -> None:
        self.selected_process = message.name
        self._bindings_may_have_changed()

    def _process_action(self, verb: str) -> None:
        name = self.selected_process
        if name is None:
            return
        question = f"{verb.capitalize()} process {name}?"
        info = self.processes.get(name) if self.processes is not None else None
        detail = f"pid {info.pid} · {info.state} · via {info.backend}" if info is not None else ""
        if verb == "stop" and self._honcho_managed(name):
            # honcho ends every process (and itself) when one exits: say so before it surprises anyone.
            detail += "\nhoncho stops all its processes when one ends: the others stop too (start them again with `devenv up`)."
        self.push_screen(
            screens().ConfirmScreen(question, detail, yes_label=verb.capitalize(), danger=verb == "stop"),
            partial(self._process_confirmed, verb, name),
        )

    def _honcho_managed(self, name: str) -> bool:
        """Whether `name` is one of several processes a honcho manager row runs (not the manager itself)."""
        snapshot = self.processes
        if snapshot is None:
            return False
        rows = list(snapshot.processes)
        managers = [p for p in rows if p.raw_state.startswith("manager") and p.name.startswith("honcho")]
        return bool(managers) and name not in {p.name for p in managers} and len(rows) > 2

    def _process_confirmed(self, verb: str, name: str, confirmed: bool | None) -> None:
        if not confirmed:
            return

        def act() -> str:
            getattr(self.monitor, verb)(name)
            return f"{'Restarted' if verb == 'restart' else 'Stopped'} {name}"

        self.run_worker(partial(run_action, self, act, f"Could not {verb} {name}"), thread=True, group="process-action", exit_on_error=False)

    def action_restart_process(self) -> None:
        self._process_action("restart")

    def action_stop_process(self) -> None:
        self._process_action("stop")

    def action_process_log(self) -> None:
        name = self.selected_process
        if name is None:
            return
        follower = ProcessLogFollower(self, self.monitor, name)
        self._log_follower = follower
        backend = getattr(self.processes, "backend", None) or ""
        from omni_tui.ui.screens.process_log import ProcessLogScreen

        self._log_screen = ProcessLogScreen(name, f"via {backend}" if backend else "")
        self.push_screen(self._log_screen, partial(self._process_log_closed, follower))
        self.run_worker(follower.run, name=f"log {name}", group="process-log", thread=True, exit_on_error=False)

    def _process_log_closed(self, follower: ProcessLogFollower, _result: Any = None) -> None:
        follower.stop_event.set()
        if self._log_follower is follower:
            self._log_follower = None
            self._log_screen = None

    @on(ProcessLogLines)
    @_live
    def _on_process_log_lines(self, message: ProcessLogLines) -> None:
        screen = self._log_screen
        if screen is None or screen.name_shown != message.name:
            return
        if message.error:
            screen.show_error(message.error)
            return
        screen.sync_tail(message.lines)

    # -- misc ------------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A background task died: say so in one line (and keep watching files by polling)."""
        if event.state != WorkerState.ERROR or not self.screen_stack or self._closing:
            return
        error = event.worker.error
        text = f"{event.worker.name or 'background task'} failed: {error}"
        self.notify(text, severity="error", timeout=10)
        self.log_view.write_lines([f"✗ {text}"])
        if event.worker.group == "watch" and self._watcher is not None and not self._watcher_polling:
            self._watcher_polling = True
            self.notify("Watching the workspace by polling instead", severity="warning")
            self.run_worker(
                partial(self._watcher.run, force_polling=True), name="watch workspace (polling)", group="watch",
                thread=True, exit_on_error=False,
            )

    @on(ActionDone)
    @_live
    def _on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, severity="error" if message.error else "information", timeout=6 if message.error else 4)
        if message.error:
            self.log_view.write_lines([f"✗ {message.text}"])
        self._bindings_may_have_changed()

    def action_quit(self) -> None:
        if self.job is None:
            self._stop_background()
            self.exit(0)
            return
        self._quit_screen = screens().ConfirmScreen(
            "Quit while a rebuild runs?",
            "The rebuild is cancelled first, and the change handled as a failed build (rolled back when auto_rollback is on).",
            yes_label="Cancel and quit",
            danger=True,
        )
        self.push_screen(self._quit_screen, self._quit_confirmed)

    def _quit_confirmed(self, confirmed: bool | None) -> None:
        self._quit_screen = None
        if not confirmed:
            return
        if self.job is None:
            self.action_quit()
            return
        self._quit_when_idle = True
        self.action_cancel_rebuild()


def run_cockpit(ws: Any) -> int:
    """Run the cockpit on a workspace until the person quits; the exit status for the CLI."""
    try:
        app = CockpitApp(ws)
    except (ConfigError, OmniError) as exc:
        print(f"omni-tui: {exc}", file=sys.stderr)
        return 2
    app.run()
    return app.return_code or 0
