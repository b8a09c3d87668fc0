"""Every touch of Textual's private API, in one place (Textual is pinned to 8.2.8 in pyproject.toml).

Each helper says why no public API does the job; tests/test_textual_compat.py pins each one, so a
Textual upgrade that moves them fails there, by name, rather than somewhere in the cockpit.

Also here: the one mechanism for type-ahead into modals (`note_key_for_type_ahead`,
`forward_type_ahead`, `after_type_ahead`), because it leans on the order Textual delivers keys in.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from rich.terminal_theme import TerminalTheme
    from textual.app import App
    from textual.binding import BindingsMap
    from textual.dom import DOMNode
    from textual.geometry import Size
    from textual.scroll_view import ScrollView
    from textual.widget import Widget


def app_is_closing(app: App[Any]) -> bool:
    """Whether the app is shutting down, so a worker's message must not be applied (its widgets go).

    `App.is_running` turns False only at the very end; `_running` goes False as `_shutdown` starts
    pruning screens, which under `run_test` runs beside the message loop, and `_closing`/`_closed`
    cover `exit()` before that. No public flag says "the screens are being removed"."""
    return not app._running or not app.screen_stack or app._closing or app._closed


def character_to_key(character: str) -> str:
    """Textual's key name for one typed character ("?" → "question_mark"), as bindings spell keys.

    `textual.keys._character_to_key` is the table Textual itself uses for key events; the public
    `key_to_character` goes the other way only."""
    from textual.keys import _character_to_key

    return _character_to_key(character)


def bindings_of(node: DOMNode) -> BindingsMap:
    """A node's own bindings map (a per-instance copy: changing it changes only this node).

    `DOMNode._bindings`: Textual has no public accessor. The help screen lists every node's bindings
    with the keymap applied, and `screens.relabel` gives a confirm key its own label ("Restart")."""
    return node._bindings


def keymap_of(app: App[Any]) -> Mapping[str, str]:
    """The keymap `App.set_keymap` was given (binding id → keys); `App._keymap` has no public getter."""
    return app._keymap


def refresh_truecolor_filter(app: App[Any], palette: TerminalTheme) -> None:
    """Point the ANSI → truecolor filter at `palette` before the first stylesheet parse.

    Textual does this in its `ansi_theme_*` watchers, which also queue a stylesheet re-parse (≈ 6 ms
    each at start-up, docs/performance.md); `omni_tui.ui.themes.start_theme` sets the reactives
    without watchers and calls this for the one effect it still needs."""
    app._refresh_truecolor_filter(palette)


def require_update_dimensions(widget: Widget) -> None:
    """Make a DataTable recompute its virtual size on the next idle, after a column width was changed in place.

    `DataTable` has no public "the columns' widths changed" call; `refresh(layout=True)` does not
    recompute the scrollable width, and re-adding the columns would lose the rows and the cursor."""
    widget._require_update_dimensions = True  # type: ignore[attr-defined]


def update_scrollbars(view: ScrollView, virtual_size: Size) -> None:
    """Bring a ScrollView's scrollbars and scroll offsets up to `virtual_size` without a layout.

    `virtual_size` is a layout reactive: assigned plainly, every batch of a streaming rebuild reflowed
    the whole cockpit. `LogView` sets it with `set_reactive` when its box cannot depend on it and calls
    this for what the reactive's watcher would have done (`ScrollView._scroll_update`)."""
    view._scroll_update(virtual_size)


def set_cells(table: Any, cells: list[tuple[str, str, Any]]) -> None:
    """Replace many DataTable cells (row key, column key, value) with one repaint, of those rows only.

    `DataTable.update_cell` marks the whole widget dirty once per cell: the process table rewrites a
    cell per process every second (its uptime), 300 refreshes for one change of picture. The keys
    must exist (the caller took them from its own rows). For a table of one-line rows (the queue's,
    the process table's) only the lines of the rows written are drawn again: a check landing redrew
    every row of the queue in view, ≈ 5 ms once per arriving proposal (bench_queue_scale.py). A
    caller that also widened a column refreshes the whole table itself."""
    data = table._data
    rows = set()
    for row, column, value in cells:
        # Plain strings find the RowKey / ColumnKey entries (same hash, and keys compare equal to their
        # string); building a key object per cell cost more than the write for 10,000 rows.
        data[row][column] = value
        rows.add(row)
    # The row render caches are keyed by it: the rows written render anew. Every other line the widget
    # shows stays as its styles cache holds it (it would render the same with the new count).
    table._update_count += 1
    refresh_rows(table, [table._row_locations.get(row) for row in rows])


