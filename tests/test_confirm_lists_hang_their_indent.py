"""A confirmation's bulleted list (what resolving a tampered state will do, which files it names) wraps
each item under its own text, not back at the left edge where a continuation reads like a new line of
the dialog (`'applied' by root)` sat under the bullets)."""

from __future__ import annotations

from app_harness import ready, screen_text, wait_for
from textual.app import App

from omni_tui.ui.screens import ConfirmScreen

LONG = "decisions/20261205T004448Z-be4517.json: no audit entry vouches for it (it claims 'applied' by root)"
DETAIL = (
    f"What the audit log does not account for:\n  • {LONG}\n  • short one\n\nThis is recorded in the audit log as your decision (root)."
)


class Host(App[None]):
    def on_mount(self) -> None:
        self.push_screen(ConfirmScreen("Resolve the tampered state?", DETAIL, yes_label="Re-baseline", danger=True))


async def test_a_long_bullet_wraps_under_its_own_text() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: ready(app, ConfirmScreen) and "short one" in screen_text(app), what="the confirmation")
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "• decisions/" in line)
        text_column = lines[first].index("decisions/")
        continuation = lines[first + 1]
        assert continuation[:text_column].strip("│█▌▐ ") == "", continuation  # nothing under the bullet
        assert continuation[text_column:].strip().startswith(("entry", "vouches", "it", "(it", "'applied'", "claims")), continuation
        assert "• short one" in screen_text(app)
        assert "What the audit log does not account for:" in screen_text(app)
        assert "This is recorded in the audit log as your decision (root)." in screen_text(app)
