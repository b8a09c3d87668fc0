"""DiffView: a virtual diff viewer (unified or split) with hunk navigation and hunk selection.

It receives texts (`set_diff`) or a `FileDiff` (`set_file_diff`), never reads files, and renders
through the Line API: only rows on screen are built, each built strip is cached (by row, width,
horizontal offset; cleared on theme, mode, data or selection changes) and syntax is highlighted
lazily by `core.highlight`; `diff_paint.RowPainter` paints the rows. Colours come from component
classes, so themes restyle it: the defaults (`diff_paint.DEFAULT_CSS`) use Textual's theme colours,
and `diff_view.tcss` (included by the cockpit) maps them to the omni themes' `$diff-*` variables.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Literal

from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from omni_tui.core.highlight import Highlighter, language_for, prepare, prepared, prepared_any
from omni_tui.core.textdiff import FileDiff, SplitRow, UnifiedRow, diff_texts
from omni_tui.ui.textual_compat import LazyComponentClasses
from omni_tui.ui.widgets.diff_paint import COMPONENT_CLASSES as PAINTED_CLASSES
from omni_tui.ui.widgets.diff_paint import DEFAULT_CSS as PAINTED_CSS
from omni_tui.ui.widgets.diff_paint import (
    TOKEN_CLASSES,
    Note,
    RowPainter,
    first_change,
    side_gutter,
    split_widths,
    text_cells,
    unified_gutter,
)

CSS_PATH = Path(__file__).with_name("diff_view.tcss")
"""The stylesheet mapping the component classes to the omni themes' `$diff-*` variables."""

Mode = Literal["unified", "split"]

SPLIT_MIN_TEXT = 45
"""Columns of text each side needs before an automatic (`auto_split`) view shows old | new side by side."""

WARM_LINES = 500
"""Lines whose lexer states are worked out ahead per step while the view is idle (≈ 1.5 ms of a 5,000-line file)."""
WARM_PAUSE_S = 0.005
"""Between two such steps: keys and repaints go first."""


