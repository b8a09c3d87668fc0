"""The proposal queue: one row per proposal (agent, title, age, state, validation badge) and per quarantined file.

Rows arrive as plain `QueueRow`s; `show_rows` writes only what changed (cells, rows that came or went,
the order), so the cursor and scroll position stay where the person left them and a queue of 10,000
costs the event loop what changed, not what is there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets.data_table import ColumnKey

from omni_tui.core.terminal import inert
from omni_tui.ui.textual_compat import KnownRowWidths, append_rows, arrange_rows, require_update_dimensions
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


class QueueRow(NamedTuple):  # not a frozen dataclass: 10,000 are made for a long queue's first listing (3x cheaper, no __dict__ each)
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
COLUMN_KEYS = tuple(key for key, _label in COLUMNS)
# An agent's name beyond this many cells ends in … so the title keeps the room (the detail shows the name whole).
AGENT_MAX = 16
AGENT_MIN = 10  # ...and, in a narrow panel, a third of the room it shares with the title but at least this


def _shared_key(column: str, row: QueueRow) -> tuple[str, ...]:
    """Everything a cell other than the title depends on: one Text per key is shared by all rows."""
    if column == "agent":
        return (column, row.agent)
    if column == "age":
        return (column, row.age)
    if column == "state":
        return (column, row.state)
    return (column, row.badge, row.badge_kind)


def _shared_text(key: tuple[str, ...], palette: dict[str, str]) -> Text:
    """The cell for a `_shared_key`, made from the key alone (so rows sharing it cannot differ)."""
    column, value = key[0], key[1]
    if column == "agent":
        return Text(inert(value), style=palette["accent"], no_wrap=True, overflow="ellipsis")
    if column == "age":
        return Text(value, style=palette["foreground-muted"])
    if column == "state":
        return Text(state_label(value), style=f"bold {palette[STATE_COLOURS.get(value, 'foreground')]}")
    return Text(inert(value), style=palette[BADGE_COLOURS.get(key[2], "foreground")])


def _changed_columns(old: QueueRow, new: QueueRow) -> list[str]:
    """The columns whose cells differ between two versions of a row (spelt out: this runs for each of
    10,000 rows while their ages tick, and a generic per-column lookup cost ~50 ms a refresh here)."""
    changed = []
    if old.agent != new.agent:
        changed.append("agent")
    if old.title != new.title:
        changed.append("title")
    if old.age != new.age:
        changed.append("age")
    if old.state != new.state:
        changed.append("state")
    if old.badge != new.badge or old.badge_kind != new.badge_kind:
        changed.append("check")
    return changed


class ProposalQueue(KnownRowWidths, KeyedTable):
    """A row-cursor table of proposals; posts `ProposalQueue.Selected` when the highlighted row changes."""

    class Selected(Message):
        """The highlighted row changed; `key` is a proposal id, `quarantine:<file>`, or None when empty."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class Filled(Message):
        """A long queue's rows, added CHUNK_ROWS at a time, are all in the table now."""

    COLUMNS = COLUMNS

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, QueueRow] = {}
        self._order: list[str] = []
        self._backlog: list[str] = []  # keys of a long queue not in the table yet (added CHUNK_ROWS at a time)
        # key → its row as the table shows it, measured (exactly the rows in the table)
        self._widths: dict[str, tuple[QueueRow, tuple[int, int, int, int, int]]] = {}
        # Per column, how many of `_widths`' rows have a cell of each width: the widest is known at once
        # when a row goes or shrinks (10,000 ages going from "59s" to "1m" each made it count every row again).
        self._width_counts: list[dict[int, int]] = [{} for _ in COLUMNS]
        self.chosen: str | None = None  # the row the person last moved the cursor to (see `_chose`)

    @property
    def selected_key(self) -> str | None:
        return self._selected

    @property
    def order(self) -> tuple[str, ...]:
        """The rows' keys in the queue's order (rows still waiting to be added included)."""
        return tuple(self._order)

    def keys_in_view(self) -> list[str]:
        """The keys of the rows a person can see now (the table's window), top to bottom."""
        top = max(0, self.scroll_offset.y)
        return self._order[top : min(top + self.scrollable_content_region.height, self.row_count)]

    def _palette(self) -> dict[str, str]:
        """The theme colours the cells use, looked up once per refresh (not five times for each of 10,000 rows)."""
        names = {"accent", "foreground", "foreground-muted", *STATE_COLOURS.values(), *BADGE_COLOURS.values()}
        return {name: theme_colour(self.app, name) for name in names}

    def _cells(
        self, row: QueueRow, palette: dict[str, str], shared: dict[tuple[str, ...], Text], columns: Iterable[str] = COLUMN_KEYS
    ) -> dict[str, Text]:
        """The cells of a row (only `columns`), in the theme's colours. `shared`: the texts made in this
        refresh, by column and value — 10,000 rows show a handful of agents, ages, states and badges, and
        one Text each (drawing never changes a cell's Text) is fewer objects to make and to collect."""
        cells: dict[str, Text] = {}
        for column in columns:
            if column == "title":  # cropped with an ellipsis to the width `_fit_title` leaves it
                cells[column] = Text(inert(row.title), no_wrap=True, overflow="ellipsis")
                continue
            key = _shared_key(column, row)
            text = shared.get(key)
            if text is None:
                text = shared[key] = _shared_text(key, palette)
            cells[column] = text
        return cells

    def show_rows(self, rows: Sequence[QueueRow]) -> None:
        """Show exactly these rows in this order, keeping the cursor on the same proposal when it is still there.

        Only what changed is written: the cells that differ (in one repaint), the rows that came or went,
        and the order. A long queue is filled in CHUNK_ROWS rows at a time (bench/bench_queue_scale.py)."""
        order = [row.key for row in rows]
        new = {row.key: row for row in rows}
        if order != self._order and (self._backlog or not self._order or not order):
            self._refill(order, new)
            return
        palette, shared = self._palette(), dict[tuple[str, ...], Text]()
        waiting = set(self._backlog)
        cells: list[tuple[str, str, Text]] = []
        added: list[str] = []
        for key in order:
            old_row = self._rows.get(key)
            if old_row is None:
                added.append(key)
                continue
            new_row = new[key]
            if old_row is new_row or old_row == new_row:
                new[key] = old_row  # the same object: its measured widths are known by identity
                continue
            if key in waiting:
                continue  # not in the table yet: added from the newest row when its turn comes
            changed = _changed_columns(old_row, new_row)
            cells.extend((key, column, text) for column, text in self._cells(new_row, palette, shared, changed).items())
            self._row_widths(new_row)
        self.rewrite_cells(cells)
        if order == self._order:
            self._rows = new
            self._fit_title()
            return
        keep = self._selected
        self._rows, self._order = new, order
        self._add(added, palette, shared)
        arrange_rows(self, order)
        for key in [key for key in self._widths if key not in new]:
            self._count_widths(self._widths.pop(key)[1], -1)
        # As a fresh listing did: the cursor follows its proposal, else goes back to the top row; the
        # selection is known before this returns (the caller reads `selected_key`).
        self.move_cursor(row=order.index(keep) if keep in new else 0, animate=False)
        self._fit_title()
        self._announce()

    def update_rows(self, rows: Iterable[QueueRow]) -> None:
        """Rewrite these listed rows' cells where they changed, in place (the order is unchanged: a check
        result landing changes a badge). Rows not listed are ignored. The cost is that of these rows, not
        of the queue (a long queue's checks land a few at a time while 10,000 rows are listed)."""
        waiting = set(self._backlog) if self._backlog else set()
        palette, shared = self._palette(), dict[tuple[str, ...], Text]()
        cells: list[tuple[str, str, Text]] = []
        for new_row in rows:
            old_row = self._rows.get(new_row.key)
            if old_row is None or old_row is new_row or old_row == new_row:
                continue
            self._rows[new_row.key] = new_row
            if new_row.key in waiting:
                continue  # added from this newest row when its turn comes
            cells.extend(
                (new_row.key, column, text)
                for column, text in self._cells(new_row, palette, shared, _changed_columns(old_row, new_row)).items()
            )
            self._row_widths(new_row)
        self.rewrite_cells(cells)
        self._fit_title()

    def _refill(self, order: list[str], new: dict[str, QueueRow]) -> None:
        """Clear the table and put these rows in: a long queue (10,000) CHUNK_ROWS at a time, keys answered in between."""
        keep = self._selected
        self.clear()
        self._widths = {}
        self._width_counts = [{} for _ in COLUMNS]
        self._rows, self._order = new, order
        first, self._backlog = order[:CHUNK_ROWS], order[CHUNK_ROWS:]
        self._add(first, palette=self._palette(), shared={})
        if self._backlog:
            self.set_timer(FILL_PAUSE_S, self._fill)
        if keep in new and order.index(keep) < self.row_count:
            self.move_cursor(row=order.index(keep), animate=False)
        self._fit_title()
        self._announce()

    def _add(self, keys: list[str], palette: dict[str, str], shared: dict[tuple[str, ...], Text]) -> None:
        """Add these rows at the bottom of the table, in one step (`append_rows`)."""
        rows = [self._rows[key] for key in keys]
        added = append_rows(self, [(row.key, tuple(self._cells(row, palette, shared).values())) for row in rows])
        # The table's key objects kept for `rewrite_cells` (a check landing on a row not looked up yet made it
        # list every row's key: ≈ 7 ms per batch while 10,000 rows fill in).
        self._row_key_objects.update(zip(keys, added))
        for row in rows:
            self._row_widths(row)

    def _fill(self) -> None:
        """The next CHUNK_ROWS of a long queue's rows (the newest data for each)."""
        chunk, self._backlog = self._backlog[:CHUNK_ROWS], self._backlog[CHUNK_ROWS:]
        self._add([key for key in chunk if key in self._rows], palette=self._palette(), shared={})
        if self._backlog:
            self.set_timer(FILL_PAUSE_S, self._fill)
        else:
            if self._selected in self._rows:
                self.move_cursor(row=self._order.index(self._selected), animate=False)
            self.post_message(self.Filled())
        self._fit_title()  # the rows just added may be wider

    def _row_widths(self, row: QueueRow) -> tuple[int, int, int, int, int]:
        """The cells' widths of a row (agent, title, age, state, check), measured once per distinct row."""
        known = self._widths.get(row.key)
        if known is not None and (known[0] is row or known[0] == row):
            return known[1]
        old, was = known if known is not None else (None, None)
        if old is None or was is None:
            widths = (
                cell_len(inert(row.agent)),
                cell_len(inert(row.title)),
                cell_len(row.age),
                cell_len(state_label(row.state)),
                cell_len(inert(row.badge)),
            )
        else:  # a cell measured again only when it changed (the age of 10,000 young rows ticks every second)
            widths = (
                was[0] if old.agent == row.agent else cell_len(inert(row.agent)),
                was[1] if old.title == row.title else cell_len(inert(row.title)),
                was[2] if old.age == row.age else cell_len(row.age),
                was[3] if old.state == row.state else cell_len(state_label(row.state)),
                was[4] if old.badge == row.badge else cell_len(inert(row.badge)),
            )
        self._widths[row.key] = (row, widths)
        if was != widths:
            if was is not None:
                self._count_widths(was, -1)
            self._count_widths(widths, 1)
        return widths

    def _count_widths(self, widths: tuple[int, ...], step: int) -> None:
        """Count a row's cells in (step 1) or out (step -1) of `_width_counts`."""
        for counts, width in zip(self._width_counts, widths):
            left = counts.get(width, 0) + step
            if left > 0:
                counts[width] = left
            else:
                counts.pop(width, None)

    def known_widths(self, row_names: list[str]) -> dict[str, int] | None:
        """The widest cell of each column over these rows, from the widths measured as they were added
        (KnownRowWidths: the table does not measure each new row again). None when one is not known."""
        widest = [0] * len(COLUMNS)
        for name in row_names:
            known = self._widths.get(name)
            if known is None or known[0] is not self._rows.get(name):
                return None  # changed since it was measured: Textual measures what the table holds
            widest = [max(a, b) for a, b in zip(widest, known[1])]
        return {key: width for (key, _label), width in zip(COLUMNS, widest)}

    def _fit_title(self) -> None:
        """Give the title only what the other columns leave: agent, age, state and check always show whole."""
        column = self.columns.get(ColumnKey("title"))
        width = self.scrollable_content_region.width
        if column is None or width <= 0:
            return
        pad = 2 * self.cell_padding
        # The rows in the table, measured when they were added or changed (10,000 titles measured at
        # every refresh held the event loop; rows still waiting to be added count once they are); the
        # widths are counted as they are measured (a pass over 10,000 rows per refresh was ~85 ms here).
        longest = [max(counts, default=0) for counts in self._width_counts]
        others = 0
        for index, (key, label) in enumerate(COLUMNS):
            if key not in ("title", "agent"):
                # a column that grew for an earlier state ("rebuilding") keeps that width (rewrite_cell)
                drawn = self.columns[ColumnKey(key)].get_render_width(self)
                others += max(max(cell_len(label), longest[index]) + pad, drawn)
        # The agent's name gives way first: at most AGENT_MAX cells, and a third of what it and the title share.
        changed = False
        agent = self.columns.get(ColumnKey("agent"))
        if agent is not None:
            shared = width - others - 2 * pad
            longest_agent = max(cell_len("Agent"), longest[0])
            wanted = min(longest_agent, AGENT_MAX, max(AGENT_MIN, shared // 3))
            if agent.auto_width or agent.width != wanted:
                agent.auto_width = False
                agent.width = wanted
                changed = True
            others += wanted + pad
        fitted = max(8, min(max(cell_len("Title"), longest[1]), width - others - pad))
        if changed or column.auto_width or column.width != fitted:
            column.auto_width = False
            column.width = fitted
            require_update_dimensions(self)
            self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        self._fit_title()

    # -- the person's own moves -------------------------------------------------------------------
    # `chosen` is the row the person last moved the cursor to (a key, a click), not one a listing put it
    # on: a proposal arriving leaves the selection on a decided proposal the person went to read.

    def _chose(self) -> None:
        self.chosen = self.cursor_key()

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self._chose()

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self._chose()

    def action_page_up(self) -> None:
        super().action_page_up()
        self._chose()

    def action_page_down(self) -> None:
        super().action_page_down()
        self._chose()

    def action_scroll_top(self) -> None:
        super().action_scroll_top()
        self._chose()

    def action_scroll_bottom(self) -> None:
        super().action_scroll_bottom()
        self._chose()

    def on_click(self, _event: events.Click) -> None:
        self.call_next(self._chose)  # after DataTable's own handler has moved the cursor

    def select_key(self, key: str) -> None:
        """Move the cursor to a row by key (no-op when absent)."""
        if key in self._rows and self._order.index(key) < self.row_count:
            self.move_cursor(row=self._order.index(key), animate=False)

    def _restyle(self) -> None:
        waiting = set(self._backlog)
        palette, shared = self._palette(), dict[tuple[str, ...], Text]()
        cells: list[tuple[str, str, Text]] = []
        for key, row in self._rows.items():
            if key in waiting:
                continue  # drawn with the theme of the moment when it is added
            cells.extend((key, column, cell) for column, cell in self._cells(row, palette, shared).items())
        self.rewrite_cells(cells)

    def _selection(self, key: str | None) -> Message:
        return self.Selected(key)
