"""`OneRow`: the base of the widgets that draw one row through the line API (the header, the key bar).

It owns what they share: the row's strip, kept until what it shows or a style changes (a theme
change clears it), and the blank lines below row 0 (a widget given more height than its row shows
its background there, as Textual paints empty space). A subclass says what its row shows
(`row_key`) and how it is drawn (`draw_row`).
"""

from __future__ import annotations

from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget


class OneRow(Widget, can_focus=False):
    """A one-row widget: row 0 is `draw_row`'s strip, drawn again only when `row_key` changes."""

    ALLOW_SELECT = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._row: tuple[tuple[object, ...], Strip] | None = None  # (what it showed, the strip drawn)

    def row_key(self) -> tuple[object, ...]:
        """Everything the row's drawing depends on besides the styles (the width among it)."""
        raise NotImplementedError

    def draw_row(self, width: int) -> Strip:
        """Row 0 drawn afresh, `width` cells wide."""
        raise NotImplementedError

    @property
    def drawn_key(self) -> tuple[object, ...] | None:
        """`row_key` when the cached row was drawn (None: nothing cached)."""
        return None if self._row is None else self._row[0]

    def blank_style(self) -> Style:
        """Gaps: the background only, as Textual paints empty space."""
        return Style.from_color(None, self.rich_style.bgcolor)

    def row(self) -> Strip:
        """Row 0: the cached strip while `row_key` is the same, else drawn again."""
        key = self.row_key()
        if self._row is not None and self._row[0] == key:
            return self._row[1]
        strip = self.draw_row(self.size.width)
        self._row = (key, strip)
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._row = None  # a theme change: the colours of every part

    def render_line(self, y: int) -> Strip:
        if y:
            return Strip.blank(self.size.width, self.blank_style())
        return self.row()
