"""Zooming a panel (`z`) keeps the gate header on screen ("the header always shows the gate": a pending or
tampered state is never hidden behind a zoom), and restoring it gives the queue its State and Check columns back."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, screen_text, wait_for

LONG_TITLE = "Add the MySQL 5.7 client for the legacy order import and a few more words"


def queue_row(app) -> str:
    return next((line for line in screen_text(app).splitlines() if "test-agent" in line), "")


async def test_state_and_check_show_again_after_the_proposals_panel_is_zoomed_and_restored(project: Path) -> None:
    ws = open_workspace(project)
    propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title=LONG_TITLE)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "pending" in queue_row(app) and "✓ ok" in queue_row(app), what="the queue row")
        assert app.main.focused_panel() == "proposals-panel"
        await pilot.press("z")
        await wait_for(pilot, lambda: LONG_TITLE in queue_row(app), what="the whole title, zoomed")
        await pilot.press("z")
        await wait_for(pilot, lambda: "─ Changes ─" in screen_text(app), what="the four panels again")
        await wait_for(pilot, lambda: "pending" in queue_row(app) and "✓ ok" in queue_row(app), what="State and Check after the restore")


async def test_the_gate_header_stays_on_screen_while_a_panel_is_zoomed(project: Path) -> None:
    # "The header always shows the gate": a zoomed panel must not hide a pending or tampered state.
    ws = open_workspace(project)
    propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title=LONG_TITLE)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "1 PENDING" in screen_text(app).splitlines()[0], what="the header")
        await pilot.press("z")
        await wait_for(pilot, lambda: "─ Changes ─" not in screen_text(app), what="the zoomed panel")
        await wait_for(pilot, lambda: "1 PENDING" in screen_text(app).splitlines()[0], what="the header, zoomed")
