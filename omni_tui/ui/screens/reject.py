"""The reject modal: the person types the reason the agent will read.

`RejectScreen(title)` dismisses with the reason (stripped, never empty) or None when cancelled.
An empty reason shows an error line and keeps the modal open.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from omni_tui.core.terminal import inert
from omni_tui.ui.textual_compat import after_type_ahead
from omni_tui.ui.widgets.key_bar import KeyBar


class RejectScreen(ModalScreen[str | None]):
    """Ask why a proposal is rejected: dismiss(reason) or dismiss(None)."""

    CSS_PATH = "screens.tcss"
    # Keys typed right after the one that opened this modal belong to it (the cockpit re-sends them).
    TYPE_AHEAD: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: the Input would take enter for itself and hide the key from the footer.
        Binding("enter", "submit", "Reject", priority=True, id="reject.submit"),
        Binding("escape", "cancel", "Cancel", id="reject.cancel"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.proposal_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog -reject"):
            yield Label(Content.from_markup("Reject: [b]$title[/]", title=inert(self.proposal_title)), id="dialog-title")
            yield Static("Why? The agent reads this reason.", classes="section-title")
            yield Input(placeholder="e.g. pin the version instead of using latest", id="reject-reason")
            yield Static("", id="reject-error", classes="error-line")
            with Horizontal(classes="buttons"):
                yield Button("Reject (enter)", variant="error", id="reject-yes")
                yield Button("Cancel (esc)", id="reject-no")
        yield KeyBar()

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False
        self.query_one("#reject-error", Static).display = False
        self.query_one(Input).focus()

    @property
    def reason(self) -> str:
        return self.query_one(Input).value.strip()

    def on_key(self, event: events.Key) -> None:
        # Keys typed right after `r`, before this screen was mounted and its Input focused, are
        # delivered to the screen itself (the Input stops every printable key it takes): type them
        # into the Input, in order, instead of dropping them.
        if event.is_printable and event.character is not None:
            event.stop()
            self.query_one(Input).insert_text_at_cursor(event.character)

    def action_submit(self) -> None:
        # enter is a priority binding, handled as it arrives (even before this screen is mounted); the
        # characters typed before it may still be queued (type-ahead, see omni_tui.ui.textual_compat):
        # read the reason once they are in.
        after_type_ahead(self, self.query_one(Input), self._submit_typed)

    def _submit_typed(self) -> None:
        if not self.is_active:
            return
        reason = self.reason
        if not reason:
            error = self.query_one("#reject-error", Static)
            error.update("A reason is required: the agent reads it to decide what to do next.")
            error.display = True
            self.query_one(Input).focus()
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self.query_one("#reject-error", Static).display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "reject-yes":
            self.action_submit()
        else:
            self.action_cancel()
