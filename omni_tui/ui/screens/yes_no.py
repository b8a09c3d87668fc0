"""The behaviour every yes/no modal shares: keys decide, buttons are for the mouse, dismiss(True/False).

A subclass names its confirm button's id in `YES_BUTTON` and declares `confirm` / `cancel` bindings.
"""

from __future__ import annotations

from typing import ClassVar

from textual.screen import ModalScreen
from textual.widgets import Button

SHORT_ROWS = 30  # a terminal shorter than this is short (80x24): the same line as the cockpit's -short layout


class YesNoModal(ModalScreen[bool]):
    """dismiss(True) on `confirm` or the YES_BUTTON; dismiss(False) on `cancel` or any other button."""

    YES_BUTTON: ClassVar[str] = "yes"

    def on_mount(self) -> None:
        # The cockpit's toasts were about the screen behind: a question gets the screen to itself (at 80x24
        # they covered its title and buttons). Toasts raised while it is open show at its top edge.
        self.app.clear_notifications()
        short = self.app.size.height < SHORT_ROWS
        for button in self.query(Button):
            # Keys drive the dialog; buttons are for the mouse, so enter always means "confirm".
            button.can_focus = False
            # Under 30 rows (80x24) one-row buttons: the dialog's body keeps the rows, the buttons stay on screen.
            button.compact = short

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == self.YES_BUTTON:
            self.action_confirm()
        else:
            self.action_cancel()
