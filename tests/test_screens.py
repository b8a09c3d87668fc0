"""The modal screens under Pilot, each pushed on a tiny host app: what they show and what they return."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from app_harness import ready, screen_strips
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static, TextArea

from omni_tui.ui.screens import (
    ApprovalCheck,
    ApprovalSummary,
    ApproveScreen,
    ConfirmScreen,
    EditScreen,
    FileSummary,
    HelpScreen,
    ProcessLogScreen,
    RejectScreen,
    help_sections,
)
from omni_tui.ui.screens.process_log import GAP_MARKER, new_tail
from omni_tui.ui.syntax import nix_language
from omni_tui.ui.themes import register_themes

SIZE = (100, 34)

GOOD = ApprovalSummary(
    title="Add redis",
    agent="claude",
    proposal_id="p-1",
    files=(FileSummary("devenv.nix", 5, 1, 2, 3), FileSummary("devenv.yaml", 2, 0, 1, 1, new_file=True)),
    checks=(ApprovalCheck("Nix parses", True), ApprovalCheck("base still current", True)),
    rebuild_command="devenv shell -- true",
)
BROKEN = ApprovalSummary(
    title="Broken syntax",
    files=(FileSummary("devenv.nix", 1, 1, 1, 1),),
    checks=(ApprovalCheck("Nix parses", False, "line 3, column 5: unexpected '}'"),),
    rebuild_command="devenv shell -- true",
)


class Host(App[None]):
    """Pushes one screen on mount and records what it dismisses with."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make
        self.results: list[Any] = []
        self.animation_level = "none"  # scrolls land at once: tests wait for states, not animations

    def compose(self) -> ComposeResult:
        yield Static("the cockpit")

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = "omni-dark"
        self.push_screen(self.make(), self.results.append)


def screen_text(app: App[Any]) -> str:
    """What the terminal shows right now, as plain text."""
    return "\n".join(strip.text for strip in screen_strips(app))


async def wait_for(pilot: Any, condition: Callable[[], bool], what: str, tries: int = 200) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(("key", "expected"), [("y", True), ("enter", True), ("n", False), ("escape", False)])
async def test_approve_returns_the_choice(key: str, expected: bool) -> None:
    app = Host(lambda: ApproveScreen(GOOD))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), "the approve modal")
        text = screen_text(app)
        assert "Approve: Add redis" in text
        assert "devenv.nix  +5 -1  2 of 3 hunks" in text
        assert "devenv.yaml (new file)  +2 -0  1 hunk" in text
        assert "✓ Nix parses" in text
        assert "$ devenv shell -- true" in text
        await pilot.press(key)
        await wait_for(pilot, lambda: app.results == [expected], f"dismiss({expected})")
        assert not isinstance(app.screen, ApproveScreen)


async def test_approve_keeps_its_buttons_visible_at_80x24() -> None:
    checks = (*BROKEN.checks, ApprovalCheck("base still current", True), ApprovalCheck("size and encoding", True))
    summary = dataclasses.replace(BROKEN, files=GOOD.files, checks=checks, restart_command="devenv up -d")
    app = Host(lambda: ApproveScreen(summary))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), "the approve modal")
        text = screen_text(app)
        assert "Cancel (n)" in text and "Cannot approve" in text
        # Blocked: no green, live-looking confirm button (nor a footer key) that would do nothing.
        assert "Approve (y)" not in text and "y Approve" not in text


async def test_approve_is_refused_while_a_check_failed() -> None:
    app = Host(lambda: ApproveScreen(BROKEN))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), "the approve modal")
        text = screen_text(app)
        assert "✗ Nix parses — line 3, column 5: unexpected '}'" in text
        assert "Cannot approve: Nix parses: line 3, column 5" in text
        await pilot.press("y")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [] and isinstance(app.screen, ApproveScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.results == [False], "dismiss(False)")


async def test_approve_shows_a_validation_that_finished_between_compose_and_mount() -> None:
    screen = ApproveScreen(GOOD)
    composed = screen.compose

    def compose() -> ComposeResult:  # the validation lands after the widgets are built, before on_mount
        yield from composed()
        screen.update_summary(BROKEN)

    screen.compose = compose  # type: ignore[method-assign]
    app = Host(lambda: screen)
    async with app.run_test(size=SIZE) as pilot:
        # Both are mounted anew: under load one can land a frame before the other, as a person would see.
        await wait_for(
            pilot,
            lambda: "Cannot approve: Nix parses" in screen_text(app) and "✗ Nix parses" in screen_text(app),
            "the failed check, on the error line and among the checks",
        )
        await pilot.press("y")
        await pilot.pause()
        assert app.results == [] and isinstance(app.screen, ApproveScreen)


