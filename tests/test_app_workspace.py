"""The cockpit watching a real workspace: live diffs, direct edits (revert, accept, guard mode), odd proposals."""

from __future__ import annotations

import json
from pathlib import Path

from app_harness import SIZE, cockpit, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.core.proposals import ProposalStore
from omni_tui.ui.screens import ApproveScreen, ConfirmScreen


async def test_a_direct_edit_shows_live_and_u_restores_the_exact_bytes(project: Path) -> None:
    ws = open_workspace(project)
    original = (project / "devenv.nix").read_bytes()
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        assert "CLEAN" in screen_text(app)
        assert "No changes against the baseline" in screen_text(app)
        (project / "devenv.nix").write_bytes(original.replace(b"pkgs.jq", b"pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the gate state")
        # The gate header and the diff's counts can land in different frames: wait for both.
        await wait_for(pilot, lambda: "+1 −1" in screen_text(app), what="the diff's counts")
        await pilot.press("shift+tab", "z")  # the Changes panel, maximised: whole lines visible
        await wait_for(pilot, lambda: app.screen.maximized is not None and "Proposals" not in screen_text(app), what="the panel maximised")
        text = screen_text(app)
        assert "+   packages = [ pkgs.git pkgs.jq pkgs.htop ];" in text
        assert "-   packages = [ pkgs.git pkgs.jq ];" in text
        await pilot.press("z")
        await wait_for(pilot, lambda: app.screen.maximized is None and "Proposals" in screen_text(app), what="the panel restored")
        await pilot.press("u")
        await wait_for(pilot, lambda: ready(app, ConfirmScreen), what="the revert confirmation")
        assert "devenv.nix" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: (project / "devenv.nix").read_bytes() == original, what="the bytes restored")
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the gate back to CLEAN")
        assert "No changes against the baseline" in screen_text(app)


