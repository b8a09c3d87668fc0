"""The proposal queue: one row per proposal (agent, title, age, state, validation badge) and per quarantined file.

Rows arrive as plain `QueueRow`s; `show_rows` updates only changed cells when the set of rows is
unchanged, so the cursor and scroll position stay where the person left them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets.data_table import ColumnKey

from omni_tui.core.terminal import inert
from omni_tui.ui.textual_compat import require_update_dimensions
from omni_tui.ui.widgets.colours import theme_colour
from omni_tui.ui.widgets.keyed_table import KeyedTable

# state → theme variable used for its colour
STATE_COLOURS = {
    "pending": "warning",
    "applying": "accent",
    "rebuilding": "accent",
    "applied": "success",
    "failed": "error",
    "rolled_back": "error",
    "rejected": "secondary",
    "stale": "secondary",
    "withdrawn": "secondary",
    "tampered": "error",
    "invalid": "error",
}


def state_label(state: str) -> str:
    """A proposal state as people read it: `rolled_back` → `rolled back` (the JSON keeps the identifier)."""
    return state.replace("_", " ")


BADGE_COLOURS = {"ok": "success", "bad": "error", "warn": "warning", "none": "foreground-muted"}


@dataclass(frozen=True)
class QueueRow:
    """One queue line. `badge_kind` is ok | bad | warn | none; `key` is the proposal id or `quarantine:<file>`."""

    key: str
    agent: str
    title: str
    age: str
    state: str
    badge: str
    badge_kind: str = "none"


CHUNK_ROWS = 300  # a long queue is put in the table this many rows at a time (bench/bench_queue_scale.py)
FILL_PAUSE_S = 0.01  # between two chunks: keys and repaints go first

COLUMNS = (("agent", "Agent"), ("title", "Title"), ("age", "Age"), ("state", "State"), ("check", "Check"))
# An agent's name beyond this many cells ends in … so the title keeps the room (the detail shows the name whole).
AGENT_MAX = 16
AGENT_MIN = 10  # ...and, in a narrow panel, a third of the room it shares with the title but at least this


def _field(row: QueueRow, column: str) -> object:
    return (row.badge, row.badge_kind) if column == "check" else getattr(row, column)


class ProposalQueue(KeyedTable):
    """A row-cursor table of proposals; posts `ProposalQueue.Selected` when the highlighted row changes."""

    class Selected(Message):
        """The highlighted row changed; `key` is a proposal id, `quarantine:<file>`, or None when empty."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    COLUMNS = COLUMNS

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, QueueRow] = {}
        self._order: list[str] = []
        self._backlog: list[str] = []  # keys of a long queue not in the table yet (added CHUNK_ROWS at a time)

    @property
    def selected_key(self) -> str | None:
        return self._selected

    def _colour(self, variable: str) -> str:
        return theme_colour(self.app, variable)

    def _cells(self, row: QueueRow) -> dict[str, Text]:
        return {
            "agent": Text(inert(row.agent), style=self._colour("accent"), no_wrap=True, overflow="ellipsis"),
            # Cropped with an ellipsis to the width `_fit_title` leaves it.
            "title": Text(inert(row.title), no_wrap=True, overflow="ellipsis"),
            "age": Text(row.age, style=self._colour("foreground-muted")),
            "state": Text(state_label(row.state), style=f"bold {self._colour(STATE_COLOURS.get(row.state, 'foreground'))}"),
            "check": Text(row.badge, style=self._colour(BADGE_COLOURS.get(row.badge_kind, "foreground"))),
        }

    def show_rows(self, rows: Sequence[QueueRow]) -> None:
        """Show exactly these rows in this order, keeping the cursor on the same proposal when it is still there."""
        order = [row.key for row in rows]
        new = {row.key: row for row in rows}
        if order == self._order:
            waiting = set(self._backlog)
            for key in order:
                if key in waiting:
                    continue  # not in the table yet: added from the newest row when its turn comes
                old_row, new_row = self._rows[key], new[key]
                if old_row == new_row:
                    continue
                new_cells = self._cells(new_row)
                for column, _label in COLUMNS:
                    if _field(old_row, column) != _field(new_row, column):
                        self.rewrite_cell(key, column, new_cells[column])
            self._rows = new
            self._fit_title()
            return
        keep = self._selected
        self.clear()
        self._rows, self._order = new, order
        # A long queue (10,000 proposals) goes in CHUNK_ROWS rows at a time, keys answered in between.
        first, self._backlog = order[:CHUNK_ROWS], order[CHUNK_ROWS:]
        for key in first:
            self._add(key)
        if self._backlog:
            self.set_timer(FILL_PAUSE_S, self._fill)
        if keep in new and order.index(keep) < self.row_count:
            self.move_cursor(row=order.index(keep), animate=False)
        self._fit_title()
        self._announce()

    def _add(self, key: str) -> None:
        cells = self._cells(self._rows[key])
        self.add_row(*(cells[column] for column, _label in COLUMNS), key=key)

    def _fill(self) -> None:
        """The next CHUNK_ROWS of a long queue's rows (the newest data for each)."""
        chunk, self._backlog = self._backlog[:CHUNK_ROWS], self._backlog[CHUNK_ROWS:]
        for key in chunk:
            if key in self._rows:
                self._add(key)
        if self._backlog:
            self.set_timer(FILL_PAUSE_S, self._fill)
        elif self._selected in self._rows:
            self.move_cursor(row=self._order.index(self._selected), animate=False)

    def _fit_title(self) -> None:
        """Give the title only what the other columns leave: agent, age, state and check always show whole."""
        column = self.columns.get(ColumnKey("title"))
        width = self.scrollable_content_region.width
        if column is None or width <= 0:
            return
        pad = 2 * self.cell_padding
        rows = list(self._rows.values())
        others = 0
        for key, label in COLUMNS:
            if key not in ("title", "agent"):
                cells = [cell_len(inert(row.badge if key == "check" else state_label(str(getattr(row, key))))) for row in rows]
                # a column that grew for an earlier state ("rebuilding") keeps that width (rewrite_cell)
                drawn = self.columns[ColumnKey(key)].get_render_width(self)
                others += max(max([cell_len(label), *cells]) + pad, drawn)
        # The agent's name gives way first: at most AGENT_MAX cells, and a third of what it and the title share.
        changed = False
        agent = self.columns.get(ColumnKey("agent"))
        if agent is not None:
            shared = width - others - 2 * pad
            longest_agent = max([cell_len("Agent"), *(cell_len(inert(row.agent)) for row in rows)])
            wanted = min(longest_agent, AGENT_MAX, max(AGENT_MIN, shared // 3))
            if agent.auto_width or agent.width != wanted:
                agent.auto_width = False
                agent.width = wanted
                changed = True
            others += wanted + pad
        longest = max([cell_len("Title"), *(cell_len(inert(row.title)) for row in rows)])
        fitted = max(8, min(longest, width - others - pad))
        if changed or column.auto_width or column.width != fitted:
            column.auto_width = False
            column.width = fitted
            require_update_dimensions(self)
            self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        self._fit_title()

    def select_key(self, key: str) -> None:
        """Move the cursor to a row by key (no-op when absent)."""
        if key in self._rows and self._order.index(key) < self.row_count:
            self.move_cursor(row=self._order.index(key), animate=False)

    def _restyle(self) -> None:
        waiting = set(self._backlog)
        for key, row in self._rows.items():
            if key in waiting:
                continue  # drawn with the theme of the moment when it is added
            for column, cell in self._cells(row).items():
                self.update_cell(key, column, cell)

    def _selection(self, key: str | None) -> Message:
        return self.Selected(key)
