"""Selecting another proposal shows its diff from the top: its file line and first hunk. The diff kept the
row and scroll of the proposal read before it when both touched the same file (devenv.nix, always in the
demo), so after `n` to a lower hunk of one, the next opened on its own middle, its first hunk out of sight."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, screen_text, wait_for

from omni_tui.ui.app import CockpitApp

LONG_DEVENV_NIX = "{ pkgs, ... }:\n\n{\n" + "".join(f'  env.V{i} = "{i}";\n' for i in range(1, 61)) + "}\n"


def detail_text(app: CockpitApp) -> str:
    """What the screen shows inside the proposal detail (not the Changes panel beside it)."""
    region = app.main.detail.region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


async def select(pilot, app: CockpitApp, key: str) -> None:
    """Move the queue's selection to `key`, a row at a time, as a person does."""
    for key_name in ("down",) * 3 + ("up",) * 6:
        if app.review.selected_key == key:
            return
        before = app.review.selected_key
        await pilot.press(key_name)
        await wait_for(pilot, lambda: app.review.selected_key is not None, what="a selection")
        if app.review.selected_key == before:
            continue
    assert app.review.selected_key == key


async def test_the_next_proposal_opens_on_its_first_hunk_not_where_the_last_was_read(project: Path) -> None:
    (project / "devenv.nix").write_text(LONG_DEVENV_NIX)
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        both = edited(project, 'env.V2 = "2"', 'env.V2 = "two"').replace('env.V58 = "58"', 'env.V58 = "fifty-eight"')
        first = propose_now(project, "devenv.nix", both, title="First")
        other = edited(project, 'env.V3 = "3"', 'env.V3 = "three"').replace('env.V57 = "57"', 'env.V57 = "fifty-seven"')
        second = propose_now(project, "devenv.nix", other, title="Second")
        await wait_for(pilot, lambda: {first, second} <= set(app.review.entries), what="both proposals")
        await select(pilot, app, first)
        await wait_for(pilot, lambda: 'env.V2 = "two"' in detail_text(app), what="the first proposal's first hunk")
        await pilot.press("n", "n")  # down to its second hunk, out of sight of the first
        await wait_for(
            pilot, lambda: "fifty-eight" in detail_text(app) and 'env.V2 = "two"' not in detail_text(app), what="its second hunk"
        )
        await select(pilot, app, second)
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.title == "Second", what="the second's detail")
        await wait_for(pilot, lambda: 'env.V3 = "three"' in detail_text(app), what="the second proposal's first hunk")
        assert "hunk 1 of 2" in detail_text(app)
        assert app.detail.diff.cursor_row == 0
