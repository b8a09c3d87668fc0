"""Painting a diff's rows as Strips: gutters and line numbers, -/+ marks, syntax and intra-line emphasis.

`RowPainter` turns one row of a `DiffView` (a note, a hunk header, a unified or a side-by-side line)
into a `Strip` of the given width, styled by the view's component classes (looked up once each,
until the styles change). It reads no widget state: what a row needs — the cursor, the selection,
the line numbers' width, the tokens of a line — is passed in. Control characters are shown as their
Unicode "control pictures", C1 controls and invisible format characters (bidi overrides, zero-width
spaces) as U+FFFD (`VISIBLE`); a line that goes on past the edge ends in `›`, in the emphasis colour
when a change lies past it (and a change left of a window scrolled sideways shows as `‹`). `first_change`
says where a row's change starts, for a view to open scrolled to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from omni_tui.core.highlight import TOKEN_TYPES
from omni_tui.core.terminal import FORMAT_CHARS
from omni_tui.core.textdiff import Cell, SplitRow, UnifiedRow, intraline

Side = Literal["old", "new"]
Tokens = Callable[[Side, int], Iterable[tuple[int, int, str]] | None]
"""The (start, end, token type) spans of a line (side, 1-based number); None while not highlighted."""

# Control characters would move the terminal cursor; show them as their Unicode "control
# pictures" instead (one cell each, so span offsets stay valid).
_CONTROL = {c: 0x2400 + c for c in range(32) if c != 9} | {127: 0x2421}
SHOWN_AS = 0xFFFD
"""What a C1 control or an invisible format character (`FORMAT_CHARS`) is drawn as: one visible cell."""


def _span_cells(display: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The character spans of a shown line as cell spans, its tabs expanded as they are drawn: in one
    walk of the line (a long line may have a hundred spans), and none for plain ASCII (a cell each)."""
    spans = list(spans)
    if not spans or ("\t" not in display and display.isascii()):
        return spans
    wanted = sorted({at for span in spans for at in span})
    cells: dict[int, int] = {}
    column = index = 0
    for at in wanted:
        if "\t" in display:
            for char in display[index:at]:
                column = column + _TAB_SIZE - column % _TAB_SIZE if char == "\t" else column + cell_len(char)
        else:
            column += cell_len(display[index:at])
        index = at
        cells[at] = column
    return [(cells[start], cells[end]) for start, end in spans]


def first_change(r: UnifiedRow | SplitRow) -> int | None:
    """The cell of a row's text where its change starts, tabs expanded as drawn (the lower of a split
    row's two sides): 0 for a line changed as a whole, None for a header or an unchanged line."""
    if r.kind == "@":
        return None
    lines = [r] if isinstance(r, UnifiedRow) else [cell for cell in (r.left, r.right) if cell is not None]
    starts = []
    for line in lines:
        if line.kind == " ":
            continue
        if line.partner is None:
            return 0  # a line added or removed as a whole
        old, new = (line.text, line.partner) if line.kind == "-" else (line.partner, line.text)
        spans_old, spans_new = intraline(old, new)
        if not spans_old and not spans_new:
            return 0  # too different to point at: the whole line is the change
        spans = spans_old if line.kind == "-" else spans_new
        if spans:  # (none on this side: what changed is on its partner's, e.g. words appended)
            starts.append(_span_cells(line.text.translate(VISIBLE), spans)[0][0])
    return min(starts, default=None)


