"""The approve modal keeps its Approve and Cancel buttons on screen however long the agent made its
title and name: the body gives up rows (it scrolls) rather than the buttons. At 120x34 a 200-character
title of wide characters (4 rows) and a long agent name pushed both buttons below the dialog's edge."""

from __future__ import annotations

import pytest
from app_harness import ready, screen_text, wait_for
from textual.app import App

from omni_tui.ui.screens import ApprovalCheck, ApprovalSummary, ApproveScreen, FileSummary

LONG = ApprovalSummary(
    title="界" * 150,
    agent="名" * 60,
    proposal_id="20261205T005127Z-8a1be3",
    files=(FileSummary("devenv.nix", 1, 1, 1, 1),),
    checks=(ApprovalCheck("Nix parses", True), ApprovalCheck("base current", True), ApprovalCheck("size/encoding ok", True)),
    rebuild_command="devenv shell -- true",
    rationale="x" * 3000,
)


class Host(App[None]):
    def on_mount(self) -> None:
        self.push_screen(ApproveScreen(LONG))


@pytest.mark.parametrize("size", [(120, 34), (80, 24), (120, 40)])
async def test_the_buttons_stay_on_screen_with_a_long_title_and_agent(size: tuple[int, int]) -> None:
    app = Host()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal")
        await wait_for(pilot, lambda: "Approve (y)" in screen_text(app) and "Cancel (n)" in screen_text(app), what="both buttons on screen")
        assert "界界界" in screen_text(app) and "名名名" in screen_text(app)  # the title and the agent still shown
        assert "What it does" in screen_text(app) or "Files" in screen_text(app)  # and the body, scrolled


async def test_the_buttons_stay_on_screen_when_the_terminal_shrinks_and_grows() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen) and "Approve (y)" in screen_text(app), what="the approve modal")
        for size in ((80, 24), (120, 34), (120, 40)):
            await pilot.resize_terminal(*size)
            await wait_for(
                pilot,
                lambda: app.screen.size == size and "Approve (y)" in screen_text(app) and "Cancel (n)" in screen_text(app),
                what=f"both buttons on screen at {size}",
            )


async def test_a_fit_due_after_the_dialog_was_answered_does_nothing() -> None:
    """The fit runs after a refresh; answered in between (`y` pressed at once on a loaded machine), the
    dialog's widgets are removed before the screen is, and the fit found no body: the cockpit crashed
    (seen under message jitter in the failed-rebuild test). Here its widgets go first, as then."""
    app = Host()
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen) and "Approve (y)" in screen_text(app), what="the approve modal")
        screen = app.screen
        assert isinstance(screen, ApproveScreen)
        await screen.query_one("#dialog").remove()
        screen._keep_buttons()  # as the refresh callback ran it
        await pilot.pause()
        assert app.is_running and app._exception is None
