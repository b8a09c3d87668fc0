"""A project without devenv gets its rebuild command through the gate.

Without devenv on PATH and without an approved `[rebuild] command`, approving and accepting need a
rebuild command — so the `omni-tui.toml` that sets one could not be accepted either, and the only way
out was deleting the state folder. An edit of omni-tui's own configuration alone changes nothing in
the environment: it is accepted without a rebuild, recorded as such, and the cockpit can rebuild from
then on. Anything else still needs a rebuild.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_harness import SIZE, approve_selected, cockpit, edited, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.core.errors import GateError
from omni_tui.core.gate import Gate
from omni_tui.core.gate.decisions import NOT_REBUILT
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace
from omni_tui.ui.screens import ApproveScreen

COMMAND = '[rebuild]\ncommand = "true"\n'


@pytest.fixture(autouse=True)
def no_devenv() -> None:
    if shutil.which("devenv"):
        pytest.skip("devenv is on PATH here: the cockpit would rebuild with it")  # never on the CI machine


def test_the_configuration_alone_is_accepted_without_a_rebuild_and_recorded_so(project: Path) -> None:
    ws = open_workspace(project, command=None)
    gate = Gate(ws)
    assert gate.state().kind == "clean"
    (project / "omni-tui.toml").write_text(COMMAND)
    assert gate.state().unapproved == ("omni-tui.toml",)

    decision = gate.accept_direct(rebuild=None)

    assert (decision.status, decision.reason, decision.exit_code) == ("applied", NOT_REBUILT, None)
    state = gate.state()
    assert state.kind == "clean" and not state.tampered and state.last_rebuild is None  # no build happened, none claimed
    assert Workspace.open(project).config.rebuild.command == "true"  # the approved configuration now
    entry = ws.audit.entries()[-1]
    assert entry["event"] == "applied" and entry["reason"] == NOT_REBUILT
    assert entry.get("exit_code") is None and entry.get("duration_s") is None  # no build figures for a build never run
    assert ws.audit.verify().ok


def test_anything_beside_the_configuration_still_needs_a_rebuild(project: Path) -> None:
    ws = open_workspace(project, command=None)
    gate = Gate(ws)
    assert gate.state().kind == "clean"
    (project / "omni-tui.toml").write_text(COMMAND)
    (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.htop"))
    decided = len(ProposalStore(ws).entries())

    with pytest.raises(GateError, match="accepting devenv.nix needs a rebuild: nothing was accepted"):
        gate.accept_direct(rebuild=None)

    assert set(gate.state().unapproved) == {"devenv.nix", "omni-tui.toml"}
    assert len(ProposalStore(ws).entries()) == decided


async def test_the_cockpit_accepts_the_command_then_approves_with_it(project: Path) -> None:
    ws = open_workspace(project, command=None)
    app = cockpit(ws)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app) and app.review.rebuild_problem, what="the cockpit, without a command")
        (project / "omni-tui.toml").write_text(COMMAND)
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app), what="the edited configuration")
        assert app.why_unavailable("accept_direct") is None  # offered, although nothing can be rebuilt yet
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen) and "no rebuild" in screen_text(app), what="the accept modal")
        assert "only omni-tui's own configuration changes" in screen_text(app)
        await wait_for(pilot, lambda: "Accept edits (y)" in screen_text(app), what="the check of the file")
        await pilot.press("y")
        await wait_for(pilot, lambda: "rebuild command now: true" in "\n".join(app.log_view.lines), what="the command taken up")
        assert any(line.startswith("✓ applied (omni-tui.toml edited directly, accepted") for line in app.log_view.lines)
        assert app.review.rebuild_problem is None
        await wait_for(pilot, lambda: "CLEAN" in screen_text(app), what="the gate clean again")

        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid, what="the proposal selected")
        await approve_selected(pilot)
        await wait_for(pilot, lambda: ProposalStore(ws).status(pid) == "applied", what="the approval, rebuilt with the new command")
