"""A long "Why" cut to the rows the detail panel gives it says so: its last visible line ends in
`… (z: read all)` (z zooms the panel, where the whole of it is read) — at 120x34, on a phone (60x30)
and under 30 rows (one line). A why that fits is shown as it is, with no hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import cockpit, edited, open_workspace, propose_now, region_rows, screen_text, wait_for

LONG_WHY = " ".join(f"Sentence number {n} explains one more reason for the change." for n in range(1, 41))


@pytest.mark.parametrize("size", [(120, 34), (60, 30), (80, 24)])
async def test_a_cut_rationale_ends_in_an_ellipsis_and_says_how_to_read_the_rest(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"), why=LONG_WHY)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: "Why: Sentence number 1 " in screen_text(app), what="the rationale")
        rationale = app.query_one("#detail-rationale")

        def last_row() -> str:
            return screen_text(app).splitlines()[rationale.region.bottom - 1]

        # its last row, once the panel has settled how many rows the why gets
        await wait_for(pilot, lambda: "… (z: read all)" in last_row(), what="the cut rationale's hint on its last row")
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


async def test_a_long_why_gives_its_rows_to_the_diff_when_the_panel_is_short(project: Path) -> None:
    """At 120x34 a four-line why under a card left the diff three rows, all context: the change was not
    on screen. The why then takes one row (cut, with its hint) and the diff shows the change; where the
    panel has the room (120x50) the why keeps its four rows."""
    ws = open_workspace(project)
    new = edited(project, "pkgs.jq", "pkgs.jq pkgs.htop").replace('env.GREET = "hello";', 'env.GREET = "hello";\n  env.DEBUG = "1";')
    propose_now(project, "devenv.nix", new, why=LONG_WHY)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        rationale, diff = app.query_one("#detail-rationale"), app.query_one("#detail-diff")

        await wait_for(
            pilot,
            lambda: len(region_rows(app, rationale.region)) == 1 and any(" + " in row for row in region_rows(app, diff.region)),
            what="the why on one row and an added line in the diff",
        )
        assert region_rows(app, rationale.region)[0].rstrip().endswith("… (z: read all)")
        assert len(region_rows(app, diff.region)) >= 7
        await pilot.resize_terminal(120, 50)
        await wait_for(pilot, lambda: len(region_rows(app, rationale.region)) == 4, what="the why on four rows")
        assert region_rows(app, rationale.region)[-1].rstrip().endswith("… (z: read all)")


async def test_a_big_card_runs_its_categories_together_so_the_diff_shows_the_change_at_80x24(project: Path) -> None:
    """At 80x24 a card of four categories under two wrapped risk badges left the proposal's diff no
    row at all. With the why on one row, the card's categories then run together on one line and the
    diff shows the change; with the room (120x40) each category has its line again."""
    ws = open_workspace(project)
    new = (
        edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep")
        .replace('env.GREET = "hello";', 'env.GREET = "hello";\n  env.REDIS_URL = "redis://localhost";\n  services.redis.enable = true;')
        .replace('echo "$GREET from devenv"', 'echo "$GREET from devenv"\n    make setup')
    )
    propose_now(project, "devenv.nix", new, why=LONG_WHY)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        card, diff = app.query_one("#detail-card"), app.query_one("#detail-diff")

        await wait_for(
            pilot,
            lambda: (
                any(row.startswith("packages +ripgrep · ") for row in region_rows(app, card.region))
                and any(" + " in row for row in region_rows(app, diff.region))
            ),
            what="the categories on one line and an added line in the diff",
        )
        assert "network service" in " ".join(" ".join(region_rows(app, card.region)).split())  # the badges stay whole (wrapped)
        await pilot.resize_terminal(120, 40)
        await wait_for(
            pilot,
            lambda: [row.split()[0] for row in region_rows(app, card.region)[-4:]] == ["packages", "services", "env", "shell"],
            what="one line per category",
        )
