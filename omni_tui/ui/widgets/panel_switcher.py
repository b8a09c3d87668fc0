"""The phone-sized cockpit's top row: one tab per panel (only one panel is shown at a time there) and
on-screen Approve / Reject for touch. Shown only when the screen is narrow (`CockpitScreen`'s `-phone`
class); data in (which panel is shown), messages out.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

# (panel id, label) in the cockpit's panel order
TABS = (
    ("changes-panel", "Changes"),
    ("proposals-panel", "Proposals"),
    ("processes-panel", "Procs"),
    ("rebuild-panel", "Log"),
)


class _Tap(Static):
    """A tappable label; never takes the keyboard focus (that stays in the panels)."""

    can_focus = False

    def __init__(self, label: str, *, target: str, id: str, classes: str = "") -> None:
        super().__init__(Text(f" {label} "), id=id, classes=classes)
        self.target = target

    def on_click(self, event: events.Click) -> None:
        event.stop()
        switcher = self.parent
        if isinstance(switcher, PanelSwitcher):
            switcher.tapped(self.target)


class PanelSwitcher(Horizontal):
    """`Chosen(panel_id)` when a panel's tab is tapped; `Decide("approve" | "reject")` for the buttons."""

    DEFAULT_CSS = """
    PanelSwitcher { height: 1; display: none; background: $panel; }
    PanelSwitcher > _Tap { width: auto; height: 1; color: $text-muted; }
    PanelSwitcher > _Tap.-current { color: $text; background: $accent 40%; text-style: bold; }
    PanelSwitcher > #switch-spacer { width: 1fr; }
    PanelSwitcher > .-decide { text-style: bold; margin-left: 1; }
    PanelSwitcher > #switch-approve { color: $text; background: $success 50%; }
    PanelSwitcher > #switch-reject { color: $text; background: $error 50%; }
    """

    class Chosen(Message):
        def __init__(self, panel_id: str) -> None:
            super().__init__()
            self.panel_id = panel_id

    class Decide(Message):
        def __init__(self, action: str) -> None:
            super().__init__()
            self.action = action

    def compose(self) -> ComposeResult:
        # Nothing until the switcher is first shown (`show_current`, at phone size): hidden otherwise,
        # its seven widgets were made and styled before every cockpit's first frame for nothing.
        return iter(())

    def _tabs(self) -> ComposeResult:
        for panel_id, label in TABS:
            yield _Tap(label, target=panel_id, id=f"switch-{panel_id}")
        yield Static("", id="switch-spacer")
        yield _Tap("✓ Approve", target="approve", id="switch-approve", classes="-decide")
        yield _Tap("✗ Reject", target="reject", id="switch-reject", classes="-decide")

    def tapped(self, target: str) -> None:
        if target in ("approve", "reject"):
            self.post_message(self.Decide(target))
        else:
            self.post_message(self.Chosen(target))

    def show_current(self, panel_id: str | None) -> None:
        if not self.children:
            self.mount_all(self._tabs())
        for tab_id, _ in TABS:
            self.query_one(f"#switch-{tab_id}", _Tap).set_class(tab_id == panel_id, "-current")
