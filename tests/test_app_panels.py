"""The cockpit's frame: layout at 120x34 and 80x24, panels and keys, remapping, palette, help, processes, no devenv."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from app_harness import SIZE, cockpit, notices, open_workspace, propose_now, ready, screen_text, wait_for
from textual.widgets import Input

from omni_tui.core.errors import ConfigError
from omni_tui.ui.app import CockpitApp, run_cockpit
from omni_tui.ui.screens import ApproveScreen, ConfirmScreen, HelpScreen
from omni_tui.ui.screens.process_log import ProcessLogScreen

PANEL_TITLES = ("Changes", "Proposals", "Processes", "Rebuild log")


@pytest.mark.parametrize("size", [(120, 34), (80, 24)])
async def test_all_four_panels_header_and_footer_are_visible(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, watch=False, display_root="~/proj")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = screen_text(app)
        for title in PANEL_TITLES:
            assert f"─ {title} ─" in text
        first = text.splitlines()[0]
        assert "CLEAN" in first and "~/proj" in first
        await wait_for(pilot, lambda: "Approve" in screen_text(app).splitlines()[-1], what="the footer")
        footer = screen_text(app).splitlines()[-1]
        assert "Reject" in footer and "Help" in footer
        assert footer.rstrip().endswith("^p Commands") if size[0] >= 100 else "q Quit" in footer and footer.rstrip().endswith("^p"), footer


async def test_tab_moves_between_panels_and_z_maximises_the_focused_one(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.main.focused_panel() == "proposals-panel"
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            seen.append(app.main.focused_panel())
        assert seen == ["processes-panel", "rebuild-panel", "changes-panel", "proposals-panel"]
        await pilot.press("shift+tab")
        assert app.main.focused_panel() == "changes-panel"
        await pilot.press("z")
        await pilot.pause()
        text = screen_text(app)
        assert "─ Changes ─" in text and "─ Proposals ─" not in text and "─ Processes ─" not in text
        await pilot.press("z")
        await pilot.pause()
        assert all(f"─ {title} ─" in screen_text(app) for title in PANEL_TITLES)


async def test_unavailable_actions_are_greyed_and_pressing_them_says_why(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.check_action("approve", ()) is None  # disabled but shown in the footer
        assert app.check_action("cancel_rebuild", ()) is False  # shown only while a rebuild runs
        assert app.check_action("restart_process", ()) is False  # another panel's action: hidden
        await pilot.press("a")
        await wait_for(pilot, lambda: "No proposal selected" in screen_text(app), what="the reason")
        await pilot.press("c")
        await wait_for(pilot, lambda: "No rebuild is running" in screen_text(app), what="the reason for c")
        await pilot.press("R")
        await wait_for(pilot, lambda: "Processes panel" in screen_text(app), what="the reason for R")
        assert not isinstance(app.screen, (ApproveScreen, ConfirmScreen))
        propose_now(project, "devenv.nix", (project / "devenv.nix").read_text() + "\n", title="Newline")
        await wait_for(pilot, lambda: app.check_action("approve", ()) is True, what="approve to become available")


async def test_keys_are_remapped_from_the_config(project: Path) -> None:
    ws = open_workspace(project, extra='[keys]\napprove = "y"\nhelp = "F1"\n')
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        propose_now(project, "devenv.nix", (project / "devenv.nix").read_text() + "\n", title="Newline")
        await wait_for(pilot, lambda: app.check_action("approve", ()) is True, what="the proposal")
        await wait_for(pilot, lambda: "y Approve" in screen_text(app).splitlines()[-1], what="the footer showing y")
        await pilot.press("a")  # no longer bound
        await pilot.pause()
        assert not isinstance(app.screen, ApproveScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="approve on its new key")
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApproveScreen), what="the modal to close")
        await pilot.press("f1")
        await wait_for(pilot, lambda: ready(app, HelpScreen), what="help on F1")
        help_text = screen_text(app)
        assert "Approve the selected proposal" in help_text
        assert "y  " in help_text or " y " in help_text


def test_a_bad_keys_table_is_a_one_line_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = open_workspace(project, extra='[keys]\napprov = "y"\n')
    with pytest.raises(ConfigError, match=r"\[keys\] approv: unknown action"):
        CockpitApp(ws)
    assert run_cockpit(ws) == 2
    err = capsys.readouterr().err
    assert err.startswith("omni-tui: [keys] approv: unknown action") and err.count("\n") == 1


async def test_command_palette_lists_the_actions_and_switches_themes(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "omni-dark"
        await pilot.press("ctrl+p")
        await pilot.pause()
        for key in "rollback":
            await pilot.press(key)
        await wait_for(pilot, lambda: "Rollback  (b)" in screen_text(app), what="the action in the palette")
        assert "[keys] rollback" in screen_text(app)
        for _ in "rollback":
            await pilot.press("backspace")
        # Typed once the field shows empty: Textual acts on a backspace when its key has bubbled up to
        # the App, so a letter typed right behind it could land first.
        await wait_for(pilot, lambda: app.screen.query_one(Input).value == "", what="the query cleared")
        for key in "proc":  # a panel's name finds its actions
            await pilot.press(key)
        await wait_for(pilot, lambda: "Restart  (R)" in screen_text(app), what="the Processes panel's actions")
        assert "Stop  (x)" in screen_text(app) and "Log  (l)" in screen_text(app)
        for _ in "proc":
            await pilot.press("backspace")
        await wait_for(pilot, lambda: app.screen.query_one(Input).value == "", what="the query cleared")
        for key in "omni-light":
            await pilot.press("minus" if key == "-" else key)
        await wait_for(pilot, lambda: "Theme: omni-light" in screen_text(app), what="the theme command")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme == "omni-light", what="the theme switch")


async def test_without_devenv_or_a_command_it_says_so_once_and_still_works(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no devenv here
    ws = open_workspace(project, command=None)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        lines = list(app.log_view.lines)
        assert any("no rebuild command" in line for line in lines)
        # The log does not wrap build output; its own note is wrapped to the panel, so it is read
        # whole without scrolling sideways.
        log = app.log_view
        assert all(len(line) <= log.scrollable_content_region.width for line in lines), (lines, log.scrollable_content_region)

        def log_text() -> str:
            region = log.content_region
            rows = screen_text(app).splitlines()[region.y : region.bottom]
            return " ".join(" ".join(row[region.x : region.right].split()) for row in rows)

        await wait_for(pilot, lambda: "approving needs a rebuild command." in log_text(), what="the note's last words in the panel")
        assert "devenv is not on PATH" in log_text()
        await wait_for(pilot, lambda: notices(app, "no rebuild command"), what="the toast")
        await pilot.pause(0.2)
        assert notices(app, "no rebuild command") == 1
        pid = propose_now(project, "devenv.nix", (project / "devenv.nix").read_text() + "\n", title="Newline")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal")
        assert app.check_action("approve", ()) is None
        assert app.check_action("reject", ()) is True
        (project / "devenv.nix").write_text("{ }\n")
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the direct edit to show")


@pytest.fixture
def project_process(project: Path):
    """A real long-running process that belongs to the project (DEVENV_ROOT set, its own session)."""
    env = {**os.environ, "DEVENV_ROOT": str(project)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time\nprint('worker up', flush=True)\nwhile True: time.sleep(0.2)"],
        env=env,
        cwd=project,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


async def test_a_real_process_appears_its_log_opens_and_stop_asks_first(project: Path, project_process) -> None:
    # No process manager started it: listed at once (by default after 30 s alive, which raced the
    # test's own 30 s wait for it on a loaded machine).
    ws = open_workspace(project, extra="[processes]\nunmanaged_after_s = 0\n")
    app = CockpitApp(ws, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: app.review.processes is not None and any(p.pid == project_process.pid for p in app.review.processes.processes),
            what="the process in the snapshot",
        )
        await wait_for(pilot, lambda: str(project_process.pid) in screen_text(app), what="its pid in the table")
        assert "psutil" in screen_text(app)
        await pilot.press("tab")  # Proposals → Processes
        assert app.main.focused_panel() == "processes-panel"
        await wait_for(pilot, lambda: app.review.selected_process is not None, what="a selected process")
        await pilot.press("l")
        await wait_for(pilot, lambda: ready(app, ProcessLogScreen), what="the log screen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ProcessLogScreen), what="the log screen to close")
        await pilot.press("x")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the stop confirmation")
        assert project_process.poll() is None  # nothing happens before the person confirms
        await pilot.press("y")
        deadline = time.monotonic() + 30
        while project_process.poll() is None and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert project_process.poll() is not None
