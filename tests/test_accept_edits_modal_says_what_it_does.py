"""The Accept-edits modal says what accepting does (validate the files as they are, rebuild, make them the
baseline), not "write the files atomically": accepting writes nothing back."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, edited, open_workspace, ready, screen_text, wait_for

from omni_tui.ui.screens import ApproveScreen


async def test_the_accept_edits_modal_says_nothing_is_rewritten(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the cockpit")
        (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the direct edit")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen) and "nothing is rewritten" in screen_text(app), what="the accept modal")
        assert "write the files atomically" not in screen_text(app)
