"""Tab and shift+tab: the panel holding the focus has the accent border and the footer shows its keys,
then the queue's again — the border is a class the screen sets (`-focus-within`), not Textual's
`:focus-within`, which restyled every widget of both panels on each move; the footer is recomposed only
when the keys it shows change."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, open_workspace, ready, screen_text, wait_for
from textual.color import Color

from omni_tui.ui.screens import HelpScreen


def _footer(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[-1]


def _border(app, panel_id: str) -> Color:  # type: ignore[no-untyped-def]
    return app.main.query_one(f"#{panel_id}").styles.border_top[1]


def _marked(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(panel.id) for panel in app.main.query(".panel") if panel.has_class("-focus-within")]


async def test_tab_marks_the_focused_panel_and_the_footer_follows(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: _marked(app) == ["proposals-panel"], what="the queue's panel marked at start")
        accent = _border(app, "proposals-panel")  # cockpit.tcss: the accent colour
        plain = _border(app, "processes-panel")
        assert accent != plain

        await pilot.press("tab")
        await wait_for(pilot, lambda: _marked(app) == ["processes-panel"], what="the Processes panel marked")
        await wait_for(pilot, lambda: "R Restart" in _footer(app), what="the Processes panel's keys in the footer")
        assert _border(app, "processes-panel") == accent
        assert _border(app, "proposals-panel") == plain

        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: _marked(app) == ["proposals-panel"], what="the queue's panel marked again")
        await wait_for(pilot, lambda: "R Restart" not in _footer(app), what="the queue's keys in the footer again")
        assert "? Help" in _footer(app)


async def test_the_mark_stays_on_the_panel_under_a_modal(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("tab")
        await wait_for(pilot, lambda: _marked(app) == ["processes-panel"], what="the Processes panel marked")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: ready(app, HelpScreen), what="the help screen")
        assert _marked(app) == ["processes-panel"]  # where the person will be back to
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="the cockpit again")
        await wait_for(pilot, lambda: "R Restart" in _footer(app), what="the Processes panel's keys")
        assert _marked(app) == ["processes-panel"]
