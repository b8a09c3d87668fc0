"""Rebuilds seen from a cockpit: another cockpit's rebuild streamed read-only and named by title, the progress row's duration, quitting mid-rebuild."""

from __future__ import annotations

import time
from pathlib import Path

from app_harness import (
    SIZE,
    approve_selected,
    cockpit,
    decision_of,
    edited,
    notices,
    open_workspace,
    propose_now,
    ready,
    screen_text,
    wait_for,
)

from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.screens import ApproveScreen


async def test_a_rebuild_run_elsewhere_streams_here_and_approving_meanwhile_says_who_holds_the_gate(project: Path) -> None:
    import subprocess

    from app_harness import cli, wait_exit

    slow = "echo step-one; sleep 1.5; echo step-two; sleep 1.5; echo step-three"
    ws = open_workspace(project, command=slow)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        other = subprocess.Popen(cli("rebuild", "-C", str(project)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await wait_for(pilot, lambda: "following its log" in screen_text(app), what="the other rebuild followed here")
        await wait_for(pilot, lambda: "step-two" in screen_text(app), what="its log streaming here")
        assert "REBUILDING" in screen_text(app)
        await pilot.press("a")
        await wait_for(pilot, lambda: notices(app, "running in another cockpit"), what="why approving waits")
        assert not isinstance(app.screen, ApproveScreen)
        assert await wait_exit(other) == 0
        await wait_for(
            pilot, lambda: "step-three" in screen_text(app) and "✓ rebuilt" in screen_text(app), what="the end of the other rebuild"
        )
        assert "building" not in app.log_view.progress_text()  # the phase ended with the exit code
        assert decision_of(ws, pid) is None  # nothing was applied here
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="approving possible again")


async def test_a_rebuild_in_another_cockpit_is_named_by_the_proposals_title(project: Path, tmp_path: Path) -> None:
    """The second cockpit's header, log and 'busy' message said `approve of 20261126T145447Z-388d01`:
    an id nobody reads. They name the proposal as the queue does, by its title."""
    import subprocess
    import sys

    ws = open_workspace(project)
    pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.curl"), title="Add curl")
    release = tmp_path / "release"
    holding = tmp_path / "holding"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time, pathlib\n"
                "from omni_tui.core.workspace import Workspace\n"
                "from omni_tui.core.gate import Gate\n"
                "with Gate(Workspace.open(sys.argv[1]), who='bob').exclusive('approve', sys.argv[2]):\n"
                "    pathlib.Path(sys.argv[3]).write_text('')\n"
                "    while not pathlib.Path(sys.argv[4]).exists(): time.sleep(0.05)\n"
            ),
            str(project),
            pid,
            str(holding),
            str(release),
        ]
    )
    try:
        app = cockpit(ws)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: holding.exists(), what="the other cockpit holding the gate")
            await wait_for(pilot, lambda: "approve of “Add curl” by bob" in screen_text(app), what="the holder named")
            assert pid not in screen_text(app)
            # The read-only log's progress row names it the same way, not "approve by bob".
            await wait_for(pilot, lambda: "approve “Add curl” by bob" in app.log_view.progress_text(), what="the progress row")
            # What `a` on another proposal answers meanwhile.
            assert app.review.busy_reason().startswith("The gate is busy: approve of “Add curl” by bob (pid ")
    finally:
        release.write_text("")
        holder.wait(30)


async def test_the_progress_row_ends_on_the_duration_the_decision_records(project: Path, monkeypatch) -> None:
    """The row's clock starts when approving starts (validate, write, rebuild); at the end it shows the
    rebuild's measured duration, as the log's outcome line and the decision do, not the approval's."""
    from omni_tui.core.gate import Gate

    validate = Gate.validate

    def slow_validate(self, *args, **kwargs):  # a slow Nix parse before the rebuild starts
        time.sleep(0.8)
        return validate(self, *args, **kwargs)

    monkeypatch.setattr(Gate, "validate", slow_validate)
    ws = open_workspace(project, command="echo built")
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"), title="Htop")
        await wait_for(pilot, lambda: app.review.selected_key == pid and app.check_action("approve", ()) is True, what="the proposal")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the outcome")
        duration = ProposalStore(ws).decision(pid).duration_s
        assert duration < 0.8
        assert "✓ exit 0 · " in app.log_view.progress_text()
        assert app.log_view.progress_text().endswith(f"{duration:.1f} s")


def test_quitting_during_a_rebuild_says_what_became_of_the_change(need_tmux: None, project: Path, tmp_path: Path) -> None:
    """`q`, `y` mid-rebuild cancels it and rolls the change back; the terminal the cockpit returns to
    says so (before, the person was left at the prompt without a word)."""
    import os
    import time
    import uuid

    from test_tmux import Pane, _command

    (project / "omni-tui.toml").write_text('[rebuild]\ncommand = "echo building; sleep 120"\n')
    env = {
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    original = (project / "devenv.nix").read_text()
    pane = Pane(f"omni-tui-test-{uuid.uuid4().hex[:8]}")
    try:
        status_file = tmp_path / "cockpit.status"
        pane.start([*_command(), str(project)], env, project, status_file)
        pane.wait_for("CLEAN")
        propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.redis"), title="Add redis")
        pane.wait_for("Why: faster search")  # the proposal selected in the queue, its detail shown
        pane.keys("a")
        pane.wait_for("Approve: Add redis")
        pane.keys("y")
        pane.wait_for("building")
        pane.keys("q")
        pane.wait_for("Quit while a rebuild runs?")
        pane.keys("y")
        deadline = time.monotonic() + 60
        while pane.pane("pane_dead") != "1" and time.monotonic() < deadline:
            time.sleep(0.2)
        # What the person reads above their prompt (wrapped at the pane's width: rejoined).
        terminal = pane.tmux("capture-pane", "-p", "-S", "-200", "-t", "cockpit")
        flat = " ".join(line.strip() for line in terminal.splitlines() if line.strip())
        said = flat[flat.find("omni-tui: quit during a rebuild") :]
        assert said and "Add redis" in said and "rolled back" in said and "rebuild cancelled" in said, terminal
        assert (project / "devenv.nix").read_text() == original
    finally:
        pane.kill()
