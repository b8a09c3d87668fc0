"""z zooms the focused panel and z again restores it: the footer says which — "z Zoom", then "z Restore"
while a panel fills the screen (it said "z Zoom" there too), and "z Zoom" again once it is restored,
whether by z or by moving to another panel."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, open_workspace, screen_text, wait_for


def footer(app) -> str:
    return screen_text(app).splitlines()[-1]


async def test_the_footer_says_restore_while_a_panel_is_zoomed(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "z Zoom" in footer(app), what="the footer offering Zoom")
        await pilot.press("z")
        await wait_for(pilot, lambda: "z Restore" in footer(app), what="the footer offering Restore")
        assert app.main.maximized is not None and "Zoom" not in footer(app)
        await pilot.press("z")
        await wait_for(pilot, lambda: "z Zoom" in footer(app), what="Zoom again once restored")
        assert app.main.maximized is None
        await pilot.press("z")
        await wait_for(pilot, lambda: "z Restore" in footer(app), what="zoomed again")
        await pilot.press("tab")  # another panel: the zoom ends
        await wait_for(pilot, lambda: "z Zoom" in footer(app), what="Zoom once another panel has the focus")
        assert app.main.maximized is None
