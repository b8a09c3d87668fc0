"""The approval flow in the real cockpit: a proposal from the CLI, approve / reject / partial / edit / cancel.

Every test runs `CockpitApp` under Pilot on a real temp workspace, with the real `omni-tui propose`
in another process as the agent and a real rebuild command.
"""

from __future__ import annotations

from pathlib import Path

from app_harness import (
    SIZE,
    approve_selected,
    cockpit,
    decision_of,
    notices,
    open_workspace,
    press_when_offered,
    propose,
    propose_now,
    ready,
    screen_text,
    wait_exit,
    wait_for,
)
from textual.widgets import TextArea

from omni_tui.core.textdiff import apply_hunks
from omni_tui.ui.app import CockpitApp
from omni_tui.ui.screens import ApproveScreen, EditScreen, RejectScreen

GOOD = """{ pkgs, lib, config, ... }:

{
  env.GREET = "hello";

  packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];

  languages.python.enable = true;

  processes.web.exec = "python -m http.server 8000";

  enterShell = ''
    echo "$GREET from devenv"
  '';
}
"""


class BellCountingApp(CockpitApp):
    """The real cockpit, counting how often it rings the terminal bell."""

    bells = 0

    def bell(self) -> None:
        self.bells += 1
        super().bell()


async def select_proposal(pilot, app, title: str) -> None:
    await wait_for(pilot, lambda: title in screen_text(app), what=f"proposal {title!r} in the queue")
    await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.title == title, what="the proposal selected")


async def test_cli_proposal_appears_rings_once_and_approve_applies_rebuilds_and_answers_the_agent(project: Path) -> None:
    ws = open_workspace(project)
    app = BellCountingApp(ws, poll_processes=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        agent = propose(project, "devenv.nix", GOOD, title="Add ripgrep", why="grep the repo faster", wait=True)
        await select_proposal(pilot, app, "Add ripgrep")
        # The header, the queue row and the detail's rationale land a frame or two apart.
        await wait_for(
            pilot,
            lambda: all(s in screen_text(app) for s in ("1 PENDING", "test-agent", "pending", "Why: grep the repo faster")),
            what="the gate state in the header, the queue row and the rationale",
        )
        assert app.bells == 1
        await wait_for(pilot, lambda: "New proposal" in screen_text(app), what="the notification")
        # validation runs in a worker and lands in the queue's badge and the detail panel
        await wait_for(pilot, lambda: "✓ ok" in screen_text(app), what="the validation badge")
        await wait_for(pilot, lambda: "base current" in screen_text(app), what="the checks in the detail panel")

        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal")
        modal = screen_text(app)
        assert "devenv.nix" in modal and "+1" in modal and "-1" in modal
        assert "echo building; sleep 0.2; echo done" in modal
        await pilot.press("y")

        pid = app.detail.view.key
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "applied", what="the decision")
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the outcome in the log panel")
        log = screen_text(app)
        assert "building" in log and "done" in log and "✓ exit 0" in log
        assert (project / "devenv.nix").read_text() == GOOD
        assert await wait_exit(agent) == 0
        assert "applied" in agent.stdout.read()
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the gate back to CLEAN")
        assert app.bells == 1


async def test_reject_with_a_reason_reaches_the_agent_and_leaves_the_file(project: Path) -> None:
    ws = open_workspace(project)
    before = (project / "devenv.nix").read_bytes()
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        agent = propose(project, "devenv.nix", GOOD, title="Add ripgrep", wait=True)
        await select_proposal(pilot, app, "Add ripgrep")
        pid = app.detail.view.key
        await pilot.press("r")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject modal")
        await pilot.press("enter")  # an empty reason is refused: the modal stays, and says so
        # Typed once the refusal shows, as a person would: keys typed before the refused enter was
        # handled (its type-ahead is still draining) count as typed before it.
        await wait_for(pilot, lambda: "A reason is required" in screen_text(app), what="the refusal")
        assert isinstance(app.screen, RejectScreen)
        for key in "use fd instead":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "rejected", what="the rejection")
        assert decision_of(ws, pid).reason == "use fd instead"
        assert await wait_exit(agent) == 10
        assert (project / "devenv.nix").read_bytes() == before
        await wait_for(pilot, lambda: "rejected" in screen_text(app), what="the queue showing the rejection")


TWO_HUNKS_OLD = "{ pkgs, ... }:\n{\n  packages = [\n" + "".join(f"    pkgs.p{i}\n" for i in range(1, 31)) + "  ];\n}\n"


