"""Start-up work deferred past the first frame still happens: highlighting arrives right after a plain
first draw, the cockpit module does not import pygments, the cockpit's CLI path skips the agents' parser."""

from __future__ import annotations

import subprocess
import sys

import pytest
from textual.app import App, ComposeResult

from omni_tui import cli
from omni_tui.core import highlight
from omni_tui.ui.widgets.diff_view import DiffView

OLD = '{\n  env.GREET = "hello";\n  packages = [ pkgs.git ];\n}\n'
NEW = OLD.replace("pkgs.git", "pkgs.git pkgs.jq")


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield DiffView(id="dv")


def token_colours(dv: DiffView, y: int) -> set[object]:
    strip = dv.render_line(y)
    string = dv.get_component_rich_style("diff-view--tok-string", partial=True).color
    return {seg.style.color for seg in strip if seg.style and seg.style.color == string}


def line_with(dv: DiffView, needle: str) -> int:
    for y in range(dv.size.height):
        if needle in dv.render_line(y).text:
            return y
    raise AssertionError(f"{needle!r} not on screen")


async def test_a_view_draws_plain_first_then_highlights_without_being_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in a fresh process: no lexer built yet for Nix.
    monkeypatch.setattr(highlight, "_prepared", set())
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        dv = app.query_one(DiffView)
        dv.set_diff("devenv.nix", OLD, NEW)
        y = line_with(dv, "GREET")
        assert token_colours(dv, y) == set()  # the first draw: plain
        for _ in range(50):
            await pilot.pause(0.02)
            if highlight.prepared("nix"):
                break
        assert highlight.prepared("nix")
        assert token_colours(dv, line_with(dv, "GREET"))  # "hello" in the string colour now


def test_importing_the_cockpit_does_not_import_pygments() -> None:
    code = "import sys, omni_tui.ui.app; print('pygments' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_command_names_are_the_parsers_subcommands() -> None:
    assert cli.command_names() == cli.build_parser()[1]
