"""A generic yes/no modal: restart or stop a process, revert direct edits, discard an edit.

`ConfirmScreen(question, detail)` dismisses with True (`y`/enter) or False (`n`/escape).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Label, Static

from omni_tui.core.terminal import inert
from omni_tui.ui.screens.relabel import relabel
from omni_tui.ui.screens.yes_no import YesNoModal
from omni_tui.ui.textual_compat import bindings_of
from omni_tui.ui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from rich.console import Group


BULLET = "  • "


def _detail(text: str) -> Content | Group:
    """The detail as written; its `  • ` items as a two-column grid, so an item too long for its line
    wraps under its own text (a hanging indent), never back under the bullet."""
    if BULLET not in text:
        return Content(text)
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Text | Table] = []
    prose: list[str] = []
    items: Table | None = None
    for line in text.split("\n"):
        if line.startswith(BULLET):
            if prose:
                parts.append(Text("\n".join(prose)))
                prose = []
            if items is None:
                items = Table.grid()
                items.add_column(no_wrap=True)
                items.add_column(ratio=1, overflow="fold")
                parts.append(items)
            items.add_row(Text(BULLET), Text(line[len(BULLET) :]))
        else:
            items = None
            prose.append(line)
    if prose:
        parts.append(Text("\n".join(prose)))
    return Group(*parts)


class ConfirmScreen(YesNoModal):
    """Ask `question` (with `detail` below it); `yes_label` names the confirm key in the footer."""

    CSS_PATH = "screens.tcss"
    YES_BUTTON = "confirm-yes"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes", id="confirm.yes"),
        Binding("enter", "confirm", "Yes", show=False, id="confirm.yes_enter"),
        Binding("n", "cancel", "No", id="confirm.no"),
        Binding("escape", "cancel", "No", show=False, id="confirm.no_escape"),
    ]

    def __init__(self, question: str, detail: str = "", *, yes_label: str = "Yes", danger: bool = False) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes_label = yes_label
        self.danger = danger
        relabel(bindings_of(self), {"confirm.yes", "confirm.yes_enter"}, yes_label)

    def compose(self) -> ComposeResult:
        classes = "dialog -confirm" + (" -danger" if self.danger else "")
        with Vertical(id="dialog", classes=classes):
            yield Label(Content.from_markup("[b]$question[/]", question=inert(self.question)), id="dialog-title")
            if self.detail:
                yield Static(_detail(inert(self.detail, multiline=True)), id="confirm-detail")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes_label} (y)", variant="error" if self.danger else "primary", id="confirm-yes")
                yield Button("No (n)", id="confirm-no")
        yield KeyBar()
