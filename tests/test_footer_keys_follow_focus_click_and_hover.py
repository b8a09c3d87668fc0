"""The footer as a person uses it: it follows the focus without mounting anything (one widget, one row),
a click on a key presses it, a click on a greyed key only rings the bell, hovering a key highlights it
and shows what it does, and a theme switch recolours it."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import cockpit, open_workspace, ready, screen_strips, screen_text, wait_for

from omni_tui.ui.screens import ApproveScreen, HelpScreen
from omni_tui.ui.widgets.key_bar import KeyBar

SIZE = (120, 34)


def footer(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[-1]


def footer_strip(app):  # type: ignore[no-untyped-def]
    return screen_strips(app)[-1]


def style_at(app, column: int):  # type: ignore[no-untyped-def]
    x = 0
    for segment in footer_strip(app):
        if x <= column < x + len(segment.text):
            return segment.style
        x += len(segment.text)
    raise AssertionError(f"nothing drawn at column {column}")


async def test_moving_the_focus_changes_the_keys_shown_without_mounting_a_widget(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "? Help" in footer(app) and "R Restart" not in footer(app), what="the queue's keys")
        bar = app.main.query_one(KeyBar)
        widgets = list(app.main.walk_children())  # held: a widget mounted anew would be another object
        await pilot.press("tab")
        await wait_for(pilot, lambda: "R Restart" in footer(app), what="the Processes panel's keys")
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: "R Restart" not in footer(app) and "? Help" in footer(app), what="the queue's keys again")
        assert app.main.query_one(KeyBar) is bar and not bar.children
        assert [id(widget) for widget in app.main.walk_children()] == [id(widget) for widget in widgets]


async def test_a_click_on_a_key_presses_it_and_a_greyed_key_only_rings(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = cockpit(open_workspace(project), watch=False)
    rings: list[int] = []
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "bell", lambda: rings.append(1))
        await wait_for(pilot, lambda: "a Approve" in footer(app) and "? Help" in footer(app), what="the footer")
        assert app.why_unavailable("approve") is not None  # nothing to approve: greyed
        await pilot.click(KeyBar, offset=(footer(app).index("a Approve") + 2, 0))
        await wait_for(pilot, lambda: rings, what="the bell")
        assert not isinstance(app.screen, ApproveScreen)

        await pilot.click(KeyBar, offset=(footer(app).index("? Help") + 3, 0))  # on the description: the same key
        await wait_for(pilot, lambda: ready(app, HelpScreen), what="the help screen")


async def test_hovering_a_key_highlights_it_and_shows_what_it_does(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "q Quit" in footer(app), what="the footer")
        column = footer(app).index("q Quit")
        plain = style_at(app, column)
        await pilot.hover(KeyBar, offset=(column, 0))
        await wait_for(pilot, lambda: style_at(app, column).bgcolor != plain.bgcolor, what="the hovered key highlighted")
        assert style_at(app, column + 2).bgcolor == style_at(app, column).bgcolor  # the whole entry, its description too
        assert style_at(app, column - 1).bgcolor == plain.bgcolor  # not the blank before it
        assert app.main.query_one(KeyBar).tooltip == "Quit the cockpit"
        await pilot.hover(KeyBar, offset=(footer(app).index("? Help"), 0))
        await wait_for(pilot, lambda: style_at(app, column).bgcolor == plain.bgcolor, what="the highlight moving on")


async def test_a_theme_switch_recolours_the_footer(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "q Quit" in footer(app), what="the footer")
        column = footer(app).index("q Quit")
        dark = style_at(app, column)
        app.theme = "omni-light"
        await wait_for(pilot, lambda: style_at(app, column) != dark, what="the footer in the light theme's colours")
        assert style_at(app, column).bgcolor != dark.bgcolor