async def test_approve_shows_a_validation_that_finished_before_it_was_mounted() -> None:
    screen = ApproveScreen(GOOD)
    screen.update_summary(BROKEN)  # the check landed between push_screen and compose
    app = Host(lambda: screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Cannot approve" in screen_text(app), "the failed check")
        await pilot.press("y")
        await pilot.pause()
        assert app.results == [] and isinstance(app.screen, ApproveScreen)


async def test_approve_without_a_rebuild_command_says_so() -> None:
    summary = ApprovalSummary(title="t", files=(FileSummary("devenv.nix", 1, 0, 1, 1),), rebuild_command=None, action="Accept edits")
    app = Host(lambda: ApproveScreen(summary))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), "the approve modal")
        text = screen_text(app)
        assert "no rebuild: no devenv on PATH and no [rebuild] command configured" in text
        assert "y Accept edits" in text  # the footer names the real action
        await pilot.press("y")
        await wait_for(pilot, lambda: app.results == [True], "dismiss(True)")


async def test_untrusted_titles_are_shown_literally() -> None:
    summary = ApprovalSummary(title="[b]x[/b] $primary [$error]", files=(FileSummary("a[1].nix", 1, 0, 1, 1),))
    app = Host(lambda: ApproveScreen(summary))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, ApproveScreen), "the approve modal")
        text = screen_text(app)
        assert "Approve: [b]x[/b] $primary [$error]" in text
        assert "a[1].nix" in text


async def test_reject_refuses_an_empty_reason_then_returns_the_typed_one() -> None:
    app = Host(lambda: RejectScreen("Add redis"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, RejectScreen), "the reject modal")
        assert "Reject: Add redis" in screen_text(app)
        await pilot.press("enter")
        await pilot.press("space", "space", "enter")  # whitespace is no reason either
        await pilot.pause()
        assert app.results == []
        assert "A reason is required" in screen_text(app)
        await pilot.press(*"pin redis to 7.2")
        await wait_for(pilot, lambda: "A reason is required" not in screen_text(app), "the error to clear")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.results == ["pin redis to 7.2"], "dismiss(reason)")


async def test_reject_escape_returns_none() -> None:
    app = Host(lambda: RejectScreen("Add redis"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, RejectScreen), "the reject modal")
        await pilot.press(*"half typed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.results == [None], "dismiss(None)")


ORIGINAL = "{ pkgs, ... }:\n{\n  packages = [ pkgs.git ];\n}\n"


async def test_edit_returns_the_edited_text() -> None:
    app = Host(lambda: EditScreen("devenv.nix", ORIGINAL))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, EditScreen), "the edit modal")
        assert "packages = [ pkgs.git ];" in screen_text(app)
        area = app.screen.query_one(TextArea)
        area.move_cursor((2, len("  packages = [ pkgs.git")))
        await pilot.press(*" pkgs.jq")
        await wait_for(pilot, lambda: "modified" in screen_text(app), "the modified marker")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(app.results) == 1, "dismiss(text)")
        assert app.results == ["{ pkgs, ... }:\n{\n  packages = [ pkgs.git pkgs.jq ];\n}\n"]


async def test_edit_highlights_nix_when_the_grammar_is_installed() -> None:
    app = Host(lambda: EditScreen("devenv.nix", ORIGINAL))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, EditScreen), "the edit modal")
        area = app.screen.query_one(TextArea)
        if nix_language() is None:
            assert area.language is None
        else:
            assert area.language == "nix"
            assert "nix" in screen_text(app)


async def test_edit_escape_judges_the_edits_once_the_keys_typed_before_it_are_in() -> None:
    """escape is a priority key: it is handled as it arrives, ahead of keys still queued for the editor.
    Typed in one burst, a backspace that undoes the only change then escape closed with a needless
    "Discard?"; a last character then escape closed without asking (the change lost)."""
    from textual import events

    app = Host(lambda: EditScreen("devenv.nix", ORIGINAL))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, EditScreen), "the edit modal")
        await pilot.press("x")
        await wait_for(pilot, lambda: app.screen.modified, "the edit made")
        app.post_message(events.Key("backspace", None))  # one burst: nothing handled between them
        app.post_message(events.Key("escape", None))
        await wait_for(pilot, lambda: app.results == [None], "closed at once: nothing to lose")

    app = Host(lambda: EditScreen("devenv.nix", ORIGINAL))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, EditScreen), "the edit modal")
        app.post_message(events.Key("x", "x"))
        app.post_message(events.Key("escape", None))
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), "the discard question for the last character")
        assert app.results == []


