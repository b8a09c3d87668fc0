"""The table both lists build on: a row-cursor `DataTable` keyed by strings, rewritten cell by cell.

It owns what the proposal queue and the process table share: their columns, restyling when the
theme changes, announcing the highlighted row once per change, and `rewrite_cell`, which keeps a
column wide enough for what it shows. Textual's own `update_cell(update_width=True)` widens the
column only when the app is next idle, without invalidating the rows rendered in between, so a
cell that grew ("pending" → "rolled_back", "59s" → "1m00s") could stay cropped on screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from omni_tui.ui.textual_compat import require_update_dimensions, set_cells


class KeyedTable(DataTable):
    """Subclasses set `COLUMNS` ((key, label), ...) and implement `_restyle` and `_selection`."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_row_labels=False)
        self._selected: str | None = None
        self._row_key_objects: dict[str, RowKey] = {}  # row name → the table's RowKey (see rewrite_cells)

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            # A Text, not a str: DataTable reads a str label as markup, and rich's markup loads its
            # emoji table (≈ 2 ms) before the first frame.
            self.add_column(Text(label), key=key)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def _restyle(self) -> None:
        """Re-render every cell in the new theme's colours."""
        raise NotImplementedError

    def _selection(self, key: str | None) -> Message:
        """The message that says the highlighted row is now `key`."""
        raise NotImplementedError

    def rewrite_cell(self, row_key: str, column_key: str, value: Text) -> None:
        """Replace one cell; its column grows in the same frame when the new text is wider (never shrinks)."""
        self.update_cell(row_key, column_key, value)
        column = self.columns.get(ColumnKey(column_key))
        width = cell_len(value.plain)
        if column is not None and column.auto_width and width > column.content_width:
            # update_cell has already moved the render caches on: the next frame draws the new width.
            column.content_width = width
            require_update_dimensions(self)  # the scrollable width follows on idle
            self.refresh()

    def rewrite_cells(self, cells: list[tuple[str, str, Text]]) -> None:
        """`rewrite_cell` for many cells at once: one repaint, columns grown as needed."""
        if not cells:
            return
        # The table's own key objects: a dict finds them by identity, where a plain string (or a new
        # key object) is compared with `RowKey.__eq__`, a Python call per cell (300 a second).
        rows = self._row_key_objects
        if len(rows) > 2 * self.row_count + 64:
            rows.clear()  # names of rows gone (a key kept after its row went still works, only slower)
        columns = {key.value: key for key in self.columns}
        if any(row_name not in rows for row_name, _column, _value in cells):
            # Names not seen yet: one pass over the table's keys for all of them (a search per name was
            # 10,000 x 10,000 comparisons while a long queue's checks landed: seconds of the UI thread).
            by_name = {key.value: key for key in self.rows}
            for row_name, _column, _value in cells:
                if row_name not in rows:
                    rows[row_name] = by_name.get(row_name) or RowKey(row_name)
        widths: dict[str, int] = {}
        keyed = []
        for row_name, column_key, value in cells:
            row_key = rows[row_name]
            width = cell_len(value.plain)
            if width > widths.get(column_key, 0):
                widths[column_key] = width
            keyed.append((row_key, columns.get(column_key, column_key), value))
        grew = False
        for column_key, width in widths.items():
            column = self.columns.get(columns.get(column_key, ColumnKey(column_key)))
            if column is not None and column.auto_width and width > column.content_width:
                column.content_width = width
                grew = True
        set_cells(self, keyed)  # repaints the rows written
        if grew:
            require_update_dimensions(self)
            self.refresh()  # a wider column moves every row's cells

    def cursor_key(self) -> str | None:
        """The key of the row the cursor is on (None in an empty table)."""
        if self.row_count and 0 <= self.cursor_row < self.row_count:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return None

    def _announce(self) -> None:
        key = self.cursor_key()
        if key != self._selected:
            self._selected = key
            self.post_message(self._selection(key))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()
