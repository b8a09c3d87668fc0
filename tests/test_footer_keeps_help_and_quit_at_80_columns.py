"""At 80x24 with a proposal pending and direct edits, every live key wants a place in the footer: the
keys that give way (split, hunks, zoom…) are hidden, never `? Help`, `q Quit`, `^p` or approve/reject."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, edited, open_workspace, propose_now, screen_text, wait_for


def footer(app) -> str:
    return screen_text(app).splitlines()[-1]


def fits(app) -> bool:
    line = footer(app)
    return all(key in line for key in ("a Approve", "r Reject", "? Help", "q Quit", "^p"))


async def test_at_80_columns_help_quit_and_the_palette_stay_in_every_panel(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Rg")
        await wait_for(pilot, lambda: "Rg" in screen_text(app), what="the proposal")
        (project / "devenv.nix").write_text(edited(project, '"hello"', '"bonjour"'))
        await wait_for(pilot, lambda: "UNAPPROVED" in screen_text(app), what="the direct edit")
        seen: set[str] = set()
        for _ in range(4):
            name = str(app.focused.id if app.focused else "")
            # What the direct edits need is still offered beside them (the footer follows focus a frame later).
            await wait_for(pilot, lambda: fits(app) and "A Accept" in footer(app), what=f"help, quit, ^p and A Accept with {name} focused")
            seen.add(name)
            await pilot.press("tab")
            await wait_for(pilot, lambda: str(app.focused.id if app.focused else "") != name, what="the next panel")
        assert len(seen) == 4

        # Wider again: what gave way comes back.
        await pilot.resize_terminal(160, 34)
        await wait_for(pilot, lambda: "s Split" in footer(app) or "np Hunk" in footer(app), what="the diff keys back at 160 columns")
        assert fits(app)
