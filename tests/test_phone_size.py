"""The cockpit at phone size (60x30, a phone's browser in landscape through `omni-tui serve`): one panel
at a time, a switcher row to move between them (tap, or tab), approve and reject still two keys, and
on-screen Approve / Reject buttons for touch. The real `CockpitApp` under Pilot on a real workspace."""

from __future__ import annotations

from pathlib import Path

from app_harness import approve_selected, cockpit, decision_of, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.core.review import Panel as PanelId
from omni_tui.ui.app import CockpitApp
from omni_tui.ui.screens import ApproveScreen, RejectScreen

PHONE = (60, 30)
PANEL_IDS = [str(p) for p in PanelId]


def shown_panels(app: CockpitApp) -> list[str]:
    return [panel_id for panel_id in PANEL_IDS if app.main.query_one(f"#{panel_id}").display]


def with_ripgrep(project: Path) -> str:
    return (project / "devenv.nix").read_text().replace("pkgs.jq ]", "pkgs.jq pkgs.ripgrep ]", 1)


async def test_at_phone_size_one_panel_is_shown_and_the_switcher_moves_between_them(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=PHONE) as pilot:
        propose_now(project, "devenv.nix", with_ripgrep(project), title="Add ripgrep")
        await wait_for(pilot, lambda: "Add ripgrep" in screen_text(app), what="the proposal")
        assert shown_panels(app) == ["proposals-panel"]
        assert "Changes" in screen_text(app).splitlines()[1] and "Approve" in screen_text(app).splitlines()[1]

        await pilot.click("#switch-changes-panel")
        await wait_for(pilot, lambda: shown_panels(app) == ["changes-panel"], what="the Changes panel alone")
        assert app.main.focused_panel() is PanelId.CHANGES

        await pilot.press("tab")  # next panel, as in the full layout
        await wait_for(pilot, lambda: shown_panels(app) == ["proposals-panel"], what="the Proposals panel after tab")

        await pilot.click("#switch-rebuild-panel")
        await wait_for(pilot, lambda: shown_panels(app) == ["rebuild-panel"], what="the Rebuild log alone")

        await pilot.resize_terminal(120, 34)  # a wider window: all four again
        await wait_for(pilot, lambda: shown_panels(app) == PANEL_IDS, what="all four panels at 120x34")
        assert not app.main.query_one("#panel-switcher").display


async def test_at_phone_size_approving_is_still_two_keys(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, who="alice")
    async with app.run_test(size=PHONE) as pilot:
        pid = propose_now(project, "devenv.nix", with_ripgrep(project), title="Add ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "applied", what="applied")
        decision = decision_of(ws, pid)
        assert decision is not None and (decision.who, decision.via) == ("alice", "terminal")


async def test_the_on_screen_buttons_open_the_same_approve_and_reject_questions(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=PHONE) as pilot:
        pid = propose_now(project, "devenv.nix", with_ripgrep(project), title="Add ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await pilot.click("#switch-rebuild-panel")  # the buttons work from any panel
        await wait_for(pilot, lambda: shown_panels(app) == ["rebuild-panel"], what="the Rebuild log alone")

        await pilot.click("#switch-reject")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject question")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="back in the cockpit")

        await pilot.click("#switch-approve")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve question")
        assert "Approve: Add ripgrep" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "applied", what="applied")
