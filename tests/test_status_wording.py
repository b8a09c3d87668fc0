"""What the cockpit says about what happened reads right: a cancelled rebuild is called cancelled (not failed),
each fact once; reverting direct edits says where the edits are kept (not that they are lost)."""

from __future__ import annotations

from pathlib import Path

from app_harness import (
    approve_selected,
    cockpit,
    decision_of,
    edited,
    notices,
    open_workspace,
    press_when_offered,
    propose_now,
    ready,
    screen_text,
    wait_for,
)

from omni_tui.ui.screens import ConfirmScreen

SIZE = (120, 34)


async def test_a_cancelled_rebuild_is_called_cancelled_once_not_failed(project: Path) -> None:
    ws = open_workspace(project, command="echo started; sleep 30; echo never")
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.tmux"), title="Slow build")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.review.validations.get(pid), what="the proposal checked")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: "started" in screen_text(app) and app.rebuilds.job is not None, what="the rebuild running")
        await press_when_offered(pilot, "c", "cancel_rebuild")
        await wait_for(pilot, lambda: app.rebuilds.job is None, timeout=20, what="the rebuild to stop")
        await wait_for(pilot, lambda: decision_of(ws, pid) is not None and decision_of(ws, pid).status == "rolled_back", what="rolled back")

        def outcome() -> str | None:  # the log's last word lands after the decision is on disk
            return next((line for line in app.log_view.lines if "cancelled" in line and line.startswith(("■", "✗", "✓"))), None)

        line = await wait_for(pilot, outcome, what="the outcome line")
        assert line.startswith("■ rebuild cancelled"), line
        assert "failed" not in line, line
        assert line.count("cancelled") == 1 and line.count("rolled back") == 1, line  # each fact once
        assert "✗ rebuild failed" not in "\n".join(app.log_view.lines)


async def test_reverting_direct_edits_says_where_the_edits_are_kept(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    mine = edited(project, "pkgs.jq", "pkgs.jq pkgs.htop")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        (project / "devenv.nix").write_text(mine)
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the direct edit")
        await pilot.press("u")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the revert question")
        text = screen_text(app)
        assert "are lost" not in text
        assert "a copy is kept in .devenv/omni/backups/revert@<time>/" in " ".join(text.split()), text
        await pilot.press("y")
        await wait_for(pilot, lambda: notices(app, "your edits are kept in"), what="the toast")
        message = next(n.message for n in app._notifications if "your edits are kept in" in n.message)
        folder = message.rsplit("kept in ", 1)[1].rstrip("/")
        assert folder.startswith(".devenv/omni/backups/revert@"), message
        kept = [p for p in (project / folder).rglob("*") if p.is_file()]
        assert [p.read_text() for p in kept] == [mine]  # the edited bytes, there
        assert "pkgs.htop" not in (project / "devenv.nix").read_text()
