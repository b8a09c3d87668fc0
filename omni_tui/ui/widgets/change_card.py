"""The change card drawn: `CardSummary` (compact, one line per category, risk badges) for the top of a
proposal's detail and the Changes panel, `CardDetails` (every entry, every risk and its lines) for the
approve and accept modals.

Data in (a `core.card.Card`, already computed by a worker and masked), pixels out. Badges use the
theme's warning / error colours by the risk's severity; added entries the success colour, removed the
error colour, changed the warning colour. Every string of a card is already inert (see core/card/secrets).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget

from omni_tui.core.card import CATEGORIES, Card
from omni_tui.core.card.render import LABELS, MARKS, entry_lines, entry_text, risk_words
from omni_tui.ui.widgets.colours import theme_colour

_LABEL_WIDTH = max(len(v) for v in LABELS.values())
_GROUP_COLOUR = {"added": "success", "enabled": "success", "removed": "error", "disabled": "error", "changed": "warning"}


class _CardWidget(Widget):
    """Holds a card (or why there is none) and renders it as Rich Text in the theme's colours."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.card: Card | None = None
        self.note: str = ""  # shown instead of a card: "computing…", an error
        # Rows kept while the next card is computed (the previous card's height): the diff below
        # does not jump up and back down on every write to a guarded file.
        self.hold = 0
        self.display = False

    def show(self, card: Card | None, note: str = "") -> None:
        if card is self.card and note == self.note:
            return
        shown = self.display
        rows = self.content_size.height if shown else 0
        self.hold = rows if card is None and self.card is not None and shown else 0
        self.card, self.note = card, note
        self.display = card is not None or bool(note)
        self.refresh()
        # A relayout of the screen (≈ 5-20 ms, every widget placed and drawn again) only when the
        # card's height changes: most writes to a guarded file change a card's text, not its rows.
        if not (shown and self.display and rows and self._rows_needed(self.content_size.width) == rows):
            self.refresh(layout=True)
        # And once drawn, the height checked against the rows it needs: a card shown while its widget
        # was still mounting (a modal's) could keep the height of what it showed before — its risk on
        # screen, its causes cut off (seen in the approve dialog under load).
        self.call_after_refresh(self._fit_rows)

    def _fit_rows(self) -> None:
        if self.is_mounted and self.display and self.content_size.width:
            if self._rows_needed(self.content_size.width) != self.content_size.height:
                self.refresh(layout=True)

    def _rows_needed(self, width: int) -> int:
        """The content rows this card takes at `width` (its max-height applied)."""
        if width <= 0:
            return 0
        rows = self.get_content_height(self.size, self.app.size, width)
        cap = self.styles.max_height
        if cap is not None and cap.is_cells:
            rows = min(rows, max(0, int(cap.value) - self.styles.gutter.height))
        return rows

    def _c(self, name: str) -> str:
        return theme_colour(self.app, name)

    def badges(self, card: Card) -> Text:
        text = Text()
        fg = self._c("background")
        for index, risk in enumerate(card.risks):
            if index:
                text.append(" ")
            colour = self._c("error" if risk["severity"] == "error" else "warning")
            # the words a person reads ("network service"), not the JSON key; unpadded, so the heading
            # reads "What it does network service" with one space, as "What it does no risks" does
            text.append(risk_words(risk["risk"]), style=f"bold {fg} on {colour}")
        return text


