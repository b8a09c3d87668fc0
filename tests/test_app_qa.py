"""What QA found using the cockpit as its users do, each pinned by a test that failed before the fix.

Every test runs the real `CockpitApp` under Pilot on a real temp workspace, with the real
`omni-tui propose` as the agent and a real rebuild command.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual import events

from app_harness import SIZE, approve_selected, decision_of, edited, notices, open_workspace, propose_now, ready, screen_text, wait_for
from omni_tui.ui.app import CockpitApp
from omni_tui.ui.screens import ApproveScreen, EditScreen, RejectScreen


async def test_a_proposal_arriving_after_a_decision_is_selected(project: Path) -> None:
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        first = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="First")
        await wait_for(pilot, lambda: app.review.selected_key == first, what="the first proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: getattr(decision_of(ws, first), "status", None) == "applied", what="the approval")
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the rebuild's end")
        # Nothing is pending now; the agent sends its next proposal.
        second = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.fd"), title="Second")
        await wait_for(pilot, lambda: app.review.selected_key == second, what="the new proposal selected")
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.title == "Second", what="its detail")
        # `r` now acts on the new one, not on the applied one.
        await pilot.press("r")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject modal")
        assert app.screen.proposal_title == "Second"


async def test_a_reason_typed_and_entered_at_once_is_the_reason_recorded(project: Path) -> None:
    """Keys arriving in one burst (tmux send-keys, a paste, a fast typist): enter must not overtake the text."""
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.mysql57"), title="MySQL")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await pilot.press("r")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject modal")
        reason = "no mysql please"
        # As the terminal driver delivers them: every key posted to the app before any is handled.
        for char in reason:
            app.post_message(events.Key("space" if char == " " else char, char))
        app.post_message(events.Key("enter", "\r"))
        await wait_for(pilot, lambda: decision_of(ws, pid) is not None, what="the rejection")
        assert decision_of(ws, pid).reason == reason
        assert not isinstance(app.screen, RejectScreen)


async def test_text_typed_and_saved_at_once_in_the_editor_is_what_is_approved(project: Path, builtin_editor: None) -> None:
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await pilot.press("e")
        await wait_for(pilot, lambda: ready(app, EditScreen), what="the editor")
        for char in "# ok":
            app.post_message(events.Key("space" if char == " " else char, char))
        app.post_message(events.Key("ctrl+s", None))
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal after saving")
        assert app.review.edited[pid]["devenv.nix"].startswith("# ok")


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_a_long_title_is_cropped_so_the_state_and_check_stay_in_view(project: Path, size: tuple[int, int]) -> None:
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    title = "Add ripgrep and a local Redis for the job queue, and the MySQL client for imports"
    async with app.run_test(size=size) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title=title)
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await wait_for(pilot, lambda: app.review.validations.get(pid), what="the validation")

        def queue_line() -> str:
            return next((line for line in screen_text(app).splitlines() if "test-agent " in line and "Add rip" in line), "")

        await wait_for(pilot, lambda: "pending" in queue_line() and "✓ ok" in queue_line(), what="state and check in the row")
        assert "…" in queue_line()  # the title gave way, visibly
        assert "State" in screen_text(app) and "Check" in screen_text(app)


async def test_the_accept_edits_modal_validates_the_direct_edits_and_blocks_a_syntax_error(project: Path, need_nix: None) -> None:
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the gate state")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept confirmation")
        await wait_for(pilot, lambda: "✓ Nix parses" in (t := screen_text(app)) and "size/encoding ok" in t,
                       what="the Nix check passed")
        assert "not validated" not in screen_text(app) and "base current" not in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApproveScreen), what="the modal closed")

        (project / "devenv.nix").write_text(edited(project, "pkgs.htop ];", "pkgs.htop ;"))
        await wait_for(pilot, lambda: "−1" in screen_text(app) and app.review.unapproved(), what="the broken edit shown")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept confirmation")
        await wait_for(pilot, lambda: all(s in screen_text(app) for s in ("Cannot approve", "✗ Nix", "devenv.nix:")),
                       what="the syntax error blocking")
        await pilot.press("y")  # blocked: nothing happens
        await pilot.pause(0.3)
        assert isinstance(app.screen, ApproveScreen) and app.rebuilds.job is None


async def test_the_accept_edits_modal_names_an_edit_that_is_not_utf8(project: Path) -> None:
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        (project / "devenv.nix").write_bytes((project / "devenv.nix").read_bytes().replace(b"hello", b"h\xe9llo"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the gate state")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept confirmation")
        await wait_for(pilot, lambda: "not valid UTF-8" in screen_text(app), what="the encoding check")
        assert "Cannot approve" in screen_text(app)


async def test_the_open_approve_modal_shows_a_validation_that_finishes_after_it_opened(project: Path) -> None:
    """The file changes under an open approve modal: the re-check says stale there, and approving is blocked."""
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.review.validations.get(pid), what="the proposal checked")
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal")
        assert "base current" in screen_text(app) and "Cannot approve" not in screen_text(app)
        (project / "devenv.nix").write_text(edited(project, '"hello"', '"bonjour"'))
        await wait_for(pilot, lambda: "Cannot approve" in screen_text(app), what="the stale base blocking")
        assert "stale" in screen_text(app)
        await pilot.press("y")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ApproveScreen) and app.rebuilds.job is None


async def test_the_cockpits_own_rebuild_is_not_listed_as_a_project_process(project: Path) -> None:
    """The rebuild runs in the project directory (nix-build, sleep): the Processes panel must not list it."""
    import os
    import signal
    import subprocess
    import sys

    import psutil

    ws = open_workspace(project, command="sleep 31.25; echo done")
    env = {**os.environ, "DEVENV_ROOT": str(project)}
    worker = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.2)"], env=env, cwd=project,
                              start_new_session=True)
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
            await wait_for(pilot, lambda: (app.review.processes not in seen and seen.append(app.review.processes)) or len(seen) > 2,
                           what="two fresh process scans")
            pids = {p.pid for p in app.review.processes.processes}
            names = {p.name for p in app.review.processes.processes}
            assert worker.pid in pids
            assert rebuild_pid not in pids and "sleep" not in names and "sh" not in names
            assert "REBUILDING" in screen_text(app)
            # The state cell grew with its text: "rebuilding", not "rebuild" cut to the width "pending" had.
            row = next(line for line in screen_text(app).splitlines() if "test-agent  Ripgrep" in line)
            assert "rebuilding " in row
            await pilot.press("c")
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
            await wait_for(pilot, lambda: app.review.processes is not None and {"honcho", "web", "worker"} <= {p.name for p in app.review.processes.processes},
                           what="honcho and its processes in the table")
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


async def test_a_rebuild_run_elsewhere_streams_here_and_approving_meanwhile_says_who_holds_the_gate(project: Path) -> None:
    import subprocess

    from app_harness import cli, wait_exit

    slow = "echo step-one; sleep 1.5; echo step-two; sleep 1.5; echo step-three"
    ws = open_workspace(project, command=slow)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        other = subprocess.Popen(cli("rebuild", "-C", str(project)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await wait_for(pilot, lambda: "following its log" in screen_text(app), what="the other rebuild followed here")
        await wait_for(pilot, lambda: "step-two" in screen_text(app), what="its log streaming here")
        assert "REBUILDING" in screen_text(app)
        await pilot.press("a")
        await wait_for(pilot, lambda: notices(app, "running in another cockpit"),
                       what="why approving waits")
        assert not isinstance(app.screen, ApproveScreen)
        assert await wait_exit(other) == 0
        await wait_for(pilot, lambda: "step-three" in screen_text(app) and "✓ rebuilt" in screen_text(app),
                       what="the end of the other rebuild")
        assert "building" not in app.log_view.progress_text()  # the phase ended with the exit code
        assert decision_of(ws, pid) is None  # nothing was applied here
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="approving possible again")


async def test_an_applied_proposal_says_it_is_applied_not_that_there_is_nothing_to_apply(project: Path) -> None:
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the rebuild's end")
        # the change that was applied, from the backups (tests/test_app_history.py: without them)
        await wait_for(pilot, lambda: "Applied: before → after, from the backup" in screen_text(app),
                       what="the detail saying so")
        assert "pkgs.ripgrep" in screen_text(app)
        assert "Nothing to apply" not in screen_text(app)


async def test_every_theme_in_the_palette_can_be_chosen_with_a_proposal_and_a_partial_diff_on_screen(project: Path) -> None:
    """Choosing ansi-light from ctrl+p once ended the demo with a stylesheet error ($foreground-disabled)."""
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await pilot.press("enter", "space")  # its only hunk left out: drawn in $foreground-disabled
        await wait_for(pilot, lambda: app.review.hunks.get((pid, "devenv.nix")) == set(), what="the hunk left out")
        for name in sorted(app.available_themes):
            app.theme = name
            await pilot.pause()
            assert app.is_running and app.return_code is None, name
            assert "Ripgrep" in screen_text(app), name


async def test_stopping_one_of_honchos_processes_warns_that_honcho_stops_them_all(project: Path) -> None:
    from omni_tui.ui.screens import ConfirmScreen

    async with honcho_cockpit(project, "worker") as (app, pilot, honcho):
        await pilot.press("x")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the stop confirmation")
        assert "honcho stops all its processes when one ends" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the confirmation closed")
        assert honcho.proc.poll() is None


async def test_edit_after_leaving_out_a_hunk_starts_from_what_approving_would_write(project: Path, builtin_editor: None) -> None:
    from textual.widgets import TextArea

    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    two_hunks = edited(project, '"hello"', '"bonjour"').replace('echo "$GREET from devenv"', 'echo "$GREET from the shell"')
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", two_hunks, title="Two hunks")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.detail.diff.hunk_count == 2, what="the two-hunk proposal")
        await pilot.press("enter")  # into its diff, on the first hunk
        await pilot.press("space")  # leave the first hunk (the greeting) out
        await wait_for(pilot, lambda: app.review.hunks.get((pid, "devenv.nix")) == {1}, what="only the second hunk chosen")
        await pilot.press("e")
        await wait_for(pilot, lambda: ready(app, EditScreen), what="the editor")
        text = app.screen.query_one(TextArea).text
        assert '"hello"' in text and '"bonjour"' not in text  # the left-out hunk is not in the editor
        assert "from the shell" in text


async def test_approving_an_edit_that_breaks_the_syntax_is_blocked_in_the_modal(project: Path, need_nix: None, builtin_editor: None) -> None:
    """The modal checks what will be written (the person's edit), not only what the agent proposed."""
    ws = open_workspace(project)
    app = CockpitApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.review.validations.get(pid), what="the proposal checked")
        assert app.review.validations[pid][0].ok
        await pilot.press("e")
        await wait_for(pilot, lambda: ready(app, EditScreen), what="the editor")
        await pilot.press("{", "{", "ctrl+s")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal for the edit")
        await wait_for(pilot, lambda: "Cannot approve" in screen_text(app), what="the broken edit blocked")
        assert "✗ Nix" in screen_text(app) and "edited by you" in screen_text(app)
        await pilot.press("y")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ApproveScreen) and app.rebuilds.job is None


async def test_at_80_columns_a_long_workspace_path_gives_way_to_what_is_waiting(project: Path) -> None:
    ws = open_workspace(project)
    long_root = "/tmp/a-rather-long-directory/for-the-workspace/of-the-acme-shop/omni-tui-demo-abcdef"
    app = CockpitApp(ws, poll_processes=False, display_root=long_root)
    async with app.run_test(size=(80, 24)) as pilot:
        (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the gate state")
        header = screen_text(app).splitlines()[0]
        assert "devenv.nix" in header  # which file waits, whole
        assert "omni-tui-demo-abcdef" in header and "…" in header  # the path's end still names the workspace


async def test_a_workspace_path_that_fits_is_shown_whole(project: Path) -> None:
    ws = open_workspace(project)
    root = "DEMO · /tmp/pytest-of-root/pytest-393/test_demo_under_tmux_approve_r0/tmp/omni-tui-demo-hy804z7h"
    app = CockpitApp(ws, poll_processes=False, display_root=root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: root in screen_text(app).splitlines()[0], what="the whole path in the header")
