"""What a person approves is what they were shown.

A proposal file is never changed after it is submitted; an agent running as the person can still
rewrite one in place (same id, other content) while the person reads it, or while the approve
modal is up. The gate refuses such a proposal under its lock, and the cockpit says so: nothing is
written that the person did not see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_harness import cockpit, edited, open_workspace, propose_now, ready, screen_text, wait_for

from omni_tui.core.errors import GateError
from omni_tui.core.gate import Gate
from omni_tui.core.proposals import PENDING, ProposalStore
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.workspace import Workspace
from omni_tui.ui.screens import ApproveScreen

SIZE = (120, 34)


def ok_step() -> RebuildOutcome:
    return RebuildOutcome(0, 0.01, None, ("built",))


def rewrite_in_place(ws: Workspace, pid: str, old: str, new: str) -> None:
    """What an agent can do behind the gate's back: the same proposal file, other content."""
    file = ws.paths.proposals / f"{pid}.json"
    doc = json.loads(file.read_text())
    for change in doc["changes"]:
        assert old in change["new_content"]
        change["new_content"] = change["new_content"].replace(old, new)
    doc["title"] = "Add ripgrep"  # the title the person read stays the same
    file.write_text(json.dumps(doc))


def test_the_gate_refuses_a_proposal_rewritten_since_the_person_was_shown_it(project: Path) -> None:
    ws = Workspace.open(project)
    before = (project / "devenv.nix").read_text()
    pid = ProposalStore(ws).create(
        {"devenv.nix": edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep")}, title="Add ripgrep", rationale="search", agent="agent"
    ).id
    shown = ProposalStore(ws).get(pid)
    rewrite_in_place(ws, pid, "pkgs.ripgrep", "pkgs.ripgrep pkgs.netcat")
    gate = Gate(ws, who="alice")
    with pytest.raises(GateError, match="rewritten on disk after it was shown"):
        gate.approve(pid, rebuild=ok_step, as_reviewed=shown)
    assert (project / "devenv.nix").read_text() == before
    assert gate.store.status(pid) == PENDING


def test_the_proposal_as_shown_is_approved(project: Path) -> None:
    ws = Workspace.open(project)
    new = edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep")
    pid = ProposalStore(ws).create({"devenv.nix": new}, title="Add ripgrep", rationale="search", agent="agent").id
    shown = ProposalStore(ws).get(pid)
    decision = Gate(ws, who="alice").approve(pid, rebuild=ok_step, as_reviewed=shown)
    assert decision.status == "applied" and (project / "devenv.nix").read_text() == new


async def test_a_proposal_rewritten_while_the_approve_modal_is_up_is_not_applied(project: Path) -> None:
    ws = open_workspace(project)
    before = (project / "devenv.nix").read_text()
    app = cockpit(ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.review.known_pending is not None, what="the queue loaded")
        pid = propose_now(project, "devenv.nix", edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"), title="Add ripgrep")
        await wait_for(pilot, lambda: app.review.selected_key == pid and "pkgs.ripgrep" in screen_text(app), what="the proposal shown")
        await pilot.press("a")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the approve modal")
        rewrite_in_place(ws, pid, "pkgs.ripgrep", "pkgs.ripgrep pkgs.netcat")
        await pilot.press("y")
        # Whether the cockpit saw the rewrite first or the gate did, the person is told, and nothing is written.
        await wait_for(pilot, lambda: "rewritten on disk" in screen_text(app), what="the refusal")
        assert (project / "devenv.nix").read_text() == before
        assert ProposalStore(ws).status(pid) == PENDING
