"""The cockpit at the sizes people run it (80x24, 120x34) and wider: the diffs choose unified or side by
side by the room their pane has (and keep the person's `s`), and a proposal's header lines stay in view.

Every test runs the real `CockpitApp` under Pilot on a real temp workspace, with the real
`omni-tui propose` as the agent, and reads what the terminal shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import SIZE, cockpit, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.ui.app import CockpitApp
from omni_tui.ui.screens import RejectScreen

WIDE = (200, 50)
OLD_LINE = "packages = [ pkgs.git pkgs.jq ];"
NEW_LINE = "packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];"


def with_ripgrep(project: Path) -> str:
    text = (project / "devenv.nix").read_text()
    assert OLD_LINE in text
    return text.replace(OLD_LINE, NEW_LINE, 1)


def side_by_side(app: CockpitApp) -> bool:
    """One screen row holds both the removed and the added line (the split view; its sides may be
    scrolled to the change, at the end of the line: `6 - git pkgs.jq ]; │ 6 + git pkgs.jq pkgs.ripgrep ];`)."""
    return any("6 - " in line and "│ 6 + " in line and "pkgs.jq" in line.split("│ 6 + ")[1] for line in screen_text(app).splitlines())


def unified_and_whole(app: CockpitApp) -> bool:
    """The removed and the added line each on their own row, whole."""
    lines = screen_text(app).splitlines()
    return any(f"-   {OLD_LINE}" in line for line in lines) and any(f"+   {NEW_LINE}" in line for line in lines)


async def test_at_120_columns_the_proposal_diff_is_unified_so_the_change_is_readable(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", with_ripgrep(project), title="Add ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await wait_for(pilot, lambda: unified_and_whole(app), what="the whole changed line in the proposal's diff")
        assert not side_by_side(app)


async def test_the_proposal_diff_follows_the_pane_width_until_s_chooses(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=WIDE) as pilot:
        pid = propose_now(project, "devenv.nix", with_ripgrep(project), title="Add ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        # Wide: old | new side by side, both whole.
        await wait_for(pilot, lambda: side_by_side(app), what="the side-by-side diff at 200 columns")
        assert any(OLD_LINE in line and NEW_LINE in line for line in screen_text(app).splitlines())
        await pilot.resize_terminal(*SIZE)
        await wait_for(pilot, lambda: unified_and_whole(app), what="the unified diff after narrowing to 120")
        # The person asks for split: it stays split whatever the width does.
        assert app.main.focused_panel() == "proposals-panel"
        await pilot.press("s")
        await wait_for(pilot, lambda: side_by_side(app), what="split after s")
        # Each side is narrower than the changed line: shown from a little before its change.
        await wait_for(pilot, lambda: "│ 6 + git pkgs.jq pkgs.ripgrep ];" in screen_text(app), what="the change in view")
        await pilot.resize_terminal(*WIDE)
        await pilot.resize_terminal(*SIZE)
        await wait_for(pilot, lambda: side_by_side(app), what="split kept after resizing")
        await pilot.pause(0.2)
        assert side_by_side(app)
        # ... and unified, once chosen, stays unified on a wide terminal.
        await pilot.press("s")
        await wait_for(pilot, lambda: unified_and_whole(app), what="unified after s again")
        await pilot.resize_terminal(*WIDE)
        await pilot.pause(0.2)
        await wait_for(pilot, lambda: unified_and_whole(app), what="unified kept at 200 columns")
        assert not side_by_side(app)


async def test_the_changes_diff_goes_side_by_side_when_its_panel_is_wide(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        (project / "devenv.nix").write_text(with_ripgrep(project))
        # 46 columns: unified (even so the long line is cropped)
        await wait_for(pilot, lambda: "+   packages = [ pkgs.git" in screen_text(app), what="the direct edit in Changes")
        assert not side_by_side(app)
        await pilot.press("shift+tab")
        assert app.main.focused_panel() == "changes-panel"
        await pilot.press("z")  # maximised: 118 columns, room for both sides
        await wait_for(pilot, lambda: side_by_side(app), what="the maximised Changes diff side by side")
        await pilot.press("s")
        await wait_for(pilot, lambda: unified_and_whole(app), what="unified after s")
        await pilot.press("z")
        await pilot.press("z")
        await pilot.pause(0.2)
        assert unified_and_whole(app) and not side_by_side(app)


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_a_proposals_title_why_validation_and_decision_are_in_view(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=size) as pilot:
        pid = propose_now(project, "devenv.nix", with_ripgrep(project), title="Add ripgrep", why="faster search")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await wait_for(pilot, lambda: "✓ Nix parses" in screen_text(app), what="the validation line")
        text = screen_text(app)
        assert "Why: faster search" in text
        assert any("Add ripgrep" in line and "pending" in line and "ago" in line for line in text.splitlines())
        await pilot.press("r")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject modal")
        await pilot.press(*"not now")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, RejectScreen), what="the modal closed")
        await wait_for(pilot, lambda: "rejected by " in screen_text(app), what="the decision line")
        text = screen_text(app)
        decision = next(line for line in text.splitlines() if "rejected by " in line)
        assert ": not now" in decision  # the shared decision line: "rejected by <who>: not now"
        assert "Why: faster search" in text
        # the diff still has rows on screen below the header lines, and the change is among them
        diff = app.query_one("#detail-diff")

        def diff_rows() -> list[str]:
            return screen_text(app).splitlines()[diff.region.y : diff.region.bottom]

        changed = ("-   packages = [", "+   packages = [")
        await wait_for(pilot, lambda: any(line in row for row in diff_rows() for line in changed), what="the change in the decided diff")