async def test_accepting_direct_edits_rebuilds_and_makes_them_the_baseline(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        edited = (project / "devenv.nix").read_text().replace('"hello"', '"bonjour"')
        (project / "devenv.nix").write_text(edited)
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the gate state")
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept confirmation")
        # The summary is drawn a frame after the modal is ready (its body sizes to the card and checks).
        await wait_for(pilot, lambda: "Accept" in screen_text(app) and "+1 -1" in screen_text(app), what="the accept summary")
        await pilot.press("y")
        await wait_for(pilot, lambda: "applied and built" in screen_text(app), what="the rebuild")
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the gate back to CLEAN")
        assert ws.read_baseline("devenv.nix") == edited.encode()
        assert (project / "devenv.nix").read_text() == edited


async def test_guard_mode_turns_a_direct_edit_into_a_proposal_and_restores_the_file(project: Path) -> None:
    ws = open_workspace(project, extra='[guard]\nmode = "guard"\n')
    original = (project / "devenv.nix").read_bytes()
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        (project / "devenv.nix").write_bytes(original.replace(b"pkgs.jq", b"pkgs.jq pkgs.htop"))
        await wait_for(pilot, lambda: "direct-edit" in screen_text(app), what="the captured proposal in the queue")
        await wait_for(pilot, lambda: (project / "devenv.nix").read_bytes() == original, what="the file restored")
        entries = ProposalStore(ws).entries()
        assert [e.proposal.agent for e in entries] == ["direct-edit"]
        assert "pkgs.htop" in entries[0].proposal.changes[0].new_content
        await wait_for(pilot, lambda: "1 PENDING" in screen_text(app), what="the gate state")


async def test_several_changed_files_get_a_selector_and_f_switches(project: Path) -> None:
    (project / ".envrc").write_text("use devenv\n")
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        (project / "devenv.nix").write_text((project / "devenv.nix").read_text().replace("hello", "hey"))
        (project / ".envrc").write_text("use devenv\nexport FOO=1\n")
        await wait_for(pilot, lambda: "2 files · UNAPPROVED" in screen_text(app), what="both files in Changes")
        await wait_for(pilot, lambda: " devenv.nix │ .envrc " in screen_text(app), what="the file selector")
        await pilot.press("tab")  # Proposals → Processes? no: the queue has focus; tab goes to the next panel
        await pilot.press("shift+tab", "shift+tab")
        assert app.main.focused_panel() == "changes-panel"
        assert app.changes_diff.path == "devenv.nix"
        await pilot.press("f")
        await wait_for(pilot, lambda: app.changes_diff.path == ".envrc", what="the selector to switch files")
        assert "+ export FOO=1" in screen_text(app)


async def test_invalid_stale_and_withdrawn_proposals_are_shown_plainly(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        (ws.paths.proposals / "broken.json").write_text(json.dumps({"schema": "omni-tui/proposal@1", "id": "x"}))
        await wait_for(pilot, lambda: app.workspace.quarantined, what="the quarantined file")
        await wait_for(pilot, lambda: "✗ invalid" in screen_text(app), what="the quarantined file in the queue")
        app.queue.select_key(next(iter(app.workspace.quarantined)))
        await wait_for(pilot, lambda: "quarantined: missing field `agent`" in screen_text(app), what="its error in the detail")

        content = (project / "devenv.nix").read_text()
        stale = propose_now(project, "devenv.nix", content.replace("hello", "salut"), title="Greet in French")
        await wait_for(pilot, lambda: "Greet in French" in screen_text(app), what="the proposal")
        (project / "devenv.nix").write_text(content.replace("pkgs.jq", "pkgs.yq"))  # the base moves under it
        await wait_for(pilot, lambda: "✗ stale" in screen_text(app), what="the stale badge")

        gone = propose_now(project, "devenv.nix", content + "\n", title="Trailing newline")
        await wait_for(pilot, lambda: "Trailing newline" in screen_text(app), what="the second proposal")
        import subprocess

        from app_harness import cli

        subprocess.run(cli("withdraw", "-C", str(project), gone), check=True, capture_output=True, timeout=60)
        await wait_for(pilot, lambda: ProposalStore(ws).status(gone) == "withdrawn", what="the withdrawal")
        await wait_for(pilot, lambda: "withdrawn" in screen_text(app), what="withdrawn in the queue")
        app.queue.select_key(gone)
        await wait_for(pilot, lambda: app.detail.view is not None and app.detail.view.key == gone, what="the selection")
        await pilot.press("a")
        await wait_for(pilot, lambda: "no longer pending" in screen_text(app), what="the reason approve is unavailable")
        assert not isinstance(app.screen, ApproveScreen)
        assert ProposalStore(ws).status(stale) == "pending"


async def test_agent_text_is_shown_literally_never_as_markup_or_escapes(project: Path) -> None:
    ws = open_workspace(project)
    app = cockpit(ws)
    title = "[b]Add[/b] [@click=app.quit]jq[/]"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        propose_now(
            project, "devenv.nix", (project / "devenv.nix").read_text() + "\n", title=title, why="line one\n\x1b[2Jcleared? [red]no[/red]"
        )
        await wait_for(pilot, lambda: "New proposal" in screen_text(app), what="the notification")
        text = screen_text(app)
        assert f"test-agent: {title}" in text  # the notification, as typed
        assert title in app.detail.query_one("#detail-title").render().plain  # the detail, as typed
        assert "[red]no[/red]" in text and "\x1b" not in text
        assert app.return_code is None  # the [@click=app.quit] in the title did nothing


OTHER_COCKPIT_ACCEPTS = """
import sys
from omni_tui.core.gate import Gate
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.workspace import Workspace
ws = Workspace.open(sys.argv[1])
decision = Gate(ws, who="bob").accept_direct(rebuild=lambda: RebuildOutcome(0, 0.1, None, ("ok",)))
print(decision.status)
"""


async def test_a_decision_made_in_another_cockpit_shows_here(project: Path) -> None:
    import subprocess
    import sys

    ws = open_workspace(project)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        (project / "devenv.nix").write_text((project / "devenv.nix").read_text().replace("hello", "hallo"))
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the direct edit")
        other = subprocess.run([sys.executable, "-c", OTHER_COCKPIT_ACCEPTS, str(project)], capture_output=True, text=True, timeout=60)
        assert other.stdout.strip() == "applied", other.stderr
        # only the baseline moved (the file did not change): the diff and the gate follow it
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the gate to follow the other cockpit")
        await wait_for(pilot, lambda: "No changes against the baseline" in screen_text(app), what="the diff to follow the baseline")
