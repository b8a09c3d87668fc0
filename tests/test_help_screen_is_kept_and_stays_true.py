"""The help screen (`?`) is built once and shown again — opening it is the key a person presses to find
the others, and composing it afresh cost most of a second on a loaded machine — yet it always says what
is true now: a key remapped while the cockpit runs, or another theme, gives a new one; it opens at the
top however far it was scrolled."""

from __future__ import annotations

from pathlib import Path

from app_harness import cockpit, open_workspace, ready, screen_strips, screen_text, wait_for

from omni_tui.ui.screens import HelpScreen


async def _open_help(pilot) -> HelpScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: ready(app, HelpScreen), what="the help screen")
    return app.screen


async def _close_help(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is app.main, what="the cockpit again")


def _keys_of(screen: HelpScreen, description: str) -> str:
    return next(entry.key for section in screen.sections for entry in section.entries if entry.description.startswith(description))


async def test_the_help_screen_opened_again_is_the_one_built_before(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        first = await _open_help(pilot)
        assert "Approve the selected proposal" in screen_text(app)
        await _close_help(pilot)
        second = await _open_help(pilot)
        assert second is first
        assert "Approve the selected proposal" in screen_text(app)


async def test_a_key_remapped_while_the_cockpit_runs_shows_in_the_kept_help(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        before = await _open_help(pilot)
        assert _keys_of(before, "Approve the selected proposal") == "a"
        await _close_help(pilot)
        app.set_keymap({"approve": "ctrl+y"})
        after = await _open_help(pilot)
        assert after is not before
        assert _keys_of(after, "Approve the selected proposal") == "^y"
        approve_row = next(line for line in screen_text(app).splitlines() if "Approve the selected proposal" in line)
        assert "^y" in approve_row and " a " not in approve_row
        await _close_help(pilot)
        assert not before.is_attached  # the stale one is gone, not kept beside the new one


async def test_another_theme_builds_the_help_again(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        before = await _open_help(pilot)
        await _close_help(pilot)
        app.theme = next(name for name in app.available_themes if name != app.theme)
        after = await _open_help(pilot)
        assert after is not before


async def test_the_kept_help_opens_at_the_top(project: Path) -> None:
    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_help(pilot)
        body = screen.query_one("#help-body")
        await pilot.press("end")
        await wait_for(pilot, lambda: body.scroll_y > 0, what="the help scrolled down")
        await _close_help(pilot)
        again = await _open_help(pilot)
        assert again is screen
        await wait_for(pilot, lambda: body.scroll_y == 0 and "Keys" in screen_text(app), what="the help at its top")
        assert screen.focused is body


async def test_the_kept_help_is_drawn_again_exactly_as_it_was_first_drawn(project: Path) -> None:
    # Shown again it is not restyled (HelpScreen._on_screen_resume: its keys and theme are the same, or a
    # new one is built): every character and every colour as the first time, the cockpit dimmed under it.
    def picture(app) -> list[list[tuple[str, object]]]:  # type: ignore[no-untyped-def]
        return [[(segment.text, segment.style) for segment in strip] for strip in screen_strips(app)]

    app = cockpit(open_workspace(project), watch=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await _open_help(pilot)
        await pilot.pause()
        first = picture(app)
        await _close_help(pilot)
        await _open_help(pilot)
        await pilot.pause()
        assert picture(app) == first
