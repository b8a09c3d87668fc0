"""Accepting direct edits (`A`) ends with a line that says what happened: the files were edited directly
and a person accepted them. It said `applied by root (devenv.nix edited before approval; …)` — the
words of an approval whose proposal the person edited in the cockpit, which no one did."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, edited, open_workspace, ready, screen_text, wait_for

from omni_tui.core.decision_line import decision_line
from omni_tui.core.proposals import AppliedFile, Decision
from omni_tui.ui.screens import ApproveScreen


async def test_the_rebuild_log_says_the_accepted_files_were_edited_directly(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
        (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the direct edit")
        await pilot.press("A")
        # y is offered once the modal's check of the files is done (it says "validating…" until then).
        await wait_for(
            pilot, lambda: ready(app, ApproveScreen) and app.screen.check_action("confirm", ()) is True, what="the accept modal, checked"
        )
        await pilot.press("y")
        done = await wait_for(
            pilot, lambda: next((line for line in app.log_view.lines if line.startswith("✓ applied")), None), what="the outcome line"
        )
        assert "devenv.nix edited directly, accepted" in done, done
        assert "before approval" not in done, done


def test_a_failed_accept_of_direct_edits_is_not_called_an_approval() -> None:
    files = (AppliedFile("devenv.nix", "a" * 64, "b" * 64, "edited"),)
    decision = Decision("x", "failed", "rebuild failed: exit 1", "ada", "2026-12-05T00:00:00.000Z", exit_code=1, files=files)
    line = decision_line(decision, direct=True)
    assert line.endswith("— accepted by ada, not rolled back"), line
    assert "approved" not in line
    # A proposal's approval still reads as one.
    assert decision_line(decision).endswith("— approved by ada, not rolled back")
