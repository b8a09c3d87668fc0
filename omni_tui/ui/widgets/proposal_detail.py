"""The selected proposal: title, the agent's rationale, the decision, the validation result and the diff.

Data in: a `ProposalView` (plain texts, already read by the app); the diff itself is the DIFF helper's
`DiffView`, side by side when the pane is wide enough (`auto_split`), else unified. A pending proposal's
diff is the file now → what approving writes; one the gate wrote shows the change it applied (before →
after, from the backups), under a line saying so. A quarantined (invalid) file shows its error instead of a diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.css.scalar import Unit
from textual.geometry import Size
from textual.widgets import Static

from omni_tui.core.card import Card
from omni_tui.core.terminal import inert
from omni_tui.ui.widgets.change_card import CardSummary
from omni_tui.ui.widgets.colours import theme_colour
from omni_tui.ui.widgets.diff_view import DiffView
from omni_tui.ui.widgets.file_tabs import FileTabs
from omni_tui.ui.widgets.proposal_queue import STATE_COLOURS, state_label


class DetailFile(NamedTuple):  # not a dataclass: the cockpit imports it before its first frame, a NamedTuple is cheaper to create
    """One file of a proposal, the two sides of its diff (None = absent): what is on disk now and what the
    proposal would write, or, for a `ProposalView.history` view, the bytes before the apply and those written."""

    path: str
    current: str | None
    proposed: str | None


class Check(NamedTuple):
    """One validation line: `ok` True (passed), False (failed) or None (not run / pending)."""

    ok: bool | None
    text: str


class ProposalView(NamedTuple):  # not a frozen dataclass: cheaper to create before the cockpit's first frame
    """Everything the detail panel shows for one queue row (compared whole: an equal view is not redrawn)."""

    key: str
    title: str
    agent: str
    state: str
    created: str = ""
    rationale: str = ""
    checks: tuple[Check, ...] = ()
    files: tuple[DetailFile, ...] = ()
    error: str | None = None  # a quarantined file's one-line error
    error_heading: str = "Invalid proposal file, quarantined: "  # what the quarantined file was
    note: str = ""  # e.g. the decision's reason / outcome
    diff_label: str = ""  # what the diff shows, when it is not the pending current → proposed
    history: bool = False  # files are (before the apply, written by it)


# What an empty diff (the file already has the proposed content) means, by the proposal's state.
EMPTY_MESSAGES = {
    "pending": "Nothing to apply: the file already has the proposed content",
    "applying": "Written: the file has the proposed content; the rebuild follows",
    "rebuilding": "Written: the file has the proposed content; rebuilding",
    "applied": "Applied: the file has this proposal's content now",
    "failed": "The file has this proposal's content, but its rebuild failed ({rollback} rolls back)",
}
HISTORY_EMPTY = "This file was left as it was by the approval"


READ_ALL_HINT = "… ({maximize}: read all)"  # the zoom key as mapped in `[keys]`


class Rationale(Static):
    """The agent's "why", cut to the rows it is given (max-height in cells) the way a person can tell:
    when more lines exist than fit, the last visible one ends in `… (z: read all)` (z zooms the panel,
    where it is read in full). A height in percent (zoomed) scrolls instead, so it is not cut."""

    _fit_width = 0
    read_all_hint = READ_ALL_HINT.format(maximize="z")

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._fit_width = width  # the width being laid out, before self.size catches up
        return super().get_content_height(container, viewport, width)

    def render(self) -> RenderResult:
        content = self.content
        max_height = self.styles.max_height
        width = self._fit_width or self.content_region.width
        if not isinstance(content, Text) or max_height is None or max_height.unit != Unit.CELLS or width <= 0:
            return super().render()
        limit = max(1, int(max_height.value))
        if self.styles.text_wrap == "nowrap":
            lines: list[Text] = list(content.split("\n", allow_blank=True))
            cut = len(lines) > limit or any(line.cell_len > width for line in lines[:limit])
        else:
            lines = list(content.wrap(self.app.console, width))
            cut = len(lines) > limit
        if not cut:
            return super().render()
        shown = [line.copy() for line in lines[:limit]]
        hint = self.read_all_hint if width >= len(self.read_all_hint) + 8 else "…"
        last = shown[-1]
        last.truncate(max(0, width - len(hint)))
        last.rstrip()
        last.append(hint, style=theme_colour(self.app, "foreground-muted"))
        for line in shown[:-1]:
            line.truncate(width)
        return Text("\n").join(shown)


class ProposalDetail(Vertical):
    """Shows one `ProposalView`; the app drives the diff through `diff` and `file_tabs`."""

    WHY_MAX_ROWS = 4
    """Rows the agent's "why" takes at most, unzoomed; past them it is cut with its read-all hint."""
    DEFAULT_CSS = f"""
    ProposalDetail {{ height: 1fr; }}
    ProposalDetail > #detail-title {{ height: auto; }}
    ProposalDetail > #detail-rationale {{ height: auto; max-height: {WHY_MAX_ROWS}; }}
    ProposalDetail > #detail-note {{ height: auto; max-height: 3; }}
    ProposalDetail > #detail-checks {{ height: auto; }}
    ProposalDetail > #detail-diff-label {{ height: auto; max-height: 2; }}
    ProposalDetail > DiffView {{ height: 1fr; }}
    ProposalDetail.-tight > #detail-rationale {{ max-height: 1; text-wrap: nowrap; text-overflow: ellipsis; }}
    """
    DIFF_MIN_ROWS = 7
    """Rows the diff keeps before the agent's "why" gives up its lines (down to one, `-tight`): the file
    and hunk headers, three lines of context and the first removed/added pair. What is approved is the diff."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: ProposalView | None = None
        self.shown_path: str | None = None
        self.keys: Mapping[str, str] = {}  # action id → its key as mapped (`set_keys`): hints name the keys that work

    def set_keys(self, keys: Mapping[str, str]) -> None:
        """The keys as mapped in `[keys]`, for the hints this panel shows."""
        self.keys = keys
        self.query_one(Rationale).read_all_hint = READ_ALL_HINT.format(maximize=keys.get("maximize", "z"))

    def compose(self) -> ComposeResult:
        yield Static("No proposal selected. Agents submit with `omni-tui propose`.", id="detail-title")
        yield CardSummary(id="detail-card")  # what approving does to the environment, before the why and the diff
        yield Rationale("", id="detail-rationale")
        # the decision / outcome on its own line, so a short terminal that crops the rationale keeps it
        yield Static("", id="detail-note")
        yield Static("", id="detail-checks")
        yield Static("", id="detail-diff-label")
        yield FileTabs(id="detail-files")
        yield DiffView(id="detail-diff", empty_message="Nothing to apply: the file already has the proposed content", auto_split=True)

    @property
    def diff(self) -> DiffView:
        return self.query_one("#detail-diff", DiffView)

    def on_resize(self) -> None:
        self._fit_above_diff()

    def on_diff_view_resized(self, message: DiffView.Resized) -> None:
        # the lines above the diff were laid out anew (a decision's note came, a card grew): fit again
        message.stop()
        self._fit_above_diff()

    def _fit_above_diff(self) -> None:
        """Give the diff its rows when the lines above would leave it under DIFF_MIN_ROWS: the why goes
        to one row first (`-tight`; at 120x34 a four-line why under a three-line card left the diff three
        rows, none of them the change), then the card runs its categories together on one line
        (`CardSummary.fold`; at 80x24 a four-category card left the diff none). Read with the heights of
        the other lines as laid out, and the card's and the why's as they would be unfolded, so it runs
        again after those change (the diff's size changes with them: `DiffView.Resized`) and never
        flips back and forth on its own folding — once per layout, and once per new card (a folded card
        keeps its height, so a new one may not resize the diff)."""
        why = self.query_one(Rationale)
        card = self.query_one("#detail-card", CardSummary)
        diff = self.diff
        if not diff.display or self.size.height <= 0:
            self.set_class(False, "-tight")
            card.fold(False)
            return
        width = self.content_region.width
        others = sum(child.outer_size.height for child in self.children if child.display and child not in (why, card, diff))
        room = self.size.height - others - self.DIFF_MIN_ROWS  # for the why and the card together
        why_rows = 0
        if why.display:
            content = why.content
            why_rows = min(self.WHY_MAX_ROWS, len(content.wrap(self.app.console, width)) if isinstance(content, Text) and width > 0 else 1)
        card_rows = card.rows_unfolded(width)
        tight = why_rows + card_rows > room
        self.set_class(tight and why.display, "-tight")
        card.fold(min(why_rows, 1) + card_rows > room if tight else False)

    def show_card(self, card: Card | None, note: str = "") -> None:
        """The compact change card at the top (a pending proposal's); no card and no note hides it."""
        self.query_one("#detail-card", CardSummary).show(card, note)  # a new height resizes the diff: fitted then
        self._fit_above_diff()  # folded, a new card may keep its height and need unfolding (or folding) all the same

    @property
    def file_tabs(self) -> FileTabs:
        return self.query_one("#detail-files", FileTabs)

    def _colour(self, name: str) -> str:
        return theme_colour(self.app, name)

    def show(self, view: ProposalView | None, path: str | None = None) -> None:
        """Show a proposal (None: the empty state) and one of its files (default: the first)."""
        previous_key = self.view.key if self.view else None
        self.view = view
        title = self.query_one("#detail-title", Static)
        rationale = self.query_one("#detail-rationale", Static)
        note = self.query_one("#detail-note", Static)
        diff_label = self.query_one("#detail-diff-label", Static)
        if view is None:
            self._set_title(title, "No proposal selected. Agents submit with `omni-tui propose`.")
            for line in (rationale, note, diff_label):
                self._set_line(line, "")
            self.update_checks(())
            self.file_tabs.set_files((), None)
            self.shown_path = None
            self.diff.display = False
            return
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(inert(view.title), style="bold")
        head.append(f"  {inert(view.agent)}", style=self._colour("accent"))
        head.append(f"  {state_label(view.state)}", style=f"bold {self._colour(STATE_COLOURS.get(view.state, 'foreground'))}")
        if view.created:
            head.append(f"  {view.created}", style=self._colour("foreground-muted"))
        self._set_title(title, head)
        why = Text()
        if view.error:
            why.append(inert(view.error_heading), style=f"bold {self._colour('error')}")
            why.append(inert(view.error))
        elif view.rationale:
            why.append("Why: ", style="bold")
            why.append(inert(view.rationale, multiline=True))
        self._set_line(rationale, why)
        self._set_line(note, Text(inert(view.note), style="italic") if view.note else "")
        self.update_checks(view.checks)
        colour = STATE_COLOURS.get(view.state, "foreground") if view.history else "foreground-muted"
        self._set_line(diff_label, Text(inert(view.diff_label), style=f"italic {self._colour(colour)}") if view.diff_label else "")
        paths = [f.path for f in view.files]
        if path not in paths or (previous_key != view.key and path is None):
            path = paths[0] if paths else None
        self.file_tabs.set_files(paths, path)
        self.diff.display = bool(paths)
        self.shown_path = path
        if path is not None:
            chosen = next(f for f in view.files if f.path == path)
            empty = HISTORY_EMPTY if view.history else EMPTY_MESSAGES.get(view.state, EMPTY_MESSAGES["pending"])
            empty = empty.format(rollback=self.keys.get("rollback", "b"))
            self.diff.set_empty_message(empty)
            self.diff.choosable = view.state == "pending"  # a decided diff's hunks are history, not choices
            # another proposal's diff opens anew (at its top, or its first change), even of the same file as the one read before
            self.diff.set_diff(path, chosen.current or "", chosen.proposed or "", new_document=previous_key != view.key)
        # with the new why and the lines around it as last laid out; lines that change height resize the
        # diff, and it is fitted again then (`on_diff_view_resized`)
        self._fit_above_diff()

    def update_checks(self, checks: tuple[Check, ...]) -> None:
        """Replace only the validation line (when a validation finishes for the shown proposal)."""
        self._set_line(self.query_one("#detail-checks", Static), self._checks_text(checks))

    @staticmethod
    def _set_title(title: Static, content: Text | str) -> None:
        """The same title is not laid out again (the detail is shown again on every write to a guarded file)."""
        if getattr(title, "_omni_content", None) == content:
            return
        title._omni_content = content  # type: ignore[attr-defined]
        title.update(content)

    @staticmethod
    def _set_line(line: Static, content: Text | str) -> None:
        """An empty line takes no row: the diff gets it. The same content, shown, is not laid out again."""
        visible = bool(content.plain if isinstance(content, Text) else content)
        if getattr(line, "_omni_content", None) == content and line.display == visible:
            return
        line._omni_content = content  # type: ignore[attr-defined]
        line.update(content)
        line.display = visible

    def _checks_text(self, checks: tuple[Check, ...]) -> Text:
        text = Text()
        for index, check in enumerate(checks):
            if index:
                text.append("  ")
            if check.ok is True:
                text.append("✓ ", style=f"bold {self._colour('success')}")
            elif check.ok is False:
                text.append("✗ ", style=f"bold {self._colour('error')}")
            else:
                text.append("… ", style=self._colour("foreground-muted"))
            text.append(inert(check.text))
        return text
