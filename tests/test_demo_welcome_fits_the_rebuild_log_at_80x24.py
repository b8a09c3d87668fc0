"""The demo's welcome in the Rebuild log is read whole at 80x24, the size a new user's terminal often is:
the log does not wrap, and two of its lines were cut at the panel's edge — "a approves, r rejec", and
"A accepts," without the "u reverts" that says how to undo the agent's direct edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import screen_text, wait_for

from omni_tui.core.workspace import Workspace
from omni_tui.demo.cockpit import DemoCockpit
from omni_tui.demo.template import BuildPlan, DemoFiles, write_workspace


@pytest.mark.parametrize("mode", ["nix", "simulated"])
async def test_every_line_the_demo_writes_to_the_rebuild_log_is_shown_whole_at_80x24(tmp_path: Path, mode: str) -> None:
    root = tmp_path / "demo"
    root.mkdir()
    written = write_workspace(root, use_nix=False)
    build = BuildPlan(mode, written.build.command, "" if mode == "nix" else "Nix is not installed here")
    app = DemoCockpit(Workspace.open(root), DemoFiles(root, written.web_port, build, written.python))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.log_view.lines, what="the welcome in the Rebuild log")
        app.clear_notifications()  # the first toast goes after a few seconds; a person reads the log then
        lines = list(app.log_view.lines)
        assert any("u reverts" in line for line in lines)
        await wait_for(pilot, lambda: not app.screen.query("Toast"), what="the toast gone")
        await wait_for(pilot, lambda: lines[-1] in screen_text(app), what="the log's last line drawn")
        for line in lines:
            assert len(line) <= app.log_view.scrollable_content_region.width, line
        shown = screen_text(app)
        visible = [line for line in lines if line in shown]
        assert visible == lines[len(lines) - len(visible) :]  # each one whole: the newest on screen, none cut
        if mode == "nix":
            assert visible == lines  # the whole welcome fits: nothing to scroll back to


async def test_the_first_toast_says_the_log_is_under_it_and_how_to_close_it(tmp_path: Path) -> None:
    """The toast sits over the Rebuild log it points a newcomer to: it says so, and that a click closes it."""
    root = tmp_path / "demo"
    root.mkdir()
    written = write_workspace(root, use_nix=False)
    app = DemoCockpit(Workspace.open(root), DemoFiles(root, written.web_port, written.build, written.python))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.screen.query("Toast"), what="the first toast")
        await wait_for(pilot, lambda: "a click closes the note" in toast_text(app), what="the toast drawn whole")
        assert "The Rebuild log under this note walks you through the demo" in toast_text(app)


def toast_text(app) -> str:
    """The words of the toast on screen: what is right of its edge (▌), without the panels' borders behind it."""
    parts = [line.split("▌", 1)[1] for line in screen_text(app).splitlines() if "▌" in line]
    return " ".join("".join(ch for ch in " ".join(parts) if not "\u2500" <= ch <= "\u257f").split())