async def test_edit_escape_unchanged_returns_none_and_changed_asks_first() -> None:
    app = Host(lambda: EditScreen("devenv.nix", ORIGINAL))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, EditScreen), "the edit modal")
        await pilot.press("x")
        await pilot.press("escape")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), "the discard question")
        assert "Discard your edits to devenv.nix?" in screen_text(app)
        await pilot.press("n")  # keep editing
        await wait_for(pilot, lambda: ready(app, EditScreen), "back to the editor")
        assert app.results == []
        await pilot.press("backspace", "escape")  # undone: nothing to lose, closes at once
        await wait_for(pilot, lambda: app.results == [None], "dismiss(None)")

    app = Host(lambda: EditScreen("devenv.nix", ORIGINAL))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, EditScreen), "the edit modal")
        await pilot.press("x", "escape")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), "the discard question")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.results == [None], "dismiss(None) after discarding")


@pytest.mark.parametrize(("key", "expected"), [("y", True), ("enter", True), ("n", False), ("escape", False)])
async def test_confirm_returns_the_choice(key: str, expected: bool) -> None:
    app = Host(lambda: ConfirmScreen("Restart web?", "pid 42 gets SIGTERM", yes_label="Restart"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: ready(app, ConfirmScreen) and "y Restart" in screen_text(app), "the confirm modal, its footer naming the action"
        )
        text = screen_text(app)
        assert "Restart web?" in text and "pid 42 gets SIGTERM" in text
        await pilot.press(key)
        await wait_for(pilot, lambda: app.results == [expected], f"dismiss({expected})")


class Panel(Vertical):
    BINDINGS = [
        Binding("space", "toggle", "Hunk on/off", id="toggle_hunk", tooltip="Include or leave out the hunk"),
        Binding("j", "down", "Down", show=False),  # no id, hidden: plumbing, not listed
    ]

    def action_toggle(self) -> None:
        pass


class Cockpit(App[None]):
    """A cockpit-like app: app-level actions with ids, and a panel with its own keys."""

    BINDINGS = [
        Binding("a", "approve", "Approve", id="approve", tooltip="Approve the selected proposal"),
        Binding("r", "reject", "Reject", id="reject", tooltip="Reject the selected proposal"),
        Binding("question_mark", "help", "Help", id="help", key_display="?", tooltip="Show every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit the cockpit"),
    ]

    def compose(self) -> ComposeResult:
        panel = Panel(Static("diff"), id="changes")
        panel.border_title = "Changes"
        yield panel
        yield Footer()

    def action_approve(self) -> None:
        pass

    def action_reject(self) -> None:
        pass

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_sections(self, groups={"approve": "Proposals", "reject": "Proposals"})))


async def test_help_lists_every_key_grouped_and_follows_remapping() -> None:
    app = Cockpit()
    async with app.run_test(size=SIZE) as pilot:
        app.set_keymap({"approve": "y", "help": "f1"})
        app.query_one(Panel).focus()
        await pilot.pause()
        sections = {
            s.title: {e.description: e.key for e in s.entries}
            for s in help_sections(app, groups={"approve": "Proposals", "reject": "Proposals"})
        }
        assert sections["Proposals"] == {"Approve the selected proposal": "y", "Reject the selected proposal": "r"}
        assert sections["Changes"] == {"Include or leave out the hunk": "space"}
        assert sections["Cockpit"]["Quit the cockpit"] == "q"
        assert sections["Cockpit"]["Show every key"] == "f1"
        assert "Down" not in str(sections)

        await pilot.press("f1")
        await wait_for(pilot, lambda: ready(app, HelpScreen), "the help screen")
        text = screen_text(app)
        assert "Proposals" in text and "Changes" in text
        assert "y  Approve the selected proposal" in text
        assert "a  Approve" not in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), "help to close")


class Swatch(Widget):
    DEFAULT_CSS = "Swatch { background: $diff-added-bg; color: $log-bright-red; height: 1; }"


class ThemedHost(App[None]):
    def compose(self) -> ComposeResult:
        yield Swatch()
        yield Input()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        from omni_tui.ui.themes import theme_variable_defaults

        return theme_variable_defaults(self.current_theme)


