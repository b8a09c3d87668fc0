"""Every theme the palette offers can be chosen on a busy cockpit (a proposal, a partial diff) without a stylesheet error."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, screen_text, wait_for


async def test_every_theme_in_the_palette_can_be_chosen_with_a_proposal_and_a_partial_diff_on_screen(project: Path) -> None:
    """Choosing ansi-light from ctrl+p once ended the demo with a stylesheet error ($foreground-disabled)."""
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await pilot.press("enter", "space")  # its only hunk left out: drawn in $foreground-disabled
        await wait_for(pilot, lambda: app.review.hunks.get((pid, "devenv.nix")) == set(), what="the hunk left out")
        for name in sorted(app.available_themes):
            app.theme = name
            await pilot.pause()
            assert app.is_running and app.return_code is None, name
            assert "Ripgrep" in screen_text(app), name
