"""A long "Why" cut to the rows the detail panel gives it says so: its last visible line ends in
`… (z: read all)` (z zooms the panel, where the whole of it is read) — at 120x34, on a phone (60x30)
and under 30 rows (one line). A why that fits is shown as it is, with no hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import cockpit, edited, open_workspace, propose_now, screen_text, wait_for

LONG_WHY = " ".join(f"Sentence number {n} explains one more reason for the change." for n in range(1, 41))


@pytest.mark.parametrize("size", [(120, 34), (60, 30), (80, 24)])
async def test_a_cut_rationale_ends_in_an_ellipsis_and_says_how_to_read_the_rest(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"), why=LONG_WHY)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: "Why: Sentence number 1 " in screen_text(app), what="the rationale")
        await wait_for(pilot, lambda: "… (z: read all)" in screen_text(app), what="the cut rationale's hint")
        rationale = app.query_one("#detail-rationale")
        rows = screen_text(app).splitlines()[rationale.region.y : rationale.region.bottom]
        assert "… (z: read all)" in rows[-1], rows
        assert "Sentence number 40" not in screen_text(app)
        await pilot.press("z")
        # zoomed, it is read whole (it scrolls there): not cut, so no hint
        await wait_for(
            pilot,
            lambda: "Sentence number 3 explains" in screen_text(app) and "read all" not in screen_text(app),
            what="the rationale zoomed, uncut",
        )


async def test_a_rationale_that_fits_has_no_hint(project: Path) -> None:
    ws = open_workspace(project)
    propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"), why="htop to watch the workers")
    app = cockpit(ws, watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "Why: htop to watch the workers" in screen_text(app), what="the rationale")
        assert "read all" not in screen_text(app)


async def test_the_hint_names_the_zoom_key_as_mapped(project: Path) -> None:
    ws = open_workspace(project, extra='[keys]\nmaximize = "m"\n')
    propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"), why=LONG_WHY)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "… (m: read all)" in screen_text(app), what="the hint with the remapped key")
        assert "(z: read all)" not in screen_text(app)
