"""The edit-before-approving modal: the proposed content in a TextArea (Nix highlighting when available).

`EditScreen(path, content)` dismisses with the edited text (ctrl+s) or None (escape; when the text
was changed, after confirming that the edits are to be discarded).
"""

from __future__ import annotations

import re
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from omni_tui.core.terminal import FORMAT_CHARS
from omni_tui.ui.screens.confirm import ConfirmScreen
from omni_tui.ui.syntax import nix_language
from omni_tui.ui.textual_compat import after_type_ahead
from omni_tui.ui.widgets.diff_paint import VISIBLE
from omni_tui.ui.widgets.key_bar import KeyBar

# The characters `VISIBLE` paints one cell wide that TextArea counts as none (tab is expanded by it).
_SHOWN_WIDER = re.compile(f"[\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f{FORMAT_CHARS}]")


class InertTextArea(TextArea):
    """A TextArea that paints control and invisible format characters as what they are (`␛`, `�`).

    TextArea sends a line's characters to the terminal as they are: an agent's ESC ] 0 ; … BEL
    retitled the person's terminal (ESC ] 52 writes the clipboard) and ESC [ 41 m recoloured it. Only
    the painting changes (`get_line` is TextArea's hook for how a line looks): the text, and so what is
    saved, keeps every character the person did not touch. The replacement is one character for one,
    so the cursor, the selection and the highlighting land on the right characters; each such
    character is zero cells wide to the TextArea's arithmetic and one as painted, so a mouse click
    after one on its line lands a cell off. The width it scrolls over counts them as painted: the end
    of a line is never cut off.
    """

    def get_line(self, line_index: int) -> Text:
        return Text(self.document.get_line(line_index).translate(VISIBLE), end="", no_wrap=True)

    def _refresh_size(self) -> None:
        super()._refresh_size()
        if self.soft_wrap:
            return
        # Only lines that hold such a character are measured again (a regex scan: cheap per keystroke).
        search = _SHOWN_WIDER.search
        lines = [line for line in self.document.lines if search(line)]
        painted = max((cell_len(line.translate(VISIBLE).expandtabs(self.indent_width)) for line in lines), default=0)
        width = painted + self.gutter_width + 1  # as TextArea: +1 for the cursor resting after the end
        if width > self.virtual_size.width:
            self.virtual_size = Size(width, self.virtual_size.height)
            self._refresh_scrollbars()


class EditScreen(ModalScreen[str | None]):
    """Edit `content` (the proposed text of `path`) before approving it."""

    CSS_PATH = "screens.tcss"
    # Keys typed right after the one that opened this modal belong to it (the cockpit re-sends them).
    TYPE_AHEAD: ClassVar[bool] = True

    # Priority: the TextArea would otherwise take escape (and tab) for itself.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="edit.save"),
        Binding("escape", "cancel", "Cancel", priority=True, id="edit.cancel"),
    ]

    def __init__(self, path: str, content: str) -> None:
        super().__init__()
        self.path = path
        self.original = content

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog -edit"):
            yield Label(Content.from_markup("Edit before approving: [b]$path[/]", path=self.path), id="dialog-title")
            editor = InertTextArea.code_editor(self.original, id="edit-text", soft_wrap=False)
            language = nix_language() if self.path.endswith(".nix") else None
            if language is not None:
                editor.register_language(language.name, language.language, language.highlight_query)
                editor.language = language.name
            yield editor
            yield Static("", id="edit-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self._show_status()
        self.query_one(TextArea).focus()

    def on_key(self, event: events.Key) -> None:
        # Keys typed right after `e`, before the TextArea had focus, reach the screen itself (the
        # TextArea stops the keys it takes): type them in, in order, as the TextArea would have.
        area = self.query_one(TextArea)
        if area.has_focus:
            return
        typed = "\n" if event.key == "enter" else event.character if event.is_printable else None
        if typed:
            event.stop()
            area.insert(typed)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @property
    def modified(self) -> bool:
        return self.text != self.original

    def _show_status(self) -> None:
        area = self.query_one(TextArea)
        row, column = area.cursor_location
        state = "[b $warning]modified[/]" if self.modified else "[$text-muted]unchanged[/]"
        self.query_one("#edit-status", Static).update(
            Content.from_markup(
                f"$where  {state}  [$text-muted]$language[/]",
                where=f"line {row + 1}, column {column + 1} of {area.document.line_count} lines",
                language=area.language or "plain text",
            )
        )

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._show_status()

    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        self._show_status()

    def action_save(self) -> None:
        # ctrl+s is handled as it arrives (even before this screen is mounted); keys typed just before
        # it may still be queued (type-ahead, see omni_tui.ui.textual_compat): save once they are in.
        after_type_ahead(self, self.query_one(TextArea), self._save_typed)

    def _save_typed(self) -> None:
        if self.is_active:
            self.dismiss(self.text)

    def action_cancel(self) -> None:
        # Like ctrl+s, escape is handled as it arrives: whether there are edits to lose is judged once the
        # keys typed before it are in (a backspace that undoes the last change, a last character).
        after_type_ahead(self, self.query_one(TextArea), self._cancel_typed)

    def _cancel_typed(self) -> None:
        if not self.is_active:
            return
        if not self.modified:
            self.dismiss(None)
            return

        def discard(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                f"Discard your edits to {self.path}?", "The proposal stays as the agent wrote it.", yes_label="Discard", danger=True
            ),
            discard,
        )