class DiffView(LazyComponentClasses, ScrollView, can_focus=True):
    """Shows one file's diff; `n`/`p`-style hunk navigation and per-hunk selection are methods."""

    _TOKEN_CLASSES = TOKEN_CLASSES
    COMPONENT_CLASSES: ClassVar[set[str]] = PAINTED_CLASSES
    DEFAULT_CSS = PAINTED_CSS

    mode: reactive[Mode] = reactive("unified")
    """`"unified"` (one column, -/+ lines in order) or `"split"` (old | new side by side)."""

    class Resized(Message):
        """The view's size changed: the lines around it in its panel came, went or changed height."""

    class HunkSelectionChanged(Message):
        """The set of hunks chosen for a partial approval changed (toggled, or a new diff)."""

        def __init__(self, diff_view: DiffView, selected: frozenset[int], total: int) -> None:
            super().__init__()
            self.diff_view = diff_view
            self.selected = selected
            self.total = total

        @property
        def control(self) -> DiffView:
            return self.diff_view

    def __init__(
        self,
        *,
        empty_message: str = "No changes against the baseline",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
        auto_split: bool = False,
        choosable: bool = True,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.empty_message = empty_message
        self._choosable = choosable
        self.auto_split = auto_split
        """While True the mode follows the width: split only when each side shows `SPLIT_MIN_TEXT`
        columns of text. `toggle_mode` (the person's choice) ends it."""
        self._path: str | None = None
        self._sized_for = (-1, -1)  # (width, text room) the mode and the virtual size were last set for
        self._old_exists = True
        self._absent_before = "new file"
        self._new_exists = True
        self._fd: FileDiff = diff_texts("", "")
        self._texts: tuple[str, str] | None = None
        self._selected: set[int] = set()
        self._notes: list[Note] = []
        self._rows: list[UnifiedRow] | list[SplitRow] = []
        self._cursor = 0
        self._opened_at: int | None = None  # the row a new diff was opened at (`_open`)
        self._opened_x = 0  # ...and how far sideways
        self._highlighters: dict[str, Highlighter] = {}
        self._previous_highlighters: dict[str, Highlighter] = {}
        self._preparing_highlight = False
        self._warm_timer: Timer | None = None
        # The token colours' component classes are styled once highlighting starts (_get_component_classes).
        self._tokens_styled = prepared_any()
        self._painter = RowPainter(
            lambda name, partial: self.get_component_rich_style(name, partial=partial),
            lambda: self.rich_style,
            self._line_tokens,
            lambda: self.app.console,
        )
        self._cache: LRUCache[int, tuple[tuple[int, int], Strip]] = LRUCache(1024)
        # A hunk line's strip by what it shows (the row, its tokens, cursor, selection, size): a live
        # edit of a guarded file re-paints only the lines it changed, not every row on screen.
        self._painted: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._paint_width = 0  # the text room, measured once per full paint (at row 0)
        self._max_text = 0
        self._number_width = 2
        self._rebuild_rows()

    # ------------------------------------------------------------------ data in

    @property
    def choosable(self) -> bool:
        """Whether hunks are choices (a pending proposal): only then do headers carry ✓ / ✗ marks."""
        return self._choosable

    @choosable.setter
    def choosable(self, value: bool) -> None:
        if value != self._choosable:
            self._choosable = value
            self._cache.clear()
            self.refresh()

    def set_diff(
        self,
        path: str | None,
        old: str | None,
        new: str | None,
        *,
        context: int = 3,
        keep_selection: bool = False,
        new_document: bool = False,
        absent_before: str = "new file",
    ) -> None:
        """Show the diff of `old` → `new` (None = the file does not exist on that side).

        `absent_before`: what the header calls a file with no old side ("newly guarded": it existed, but
        nothing of it was approved).

        Setting the same file and texts again changes nothing (live updates stay cheap). A new
        diff selects all its hunks, unless `keep_selection` and it has the same hunk count.
        `new_document`: the same path, but another document's diff (another proposal's): shown
        from the top, as another path is, not at the row the last one was read to.
        """
        texts = (old or "", new or "")
        exists = (old is not None, new is not None)
        unchanged = not new_document and path == self._path and texts == self._texts and context == self._fd.context
        if unchanged and exists == (self._old_exists, self._new_exists) and absent_before == self._absent_before:
            return
        fd = diff_texts(texts[0], texts[1], context)
        self.set_file_diff(
            fd,
            path=path,
            old_exists=exists[0],
            new_exists=exists[1],
            keep_selection=keep_selection,
            new_document=new_document,
            absent_before=absent_before,
        )
        self._texts = texts

    def set_file_diff(
        self,
        fd: FileDiff,
        *,
        path: str | None = None,
        old_exists: bool = True,
        new_exists: bool = True,
        keep_selection: bool = False,
        new_document: bool = False,
        absent_before: str = "new file",
    ) -> None:
        """Show an already computed `FileDiff` (see `set_diff`)."""
        same_file = path == self._path and not new_document
        keep = keep_selection and len(fd.hunks) == len(self._fd.hunks)
        previous = frozenset(self._selected)
        self._path = path
        self._old_exists, self._new_exists = old_exists, new_exists
        self._absent_before = absent_before
        self._fd = fd
        self._texts = None
        # kept so a live edit re-lexes only from its first changed line
        self._previous_highlighters = self._highlighters
        self._highlighters = {}
        if not keep:
            self._selected = set(range(len(fd.hunks)))
        cursor = self._cursor if same_file else 0
        # A new version of the same file (a live edit): only the lines whose picture changed are
        # repainted; Textual re-renders (styles, filters, compositing) just those.
        before = self._on_screen() if same_file else None
        self._rebuild_rows(repaint=before is None)
        self._cursor = min(cursor, max(len(self._notes) + len(self._rows) - 1, 0))
        self._fit_mode()  # the line numbers' width may have changed the room each side has
        if before is not None:
            self._repaint_changed(before)
        if not same_file:
            self._open()
        if frozenset(self._selected) != previous or not same_file:
            self.post_message(self.HunkSelectionChanged(self, frozenset(self._selected), len(fd.hunks)))
        self._warm_later()

    # ------------------------------------------------------------------ state out

    @property
    def file_diff(self) -> FileDiff:
        return self._fd

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def selected_hunks(self) -> set[int]:
        """Indices of the hunks chosen for approval (all of them until some are toggled off)."""
        return set(self._selected)

    @property
    def hunk_count(self) -> int:
        return len(self._fd.hunks)

    @property
    def cursor_row(self) -> int:
        """The row the cursor is on (0 = the summary line at the top)."""
        return self._cursor

    @property
    def current_hunk(self) -> int | None:
        """The hunk under the cursor, if any."""
        return self._hunk_at(self._cursor)

    @property
    def row_count(self) -> int:
        return len(self._notes) + len(self._rows)

    def row_text(self, row: int) -> str:
        """The plain text of a row, as rendered at the current width (for tests and copy)."""
        return self._render_row(row, max(self.size.width, 40), 0).text

    # ------------------------------------------------------------------ actions (the app binds keys)

    def next_hunk(self) -> bool:
        """Move the cursor to the next hunk's header and scroll it into view; False at the last."""
        self._cursor_into_view()
        current = self._cursor
        for row in range(current + 1, self.row_count):
            if self._is_header(row):
                self._move_cursor(row, top=True)
                return True
        return False

    def previous_hunk(self) -> bool:
        """Move the cursor to the previous hunk's header (or this hunk's, from inside it)."""
        self._cursor_into_view()
        for row in range(self._cursor - 1, -1, -1):
            if self._is_header(row):
                self._move_cursor(row, top=True)
                return True
        return False

    def cursor_down(self, rows: int = 1) -> None:
        self._move_cursor(min(self._cursor + rows, max(self.row_count - 1, 0)))

    def cursor_up(self, rows: int = 1) -> None:
        self._move_cursor(max(self._cursor - rows, 0))

    def toggle_hunk(self) -> int | None:
        """Select/unselect the hunk under the cursor for a partial approval; returns its index.

        None (and nothing changes) when the hunks are not choices or there is no hunk."""
        if not self._choosable:
            return None
        self._cursor_into_view()
        hunk = self.current_hunk
        if hunk is None:
            # on the summary line: the first hunk below, with the cursor moved there to show it
            header = next((r for r in range(self._cursor, self.row_count) if self._is_header(r)), None)
            if header is None:
                return None
            self._move_cursor(header)
            hunk = self._hunk_at(header)
            assert hunk is not None
        if hunk in self._selected:
            self._selected.discard(hunk)
        else:
            self._selected.add(hunk)
        self._selection_changed()
        return hunk

    def select_hunks(self, selected: set[int] | None = None) -> None:
        """Choose exactly `selected` (None = all hunks)."""
        wanted = set(range(self.hunk_count)) if selected is None else {i for i in selected if 0 <= i < self.hunk_count}
        if wanted != self._selected:
            self._selected = wanted
            self._selection_changed()

    def toggle_mode(self) -> Mode:
        """Switch unified/split; this is the person's choice, so the width no longer chooses."""
        # The layout can hand this view its new width a moment before the Resize event arrives: toggle
        # from the mode that width gives, not from the one the old width gave.
        self._fit_mode()
        self.auto_split = False
        self.mode = "split" if self.mode == "unified" else "unified"
        return self.mode

    # up/down move the cursor (the viewport follows) rather than only scrolling the viewport.
    def action_scroll_down(self) -> None:
        self.cursor_down()

    def action_scroll_up(self) -> None:
        self.cursor_up()

    def action_page_down(self) -> None:
        self.cursor_down(max(self.scrollable_content_region.height - 1, 1))

    def action_page_up(self) -> None:
        self.cursor_up(max(self.scrollable_content_region.height - 1, 1))

    def action_scroll_home(self) -> None:
        self._move_cursor(0)

    def action_scroll_end(self) -> None:
        self._move_cursor(max(self.row_count - 1, 0))

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_offset.y) + event.y
        if 0 <= row < self.row_count:
            self._move_cursor(row)

    # ------------------------------------------------------------------ reactive and Textual hooks

    def validate_mode(self, mode: str) -> Mode:
        if mode not in ("unified", "split"):
            raise ValueError(f"DiffView.mode must be 'unified' or 'split', not {mode!r}")
        return mode  # type: ignore[return-value]

    def watch_mode(self, old: Mode, new: Mode) -> None:
        if old == new:
            return
        anchor = self._anchor(self._cursor)
        self._rebuild_rows()
        self._cursor = self._find_anchor(anchor)
        self._scroll_cursor_into_view(top=False)
        # Each side's width changed, so the sideways offset is worked out again for what is in view.
        self.scroll_to(x=self._sideways_at(int(self.scroll_offset.y)), animate=False, immediate=True, force=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painter.forget_styles()
        self._cache.clear()
        self._painted.clear()

    def on_mount(self) -> None:
        self._fit_mode()
        self._update_virtual_size()
        self._warm_later()  # a diff set before the view was mounted

    def on_resize(self, event: events.Resize) -> None:
        self._refit()
        if self._unscrolled_since_opened():
            self._open()  # for this height
        self.post_message(self.Resized())

    def _refit(self) -> None:
        self._cache.clear()
        self._fit_mode()
        self._update_virtual_size()

    def _fit_mode(self) -> None:
        """With `auto_split`: split when both sides get `SPLIT_MIN_TEXT` columns of text, else unified."""
        # the vertical scrollbar's room is always left out, so its coming and going cannot flip the mode
        width = self.size.width - self.styles.scrollbar_size_vertical
        if not self.auto_split or width <= 0:
            return
        left, right = split_widths(width)
        self.mode = "split" if min(left, right) - side_gutter(self._number_width) >= SPLIT_MIN_TEXT else "unified"

    def render_line(self, y: int) -> Strip:
        # Checked once per full paint (row 0 is always in it; a size change repaints everything).
        if y == 0 or self._paint_width <= 0:
            # `scrollable_content_region` walks the styles and scrollbars: once per paint, not per row.
            self._paint_width = self.scrollable_content_region.width
            sized_for = (self.size.width, self._paint_width)
        else:
            sized_for = self._sized_for
        if sized_for != self._sized_for:
            # Drawn at a size the mode and the scroll width were not set for: the Resize event is
            # late, or the scrollbars changed the room after it was handled (the order varies on a
            # loaded machine). Set them again right after this frame.
            self._sized_for = sized_for
            self.call_later(self._refit)
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self._paint_width
        if row >= self.row_count or width <= 0:
            return Strip.blank(max(width, 0), self._painter.base)
        key = (width, scroll_x)
        cached = self._cache.get(row)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = self._render_row(row, width, scroll_x)
        self._cache[row] = (key, strip)
        return strip

    # ------------------------------------------------------------------ rows

    def set_empty_message(self, message: str) -> None:
        """What an empty diff says (the owner knows what "no difference" means now)."""
        if message != self.empty_message:
            self.empty_message = message
            self._rebuild_rows()

    def _on_screen(self) -> tuple[tuple[object, ...], list[Strip | None]] | None:
        """What the lines on screen show, as last painted (None for a line not painted as it is now),
        with what they were painted at; None when nothing is painted yet."""
        if not self.is_mounted or self._paint_width <= 0:
            return None
        scroll_x, scroll_y = self.scroll_offset
        height = self.scrollable_content_region.height
        key = (self._paint_width, scroll_x)
        strips: list[Strip | None] = []
        for row in range(scroll_y, scroll_y + height):
            cached = self._cache.get(row)
            strips.append(cached[1] if cached is not None and cached[0] == key else None)
        return (self.scroll_offset, self.virtual_size, self._paint_width, self.row_count, self.mode), strips

    def _repaint_changed(self, before: tuple[tuple[object, ...], list[Strip | None]]) -> None:
        """Repaint the lines whose picture differs from `before` (everything, when the view moved or resized)."""
        at, strips = before
        if (
            at != (self.scroll_offset, self.virtual_size, self._paint_width, at[3], self.mode)
            or len(strips) != self.scrollable_content_region.height
        ):
            self.refresh()
            return
        scroll_y = self.scroll_offset.y
        rows_before = at[3]
        for y, old in enumerate(strips):
            row = scroll_y + y
            if row >= rows_before and row >= self.row_count:
                continue  # blank before and after
            if old is None or self.render_line(y) != old:
                self.refresh_line(row)

    def _rebuild_rows(self, *, repaint: bool = True) -> None:
        fd = self._fd
        self._rows = fd.rows_split() if self.mode == "split" else fd.rows_unified()
        self._notes = [Note("summary", self._summary_text())]
        if not fd.hunks:
            self._notes.append(Note("message", self._empty_text()))
        longest_no = max(len(fd.old_lines), len(fd.new_lines), 1)
        self._number_width = max(len(str(longest_no)), 2)
        self._max_text = max((text_cells(r) for r in self._rows), default=0)
        self._cache.clear()
        if self.is_mounted:
            self._update_virtual_size()
            if repaint:
                self.refresh()

    def _empty_text(self) -> str:
        if not self._old_exists and not self._new_exists:
            return "No such file on either side"
        if not self._new_exists or not self._old_exists:
            return "Empty file"
        return self.empty_message

    def _summary_text(self) -> str:
        fd = self._fd
        parts = [self._path or "(no file)"]
        if not self._old_exists and self._new_exists:
            parts.append(self._absent_before)
        elif self._old_exists and not self._new_exists:
            parts.append("deleted file")
        if fd.hunks:
            parts.append(f"+{fd.added} −{fd.removed}")
            total = len(fd.hunks)
            chosen = len(self._selected)
            hunks = f"{total} hunk{'s' if total != 1 else ''}"
            parts.append(hunks if chosen == total else f"{hunks}, {chosen} selected")
        return "  ·  ".join(parts)

    def _text_width(self, width: int) -> int:
        """The cells of text a line shows in a view `width` wide (the narrower side, split)."""
        if self.mode == "unified":
            return max(width - unified_gutter(self._number_width), 1)
        left, right = split_widths(width)
        return max(min(left, right) - side_gutter(self._number_width), 1)

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width if self.is_mounted else 0
        self._sized_for = (self.size.width, width)
        overflow = max(self._max_text - self._text_width(width), 0)
        self.virtual_size = Size(width + overflow if width else 0, self.row_count)

    def _open(self) -> None:
        """Scroll a newly shown diff to where it opens (`_opening_row`, `_sideways_at`)."""
        row = self._opening_row()
        # forced: a diff just set may overflow before a layout has shown its scrollbar (Textual allows
        # scrolling only along a shown one)
        x = self._sideways_at(row)
        self.scroll_to(x, row, animate=False, immediate=True, force=True)
        self._opened_at, self._opened_x = row, int(self.scroll_offset.x)

    def _sideways_at(self, row: int) -> int:
        """How far sideways the view goes when it opens at `row` (a new diff, a hunk moved to): 0, unless
        each changed line in view changes only past the right edge (the end of a long line at 80 columns:
        `env.URL = "…` with the host changed); then a quarter of the text's width before the first such
        change, so it is on screen at once."""
        height = self.scrollable_content_region.height if self.is_mounted else 0
        width = self._text_width(self.scrollable_content_region.width) if self.is_mounted else 0
        if height <= 0 or width <= 1:
            return 0
        top = max(row - len(self._notes), 0)
        starts = [at for r in self._rows[top : top + height] if (at := first_change(r)) is not None]
        if not starts or min(starts) < width - 1:  # (the last cell of a cut line is its `›`)
            return 0
        return min(starts) - width // 4

    def _unscrolled_since_opened(self) -> bool:
        """Still where `_open` put it: at its row (or at the end where a smaller view clamped that row), and
        not scrolled sideways by the person since."""
        if self._opened_at is None or int(self.scroll_offset.x) != self._opened_x:
            return False
        return int(self.scroll_offset.y) == min(self._opened_at, int(self.max_scroll_y))

    def _opening_row(self) -> int:
        """The row a newly shown diff opens at: its top, unless the view is too short to show its first
        changed line from there; then the line above that change (at 80x24 the proposal's diff has a
        few rows, and the headers and the context before the change filled them)."""
        height = self.scrollable_content_region.height if self.is_mounted else 0
        first = next((n for n, row in enumerate(self._rows) if _changed(row)), None)
        if first is None or height <= 0 or len(self._notes) + first < height:
            return 0
        return len(self._notes) + first - 1

    def _hunk_at(self, row: int) -> int | None:
        index = row - len(self._notes)
        if 0 <= index < len(self._rows):
            return self._rows[index].hunk
        return None

    def _is_header(self, row: int) -> bool:
        index = row - len(self._notes)
        return 0 <= index < len(self._rows) and self._rows[index].kind == "@"

    def _anchor(self, row: int) -> tuple[int | None, int | None, int | None]:
        """(hunk, old line, new line) of a row, to find it again in the other mode."""
        index = row - len(self._notes)
        if not 0 <= index < len(self._rows):
            return None, None, None
        r = self._rows[index]
        if isinstance(r, UnifiedRow):
            return r.hunk, r.old_no, r.new_no
        return r.hunk, r.left.no if r.left else None, r.right.no if r.right else None

    def _find_anchor(self, anchor: tuple[int | None, int | None, int | None]) -> int:
        hunk, old_no, new_no = anchor
        if hunk is None:
            return min(self._cursor, max(self.row_count - 1, 0))
        fallback = None
        rows: list[UnifiedRow | SplitRow] = list(self._rows)  # one type for mypy (NamedTuple unions join to tuple)
        for index, r in enumerate(rows):
            if r.hunk != hunk:
                continue
            if fallback is None:
                fallback = index
            o, n = self._anchor(index + len(self._notes))[1:]
            if (old_no is not None and o == old_no) or (new_no is not None and n == new_no):
                return index + len(self._notes)
        return (fallback or 0) + len(self._notes)

    # ------------------------------------------------------------------ cursor

    def _move_cursor(self, row: int, *, top: bool = False) -> None:
        previous = self._cursor
        self._cursor = row
        self._cache.discard(previous)
        self._cache.discard(row)
        self.refresh_line(previous)
        self.refresh_line(row)
        self._scroll_cursor_into_view(top=top)

    def _scroll_cursor_into_view(self, *, top: bool) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        y = int(self.scroll_offset.y)
        if top:
            # a hunk header goes near the top, so the hunk below it is in view (sideways as a diff opens)
            y = max(self._cursor - 1, 0)
            self.scroll_to(x=self._sideways_at(y), y=y, animate=False, immediate=True)
        elif self._cursor < y:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= y + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False, immediate=True)

    def _cursor_into_view(self) -> None:
        """After the viewport was scrolled away (mouse wheel), act from what is on screen."""
        height = self.scrollable_content_region.height
        y = int(self.scroll_offset.y)
        if height > 0 and not (y <= self._cursor < y + height) and self.row_count:
            self._cursor = min(y, self.row_count - 1)
            self._cache.clear()
            self.refresh()

    def _selection_changed(self) -> None:
        self._notes[0] = Note("summary", self._summary_text())
        self._cache.clear()
        self.refresh()
        self.post_message(self.HunkSelectionChanged(self, frozenset(self._selected), self.hunk_count))

    # ------------------------------------------------------------------ rendering

    def _highlight_ready(self) -> bool:
        """Whether rows are highlighted now. The first view of a language draws plain rows and builds
        the lexer (importing pygments) right after that refresh, then redraws in colour: the
        cockpit's first frame does not wait for it (docs/performance.md)."""
        language = language_for(self._path or "")
        if language is None or (prepared(language) and self._tokens_styled):
            return True
        if not self._preparing_highlight:
            self._preparing_highlight = True
            self.call_after_refresh(self._prepare_highlight, language)
        return False

    def _prepare_highlight(self, language: str) -> None:
        self._preparing_highlight = False
        prepare(language)
        if not self._tokens_styled:
            self._tokens_styled = True
            self.app.update_styles(self)  # now with the token classes
        self._cache.clear()
        self._painted.clear()
        self.refresh()
        self._warm_later()

    def _warm_later(self) -> None:
        """Work out the rest of both files' lexer states in small steps while the view is idle, so a
        jump far down (`end` in a 5,000-line diff) paints without a pass over every line before it."""
        if self._warm_timer is None and self.is_mounted:
            self._warm_timer = self.set_timer(WARM_PAUSE_S, self._warm_step)

    def _warm_step(self) -> None:
        self._warm_timer = None
        language = language_for(self._path or "")
        if language is None or not (prepared(language) and self._tokens_styled):
            return  # plain rows for now: `_prepare_highlight` starts this once they are coloured
        for side in ("new", "old"):
            if not self._highlighter(side).advance(WARM_LINES):
                self._warm_later()
                return

    def left_out_component_classes(self) -> frozenset[str]:
        # Textual (8.2.8, pinned) styles every component class on every restyle of the widget: 29
        # of them cost ≈ 4 ms per DiffView per restyle, and the first frame restyles each view two
        # or three times. Until this process highlights anything, the 15 token classes are left
        # out (the rows are plain); `_prepare_highlight` adds them (docs/performance.md).
        return frozenset() if self._tokens_styled else self._TOKEN_CLASSES

    def _highlighter(self, side: Literal["old", "new"]) -> Highlighter:
        h = self._highlighters.get(side)
        if h is None:
            text = "".join(self._fd.old_lines if side == "old" else self._fd.new_lines)
            language = language_for(self._path or "")
            previous = self._previous_highlighters.get(side)
            if previous is not None and previous.language == language and previous.text == text:
                h = previous
            else:
                h = Highlighter(text, language, previous=previous)
            self._highlighters[side] = h
            if side == "old":
                # the old file borrows the new file's lexer states on their unchanged lines
                h.align(self._highlighter("new"), self._fd.old_to_new())
        return h

    def _line_tokens(self, side: Literal["old", "new"], number: int) -> Iterable[tuple[int, int, str]] | None:
        """The syntax tokens of a line (1-based), or None while highlighting is not ready."""
        if not self._highlight_ready():
            return None
        return self._highlighter(side).line(number - 1)

    def _render_row(self, row: int, width: int, scroll_x: int) -> Strip:
        if row < len(self._notes):
            return self._painter.note(self._notes[row], width, row == self._cursor)
        r = self._rows[row - len(self._notes)]
        cursor = row == self._cursor
        selected = r.hunk in self._selected
        if r.kind == "@":
            return self._painter.header(
                r.hunk,
                r.text,
                width,
                cursor,
                selected,
                choosable=self._choosable,
                hunk_count=self.hunk_count,
                section=self._fd.section(r.hunk),
            )
        if not isinstance(r, UnifiedRow):
            return self._painter.line(r, width, scroll_x, cursor, selected, self._number_width)
        number = r.old_no if r.kind == "-" else r.new_no
        tokens = self._line_tokens("old" if r.kind == "-" else "new", number) if number is not None else None
        key = (r, width, scroll_x, cursor, selected, self._number_width, None if tokens is None else tuple(tokens))
        strip = self._painted.get(key)
        if strip is None:
            strip = self._painted[key] = self._painter.line(r, width, scroll_x, cursor, selected, self._number_width)
        return strip


def _changed(row: UnifiedRow | SplitRow) -> bool:
    """A removed or added line (either side of a split row)."""
    if row.kind == "line":
        cells = (row.left, row.right)  # type: ignore[union-attr]
        return any(cell is None or cell.kind != " " for cell in cells)
    return row.kind in ("-", "+")
