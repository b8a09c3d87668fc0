"""The cockpit's main screen (`App.get_default_screen()`): the four panels' layout, focus and zoom.

It owns where things are and which panel has the person's attention — never a decision: what is
shown comes from the app (the review state and the workers' messages), and `focus_state()` tells
the review state where the person is when it is asked whether an action can run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding, BindingType
from textual.containers import Container, Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from omni_tui.core.review import Focus
from omni_tui.core.review import Panel as PanelId
from omni_tui.ui.keys import ACTIONS_BY_ID, FOOTER_GIVES_WAY, default_bindings, in_action_order
from omni_tui.ui.screens.relabel import relabel
from omni_tui.ui.textual_compat import FocusedTitleColour, bindings_of, note_key_for_type_ahead
from omni_tui.ui.widgets.change_card import CardSummary
from omni_tui.ui.widgets.diff_view import DiffView
from omni_tui.ui.widgets.file_tabs import FileTabs
from omni_tui.ui.widgets.gate_header import GateHeader
from omni_tui.ui.widgets.key_bar import KeyBar
from omni_tui.ui.widgets.log_view import LogView
from omni_tui.ui.widgets.panel_switcher import PanelSwitcher
from omni_tui.ui.widgets.process_table import ProcessTable
from omni_tui.ui.widgets.proposal_detail import ProposalDetail
from omni_tui.ui.widgets.proposal_queue import ProposalQueue

PANELS = tuple(PanelId)
PHONE_WIDTH = 72  # narrower than this: one panel at a time (80x24 keeps all four)
PANEL_FOCUS = {
    PanelId.CHANGES: "#changes-diff",
    PanelId.PROPOSALS: "#queue",
    PanelId.PROCESSES: "#process-table",
    PanelId.REBUILD: "#rebuild-log",
}


class Panel(FocusedTitleColour, Vertical):
    """One of the four cockpit panels: a titled, maximisable box. While it holds the focus (the class
    `-focus-within`) its border is the accent's and its title takes the colour of its component class
    `panel--focused-title` (cockpit.tcss), without restyling what is inside it (FocusedTitleColour)."""

    ALLOW_MAXIMIZE = True
    COMPONENT_CLASSES: ClassVar[set[str]] = {"panel--focused-title"}

    def __init__(self, *children: Widget, title: str, id: str) -> None:
        super().__init__(*children, id=id, classes="panel")
        self.border_title = title

    def title_focused(self) -> bool:
        return self.has_class("-focus-within")


class DiffPanel(Panel):
    """A panel showing a diff (Changes; Proposals, the selected proposal's): it owns the diff keys
    n/p/f/s/space (keys.ACTIONS, owner "diff", remappable by id), wherever the focus is inside it.
    Whether one applies here and now is the app's answer (its review state), through check_action."""

    BINDINGS: ClassVar[list[BindingType]] = default_bindings("diff")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.app.check_action(action, parameters) if action in ACTIONS_BY_ID else True

    @property
    def diff(self) -> DiffView | None:
        """This panel's diff when it shows one (the Proposals panel: once a proposal file is shown)."""
        screen = self.screen
        return screen.focused_diff() if isinstance(screen, CockpitScreen) and screen.focused_panel() == self.id else None

    def action_next_hunk(self) -> None:
        if self.diff is not None:
            self.diff.next_hunk()

    def action_previous_hunk(self) -> None:
        if self.diff is not None:
            self.diff.previous_hunk()

    def action_toggle_split(self) -> None:
        if self.diff is not None:
            self.diff.toggle_mode()  # the person's choice: from now on the pane's width does not choose

    def action_toggle_hunk(self) -> None:
        if self.diff is not None:
            self.diff.toggle_hunk()

    def action_next_file(self) -> None:
        screen = self.screen
        tabs = screen.focused_file_tabs() if isinstance(screen, CockpitScreen) else None
        path = tabs.next_path() if tabs is not None else None
        if tabs is not None and path is not None:
            tabs.post_message(tabs.FileSelected(tabs, path))  # shown as a click on that tab would


class Panels(Container):
    """The four panels' grid; notes the keys its widgets saw (type-ahead into a modal, see textual_compat)."""

    def on_key(self, event: events.Key) -> None:
        note_key_for_type_ahead(event)


class CockpitScreen(Screen[None]):
    """The four panels under the gate header, the footer below (see the module docstring)."""

    AUTO_FOCUS = "#queue"
    # A zoomed panel keeps the gate header and the footer: "the header always shows the gate" (a pending or
    # tampered state is never hidden behind `z`). Textual's default keeps only its Footer.
    ALLOW_IN_MAXIMIZED_VIEW = "GateHeader, KeyBar"
    # Textual's own, without its repaint of the whole screen at each focus move (a tab drew all 120x40
    # cells again, ≈ 8 ms of the UI thread here): what a focus move changes repaints itself — the widget
    # left and the one entered (their :focus styles), the panels' borders (-focus-within), the key bar.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, display_root: str, *, log_clock: Callable[[], float] | None = None) -> None:
        super().__init__(id="_default")  # the id Textual gives its own default screen
        self.display_root = display_root
        self.log_clock = log_clock
        self.phone_panel = PanelId.PROPOSALS  # the one panel shown at phone size
        self._resumed = False  # see _on_screen_resume

    def compose_layout(self) -> ComposeResult:
        """The cockpit's widgets. `CockpitApp.compose` mounts them into this screen, so they exist when
        the app mounts and reads the first picture synchronously: the first frame shows the workspace
        (a Screen's own `compose` runs later, once its message loop starts)."""
        yield GateHeader(self.display_root, id="gate-header")
        # The phone switcher row (above the panels) is mounted the first time the terminal is phone-sized
        # (`show_phone_panel`): hidden otherwise, its stylesheet was parsed and the widget styled before
        # every cockpit's first frame (≈ 1 ms).
        with Panels(id="panels"):
            yield DiffPanel(
                CardSummary(id="changes-card"),  # what the direct edits do to the environment
                FileTabs(id="changes-files"),
                DiffView(id="changes-diff", auto_split=True, choosable=False),
                title="Changes",
                id="changes-panel",
            )
            yield DiffPanel(ProposalQueue(id="queue"), ProposalDetail(id="detail"), title="Proposals", id="proposals-panel")
            yield Panel(Static("", id="process-note"), ProcessTable(id="process-table"), title="Processes", id="processes-panel")
            # A frozen clock (tests, snapshots) freezes the progress row; with the real one the row ends
            # on the measured duration, the one the decision records.
            yield Panel(LogView(id="rebuild-log", clock=self.log_clock), title="Rebuild log", id="rebuild-panel")
        yield KeyBar(FOOTER_GIVES_WAY)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The footer lists the cockpit's actions in their one order (keys.ACTIONS), whichever widget
        holds their bindings (the App, a diff panel, the process table)."""
        return dict(in_action_order(list(super().active_bindings.items()), lambda item: item[1].binding.id))

    # -- the widgets -------------------------------------------------------------------------------

    @property
    def log_view(self) -> LogView:
        return self.query_one("#rebuild-log", LogView)

    @property
    def changes_diff(self) -> DiffView:
        return self.query_one("#changes-diff", DiffView)

    @property
    def changes_card(self) -> CardSummary:
        return self.query_one("#changes-card", CardSummary)

    @property
    def changes_tabs(self) -> FileTabs:
        return self.query_one("#changes-files", FileTabs)

    @property
    def detail(self) -> ProposalDetail:
        return self.query_one("#detail", ProposalDetail)

    @property
    def queue(self) -> ProposalQueue:
        return self.query_one("#queue", ProposalQueue)

    @property
    def process_table(self) -> ProcessTable:
        return self.query_one("#process-table", ProcessTable)

    @property
    def process_note(self) -> Static:
        return self.query_one("#process-note", Static)

    @property
    def header(self) -> GateHeader:
        return self.query_one("#gate-header", GateHeader)

    def panel(self, panel_id: PanelId) -> Panel:
        return self.query_one(f"#{panel_id}", Panel)

    # -- focus -------------------------------------------------------------------------------------

    def focused_panel(self) -> PanelId | None:
        """The panel holding the focus (None while a modal is on top)."""
        node = self.focused if self.app.screen is self else None
        while node is not None:
            if isinstance(node, Panel):
                return PanelId(str(node.id))
            node = node.parent  # type: ignore[assignment]
        return None

    def focused_diff(self) -> DiffView | None:
        panel = self.focused_panel()
        if panel is PanelId.CHANGES:
            return self.changes_diff
        if panel is PanelId.PROPOSALS and self.detail.view is not None and self.detail.shown_path is not None:
            return self.detail.diff
        return None

    def focused_file_tabs(self) -> FileTabs | None:
        panel = self.focused_panel()
        if panel is PanelId.CHANGES:
            return self.changes_tabs
        if panel is PanelId.PROPOSALS:
            return self.detail.file_tabs
        return None

    def owner_of(self, owner: str) -> Widget | None:
        """The widget whose bindings hold an action of `owner` (keys.ActionSpec.owner) where the person is."""
        if owner == "processes":
            return self.process_table
        panel = self.focused_panel()
        widget = self.panel(panel) if panel is not None else None
        return widget if isinstance(widget, DiffPanel) else None

    def focus_state(self) -> Focus:
        """Where the person is, for the review state's `why_unavailable`."""
        tabs = self.focused_file_tabs()
        detail = self.detail
        return Focus(
            panel=self.focused_panel(),
            diff=self.focused_diff() is not None,
            shown_path=detail.shown_path,
            files=len(tabs.paths) if tabs is not None else 0,
            modal=self.app.screen is not self or len(self.app.screen_stack) != 1,
        )

    def focus_panel(self, panel_id: PanelId) -> None:
        if self.maximized is not None:
            self.minimize()
        if self.has_class("-phone"):
            self.show_phone_panel(panel_id)  # a hidden panel cannot take the focus
        widget = self.query_one(PANEL_FOCUS[panel_id])
        if not widget.display:
            widget = self.panel(panel_id)
        widget.focus()

    def step_panel(self, step: int) -> None:
        current = self.focused_panel()
        index = PANELS.index(current) if current in PANELS else -1
        self.focus_panel(PANELS[(index + step) % len(PANELS)])

    def toggle_zoom(self) -> None:
        """Maximise the focused panel (the Proposals panel when none has the focus), or restore it."""
        if self.maximized is not None:
            self.minimize()
            return
        self.maximize(self.panel(self.focused_panel() or PanelId.PROPOSALS), container=False)

    # -- phone size: one panel at a time --------------------------------------------------------

    def show_phone_panel(self, panel_id: PanelId) -> None:
        """At phone size, `panel_id` is the panel shown (the others stay where they are, hidden)."""
        self.phone_panel = panel_id
        for other in PANELS:
            self.panel(other).set_class(other is panel_id, "-shown")
        switchers = self.query_children(PanelSwitcher)
        if switchers:
            switcher = switchers.first()
        else:
            switcher = PanelSwitcher(id="panel-switcher")  # shown only at phone size (-phone, cockpit.tcss)
            self.mount(switcher, before=self.query_one("#panels"))
        switcher.show_current(str(panel_id))

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler. The first resume comes right after `CockpitApp.compose`
        # mounted (and so styled) every widget: Textual's restyle of every node there is the start-up's
        # second full restyle, for nothing — a class or pseudo-class changed since restyles its own
        # nodes. Later resumes (back from a modal) restyle as Textual does.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        self._mark_focus_within()
        panel = self.focused_panel()
        if panel is not None and panel is not self.phone_panel and self.has_class("-phone"):
            self.show_phone_panel(panel)

    def on_descendant_blur(self, _event: events.DescendantBlur) -> None:
        self._mark_focus_within()

    def _mark_focus_within(self) -> None:
        """The panel holding this screen's focus (a modal on top or not) has the class `-focus-within`:
        its accent border (cockpit.tcss).

        Not the `:focus-within` pseudo-class: on every focus move Textual restyles each node under the
        panels that have that rule, the one left and the one entered (the queue, the proposal's card and
        diff: ~50 ms of a tab on an idle machine, most of a key's time). No rule under a panel depends on
        it, so the panels alone are restyled."""
        node = self.focused
        while node is not None and not isinstance(node, Panel):
            node = node.parent  # type: ignore[assignment]
        changed = []
        for panel in self.query(Panel):
            if panel.has_class("-focus-within") != (panel is node):
                panel.set_class(panel is node, "-focus-within", update=False)
                changed.append(panel)
        if changed:
            self.app.stylesheet.update_nodes(changed, animate=False)
            for panel in changed:
                panel.refresh()  # its title's colour (Panel.title_focused), also when its border stays (zoomed)

    def on_panel_switcher_chosen(self, message: PanelSwitcher.Chosen) -> None:
        message.stop()
        self.focus_panel(PanelId(message.panel_id))

    async def on_panel_switcher_decide(self, message: PanelSwitcher.Decide) -> None:
        """The on-screen Approve / Reject: the same actions as `a` / `r`, on the selected proposal."""
        message.stop()
        self.focus_panel(PanelId.PROPOSALS)
        await self.app.run_action(message.action)

    def fit_to(self, size: Size) -> None:
        """The terminal's size changed (called from the App's Resize, which comes before the first frame)."""
        # Phone size (60x30, a phone in landscape): one panel at a time, a switcher row on top.
        phone = size.width < PHONE_WIDTH
        if phone != self.has_class("-phone"):
            self.set_class(phone, "-phone")
            if phone:
                self.show_phone_panel(self.focused_panel() or self.phone_panel)
        # Short terminals (80x24, and up to 33 rows: at 30 a long card and why left the proposal's diff
        # no row) give the top row and the proposal's diff more of the height. A phone shows one panel
        # at a time, the whole height: there the why keeps its lines down to 30 rows.
        self.set_class(size.height < (30 if phone else 34), "-short")
        narrow = size.width < 100
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            # At 80 columns the palette's footer slot is its key alone ("^p Commands" would crop q Quit);
            # the help screen lists it whole.
            relabel(bindings_of(self.app), {"command_palette"}, "" if narrow else "Commands")
            self.app.refresh_bindings()
