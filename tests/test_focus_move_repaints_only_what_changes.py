"""`tab` moves the accent (border and title) from the Proposals panel to the Processes panel and
`shift+tab` moves it back, and nothing else is drawn again: the proposal's diff inside the panel the
focus leaves keeps its lines (a title colour rule, and Textual's repaint of the whole screen at each focus
move, redrew every widget of both panels and all 120x40 cells at each tab: bench_queue_scale.py)."""

from __future__ import annotations

from pathlib import Path

from app_harness import SIZE, cockpit, edited, open_workspace, propose_now, screen_strips, screen_text, wait_for


def title_colour(app, title: str):
    """The colour the title `title` is drawn in, on the screen as it is now."""
    for strip in screen_strips(app):
        for segment in strip:
            if segment.text.strip() == title and segment.style is not None:
                return segment.style.color
    raise AssertionError(f"no title {title!r} on screen\n{screen_text(app)}")


async def test_tab_moves_the_accent_title_and_leaves_the_proposal_diff_drawn(project: Path) -> None:
    ws = open_workspace(project)
    propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"))
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        diff = app.main.detail.diff
        await wait_for(pilot, lambda: "ripgrep" in screen_text(app), what="the proposal's diff")
        # Settled: its check and its change card landed (each redraws the detail, the diff with it).
        await wait_for(pilot, lambda: "✓ ok" in screen_text(app) and "What it does" in screen_text(app), what="the check and the card")
        await pilot.pause()
        focused, other = title_colour(app, "Proposals"), title_colour(app, "Processes")
        assert focused != other

        drawn: list[int] = []
        render_line = diff.render_line
        diff.render_line = lambda y: (drawn.append(y), render_line(y))[1]  # type: ignore[method-assign]
        # ...and laid out: under load the card's rows resize the diff a frame or two later (its scrollbar
        # comes, and it is drawn again). The screen as a person sees it once nothing moves any more:
        for _ in range(50):
            drawn.clear()
            await pilot.pause()
            await pilot.pause()
            if not drawn:
                break
        assert drawn == [], "the proposal's diff never stopped being drawn"
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.main.focused_panel() == "processes-panel", what="the Processes panel focused")
        await pilot.pause()  # the frame after the focus move drawn
        await wait_for(pilot, lambda: title_colour(app, "Processes") == focused, what="the accent on the Processes title")
        assert title_colour(app, "Proposals") == other
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: app.main.focused_panel() == "proposals-panel", what="the Proposals panel focused")
        await pilot.pause()
        await wait_for(pilot, lambda: title_colour(app, "Proposals") == focused, what="the accent back on the Proposals title")
        assert title_colour(app, "Processes") == other
        assert "ripgrep" in screen_text(app)
        assert drawn == [], f"the proposal's diff was drawn again: lines {drawn}"