def refresh_rows(table: Any, indices: list[int | None]) -> None:
    """Draw again the lines of these rows of a table of one-line rows (None: a row not in the table).

    `DataTable.refresh_row` finds a row's line by adding up the heights of every row above it (10,000
    rows: a pass per call); here a row's line is its index under the header. Many rows: one refresh."""
    if not table.is_mounted:
        return
    # Rows out of the window are drawn when scrolled to (their render caches are keyed by the update
    # count): the ages of 10,000 rows rewritten in chunks repaint only what is in view, if anything.
    header = table.header_height if table.show_header else 0
    top = table.scroll_offset.y
    window = table.scrollable_content_region.height
    indices = [index for index in indices if index is not None and top - header <= index < top + window]
    if len(indices) > max(window // 2, 8):
        table.refresh()
        return
    from textual.geometry import Region

    width = max(table.size.width, table.virtual_size.width)
    for index in indices:
        if index is not None:
            table._refresh_region(Region(0, header + index, width, 1))


def refresh_rows_from(table: Any, first: int) -> None:
    """Draw again a table of one-line rows from row `first` down to the bottom of its window (the rows
    above are unchanged); nothing when that row is below the window."""
    if not table.is_mounted:
        return
    from textual.geometry import Region

    header = table.header_height if table.show_header else 0
    width = max(table.size.width, table.virtual_size.width)
    below = max(table.scroll_offset.y + table.size.height - header - first, 0)
    if below:
        table._refresh_region(Region(0, header + first, width, below))


def arrange_rows(table: Any, order: list[str]) -> None:
    """Make a DataTable's rows exactly `order` (keys it holds already), in that order, in one step; rows
    not in `order` are removed.

    `DataTable` adds rows only at the bottom and `remove_row` renumbers every row per removal: a queue of
    10,000 with a proposal arriving or decided was cleared and refilled (a second of the event loop, the
    scroll lost). This is what `DataTable.sort` does to `_row_locations`, with the order given."""
    from textual._two_way_dict import TwoWayDict
    from textual.widgets.data_table import CellKey, RowKey

    wanted = [RowKey(key) for key in order]
    keep = set(wanted)
    # The first row whose place changes: the rows above it are drawn as they are (a proposal arriving
    # at the end of a full queue redraws nothing in view; the scrollbar follows on idle).
    before = table._row_locations
    first = next((index for index, key in enumerate(wanted) if before.get_key(index) != key), len(wanted))
    for key in [key for key in table._data if key not in keep]:
        for column_key in table._data[key]:
            table._updated_cells.discard(CellKey(key, column_key))  # no width update for a row gone
        table._new_rows.discard(key)
        del table.rows[key]
        del table._data[key]
    table._row_locations = TwoWayDict({key: index for index, key in enumerate(wanted)})
    table._require_update_dimensions = True  # the height, on idle (KnownRowWidths: without a relayout when it can)
    table.cursor_coordinate = table.cursor_coordinate  # clamped to the rows left
    table.hover_coordinate = table.hover_coordinate
    table._update_count += 1
    table.check_idle()
    refresh_rows_from(table, first)


def append_rows(table: Any, rows: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
    """Add one-line rows (key, cells) at the bottom of a DataTable in one step, as `add_row` adds each;
    returns their `RowKey`s. A key the table holds already raises `DuplicateKey`, as `add_row` does.

    `DataTable.add_row` lists the columns twice, clamps the cursor (a reactive with its watchers) and asks
    for an idle check per row: 16 µs a row here against 4 µs, ≈ 35 ms of the event loop saved while a
    queue of 10,000 fills in. No public call adds many rows at once (`add_rows` calls `add_row`)."""
    from itertools import zip_longest

    from textual.widgets.data_table import DuplicateKey, Row, RowKey

    columns = [column.key for column in table.ordered_columns]
    locations, data, table_rows, new_rows = table._row_locations, table._data, table.rows, table._new_rows
    was_empty = table.row_count == 0
    index = table.row_count
    keys = [RowKey(name) for name, _cells in rows]
    # Every row checked before any is added: a bad one leaves the table as it was, not half-filled.
    seen: set[Any] = set()
    for key, (_name, cells) in zip(keys, rows):
        if key in locations or key in seen:
            raise DuplicateKey(f"The row key {key!r} already exists.")
        if len(cells) > len(columns):
            raise ValueError("More values provided than there are columns.")
        seen.add(key)
    for key, (_name, cells) in zip(keys, rows):
        locations[key] = index
        index += 1
        data[key] = dict(zip_longest(columns, cells))
        table_rows[key] = Row(key, 1, None, False)
        new_rows.add(key)
    if keys:
        table._require_update_dimensions = True
        table.cursor_coordinate = table.cursor_coordinate  # clamped once, as add_row does per row
        if was_empty and len(table.columns) > 0 and table.show_cursor and table.cursor_type != "none":
            table._highlight_cursor()  # the cursor has a row to be on now: RowHighlighted, as add_row posts it
        table._update_count += 1
        table.check_idle()
    return keys


class LazyComponentClasses:
    """Mixin for a widget whose component classes are styled only once it needs them.

    Textual styles every component class on every restyle (`DOMNode._get_component_classes`, private,
    no public hook): a widget with many classes it may never use pays for all of them. The widget
    overrides `left_out_component_classes()` to name those not yet needed; once it needs them it
    returns an empty set and calls `app.update_styles(self)`."""

    def left_out_component_classes(self) -> frozenset[str]:
        return frozenset()

    def _get_component_classes(self) -> frozenset[str]:
        classes: frozenset[str] = super()._get_component_classes()  # type: ignore[misc]
        left_out = self.left_out_component_classes()
        return classes - left_out if left_out else classes


class FocusedTitleColour:
    """Mixin for a bordered container whose title changes colour while it holds the focus, without
    restyling what it contains.

    `border-title-color` is a colour rule: Textual repaints every descendant when it changes (its
    colour properties refresh the node's children), so a focused-panel rule redrew the whole panel
    left and the whole panel entered at each tab. The widget names a component class whose `color` is
    the focused title's and says when it applies (`title_focused`); `DOMNode._get_title_style_information`
    (private: where Textual reads the title's colour) takes it from there."""

    FOCUSED_TITLE = "panel--focused-title"

    def title_focused(self) -> bool:
        return False

    def _get_title_style_information(self, background: Any) -> tuple[Any, Any, Any]:
        colour, title_background, style = super()._get_title_style_information(background)  # type: ignore[misc]
        if self.title_focused():
            colour = self.get_component_styles(self.FOCUSED_TITLE).color  # type: ignore[attr-defined]
        return colour, title_background, style


class KnownRowWidths:
    """Mixin for a `DataTable` of one-line rows without labels whose cells' widths the widget knows.

    On idle after rows were added, `DataTable._update_dimensions` (private, no public hook) measures
    every cell of every new row with Rich: a long queue's 300-row chunk took 0.2-0.3 s of the event
    loop on this machine (10,000 rows: seconds, keys waiting behind each chunk), for widths the queue
    has already measured. The widget implements `known_widths(row_names)`: per column key, the widest
    cell of those rows, or None to let Textual measure. Then the columns grow as Textual would grow
    them, and the virtual size is set as its `_update_dimensions` sets it."""

    def known_widths(self, row_names: list[str]) -> dict[str, int] | None:
        return None

    @property
    def _y_offsets(self) -> Any:  # a `_OneLineOffsets`, in place of the list
        """Each line's (row key, line in the row): here row `y` is line `y`. Textual builds the list for
        every row after each change (`DataTable._y_offsets`, private, no public hook): 10,000 rows, a list
        of 10,000 made once per chunk added, per check landing and per frame after them (≈ 5-30 ms each)."""
        return _OneLineOffsets(self)

    def _update_dimensions(self, new_rows: Any) -> None:
        from textual.geometry import Size
        from textual.widgets.data_table import ColumnKey

        table: Any = self
        new_rows = list(new_rows)
        rows = [key for key in new_rows if key in table._row_locations]  # a row removed meanwhile is skipped, as Textual does
        widths = self.known_widths([key.value for key in rows])
        if widths is None or any(table.rows[key].label is not None or table.rows[key].auto_height for key in rows):
            super()._update_dimensions(new_rows)  # type: ignore[misc]
            return
        for column_key, width in widths.items():
            column = table.columns.get(ColumnKey(column_key))
            if column is not None:
                column.content_width = max(column.content_width, width)
        total_width = sum(column.get_render_width(table) for column in table.columns.values()) + table._row_label_column_width
        header_height = table.header_height if table.show_header else 0
        size = Size(total_width, table.row_count + header_height)  # one line per row
        if _box_keeps_its_size(table, size):
            from textual.widget import Widget

            # `virtual_size` is a layout reactive: assigned, each proposal arriving in a full queue (its box
            # as high as it gets) relaid the whole screen out. The box cannot change: the scrollbar follows.
            table.set_reactive(Widget.virtual_size, size)
            update_scrollbars(table, size)
        else:
            table.virtual_size = size


class _OneLineOffsets:
    """`DataTable._y_offsets` of a table of one-line rows, looked up rather than listed (KnownRowWidths)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __len__(self) -> int:
        return int(self._table.row_count)

    def __getitem__(self, y: int) -> tuple[Any, int]:
        if not 0 <= y < self._table.row_count:
            raise IndexError(y)  # as the list did (a LookupError: DataTable draws a blank line)
        return self._table._row_locations.get_key(y), 0

    def clear(self) -> None:
        """`DataTable.clear` empties the list it built; nothing is kept here."""


def _box_keeps_its_size(table: Any, size: Size) -> bool:
    """Whether a DataTable's box stays as it is when its virtual size becomes `size`: its width is not
    `auto`, and its height either is not `auto` or is already capped (max-height) before and after."""
    styles = table.styles
    old = table.virtual_size
    if not table.is_mounted or old.width != size.width and styles.width is not None and styles.width.is_auto:
        return False
    if styles.height is None or not styles.height.is_auto or old.height == size.height:
        return True
    # Taller than the lines in view before and after: the box is as high as max-height lets it be.
    return styles.max_height is not None and min(old.height, size.height) > table.scrollable_content_region.height


# -- type-ahead into modals --------------------------------------------------------------------------
#
# A burst of keys (tmux send-keys, a paste, a fast typist: `r`, the reason, enter) arrives faster than
# a modal mounts. Textual delivers the keys after `r` to the focused cockpit widget, which lets them
# bubble up to the App; by then the modal is on top and the App would drop them. The one mechanism:
#   1. the cockpit's panels container notes every key its widgets saw (`note_key_for_type_ahead`);
#   2. the App's on_key re-posts a noted key when the screen on top accepts type-ahead
#      (`TYPE_AHEAD = True` on the modal class) — it then reaches the modal, in order (`forward_type_ahead`);
#   3. the modal types printable keys it receives itself into its input, and reads the input only after
#      the keys already queued for it and for the input were handled (`after_type_ahead`).

_seen_by_panels: weakref.WeakSet[events.Key] = weakref.WeakSet()


def note_key_for_type_ahead(event: events.Key) -> None:
    """Step 1: a key a cockpit panel's widget saw (called from the panels container's on_key)."""
    _seen_by_panels.add(event)


def forward_type_ahead(app: App[Any], event: events.Key) -> bool:
    """Step 2 (from `App.on_key`): send a key typed ahead of a modal to that modal; True when it was."""
    # `screen_stack`, not `screen`: a key still queued while the app closes finds no screen (and `screen` raises)
    stack = app.screen_stack if event in _seen_by_panels else []
    if stack and getattr(stack[-1], "TYPE_AHEAD", False):
        event.stop()
        event.prevent_default()  # App.on_key runs before the App's own key handling: skip it
        app.post_message(events.Key(event.key, event.character))
        return True
    return False


def after_type_ahead(screen: DOMNode, input_widget: DOMNode, callback: Callable[[], None]) -> None:
    """Step 3: run `callback` once the keys queued for the modal, then for its input, were handled.

    A priority binding (enter, escape, ctrl+s) runs as it arrives, before the keys typed ahead of it:
    the screen's queue, then the input's, must be drained first — one `call_later` on each, in turn.
    A key the input takes by a binding (backspace, delete) acts only when it has bubbled from the
    input up to the App, which checks bindings: the callback follows it up, one `call_later` on each
    ancestor in turn (the path `Message._bubble_to` posts it along), and runs after it at the App."""
    path = [input_widget, *input_widget.ancestors]  # the input, its containers, the screen, the App

    def step(index: int) -> None:
        if index == len(path):
            callback()
        else:
            path[index].call_later(step, index + 1)

    screen.call_later(step, 0)
