"""The Processes panel in the cockpit: the rebuild is not a project process, honcho rows and what stopping one does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from app_harness import (
    SIZE,
    approve_selected,
    decision_of,
    edited,
    open_workspace,
    press_when_offered,
    propose_now,
    ready,
    screen_text,
    wait_for,
)

from omni_tui.ui.app import CockpitApp


async def test_the_cockpits_own_rebuild_is_not_listed_as_a_project_process(project: Path) -> None:
    """The rebuild runs in the project directory (nix-build, sleep): the Processes panel must not list it."""
    import os
    import signal
    import subprocess
    import sys

    import psutil

    # unmanaged_after_s = 0: the one-off worker (not listening, seconds old) is listed from the first scan, as
    # is every other process in the project not excluded — so the rebuild's sleep is absent only by exclusion.
    ws = open_workspace(project, command="sleep 31.25; echo done", extra="[processes]\nunmanaged_after_s = 0\n")
    env = {**os.environ, "DEVENV_ROOT": str(project)}
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time\nwhile True: time.sleep(0.2)"], env=env, cwd=project, start_new_session=True
    )
    app = CockpitApp(ws, watch=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
            await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
            await approve_selected(pilot)

            def sleeper() -> int | None:
                for proc in psutil.process_iter(["cmdline"]):
                    if proc.info["cmdline"] and proc.info["cmdline"][-1:] == ["31.25"]:
                        return proc.pid
                return None

            rebuild_pid = await wait_for(pilot, sleeper, what="the rebuild's sleep running")
            seen = []
            # Two snapshots taken while it runs: the project's process is there, the rebuild's are not.
            await wait_for(
                pilot,
                lambda: (app.review.processes not in seen and seen.append(app.review.processes)) or len(seen) > 2,
                what="two fresh process scans",
            )
            pids = {p.pid for p in app.review.processes.processes}
            names = {p.name for p in app.review.processes.processes}
            assert worker.pid in pids
            assert rebuild_pid not in pids and "sleep" not in names and "sh" not in names
            assert "REBUILDING" in screen_text(app)
            # The state cell grew with its text: "rebuilding", not "rebuild" cut to the width "pending" had.
            row = next(line for line in screen_text(app).splitlines() if "test-agent  Ripgrep" in line)
            assert "rebuilding " in row
            await press_when_offered(pilot, "c", "cancel_rebuild")
            await wait_for(pilot, lambda: getattr(decision_of(ws, pid), "status", None) == "rolled_back", what="the cancel")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)


@contextlib.asynccontextmanager
async def honcho_cockpit(project: Path, select: str) -> AsyncIterator[tuple[CockpitApp, Any, Any]]:
    """Real honcho running web and worker for the project, the cockpit on it, `select` chosen in Processes."""
    from test_processes_psutil import WEB, WORKER_LINE, Honcho

    honcho = Honcho(project, WEB + WORKER_LINE)
    try:
        app = CockpitApp(open_workspace(project), watch=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                pilot,
                lambda: (
                    app.review.processes is not None and {"honcho", "web", "worker"} <= {p.name for p in app.review.processes.processes}
                ),
                what="honcho and its processes in the table",
            )
            await pilot.press("tab")  # Proposals → Processes
            app.process_table.select_name(select)
            await wait_for(pilot, lambda: app.review.selected_process == select, what=f"the {select} row selected")
            yield app, pilot, honcho
    finally:
        honcho.close()


async def test_l_on_the_honcho_row_shows_the_managers_own_output(project: Path) -> None:
    from omni_tui.ui.screens.process_log import ProcessLogScreen

    async with honcho_cockpit(project, "honcho") as (app, pilot, _honcho):
        await pilot.press("l")
        await wait_for(pilot, lambda: ready(app, ProcessLogScreen), what="the log screen")
        await wait_for(pilot, lambda: "started (pid=" in screen_text(app), what="honcho's own system lines")
        assert "unavailable" not in screen_text(app)
        assert "worker line" in screen_text(app)  # the whole captured output, every process's lines


async def test_lines_for_a_log_just_closed_are_dropped(project: Path) -> None:
    """Escape pops the log screen at once and forgets it a moment later; the follower's lines that
    arrive between went to a screen whose widgets were being removed."""
    from omni_tui.ui.messages import ProcessLogLines
    from omni_tui.ui.screens.process_log import ProcessLogScreen

    async with honcho_cockpit(project, "honcho") as (app, pilot, _honcho):
        await pilot.press("l")
        await wait_for(pilot, lambda: ready(app, ProcessLogScreen) and "started (pid=" in screen_text(app), what="the log screen")
        screen = app.screen
        assert isinstance(screen, ProcessLogScreen)
        screen.dismiss()
        app.process_flow.log_lines(ProcessLogLines(screen.name_shown, ("a line after the close",)))
        assert "a line after the close" not in screen.log_view.lines
        await wait_for(pilot, lambda: not isinstance(app.screen, ProcessLogScreen), what="the log screen gone")
        await pilot.press("l")  # and the log opens again
        await wait_for(pilot, lambda: ready(app, ProcessLogScreen) and "started (pid=" in screen_text(app), what="the log again")


async def test_stopping_one_of_honchos_processes_warns_that_honcho_stops_them_all(project: Path) -> None:
    from omni_tui.ui.screens import ConfirmScreen

    async with honcho_cockpit(project, "worker") as (app, pilot, honcho):
        await pilot.press("x")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the stop confirmation")
        assert "honcho stops all its processes when one ends" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the confirmation closed")
        assert honcho.proc.poll() is None
