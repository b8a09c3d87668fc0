"""DiffView: a virtual diff viewer (unified or split) with hunk navigation and hunk selection.

It receives texts (`set_diff`) or a `FileDiff` (`set_file_diff`), never reads files, and renders
through the Line API: only rows on screen are built, each built strip is cached (by row, width,
horizontal offset; cleared on theme, mode, data or selection changes) and syntax is highlighted
lazily by `core.highlight`. Colours come from component classes, so themes restyle it: the
defaults below use Textual's theme colours, and `diff_view.tcss` (included by the cockpit) maps
them to the omni themes' `$diff-*` variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from omni_tui.core.highlight import TOKEN_TYPES, Highlighter, language_for, prepare, prepared, prepared_any
from omni_tui.core.textdiff import Cell, FileDiff, SplitRow, UnifiedRow, diff_texts
from omni_tui.ui.textual_compat import LazyComponentClasses

CSS_PATH = Path(__file__).with_name("diff_view.tcss")
"""The stylesheet mapping the component classes to the omni themes' `$diff-*` variables."""

Mode = Literal["unified", "split"]

# Control characters would move the terminal cursor; show them as their Unicode "control
# pictures" instead (one cell each, so span offsets stay valid).
_CONTROL = {c: 0x2400 + c for c in range(32) if c != 9} | {127: 0x2421}
_TAB_SIZE = 4
_NO_EOL = "  \\ No newline at end of file"
SPLIT_MIN_TEXT = 45
"""Columns of text each side needs before an automatic (`auto_split`) view shows old | new side by side."""


def _styled_segments(text: str, base: Style, overlays: list[tuple[int, int, Style]]) -> list[Segment]:
    """`text` cut into segments where the styles change; later overlays win over earlier ones."""
    if not overlays:
        return [Segment(text, base)] if text else []
    cuts = sorted({0, len(text), *(p for start, end, _ in overlays for p in (start, end) if 0 < p < len(text))})
    segments: list[Segment] = []
    for a, b in zip(cuts, cuts[1:]):
        style = base
        for start, end, overlay in overlays:
            if start <= a and b <= end:
                style = style + overlay
        segments.append(Segment(text[a:b], style))
    return segments


@dataclass(frozen=True, slots=True)
class _Note:
    """A row that is not part of a hunk: the file summary or a message."""

    kind: Literal["summary", "message"]
    text: str


