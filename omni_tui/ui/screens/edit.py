"""The edit-before-approving modal: the proposed content in a TextArea (Nix highlighting when available).

`EditScreen(path, content)` dismisses with the edited text (ctrl+s) or None (escape; when the text
was changed, after confirming that the edits are to be discarded).
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from omni_tui.ui.screens.confirm import ConfirmScreen
from omni_tui.ui.syntax import nix_language
from omni_tui.ui.textual_compat import after_type_ahead
from omni_tui.ui.widgets.key_bar import KeyBar


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
            editor = TextArea.code_editor(self.original, id="edit-text", soft_wrap=False)
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
