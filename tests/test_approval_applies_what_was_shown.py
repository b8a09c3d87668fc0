"""What a person approves is what they were shown.

A proposal file is never changed after it is submitted; an agent running as the person can still
rewrite one in place (same id, other content) while the person reads it, or while the approve
modal is up. The gate refuses such a proposal under its lock, and the cockpit says so: nothing is
written that the person did not see."""

from __future__ import annotations

import json
import os
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
    # replaced whole (a rename), as an agent's own atomic write would: an in-place write can be read
    # half-written, and that file is quarantined as invalid instead — safe too, but not this test's case
    staged = file.with_name(f".{file.name}.tmp")
    staged.write_text(json.dumps(doc))
    os.replace(staged, file)


def test_the_gate_refuses_a_proposal_rewritten_since_the_person_was_shown_it(project: Path) -> None:
    ws = Workspace.open(project)
    before = (project / "devenv.nix").read_text()
    pid = (
        ProposalStore(ws)
        .create({"devenv.nix": edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep")}, title="Add ripgrep", rationale="search", agent="agent")
        .id
    )
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


def test_the_gate_refuses_direct_edits_changed_since_the_person_was_shown_them(project: Path) -> None:
    ws = Workspace.open(project)
    baseline = ws.read_baseline("devenv.nix")
    shown = edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep")
    (project / "devenv.nix").write_text(shown)
    (project / "devenv.nix").write_text(edited(project, "pkgs.ripgrep", "pkgs.ripgrep pkgs.netcat"))  # after the look
    gate = Gate(ws, who="alice")
    with pytest.raises(GateError, match="changed after the direct edits were shown"):
        gate.accept_direct(rebuild=ok_step, as_reviewed={"devenv.nix": shown})
    assert ws.read_baseline("devenv.nix") == baseline
    # Another guarded file edited meanwhile is not accepted with them either.
    (project / "devenv.nix").write_text(shown)
    (project / "devenv.local.nix").write_text('{ ... }: { env.SNEAKY = "1"; }\n')
    assert "devenv.local.nix" in ws.guarded()
    with pytest.raises(GateError, match="changed after the direct edits were shown"):
        gate.accept_direct(rebuild=ok_step, as_reviewed={"devenv.nix": shown})
    (project / "devenv.local.nix").unlink()
    assert gate.accept_direct(rebuild=ok_step, as_reviewed={"devenv.nix": shown}).status == "applied"
    assert ws.read_baseline("devenv.nix") == shown.encode()


async def test_direct_edits_changed_after_the_cockpit_last_read_them_are_not_accepted(project: Path) -> None:
    ws = open_workspace(project)
    baseline = ws.read_baseline("devenv.nix")
    (project / "devenv.nix").write_text(edited(project, "pkgs.jq", "pkgs.jq pkgs.ripgrep"))
    # No watcher: the cockpit shows the files as it first read them, as it would for the instant
    # between a write and its next read — the write lands after the person's look.
    app = cockpit(ws, watch=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "UNAPPROVED EDITS" in screen_text(app) and "+ripgrep" in screen_text(app), what="the edit shown")
        (project / "devenv.nix").write_text(edited(project, "pkgs.ripgrep", "pkgs.ripgrep pkgs.netcat"))
        await pilot.press("A")
        await wait_for(pilot, lambda: ready(app, ApproveScreen), what="the accept modal")
        await pilot.press("y")
        await wait_for(pilot, lambda: "changed after the direct edits were shown" in screen_text(app), what="the refusal")
        assert ws.read_baseline("devenv.nix") == baseline
