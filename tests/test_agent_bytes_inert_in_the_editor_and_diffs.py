"""An agent's file content — escape sequences, C1 controls, bidi overrides, zero-width characters — is
shown, never obeyed: in the diff views (Changes, the proposal's diff) and in the built-in editor a
person opens with `e`. Before, the editor sent an OSC title (or OSC 52 clipboard) sequence and SGR
colours straight to the terminal, and both views passed a right-to-left override (U+202E) raw, so a
line could read backwards from what it does."""

from __future__ import annotations

import re

from app_harness import ready, screen_text, wait_for
from textual.app import App, ComposeResult
from textual.widgets import TextArea

from omni_tui.core.terminal import FORMAT_CHARS
from omni_tui.ui.screens import EditScreen
from omni_tui.ui.widgets.diff_view import DiffView

# What must never reach the terminal from a file's content: C0 controls but newline (ESC starts every
# escape sequence), DEL, C1 controls (U+009B is an 8-bit CSI) and the invisible format characters.
RAW = re.compile(f"[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f{FORMAT_CHARS}]")

HOSTILE_LINE = "  packages = [ pkgs.git ]; # \x1b]0;pwned\x07 \x1b[41mRED\x1b[0m \u202etxet\u202c zw\u200bj \x9b31m end"
ORIGINAL = "{ pkgs, ... }:\n{\n" + HOSTILE_LINE + "\n}\n"


class EditorHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(EditScreen("devenv.nix", ORIGINAL), self.results.append)


class DiffHost(App[None]):
    def compose(self) -> ComposeResult:
        yield DiffView(id="dv")


async def test_the_built_in_editor_shows_an_agents_escape_sequences_and_never_sends_them() -> None:
    app = EditorHost()
    async with app.run_test(size=(120, 20)) as pilot:
        await wait_for(pilot, lambda: ready(app, EditScreen) and "packages" in screen_text(app), what="the editor with the proposal")
        text = screen_text(app)
        assert RAW.findall(text) == [], text
        line = next(line for line in text.splitlines() if "packages" in line)
        assert "␛]0;pwned␇" in line and "␛[41mRED␛[0m" in line, line  # seen for what they are
        # Bidi and zero-width characters are visible too, and the line still ends where the box does.
        assert "txet" in line and "end" in line and line.rstrip().endswith("│"), line


async def test_the_built_in_editor_saves_the_bytes_it_did_not_touch() -> None:
    app = EditorHost()
    async with app.run_test(size=(120, 20)) as pilot:
        await wait_for(pilot, lambda: ready(app, EditScreen) and "packages" in screen_text(app), what="the editor with the proposal")
        area = app.screen.query_one(TextArea)
        area.move_cursor((1, 1))
        await pilot.press(*" # edited")
        await wait_for(pilot, lambda: "modified" in screen_text(app), what="the modified marker")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(app.results) == 1, what="the saved text")
        assert app.results == [ORIGINAL.replace("{\n", "{ # edited\n", 1)]


async def test_a_bidi_override_in_a_diff_line_is_shown_not_obeyed() -> None:
    app = DiffHost()
    async with app.run_test(size=(160, 10)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", ORIGINAL.replace(HOSTILE_LINE, "  packages = [ pkgs.git ];"), ORIGINAL)
        await wait_for(pilot, lambda: "txet" in screen_text(app), what="the added line")
        text = screen_text(app)
        assert RAW.findall(text) == [], text
        line = next(line for line in text.splitlines() if "txet" in line)
        assert "␛]0;pwned␇" in line and line.rstrip().endswith("end"), line


async def test_a_bidi_override_in_a_split_diff_is_shown_not_obeyed() -> None:
    app = DiffHost()
    async with app.run_test(size=(200, 10)) as pilot:
        dv = app.query_one(DiffView)
        dv.mode = "split"
        dv.set_diff("devenv.nix", ORIGINAL.replace(HOSTILE_LINE, "  packages = [ pkgs.git ];"), ORIGINAL)
        await wait_for(pilot, lambda: "txet" in screen_text(app), what="the added line")
        text = screen_text(app)
        assert RAW.findall(text) == [], text


async def test_the_enclosing_block_named_in_a_hunk_header_is_shown_not_obeyed() -> None:
    # The hunk header names the block the change is in by its line in the file: the agent's bytes.
    old = (
        '{\n  services."x\x1b]0;pwned\x07\u202ey" = {\n    enable = true;\n    a = 1;\n    b = 2;\n    c = 3;\n    port = 5432;\n  };\n}\n'
    )
    app = DiffHost()
    async with app.run_test(size=(120, 12)) as pilot:
        app.query_one(DiffView).set_diff("devenv.nix", old, old.replace("5432", "5433"))
        await wait_for(pilot, lambda: "hunk 1 of 1" in screen_text(app), what="the hunk header")
        text = screen_text(app)
        assert RAW.findall(text) == [], text
        header = next(line for line in text.splitlines() if "hunk 1 of 1" in line)
        assert 'services."x␛]0;pwned␇�y" = {' in header, header