async def test_theme_variables_reach_the_css_and_builtin_themes_still_work() -> None:
    app = ThemedHost()
    register_themes(app)
    async with app.run_test(size=SIZE) as pilot:
        swatch = app.query_one(Swatch)
        for name, added_bg in (("omni-dark", "#173523"), ("omni-light", "#DDF4E2"), ("omni-high-contrast", "#003A00")):
            app.theme = name
            await pilot.pause()
            assert swatch.styles.background.hex6.upper() == added_bg
        app.theme = "textual-light"  # no diff variables of its own: derived ones keep the CSS valid
        await pilot.pause()
        assert swatch.styles.background.hex6.upper() != "#003A00"


async def test_process_log_shows_fed_lines_and_follows_the_tail() -> None:
    app = Host(lambda: ProcessLogScreen("web", "process-compose"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, ProcessLogScreen), "the log screen")
        screen = app.screen
        assert isinstance(screen, ProcessLogScreen)
        assert "Log: web · process-compose" in screen_text(app)
        screen.append_lines([f"\x1b[32mGET /{i} 200\x1b[0m" for i in range(500)])
        await wait_for(pilot, lambda: "GET /499 200" in screen_text(app), "the last line")
        text = screen_text(app)
        assert "GET /0 200" not in text  # scrolled to the tail
        assert "\x1b" not in text and "[32m" not in text
        assert "following the end" in text and "500 lines" in text

        await wait_for(pilot, lambda: screen.log_view.allow_vertical_scroll, "the scrollbar")
        await pilot.press("home")  # reading older lines pauses following
        await wait_for(pilot, lambda: "paused" in screen_text(app), "paused")
        screen.append_lines(["GET /500 200"])
        await pilot.pause()
        assert "GET /0 200" in screen_text(app) and "GET /500 200" not in screen_text(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: "GET /500 200" in screen_text(app), "following again")

        screen.show_error("process-compose did not answer")
        await wait_for(pilot, lambda: "process-compose did not answer" in screen_text(app), "the error")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.results == [None], "dismiss")


async def test_process_log_sync_tail_adds_only_new_lines() -> None:
    app = Host(lambda: ProcessLogScreen("worker"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: ready(app, ProcessLogScreen), "the log screen")
        screen = app.screen
        assert isinstance(screen, ProcessLogScreen)
        screen.sync_tail(["a", "b", "c"])
        screen.sync_tail(["b", "c", "d", "e"])  # a backend's sliding "last N lines"
        screen.sync_tail(["c", "d", "e"])  # nothing new
        assert list(screen.log_view.lines) == ["a", "b", "c", "d", "e"]
        screen.sync_tail(["x", "y"])  # no overlap: lines were missed in between
        assert list(screen.log_view.lines) == ["a", "b", "c", "d", "e", GAP_MARKER, "x", "y"]
        await wait_for(pilot, lambda: "some may be missing" in screen_text(app), "the gap marker")


async def test_process_log_keeps_lines_that_arrive_before_it_is_mounted() -> None:
    """A backend refresh can land between push_screen and compose: nothing is lost, nothing crashes."""
    screen = ProcessLogScreen("web", "honcho")
    screen.sync_tail(["one", "two"])
    screen.sync_tail(["two", "three"])
    screen.show_error("honcho is slow")
    app = Host(lambda: screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "three" in screen_text(app), "the early lines")
        assert list(screen.log_view.lines) == ["one", "two", "three"]
        assert "honcho is slow" in screen_text(app) and "3 lines" in screen_text(app)


def test_new_tail() -> None:
    assert new_tail([], ["a"]) == (["a"], False)
    assert new_tail(["a", "a"], ["a", "a", "a"]) == (["a"], False)
    assert new_tail(["x", "a", "b"], ["a", "b"]) == ([], False)
    assert new_tail(["a"], []) == ([], False)
    assert new_tail(["a"], ["b"]) == (["b"], True)


@pytest.mark.parametrize(
    ("make", "button", "expected"),
    [
        (lambda: ApproveScreen(GOOD), "#approve-yes", True),
        (lambda: ApproveScreen(GOOD), "#approve-no", False),
        (lambda: ConfirmScreen("Stop web?", "honcho stops them all", yes_label="Stop", danger=True), "#confirm-yes", True),
        (lambda: ConfirmScreen("Stop web?", yes_label="Stop"), "#confirm-no", False),
    ],
)
async def test_the_mouse_answers_a_yes_no_modal_with_its_buttons(make, button: str, expected: bool) -> None:
    app = Host(make)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the modal")
        modal = app.screen
        await pilot.click(button)
        await wait_for(pilot, lambda: app.results == [expected], f"dismiss({expected}) after clicking {button}")
        assert app.screen is not modal