class CardSummary(_CardWidget):
    """The compact card: a heading with the risk badges, then one line per category that changed —
    or, folded (`fold`, when its panel is too short to show the diff under it), the categories run
    together on one line."""

    MAX_ROWS = 8
    DEFAULT_CSS = f"""
    CardSummary {{ height: auto; max-height: {MAX_ROWS}; }}
    """
    MAX_CATEGORIES = 4  # lines of categories; more are counted on a fifth (the approve modal shows all)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.folded = False

    def fold(self, folded: bool) -> None:
        """Run the categories together on one line (True), or one line each (False)."""
        if folded != self.folded:
            self.folded = folded
            self.refresh(layout=True)

    def rows_unfolded(self, width: int) -> int:
        """The rows this card takes at `width` with one line per category (whether folded now or not)."""
        if not self.display or width <= 0:
            return 0
        return min(len(self._text(width, folded=False).wrap(self.app.console, width)), self.MAX_ROWS)

    def render(self) -> Text:
        return self._text(max(self.size.width, 20), folded=self.folded)

    def _text(self, width: int, *, folded: bool) -> Text:
        muted = self._c("foreground-muted")
        card = self.card
        if card is None:
            note = Text(f"Change card: {self.note}", style=f"italic {muted}", no_wrap=True, overflow="ellipsis")
            return note.append("\n" * (self.hold - 1)) if self.hold > 1 else note
        # The heading and its badges may wrap (no risk is ever cut off); each category is one line, cut with "…".
        text = Text()
        text.append("What it does ", style="bold")
        if card.risks:
            text.append_text(self.badges(card))
        elif card.empty:
            text.append("no change to the environment's configuration", style=f"italic {muted}")
        else:
            text.append("no risks", style=muted)
        shown = [cat for cat in CATEGORIES if any(card.data.get(cat, {}).values())]
        if folded and shown:
            line = Text()
            for number, cat in enumerate(shown):
                line.append(f"{' · ' if number else ''}{LABELS[cat]} ", style=muted)
                line.append_text(self._entries(card, cat))
            line.truncate(width, overflow="ellipsis")
            return text.append("\n").append_text(line)
        more = shown[self.MAX_CATEGORIES :] if len(shown) > self.MAX_CATEGORIES + 1 else []
        for cat in shown[: len(shown) - len(more)]:
            line = Text()
            line.append(f"{LABELS[cat]:<{_LABEL_WIDTH}}  ", style=muted)
            line.append_text(self._entries(card, cat))
            line.truncate(width, overflow="ellipsis")
            text.append("\n")
            text.append_text(line)
        if more:
            text.append(f"\n{'':<{_LABEL_WIDTH}}  and {', '.join(LABELS[c] for c in more)} — all in the approve dialog", style=muted)
        return text

    def _entries(self, card: Card, cat: str) -> Text:
        """One category's entries in their group's colours: `+ripgrep -jq ~enterShell`."""
        groups: dict[str, list[dict[str, Any]]] = card.data.get(cat, {})
        line = Text()
        for index, (group, entry) in enumerate((g, e) for g, es in groups.items() for e in es):
            if index:
                line.append(" ")
            line.append(f"{MARKS[group]}{entry_text(cat, entry)}", style=self._c(_GROUP_COLOUR[group]))
        return line


class CardDetails(_CardWidget):
    """The full card: every risk with the lines that caused it, then every entry with its values."""

    DEFAULT_CSS = """
    CardDetails { height: auto; }
    """

    def render(self) -> Text:
        muted = self._c("foreground-muted")
        card = self.card
        if card is None:
            return Text(self.note, style=f"italic {muted}")
        text = Text()
        if card.empty:
            text.append("No change to the environment's configuration.", style=f"italic {muted}")
            return text
        for risk in card.risks:
            colour = self._c("error" if risk["severity"] == "error" else "warning")
            text.append(f" {risk_words(risk['risk'])} ", style=f"bold {self._c('background')} on {colour}")
            text.append("\n")
            for cause in risk["causes"]:
                where = f"{cause['file']}:{cause['line']}" if cause.get("line") else str(cause["file"])
                text.append(f"  {where}  ", style=muted)
                text.append(f"{cause['why']}\n")
        for cat in CATEGORIES:
            groups: dict[str, list[dict[str, Any]]] = card.data.get(cat, {})
            entries = [(g, e) for g, es in groups.items() for e in es]
            if not entries:
                continue
            text.append(f"{LABELS[cat].capitalize()}\n", style="bold")
            for group, entry in entries:
                lines = list(entry_lines(cat, group, entry))
                text.append(lines[0] + "\n", style=self._c(_GROUP_COLOUR[group]))
                for line in lines[1:]:
                    text.append(line + "\n")
        text.rstrip()
        return text