class DiffView(LazyComponentClasses, ScrollView, can_focus=True):
    """Shows one file's diff; `n`/`p`-style hunk navigation and per-hunk selection are methods."""

    _TOKEN_CLASSES = frozenset(f"diff-view--tok-{kind}" for kind in TOKEN_TYPES)
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--added",
        "diff-view--removed",
        "diff-view--added-emph",
        "diff-view--removed-emph",
        "diff-view--context",
        "diff-view--gutter",
        "diff-view--hunk-header",
        "diff-view--cursor",
        "diff-view--filler",
        "diff-view--unselected",
        "diff-view--summary",
        "diff-view--message",
        "diff-view--mark-selected",
        "diff-view--mark-unselected",
        *_TOKEN_CLASSES,
    }

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        color: $foreground;
    }
    DiffView > .diff-view--added { background: $success 18%; }
    DiffView > .diff-view--removed { background: $error 18%; }
    DiffView > .diff-view--added-emph { background: $success 45%; text-style: bold; }
    DiffView > .diff-view--removed-emph { background: $error 45%; text-style: bold; }
    DiffView > .diff-view--context { }
    DiffView > .diff-view--gutter { color: $foreground-muted; }
    DiffView > .diff-view--hunk-header { color: $accent; background: $boost; text-style: bold; }
    DiffView > .diff-view--cursor { background: $primary 55%; color: $text; text-style: bold; }
    DiffView > .diff-view--filler { color: $foreground 12%; background: $background 40%; }
    DiffView > .diff-view--unselected { color: $foreground-disabled; }
    DiffView > .diff-view--summary { color: $text; background: $panel; text-style: bold; }
    DiffView > .diff-view--message { color: $text-muted; text-style: italic; }
    DiffView > .diff-view--mark-selected { color: $success; text-style: bold; }
    DiffView > .diff-view--mark-unselected { color: $error; text-style: bold; }
    DiffView > .diff-view--tok-keyword { color: $accent; text-style: bold; }
    DiffView > .diff-view--tok-builtin { color: $secondary; }
    DiffView > .diff-view--tok-constant { color: $warning; }
    DiffView > .diff-view--tok-string { color: $success; }
    DiffView > .diff-view--tok-interpolation { color: $warning; }
    DiffView > .diff-view--tok-escape { color: $warning; }
    DiffView > .diff-view--tok-attribute { color: $primary; }
    DiffView > .diff-view--tok-path { color: $secondary; text-style: underline; }
    DiffView > .diff-view--tok-number { color: $warning; }
    DiffView > .diff-view--tok-comment { color: $foreground-muted; text-style: italic; }
    DiffView > .diff-view--tok-operator { color: $foreground-muted; }
    DiffView > .diff-view--tok-punctuation { color: $foreground-muted; }
    DiffView > .diff-view--tok-function { color: $primary; }
    DiffView > .diff-view--tok-variable { color: $primary; }
    DiffView > .diff-view--tok-error { color: $error; text-style: underline; }
    """

    mode: reactive[Mode] = reactive("unified")
    """`"unified"` (one column, -/+ lines in order) or `"split"` (old | new side by side)."""

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
        self._new_exists = True
        self._fd: FileDiff = diff_texts("", "")
        self._texts: tuple[str, str] | None = None
        self._selected: set[int] = set()
        self._notes: list[_Note] = []
        self._rows: list[UnifiedRow] | list[SplitRow] = []
        self._cursor = 0
        self._highlighters: dict[str, Highlighter] = {}
        self._previous_highlighters: dict[str, Highlighter] = {}
        self._preparing_highlight = False
        # The token colours' component classes are styled once highlighting starts (_get_component_classes).
        self._tokens_styled = prepared_any()
        self._style_memo: dict[tuple[str, bool], Style] = {}
        self._cache: LRUCache[int, tuple[tuple[int, int], Strip]] = LRUCache(1024)
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
    ) -> None:
        """Show the diff of `old` → `new` (None = the file does not exist on that side).

        Setting the same file and texts again changes nothing (live updates stay cheap). A new
        diff selects all its hunks, unless `keep_selection` and it has the same hunk count.
        """
        texts = (old or "", new or "")
        exists = (old is not None, new is not None)
        unchanged = path == self._path and texts == self._texts and context == self._fd.context
        if unchanged and exists == (self._old_exists, self._new_exists):
            return
        fd = diff_texts(texts[0], texts[1], context)
        self.set_file_diff(fd, path=path, old_exists=exists[0], new_exists=exists[1], keep_selection=keep_selection)
        self._texts = texts

    def set_file_diff(
        self,
        fd: FileDiff,
        *,
        path: str | None = None,
        old_exists: bool = True,
        new_exists: bool = True,
        keep_selection: bool = False,
    ) -> None:
        """Show an already computed `FileDiff` (see `set_diff`)."""
        same_file = path == self._path
        keep = keep_selection and len(fd.hunks) == len(self._fd.hunks)
        previous = frozenset(self._selected)
        self._path = path
        self._old_exists, self._new_exists = old_exists, new_exists
        self._fd = fd
        self._texts = None
        # kept so a live edit re-lexes only from its first changed line
        self._previous_highlighters = self._highlighters
        self._highlighters = {}
        if not keep:
            self._selected = set(range(len(fd.hunks)))
        cursor = self._cursor if same_file else 0
        self._rebuild_rows()
        self._cursor = min(cursor, max(len(self._notes) + len(self._rows) - 1, 0))
        self._fit_mode()  # the line numbers' width may have changed the room each side has
        if not same_file:
            self.scroll_to(0, 0, animate=False, immediate=True)
        if frozenset(self._selected) != previous or not same_file:
            self.post_message(self.HunkSelectionChanged(self, frozenset(self._selected), len(fd.hunks)))

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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_memo.clear()
        self._cache.clear()

    def on_mount(self) -> None:
        self._fit_mode()
        self._update_virtual_size()

    def on_resize(self, event: events.Resize) -> None:
        self._refit()

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
        left, right = self._split_widths(width)
        self.mode = "split" if min(left, right) - self._side_gutter() >= SPLIT_MIN_TEXT else "unified"

    def render_line(self, y: int) -> Strip:
        # Checked once per full paint (row 0 is always in it; a size change repaints everything).
        sized_for = (self.size.width, self.scrollable_content_region.width) if y == 0 else self._sized_for
        if sized_for != self._sized_for:
            # Drawn at a size the mode and the scroll width were not set for: the Resize event is
            # late, or the scrollbars changed the room after it was handled (the order varies on a
            # loaded machine). Set them again right after this frame.
            self._sized_for = sized_for
            self.call_later(self._refit)
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        if row >= self.row_count or width <= 0:
            return Strip.blank(max(width, 0), self._base)
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

    def _rebuild_rows(self) -> None:
        fd = self._fd
        self._rows = fd.rows_split() if self.mode == "split" else fd.rows_unified()
        self._notes = [_Note("summary", self._summary_text())]
        if not fd.hunks:
            self._notes.append(_Note("message", self._empty_text()))
        longest_no = max(len(fd.old_lines), len(fd.new_lines), 1)
        self._number_width = max(len(str(longest_no)), 2)
        self._max_text = max((self._row_text_cells(r) for r in self._rows), default=0)
        self._cache.clear()
        if self.is_mounted:
            self._update_virtual_size()
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
            parts.append("new file")
        elif self._old_exists and not self._new_exists:
            parts.append("deleted file")
        if fd.hunks:
            parts.append(f"+{fd.added} −{fd.removed}")
            total = len(fd.hunks)
            chosen = len(self._selected)
            hunks = f"{total} hunk{'s' if total != 1 else ''}"
            parts.append(hunks if chosen == total else f"{hunks}, {chosen} selected")
        return "  ·  ".join(parts)

    def _row_text_cells(self, row: UnifiedRow | SplitRow) -> int:
        def cells(text: str, eol: bool) -> int:
            return cell_len(text.translate(_CONTROL).expandtabs(_TAB_SIZE)) + (0 if eol else len(_NO_EOL))

        if isinstance(row, UnifiedRow):
            return cells(row.text, row.eol)
        return max((cells(c.text, c.eol) for c in (row.left, row.right) if c is not None), default=0)

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width if self.is_mounted else 0
        self._sized_for = (self.size.width, width)
        overflow = 0
        if self.mode == "unified":
            text_width = max(width - self._unified_gutter(), 1)
            overflow = max(self._max_text - text_width, 0)
        else:
            left, right = self._split_widths(width)
            text_width = max(min(left, right) - self._side_gutter(), 1)
            overflow = max(self._max_text - text_width, 0)
        self.virtual_size = Size(width + overflow if width else 0, self.row_count)

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
        for index, r in enumerate(self._rows):
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
            # a hunk header goes near the top, so the hunk below it is in view
            self.scroll_to(y=max(self._cursor - 1, 0), animate=False, immediate=True)
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
        self._notes[0] = _Note("summary", self._summary_text())
        self._cache.clear()
        self.refresh()
        self.post_message(self.HunkSelectionChanged(self, frozenset(self._selected), self.hunk_count))

    # ------------------------------------------------------------------ rendering

    def _style(self, name: str, partial: bool = False) -> Style:
        key = (name, partial)
        style = self._style_memo.get(key)
        if style is None:
            style = self.get_component_rich_style(f"diff-view--{name}", partial=partial)
            self._style_memo[key] = style
        return style

    @property
    def _base(self) -> Style:
        """The widget's own style (computing `rich_style` walks the ancestors, so it is kept)."""
        style = self._style_memo.get(("", False))
        if style is None:
            style = self._style_memo[("", False)] = self.rich_style
        return style

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
        self.refresh()

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

    def _unified_gutter(self) -> int:
        # cursor + mark, old no, space, new no, space, marker, space
        return 2 + self._number_width * 2 + 4

    def _side_gutter(self) -> int:
        # line no, space, marker, space
        return self._number_width + 3

    @staticmethod
    def _split_widths(width: int) -> tuple[int, int]:
        usable = max(width - 3, 2)  # cursor + mark at the left, a divider in the middle
        left = usable // 2
        return left, usable - left

    def _render_row(self, row: int, width: int, scroll_x: int) -> Strip:
        base = self._base
        if row < len(self._notes):
            return self._render_note(self._notes[row], width, row == self._cursor)
        r = self._rows[row - len(self._notes)]
        cursor = row == self._cursor
        selected = r.hunk in self._selected
        if r.kind == "@":
            return self._render_header(r.hunk, r.text, width, cursor, selected)
        lead = self._lead(cursor, None, selected)
        if isinstance(r, UnifiedRow):
            gutter_width = self._unified_gutter() - 2
            text_width = max(width - 2 - gutter_width, 0)
            line_style, gutter_style = self._line_styles(r.kind, selected, cursor)
            w = self._number_width
            old_no = str(r.old_no) if r.old_no is not None else ""
            new_no = str(r.new_no) if r.new_no is not None else ""
            marker = r.kind if r.kind != " " else " "
            gutter = f"{old_no:>{w}} {new_no:>{w}} {marker} "
            segments = [*lead, Segment(gutter[:gutter_width], gutter_style)]
            side = "old" if r.kind == "-" else "new"
            number = r.old_no if r.kind == "-" else r.new_no
            segments.extend(self._text_segments(r.text, r.eol, r.kind, side, number, r.spans, line_style, selected, text_width, scroll_x))
            return Strip(segments).crop_extend(0, width, base)
        left_width, right_width = self._split_widths(width)
        segments = [*lead]
        # an unchanged line is highlighted from the new file, so the old file is lexed only for
        # removed lines
        left_at = ("new", r.right.no) if r.left and r.left.kind == " " and r.right else ("old", r.left and r.left.no)
        segments.extend(self._cell_segments(r.left, left_at, left_width, scroll_x, selected, cursor))
        segments.append(Segment("│", self._style("gutter")))
        right_at = ("new", r.right and r.right.no)
        segments.extend(self._cell_segments(r.right, right_at, right_width, scroll_x, selected, cursor))
        return Strip(segments).crop_extend(0, width, base)

    def _lead(self, cursor: bool, mark: str | None, selected: bool) -> list[Segment]:
        """The two leftmost cells: the cursor pointer and the hunk's selection mark."""
        pointer = Segment("▶", self._style("cursor")) if cursor else Segment(" ", self._base)
        if mark is None:
            return [pointer, Segment(" ", self._base)]
        return [pointer, Segment(mark, self._style("mark-selected" if selected else "mark-unselected"))]

    def _line_styles(self, kind: str, selected: bool, cursor: bool) -> tuple[Style, Style]:
        base = self._base
        if not selected and kind != " ":
            line = base + self._style("unselected", partial=True)
        elif kind == "+":
            line = self._style("added")
        elif kind == "-":
            line = self._style("removed")
        else:
            line = base + self._style("context", partial=True)
        gutter = line + self._style("gutter", partial=True)
        if cursor:
            gutter = gutter + self._style("cursor", partial=True)
        return line, gutter

    def _cell_segments(
        self,
        cell: Cell | None,
        highlight_at: tuple[Literal["old", "new"], int | None],
        width: int,
        scroll_x: int,
        selected: bool,
        cursor: bool,
    ) -> list[Segment]:
        if width <= 0:
            return []
        if cell is None:
            return [Segment("╱" * width, self._style("filler"))]
        line_style, gutter_style = self._line_styles(cell.kind, selected, cursor)
        w = self._number_width
        gutter = f"{cell.no:>{w}} {cell.kind} "[:width]
        text_width = max(width - len(gutter), 0)
        return [
            Segment(gutter, gutter_style),
            *self._text_segments(cell.text, cell.eol, cell.kind, *highlight_at, cell.spans, line_style, selected, text_width, scroll_x),
        ]

    def _text_segments(
        self,
        text: str,
        eol: bool,
        kind: str,
        side: Literal["old", "new"],
        number: int | None,
        spans: object,
        line_style: Style,
        selected: bool,
        width: int,
        scroll_x: int,
    ) -> list[Segment]:
        if width <= 0:
            return []
        display = text.translate(_CONTROL)
        dimmed = not selected and kind != " "
        overlays: list[tuple[int, int, Style]] = []
        if not dimmed and number is not None and self._highlight_ready():
            for start, end, token in self._highlighter(side).line(number - 1):
                overlays.append((start, end, self._style(f"tok-{token}", partial=True)))
        if not dimmed and kind != " ":
            emph = self._style("added-emph" if kind == "+" else "removed-emph", partial=True)
            overlays.extend((start, end, emph) for start, end in spans())  # type: ignore[operator]
        gutter = line_style + self._style("gutter", partial=True)
        if "\t" in display:
            content = Text(display, style=line_style, no_wrap=True, end="")
            for start, end, style in overlays:
                content.stylize(style, start, end)
            content.expand_tabs(_TAB_SIZE)
            segments = list(content.render(self.app.console))
        else:
            segments = _styled_segments(display, line_style, overlays)
        if not eol:
            segments.append(Segment(_NO_EOL, gutter))
        strip = Strip(segments)
        if strip.cell_length - scroll_x > width and width > 1:
            # the line goes on past the edge: say so in its last cell
            return [*strip.crop_extend(scroll_x, scroll_x + width - 1, line_style), Segment("›", gutter)]
        return list(strip.crop_extend(scroll_x, scroll_x + width, line_style))

    def _render_header(self, hunk: int, header: str, width: int, cursor: bool, selected: bool) -> Strip:
        style = self._style("hunk-header")
        if cursor:
            style = style + self._style("cursor", partial=True)
        state = "" if selected or not self._choosable else "  ✗ not selected"
        section = self._fd.section(hunk)
        where = f"  {section}" if section else ""
        label = f" {header}  hunk {hunk + 1} of {self.hunk_count}{state}{where}"
        mark = ("✓" if selected else "✗") if self._choosable else None
        segments = [*self._lead(cursor, mark, selected), Segment(label, style)]
        return Strip(segments).crop_extend(0, width, style)

    def _render_note(self, note: _Note, width: int, cursor: bool) -> Strip:
        style = self._style(note.kind)
        pointer = Segment("▶", self._style("cursor")) if cursor else Segment(" ", style)
        text = " " + note.text
        if cell_len(text) > width - 1 > 1:  # a note that does not fit ends in … (not cut mid-word unseen)
            text = set_cell_size(text, width - 2) + "…"
        return Strip([pointer, Segment(text, style)]).crop_extend(0, width, style)