async def test_partial_approval_applies_exactly_the_chosen_hunks(project: Path) -> None:
    (project / "devenv.nix").write_text(TWO_HUNKS_OLD)
    ws = open_workspace(project)
    new = TWO_HUNKS_OLD.replace("pkgs.p3\n", "pkgs.three\n").replace("pkgs.p27\n", "pkgs.twenty-seven\n")
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        propose_now(project, "devenv.nix", new, title="Two edits")
        await select_proposal(pilot, app, "Two edits")
        assert app.detail.diff.hunk_count == 2
        await pilot.press("enter")  # into the proposal's diff
        await wait_for(pilot, lambda: app.focused is app.detail.diff, what="the diff focused")
        await pilot.press("n")  # to the first hunk
        await pilot.press("space")  # leave it out
        await wait_for(pilot, lambda: app.detail.diff.selected_hunks == {1}, what="hunk 0 left out")
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal")
        assert "1 of 2 hunks" in screen_text(app)
        await pilot.press("y")
        pid = app.detail.view.key
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "applied", what="the decision")
        assert (project / "devenv.nix").read_text() == apply_hunks(TWO_HUNKS_OLD, new, {1})
        assert "pkgs.p3\n" in (project / "devenv.nix").read_text()
        assert "pkgs.twenty-seven\n" in (project / "devenv.nix").read_text()
        applied = decision_of(ws, pid).files[0]
        assert applied.applied == "hunks" and tuple(applied.hunks) == (1,)


async def test_edit_before_approving_applies_the_edited_text(project: Path, builtin_editor: None) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        propose_now(project, "devenv.nix", GOOD, title="Add ripgrep")
        await select_proposal(pilot, app, "Add ripgrep")
        pid = app.detail.view.key
        await pilot.press("e")
        await wait_for(pilot, lambda: ready(app, EditScreen), what="the editor")
        app.screen.query_one(TextArea).insert("# reviewed by a person\n", (0, 0))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal after editing")
        await pilot.press("y")
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "applied", what="the decision")
        assert (project / "devenv.nix").read_text() == "# reviewed by a person\n" + GOOD
        assert decision_of(ws, pid).files[0].applied == "edited"


async def test_cancel_stops_a_running_rebuild_and_the_change_is_rolled_back(project: Path) -> None:
    ws = open_workspace(project, command="echo started; sleep 30; echo never")
    before = (project / "devenv.nix").read_bytes()
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        agent = propose(project, "devenv.nix", GOOD, title="Slow build", wait=True)
        await select_proposal(pilot, app, "Slow build")
        pid = app.detail.view.key
        await approve_selected(pilot)
        await wait_for(pilot, lambda: "started" in screen_text(app) and app.rebuilds.job is not None, what="the rebuild running")
        assert "REBUILDING" in screen_text(app)
        await press_when_offered(pilot, "c", "cancel_rebuild")
        await wait_for(pilot, lambda: app.rebuilds.job is None, timeout=20, what="the rebuild to stop")
        await wait_for(pilot, lambda: getattr(decision_of(ws, pid), "status", None) == "rolled_back", what="the rollback")  # the default
        assert (project / "devenv.nix").read_bytes() == before
        await wait_for(pilot, lambda: "cancelled" in screen_text(app), what="the cancel shown")
        assert "never" not in app.log_view.lines  # the command did not run on after the cancel
        assert await wait_exit(agent) == 11


BUILD_NIX = """let src = builtins.readFile ./devenv.nix; in
derivation {
  name = "env-check";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  # The project path makes the derivation new in every test run, so Nix really builds it.
  args = [ "-c" "echo checking the environment; echo ${toString ./.} ${builtins.hashString "sha256" src} > $out" ];
}
"""


async def test_approve_with_a_real_nix_build(project: Path, need_nix: None) -> None:
    (project / "build.nix").write_text(BUILD_NIX)
    ws = open_workspace(project, command="nix-build --option substituters '' --log-format internal-json -v --no-out-link build.nix")
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        agent = propose(project, "devenv.nix", GOOD, title="Add ripgrep", wait=True)
        await select_proposal(pilot, app, "Add ripgrep")
        await wait_for(pilot, lambda: "Nix parses" in screen_text(app), what="nix-instantiate's verdict")
        pid = app.detail.view.key
        await approve_selected(pilot)
        await wait_for(pilot, lambda: (d := decision_of(ws, pid)) is not None and d.status == "applied", timeout=120, what="the build")
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the outcome")
        lines = list(app.log_view.lines)
        assert any("env-check> checking the environment" in line for line in lines), lines
        assert "✓ exit 0" in screen_text(app)
        assert await wait_exit(agent) == 0


