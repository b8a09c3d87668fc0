"""The cockpit: `CockpitApp`, the wiring of one workspace's cockpit, and `run_cockpit(ws)` for the CLI.

Data flows one way: files, agents and processes → workers (`omni_tui.ui.workers`) → typed messages
(`omni_tui.ui.messages`) → the app's handlers, which update the review state (`omni_tui.core.review`)
→ widgets. The app only wires: the layout, focus and zoom are the `CockpitScreen`'s
(`omni_tui.ui.cockpit_screen`), the person's decisions the `DecisionFlow`'s (`omni_tui.ui.decisions`),
rebuilds the `RebuildFlow`'s (`omni_tui.ui.rebuild_flow`), processes the `ProcessFlow`'s
(`omni_tui.ui.process_flow`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial, wraps
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar, cast

from textual import actions, events, on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.theme import Theme
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from omni_tui.core.errors import ConfigError, OmniError
from omni_tui.core.gate import Gate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.review import Review
from omni_tui.core.terminal import inert
from omni_tui.core.workspace import default_who
from omni_tui.ui.background import Background
from omni_tui.ui.cards import CardReady
from omni_tui.ui.cockpit_screen import CockpitScreen
from omni_tui.ui.commands import CockpitCommands, palette_binding
from omni_tui.ui.decisions import DecisionFlow, screens
from omni_tui.ui.keys import ACTIONS, ACTIONS_BY_ID, default_bindings, elsewhere_bindings, keymap_from_config
from omni_tui.ui.messages import (
    ActionDone,
    FileChanged,
    GateChanged,
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
from omni_tui.ui.process_flow import ProcessFlow
from omni_tui.ui.rebuild_flow import RebuildFlow
from omni_tui.ui.textual_compat import app_is_closing, forward_type_ahead
from omni_tui.ui.themes import (
    apply_log_palette,
    generated_colours,
    register_chosen_theme,
    register_themes,
    start_theme,
    theme_variable_defaults,
)
from omni_tui.ui.unguarded import UnguardedReads
from omni_tui.ui.where import PresenceChanged, WhereThePersonIs
from omni_tui.ui.widgets.diff_view import CSS_PATH as DIFF_VIEW_CSS
from omni_tui.ui.widgets.diff_view import DiffView
from omni_tui.ui.widgets.file_tabs import FileTabs
from omni_tui.ui.widgets.log_view import LogView
from omni_tui.ui.widgets.process_table import ProcessTable
from omni_tui.ui.widgets.proposal_detail import ProposalDetail
from omni_tui.ui.widgets.proposal_queue import ProposalQueue
from omni_tui.ui.workers import (
    post_workspace,
    read_guarded,
)
from omni_tui.ui.workspace_view import WorkspaceView


def _live(handler: Callable[..., None]) -> Callable[..., None]:
    """Drop worker messages that arrive while the app is shutting down (the screens are gone)."""

    @wraps(handler)
    def guarded(self: CockpitApp, message: Any) -> None:
        if app_is_closing(self):  # a message handled then would find its widgets gone
            return
        handler(self, message)

    return guarded


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
    # The process's own cockpit (`run_cockpit`): once the first frame is drawn, what it took to get
    # there is frozen out of the cyclic collector (`Background.start`). Not for an app that a test or
    # `serve` starts among others in one process: frozen objects are never collected.
    freeze_gc_after_first_frame = False
    BINDINGS: ClassVar[list[BindingType]] = default_bindings() + elsewhere_bindings() + [palette_binding()]
    COMMANDS = {CockpitCommands}  # omni-tui's actions and themes only (no Textual system commands)

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
        via: str = "terminal",
    ) -> None:
        super().__init__()
        self.ws = ws
        self.clock = clock or _utc_now
        self.frozen_clock = clock is not None
        # Elapsed times (the rebuild progress row) follow the same clock, so a frozen clock freezes them too.
        self.monotonic: Callable[[], float] = (lambda: self.clock().timestamp()) if clock is not None else time.monotonic
        self.watch_files = watch
        self._gate_read_at = 0.0  # when the reading of the gate state shown began (GateChanged.read_at)
        self.poll_processes = poll_processes
        self.display_root = display_root or str(ws.root)
        self.who = who or default_who()
        self.requested_theme = theme or ws.config.ui.theme
        self.keymap = keymap_from_config(ws.config.keys)
        self.store = ProposalStore(ws)
        # Where the person decides: "web" in a browser session of `omni-tui serve`, else "terminal".
        self.via = via if via in ("terminal", "web") else "terminal"
        self.gate = Gate(ws, who=self.who, store=self.store, via=self.via)
        # Who else has a cockpit open; notifications (bell, OSC 9/777, [notify] command).
        self.where = WhereThePersonIs(self, ws, who=self.who, via=self.via)
        # What the person is deciding (selection, hunks, edits, checks, gate state): stored once, here.
        self.review = Review()
        self.rebuild_command: str | None = None
        # The components that own a flow each.
        self.workspace = WorkspaceView(self)  # files and proposals, shown
        self.decisions = DecisionFlow(self)
        self.rebuilds = RebuildFlow(self)
        self.process_flow = ProcessFlow(self)
        self.background = Background(self)  # the watcher, the process poller, the orphan reaper
        self.unguarded = UnguardedReads(self)  # files the environment reads that are not guarded
        self._binding_signature: tuple[object, ...] = ()
        # Themes before the first stylesheet parse (without Textual's watchers, which would re-parse it).
        # Only the chosen one when it is a shipped theme and the user has none: the others register when
        # the theme list is first looked at (`available_themes`: the palette, a theme switch).
        loaded = register_chosen_theme(self, self.requested_theme)
        self._themes_pending = loaded is not None
        if loaded is None:
            loaded = register_themes(self)
        self._theme_problems = list(loaded.errors)
        self._theme_started = True
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
        super().notify(inert(message, multiline=True), title=inert(title), severity=severity, timeout=timeout, markup=markup)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults(self.current_theme)  # the `$diff-*` / `$log-*` variables Textual's themes lack

    _themes_pending = False  # True while only the chosen theme is registered (see __init__)

    @property
    def available_themes(self) -> dict[str, Theme]:
        """Every theme, the shipped ones not registered at start included (registered on this first look)."""
        if self._themes_pending:
            self._themes_pending = False
            # The shipped themes (the chosen one again, the same): the person had no theme files at start,
            # and the list stays the one the cockpit started with.
            register_themes(self, user=False)
        return super().available_themes

    def get_theme(self, theme_name: str) -> Theme | None:
        """A registered theme without registering the others (the chosen one, Textual's); any other
        name looks at every theme."""
        if self._themes_pending:
            registered: dict[str, Theme] = App.available_themes.fget(self)  # type: ignore[attr-defined]
            theme = registered.get(theme_name)
            if theme is not None:
                return theme
        return super().get_theme(theme_name)

    # Textual's `__init__` asks for the variables of its default theme; `start_theme` sets the chosen
    # theme's before the first parse, so until then there is nothing to compute (≈ 1.5 ms).
    _theme_started = False

    def get_css_variables(self) -> dict[str, str]:
        """Textual's `App.get_css_variables`, with the theme's colour system generated once per theme."""
        if not self._theme_started:
            return {}
        theme = self.current_theme
        variables = {**self.get_theme_variable_defaults(), **generated_colours(theme), **theme.variables}
        self.theme_variables = variables
        return variables

    # -- layout ----------------------------------------------------------------------------------

    def get_default_screen(self) -> CockpitScreen:
        # A frozen clock (tests, snapshots) freezes the progress row; with the real one the row ends
        # on the measured duration, the one the decision records.
        return CockpitScreen(self.display_root, log_clock=self.monotonic if self.frozen_clock else None)

    def compose(self) -> ComposeResult:
        yield from self.main.compose_layout()

    def on_mount(self) -> None:
        for problem in self._theme_problems:
            self.notify(problem, severity="error", timeout=8)
        self.theme_changed_signal.subscribe(self, lambda theme: apply_log_palette(self, theme))
        if self.keymap:
            self.set_keymap(self.keymap)
        self.review.keys = self.action_keys()  # the reasons for an unavailable action name the keys as mapped
        self.detail.set_keys(self.review.keys)  # ...and so do the detail's hints
        self.rebuilds.resolve_command()
        # First picture synchronously (small reads), so the first frame already shows the workspace.
        self.workspace.apply_files(read_guarded(self.ws))
        self.workspace.list_first_queue()
        self.process_flow.show_note()
        # Watching and polling start once the first frame is on screen: importing watchfiles and the
        # first process scan would delay it by 30-50 ms (docs/performance.md).
        self.call_after_refresh(self.background.start)
        if not self.frozen_clock:
            self.set_interval(10, self.workspace.tick_ages, name="queue ages")

    def on_unmount(self) -> None:
        self.stop_background()

    def stop_background(self) -> None:
        self.background.stop()
        self.process_flow.stop()
        self.rebuilds.stop()

    # -- widget accessors (the screen's; kept here for tests, benches and the demo) ----------------

    @property
    def main(self) -> CockpitScreen:
        """The cockpit screen (queries go here, not to a modal on top of it)."""
        return cast(CockpitScreen, self.screen_stack[0])

    @property
    def log_view(self) -> LogView:
        return self.main.log_view

    @property
    def changes_diff(self) -> DiffView:
        return self.main.changes_diff

    @property
    def detail(self) -> ProposalDetail:
        return self.main.detail

    @property
    def queue(self) -> ProposalQueue:
        return self.main.queue

    @property
    def process_table(self) -> ProcessTable:
        return self.main.process_table

    # -- files and proposals (the WorkspaceView's) ---------------------------------------------------

    @on(FileChanged)
    @_live
    def _on_file_changed(self, message: FileChanged) -> None:
        self.workspace.apply_files(message.files)
        self.unguarded.files_read(message.files)
        if message.drawn is not None:
            self.call_after_refresh(message.drawn.set)  # the watcher's gate read waits for this frame

    @on(FileTabs.FileSelected)
    @_live
    def _on_file_selected(self, message: FileTabs.FileSelected) -> None:
        self.workspace.file_selected(message)

    @on(PresenceChanged)
    @_live
    def _on_presence_changed(self, message: PresenceChanged) -> None:
        self.main.header.show_presence([(p.who, p.via) for p in message.others])

    @on(ProposalsChanged)
    @_live
    def _on_proposals_changed(self, message: ProposalsChanged) -> None:
        if not self.workspace.first_listed:  # the first listing of a long queue, from the watcher: the first picture
            self.workspace.show_first_queue(message.entries, message.quarantined, dict(message.history), None)
            return
        self.where.proposals_changed(message.entries)  # new, stale → notifications
        self.workspace.apply_proposals(message.entries, message.quarantined, dict(message.history))

    @on(ProposalQueue.Selected)
    @_live
    def _on_queue_selected(self, message: ProposalQueue.Selected) -> None:
        self.workspace.queue_selected(message.key)

    @on(ProposalQueue.Filled)
    @_live
    def _on_queue_filled(self, _message: ProposalQueue.Filled) -> None:
        self.workspace.queue_filled()

    @on(DataTable.RowSelected, "#queue")
    @_live
    def _on_queue_enter(self, _message: DataTable.RowSelected) -> None:
        self.workspace.queue_entered()

    @on(DiffView.HunkSelectionChanged)
    @_live
    def _on_hunks_changed(self, message: DiffView.HunkSelectionChanged) -> None:
        self.workspace.hunks_changed(message)

    @on(ValidationReady)
    @_live
    def _on_validation(self, message: ValidationReady) -> None:
        self.workspace.validation_ready(message)

    @on(CardReady)
    @_live
    def _on_card(self, message: CardReady) -> None:
        self.workspace.card_ready(message)

    # -- gate ------------------------------------------------------------------------------------

    @on(GateChanged)
    @_live
    def _on_gate_changed(self, message: GateChanged) -> None:
        if message.read_at < self._gate_read_at:
            return  # read before the state already shown (another thread's reading, posted late)
        self._gate_read_at = message.read_at
        self.workspace.apply_gate(message.state)

    # -- rebuilds (the RebuildFlow's), this cockpit's and another's --------------------------------

    @on(RebuildStarted)
    @_live
    def _on_rebuild_started(self, message: RebuildStarted) -> None:
        self.rebuilds.started(message)

    @on(RebuildStage)
    @_live
    def _on_rebuild_stage(self, message: RebuildStage) -> None:
        self.rebuilds.stage(message)

    @on(RebuildLines)
    @_live
    def _on_rebuild_lines(self, message: RebuildLines) -> None:
        self.rebuilds.lines(message)

    @on(RebuildFinished)
    @_live
    def _on_rebuild_finished(self, message: RebuildFinished) -> None:
        self.rebuilds.finished(message)
        decision = message.decision
        entry = self.review.entries.get(decision.proposal_id) if decision is not None else None
        self.where.rebuild_ended(
            decision is not None and decision.status == "applied",
            entry.proposal if entry is not None else SimpleNamespace(id=None, title=message.title, agent=None),
        )

    @on(RemoteRebuildLog)
    @_live
    def _on_remote_log(self, message: RemoteRebuildLog) -> None:
        self.rebuilds.remote_log(message)

    @on(RemoteRebuildEnded)
    @_live
    def _on_remote_ended(self, message: RemoteRebuildEnded) -> None:
        self.rebuilds.remote_ended(message)

    def refresh_workspace(self) -> None:
        """Re-read files, proposals and gate state in a thread (after our own actions, watcher or not)."""
        self.run_worker(partial(post_workspace, self, self.ws, self.gate, self.store), thread=True, group="refresh", exit_on_error=False)

    # -- action availability ---------------------------------------------------------------------

    def action_keys(self) -> dict[str, str]:
        """Action id → the key shown for it now (after `[keys]`)."""
        shown: dict[str, str] = {}
        for spec in ACTIONS:
            key = self.keymap.get(spec.id, spec.key).split(",")[0]
            shown[spec.id] = self.get_key_display(Binding(key, spec.id))
        return shown

    def why_unavailable(self, action: str) -> str | None:
        """None when `action` can run now, else one line saying why not (the review state's rules, here and now)."""
        if action == "resolve_tampered":
            gate = self.review.gate
            if gate is None or gate.kind != "tampered":
                return "Nothing to resolve: every decision and baseline matches the audit log"
            return self.review.busy_reason() if self.review.rebuilding else None
        return self.review.why_unavailable(action, self.main.focus_state())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in ACTIONS_BY_ID:
            return True
        return self._footer_state(action, self.main.focus_state(), self.main.has_class("-narrow"))

    def _footer_state(self, action: str, focus: Any, narrow: bool) -> bool | None:
        if action == "resolve_tampered":  # shown only while the gate is tampered
            return True if self.why_unavailable(action) is None else False
        return self.review.footer_state(action, focus, narrow=narrow)

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        """Pressing an unavailable cockpit action says why instead of doing nothing."""
        destination, name, _params = action if isinstance(action, tuple) else actions.parse(action)
        spec = ACTIONS_BY_ID.get(name)
        if spec is not None and destination in ("", "app") and not self.main.focus_state().modal:
            reason = self.why_unavailable(name)
            if reason is not None:
                self.notify(reason, severity="warning", timeout=4)
                return True
            if spec.owner != "app" and default_namespace in (None, self):
                default_namespace = self.main.owner_of(spec.owner)  # the palette asks the app: the owner runs it
        return await super().run_action(action, default_namespace, namespaces)

    def bindings_may_have_changed(self) -> None:
        """Refresh the footer only when some action's availability really changed (it recomposes)."""
        if not self.screen_stack:
            return
        # Where the person is, looked up once for every action (it walks the focused widget's parents).
        focus, narrow = self.main.focus_state(), self.main.has_class("-narrow")
        zoomed = self.main.maximized is not None  # z's word: Zoom or Restore (`key_label`)
        signature = (zoomed, *(self._footer_state(spec.id, focus, narrow) for spec in ACTIONS))
        if signature != self._binding_signature:
            self._binding_signature = signature
            self.refresh_bindings()

    async def on_event(self, event: events.Event) -> None:
        # A key still queued while the cockpit closes (typed as it quits) finds no screen: Textual's own
        # key handling asks for one and raises. There is nothing left for it to act on.
        if isinstance(event, events.Key) and app_is_closing(self):
            return
        await super().on_event(event)

    def on_key(self, event: events.Key) -> None:
        forward_type_ahead(self, event)  # keys typed ahead of a modal reach it (see textual_compat)

    @_live
    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        self.bindings_may_have_changed()

    @_live
    def on_resize(self, event: events.Resize) -> None:
        self.main.fit_to(event.size)

    # -- panels (the screen's) --------------------------------------------------------------------

    def action_next_panel(self) -> None:
        self.main.step_panel(1)

    def action_previous_panel(self) -> None:
        self.main.step_panel(-1)

    def action_maximize(self) -> None:
        self.main.toggle_zoom()
        self.bindings_may_have_changed()

    def key_label(self, action: str, description: str) -> str:
        """The footer's word for `action` now: z restores a zoomed panel, so it says so."""
        if action == "maximize" and self.main.maximized is not None:
            return "Restore"
        return description

    def action_help(self) -> None:
        screens().open_cockpit_help(self)  # built once, shown again while the keys are the same

    # -- decisions (the DecisionFlow's) -------------------------------------------------------------

    def action_approve(self) -> None:
        self.decisions.approve()

    def action_reject(self) -> None:
        self.decisions.reject()

    def action_edit(self) -> None:
        self.decisions.edit()

    def action_accept_direct(self) -> None:
        self.decisions.accept_direct()

    def action_revert_direct(self) -> None:
        self.decisions.revert_direct()

    def action_guard_unguarded(self) -> None:
        self.decisions.guard_unguarded()

    def action_cancel_rebuild(self) -> None:
        self.rebuilds.cancel()

    def action_rollback(self) -> None:
        self.rebuilds.rollback()

    def action_resolve_tampered(self) -> None:
        from omni_tui.ui.tamper import resolve  # a rare path: not imported for the first frame

        resolve(self)

    # -- processes (the ProcessFlow's) ---------------------------------------------------------------

    @on(ProcessesRefreshed)
    @_live
    def _on_processes(self, message: ProcessesRefreshed) -> None:
        self.process_flow.refreshed(message)

    @on(ProcessTable.Selected)
    @_live
    def _on_process_selected(self, message: ProcessTable.Selected) -> None:
        self.review.selected_process = message.name
        self.bindings_may_have_changed()

    @on(ProcessLogLines)
    @_live
    def _on_process_log_lines(self, message: ProcessLogLines) -> None:
        self.process_flow.log_lines(message)

    @on(ProcessTable.ActionRequested)
    @_live
    def _on_process_action(self, message: ProcessTable.ActionRequested) -> None:
        self.process_flow.run(message.action)

    # -- misc ------------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and not app_is_closing(self):
            self.background.worker_failed(event.worker)  # said in one line; a failed watch goes on by polling

    @on(ActionDone)
    @_live
    def _on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, severity="error" if message.error else "information", timeout=6 if message.error else 4)
        if message.error:
            self.log_view.write_lines([f"✗ {message.text}"])
        self.bindings_may_have_changed()

    async def action_quit(self) -> None:
        self.rebuilds.quit()  # at once, or after asking while a rebuild runs

    def action_help_quit(self) -> None:
        """ctrl+c does not quit (Textual's rule; it copies in a text box): say which key does, in plain words."""
        key = self.action_keys().get("quit", "q")
        self.notify(f"Press {key} to quit the cockpit (ctrl+c does not quit)", title="Quit?", timeout=4)


def run_cockpit(ws: Any) -> int:
    """Run the cockpit on a workspace until the person quits; the exit status for the CLI."""
    try:
        # `omni-tui serve` starts each browser session's cockpit with OMNI_TUI_VIA=web.
        app = CockpitApp(ws, via="web" if os.environ.get("OMNI_TUI_VIA") == "web" else "terminal")
    except (ConfigError, OmniError) as exc:
        print(f"omni-tui: {exc}", file=sys.stderr)
        return 2
    app.freeze_gc_after_first_frame = True
    app.run()
    return app.return_code or 0
