"""A rejected proposal's reason is the person's own words to the agent: on a short screen (80x24) the
detail gives it one line, and zoomed (z) it is read whole, wrapped — it stayed one cut line there."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, edited, open_workspace, propose_now, screen_text, wait_for

from omni_tui.core.gate import Gate

REASON = "Not this way: pin jq to the version the CI image has, and add ripgrep in the same change so the shell stays one rebuild away."


async def test_a_long_rejection_reason_is_read_whole_when_the_panel_is_zoomed(project: Path) -> None:
    ws = open_workspace(project)
    pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"), title="Add htop")
    Gate(ws).reject(pid, REASON)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.queue.focus()
        await wait_for(pilot, lambda: app.review.selected_key == pid and "Not this way" in screen_text(app), what="the rejected proposal")
        assert "one rebuild away" not in screen_text(app)  # one line at 80x24
        await pilot.press("z")
        await wait_for(pilot, lambda: app.main.maximized is not None, what="the zoom")
        await wait_for(pilot, lambda: "one rebuild away" in " ".join(screen_text(app).split()), what="the whole reason")