async def test_a_failed_rebuild_without_auto_rollback_offers_b_which_restores_the_file(project: Path) -> None:
    ws = open_workspace(project, command="echo compiling; echo 'error: attribute missing' >&2; exit 3", extra="auto_rollback = false\n")
    before = (project / "devenv.nix").read_bytes()
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        agent = propose(project, "devenv.nix", GOOD, title="Breaks the build", wait=True)
        await select_proposal(pilot, app, "Breaks the build")
        pid = app.detail.view.key
        assert app.check_action("rollback", ()) is False  # shown only after a failed rebuild
        await approve_selected(pilot)
        await wait_for(pilot, lambda: "FAILED — rollback?" in screen_text(app), what="the failed gate state")
        # The header reads the gate from disk; the log's lines and verdict arrive as the job's messages.
        await wait_for(
            pilot,
            lambda: "✗ exit 3" in screen_text(app) and "press b to roll back" in screen_text(app),
            what="the verdict and the way out in the log",
        )
        lines = list(app.log_view.lines)
        assert "error: attribute missing" in lines
        # The build's own last lines come before the gate's verdict on them, never after.
        stage_lines = [i for i, line in enumerate(lines) if line.startswith("· ") and "fail" in line]
        assert stage_lines and lines.index("error: attribute missing") < stage_lines[-1], lines
        assert (project / "devenv.nix").read_text() == GOOD  # left in place until the person decides
        assert decision_of(ws, pid).status == "failed"
        assert await wait_exit(agent) == 11
        await wait_for(pilot, lambda: "b Rollback" in screen_text(app).splitlines()[-1], what="b in the footer")
        await pilot.press("b")
        await wait_for(pilot, lambda: "Roll back the failed change?" in screen_text(app), what="the rollback's confirmation")
        text = screen_text(app)
        assert "Puts back what “Breaks the build” replaced" in text and "• devenv.nix: back to the content approved before" in text
        assert decision_of(ws, pid).status == "failed"  # nothing before the answer
        await pilot.press("y")
        await wait_for(pilot, lambda: decision_of(ws, pid).status == "rolled_back", what="the rollback")
        assert (project / "devenv.nix").read_bytes() == before
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the gate back to CLEAN")


async def quit_mid_rebuild(pilot, app: CockpitApp) -> None:
    """Approve the selected proposal, and press `q` once its rebuild prints "started": the question shows."""
    await approve_selected(pilot)
    await wait_for(pilot, lambda: "started" in app.log_view.lines, what="the rebuild running")
    await pilot.press("q")
    await wait_for(pilot, lambda: "Quit while a rebuild runs?" in screen_text(app), what="the quit confirmation")


async def test_quitting_during_a_rebuild_asks_then_cancels_and_rolls_back_before_exiting(project: Path) -> None:
    ws = open_workspace(project, command="echo started; sleep 30")
    before = (project / "devenv.nix").read_bytes()
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        pid = propose_now(project, "devenv.nix", GOOD, title="Slow build")
        await select_proposal(pilot, app, "Slow build")
        await quit_mid_rebuild(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.return_code is not None, timeout=30, what="the app to exit")
    assert decision_of(ws, pid).status == "rolled_back"
    assert (project / "devenv.nix").read_bytes() == before


async def test_the_quit_question_closes_when_the_rebuild_ends_first(project: Path) -> None:
    """Asked "quit while a rebuild runs?", the person waits; the build ends: the question no longer applies."""
    release = project.parent / "release"  # the build ends when the test says so, not after a fixed time
    ws = open_workspace(project, command=f"echo started; while [ ! -e {release} ]; do sleep 0.05; done")
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        pid = propose_now(project, "devenv.nix", GOOD, title="Short build")
        await select_proposal(pilot, app, "Short build")
        await quit_mid_rebuild(pilot, app)
        release.touch()
        await wait_for(pilot, lambda: "Quit while a rebuild runs?" not in screen_text(app), timeout=30, what="the question closed")
        assert decision_of(ws, pid).status == "applied" and app.return_code is None
        await wait_for(pilot, lambda: notices(app, "q quits now"), what="the toast saying q now quits")


async def test_after_a_decision_the_next_pending_proposal_is_selected(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        first = propose_now(project, "devenv.nix", GOOD, title="First")
        second = propose_now(project, "devenv.nix", GOOD.replace("ripgrep", "fd"), title="Second")
        await select_proposal(pilot, app, "First")
        await wait_for(pilot, lambda: "Second" in screen_text(app), what="both proposals")
        await pilot.press("r")
        await wait_for(pilot, lambda: ready(app, RejectScreen), what="the reject modal")
        for key in "no":
            await pilot.press(key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: decision_of(ws, first) is not None, what="the rejection")
        await wait_for(pilot, lambda: app.review.selected_key == second, what="the next proposal selected")
        assert app.detail.view.title == "Second"