def _format_chars() -> list[int]:
    """The code points `FORMAT_CHARS` names (single characters and `a-b` ranges)."""
    spec, i = FORMAT_CHARS, 0
    points: list[int] = []
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            points.extend(range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            points.append(ord(spec[i]))
            i += 1
    return points


# Everything a line of a file may hold that a terminal would obey rather than show, one cell each:
# C0 and DEL as control pictures; C1 (U+009B is an 8-bit CSI) and the bidi overrides, isolates and
# zero-width characters (a line that reads backwards from what it does) as U+FFFD. `str.translate`
# keeps every other character, so offsets into the line (syntax tokens, intra-line spans) stay valid.
VISIBLE = _CONTROL | dict.fromkeys(range(0x80, 0xA0), SHOWN_AS) | dict.fromkeys(_format_chars(), SHOWN_AS)
_TAB_SIZE = 4
SUSPECT_SCAN = 10_000
"""Characters of a line searched for letters that pass for others while it is drawn (a hostile line of a
megabyte is drawn at once; the card, read by a worker, searches every line whole)."""
_NO_EOL = "  \\ No newline at end of file"


TOKEN_CLASSES = frozenset(f"diff-view--tok-{kind}" for kind in TOKEN_TYPES)
"""The `diff-view--tok-*` classes: styled only once this process highlights (`DiffView.left_out_component_classes`)."""
COMPONENT_CLASSES = {
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
    "diff-view--suspect",
    *TOKEN_CLASSES,
}
"""Every class `RowPainter` paints with; themes restyle them (`diff_view.tcss` maps them to `$diff-*`)."""

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
    DiffView > .diff-view--suspect { color: $error; text-style: bold reverse; }
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
"""`DiffView`'s default colours, from Textual's theme variables."""


class Note(NamedTuple):  # not a dataclass: cheaper to create before the cockpit's first frame
    """A row that is not part of a hunk: the file summary or a message."""

    kind: Literal["summary", "message"]
    text: str


def split_widths(width: int) -> tuple[int, int]:
    """The left and right columns of a side-by-side row `width` cells wide."""
    usable = max(width - 3, 2)  # cursor + mark at the left, a divider in the middle
    left = usable // 2
    return left, usable - left


def unified_gutter(number_width: int) -> int:
    # cursor + mark, old no, space, new no, space, marker, space
    return 2 + number_width * 2 + 4


def side_gutter(number_width: int) -> int:
    # line no, space, marker, space
    return number_width + 3


def text_cells(row: UnifiedRow | SplitRow) -> int:
    """The cells a row's text takes as painted (tabs expanded, the no-newline note added)."""

    def cells(text: str, eol: bool) -> int:
        return cell_len(text.translate(VISIBLE).expandtabs(_TAB_SIZE)) + (0 if eol else len(_NO_EOL))

    if isinstance(row, UnifiedRow):
        return cells(row.text, row.eol)
    return max((cells(c.text, c.eol) for c in (row.left, row.right) if c is not None), default=0)


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


class RowPainter:
    """Paints rows with the styles of a widget's `diff-view--*` component classes."""

    def __init__(
        self,
        component_style: Callable[[str, bool], Style],
        widget_style: Callable[[], Style],
        tokens: Tokens,
        console: Callable[[], Console],
    ) -> None:
        self._component_style = component_style  # (class name without `diff-view--`, partial) → Style
        self._widget_style = widget_style
        self._tokens = tokens
        self._console = console
        self._memo: dict[tuple[str, bool], Style] = {}

    def forget_styles(self) -> None:
        """The widget's styles changed (theme, CSS): look them up again."""
        self._memo.clear()

    def style(self, name: str, partial: bool = False) -> Style:
        key = (name, partial)
        style = self._memo.get(key)
        if style is None:
            style = self._component_style(f"diff-view--{name}", partial)
            self._memo[key] = style
        return style

    @property
    def base(self) -> Style:
        """The widget's own style (computing `rich_style` walks the ancestors, so it is kept)."""
        style = self._memo.get(("", False))
        if style is None:
            style = self._memo[("", False)] = self._widget_style()
        return style

    def line(self, r: UnifiedRow | SplitRow, width: int, scroll_x: int, cursor: bool, selected: bool, number_width: int) -> Strip:
        """A row of a hunk's lines: unified (numbers, marker, text) or side by side (old │ new)."""
        base = self.base
        lead = self._lead(cursor, None, selected)
        if isinstance(r, UnifiedRow):
            gutter_width = unified_gutter(number_width) - 2
            text_width = max(width - 2 - gutter_width, 0)
            line_style, gutter_style = self._line_styles(r.kind, selected, cursor)
            w = number_width
            old_no = str(r.old_no) if r.old_no is not None else ""
            new_no = str(r.new_no) if r.new_no is not None else ""
            marker = r.kind if r.kind != " " else " "
            gutter = f"{old_no:>{w}} {new_no:>{w}} {marker} "
            segments = [*lead, Segment(gutter[:gutter_width], gutter_style)]
            side: Side = "old" if r.kind == "-" else "new"
            number = r.old_no if r.kind == "-" else r.new_no
            segments.extend(self._text_segments(r.text, r.eol, r.kind, side, number, r.spans, line_style, selected, text_width, scroll_x))
            return Strip(segments).crop_extend(0, width, base)
        left_width, right_width = split_widths(width)
        segments = [*lead]
        # an unchanged line is highlighted from the new file, so the old file is lexed only for
        # removed lines
        left_at: tuple[Side, int | None] = (
            ("new", r.right.no) if r.left and r.left.kind == " " and r.right else ("old", r.left.no if r.left else None)
        )
        segments.extend(self._cell_segments(r.left, left_at, left_width, scroll_x, selected, cursor, number_width))
        segments.append(Segment("│", self.style("gutter")))
        right_at: tuple[Side, int | None] = ("new", r.right.no if r.right else None)
        segments.extend(self._cell_segments(r.right, right_at, right_width, scroll_x, selected, cursor, number_width))
        return Strip(segments).crop_extend(0, width, base)

    def header(
        self, hunk: int, header: str, width: int, cursor: bool, selected: bool, *, choosable: bool, hunk_count: int, section: str
    ) -> Strip:
        """A hunk's header row: `@@ … @@  hunk n of m`, its ✓/✗ mark when hunks are choices, its section."""
        style = self.style("hunk-header")
        if cursor:
            style = style + self.style("cursor", partial=True)
        state = "" if selected or not choosable else "  ✗ not selected"
        where = f"  {section.translate(VISIBLE)}" if section else ""  # the enclosing block's line, from the file
        label = f" {header}  hunk {hunk + 1} of {hunk_count}{state}{where}"
        mark = ("✓" if selected else "✗") if choosable else None
        segments = [*self._lead(cursor, mark, selected), Segment(label, style)]
        return Strip(segments).crop_extend(0, width, style)

    def note(self, note: Note, width: int, cursor: bool) -> Strip:
        """The summary or a message row; one that does not fit ends in …"""
        style = self.style(note.kind)
        pointer = Segment("▶", self.style("cursor")) if cursor else Segment(" ", style)
        text = " " + note.text.translate(VISIBLE)
        if cell_len(text) > width - 1 > 1:  # a note that does not fit ends in … (not cut mid-word unseen)
            text = set_cell_size(text, width - 2) + "…"
        return Strip([pointer, Segment(text, style)]).crop_extend(0, width, style)

    def _lead(self, cursor: bool, mark: str | None, selected: bool) -> list[Segment]:
        """The two leftmost cells: the cursor pointer and the hunk's selection mark."""
        pointer = Segment("▶", self.style("cursor")) if cursor else Segment(" ", self.base)
        if mark is None:
            return [pointer, Segment(" ", self.base)]
        return [pointer, Segment(mark, self.style("mark-selected" if selected else "mark-unselected"))]

    def _line_styles(self, kind: str, selected: bool, cursor: bool) -> tuple[Style, Style]:
        base = self.base
        if not selected and kind != " ":
            line = base + self.style("unselected", partial=True)
        elif kind == "+":
            line = self.style("added")
        elif kind == "-":
            line = self.style("removed")
        else:
            line = base + self.style("context", partial=True)
        gutter = line + self.style("gutter", partial=True)
        if cursor:
            gutter = gutter + self.style("cursor", partial=True)
        return line, gutter

    def _cell_segments(
        self,
        cell: Cell | None,
        highlight_at: tuple[Side, int | None],
        width: int,
        scroll_x: int,
        selected: bool,
        cursor: bool,
        number_width: int,
    ) -> list[Segment]:
        if width <= 0:
            return []
        if cell is None:
            return [Segment("╱" * width, self.style("filler"))]
        line_style, gutter_style = self._line_styles(cell.kind, selected, cursor)
        w = number_width
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
        side: Side,
        number: int | None,
        spans: object,
        line_style: Style,
        selected: bool,
        width: int,
        scroll_x: int,
    ) -> list[Segment]:
        if width <= 0:
            return []
        display = text.translate(VISIBLE)
        dimmed = not selected and kind != " "
        overlays: list[tuple[int, int, Style]] = []
        if not dimmed and number is not None:
            tokens = self._tokens(side, number)
            for start, end, token in tokens or ():
                overlays.append((start, end, self.style(f"tok-{token}", partial=True)))
        changed: tuple[tuple[int, int], ...] = ()
        emph = line_style
        if not dimmed and kind != " ":
            emph = self.style("added-emph" if kind == "+" else "removed-emph", partial=True)
            changed = spans()  # type: ignore[operator]
            overlays.extend((start, end, emph) for start, end in changed)
        if not dimmed and kind != " " and not display.isascii():
            # Letters that pass for others (a Cyrillic і in `gіthub.com`), marked where they stand: the
            # card names them as a risk, the eye reading the line would not see them.
            from omni_tui.core.card.lookalikes import suspect_spans

            suspect = self.style("suspect", partial=True)
            overlays.extend((start, end, suspect) for start, end in suspect_spans(text[:SUSPECT_SCAN]))
        gutter = line_style + self.style("gutter", partial=True)
        if "\t" in display:
            content = Text(display, style=line_style, no_wrap=True, end="")
            for start, end, style in overlays:
                content.stylize(style, start, end)
            content.expand_tabs(_TAB_SIZE)
            segments = list(content.render(self._console()))
        else:
            segments = _styled_segments(display, line_style, overlays)
        if not eol:
            segments.append(Segment(_NO_EOL, gutter))
        strip = Strip(segments)
        first, last = scroll_x, scroll_x + width
        left: list[Segment] = []
        right: list[Segment] = []
        # Where a changed span lies outside the window, the edge says so in the emphasis colour: a change
        # an agent pushed past the edge of a long line is not missed for being off-screen.
        cells = _span_cells(display, changed)
        if width > 1 and strip.cell_length - scroll_x > width:
            last -= 1  # the line goes on past the edge: its last cell says so
            hidden = any(end > last for _start, end in cells)
            right.append(Segment("›", line_style + emph if hidden else gutter))
        if width > 2 and first > 0 and any(start < first for start, _end in cells):
            first += 1  # a change lies left of the window: its first cell says so
            left.append(Segment("‹", line_style + emph))
        return [*left, *strip.crop_extend(first, last, line_style), *right]
