"""Proposal history: the bytes before an apply and the bytes it wrote, read back from the gate's backups."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from omni_tui.core.errors import ProposalError
from omni_tui.core.gate import Gate
from omni_tui.core.history import applied_change, applied_label, entry_change
from omni_tui.core.proposals import AppliedFile, Decision, ProposalStore, check_id
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.safefs import escape_name
from omni_tui.core.textdiff import apply_hunks
from omni_tui.core.workspace import Workspace

OLD = "{ pkgs, ... }:\n{\n  packages = [\n" + "".join(f"    pkgs.p{i}\n" for i in range(1, 31)) + "  ];\n}\n"
NEW = OLD.replace("pkgs.p3\n", "pkgs.three\n").replace("pkgs.p27\n", "pkgs.twenty-seven\n")


def ok_step() -> RebuildOutcome:
    return RebuildOutcome(0, 0.01, None, ("built",))


def failing_step() -> RebuildOutcome:
    return RebuildOutcome(1, 0.01, None, ("error: boom",))


def open_ws(project: Path, config: str = "") -> Workspace:
    (project / "devenv.nix").write_text(OLD)
    if config:
        (project / "omni-tui.toml").write_text(textwrap.dedent(config))
    ws = Workspace.open(project)
    ws.write_baseline("devenv.nix", OLD.encode())
    return ws


def propose(ws: Workspace, contents: dict[str, str]):
    return ProposalStore(ws).create(contents, title="Two edits", rationale="why not", agent="test-agent")


def history(ws: Workspace, pid: str):
    store = ProposalStore(ws)
    entry = next(e for e in store.entries() if e.proposal.id == pid)
    return entry_change(ws, entry)


def test_a_full_approval_records_the_bytes_before_and_the_bytes_written(project: Path) -> None:
    ws = open_ws(project)
    proposal = propose(ws, {"devenv.nix": NEW, ".envrc": "use devenv\n"})
    assert history(ws, proposal.id) is None  # pending: nothing was written
    assert Gate(ws).approve(proposal.id, rebuild=ok_step).status == "applied"
    assert history(ws, proposal.id) == {"devenv.nix": (OLD, NEW), ".envrc": (None, "use devenv\n")}
    (project / "devenv.nix").write_text(OLD + "# later\n")  # what is on disk now does not matter
    assert history(ws, proposal.id)["devenv.nix"] == (OLD, NEW)


def test_a_partial_approval_records_only_the_chosen_hunk(project: Path) -> None:
    ws = open_ws(project)
    proposal = propose(ws, {"devenv.nix": NEW})
    Gate(ws).approve(proposal.id, rebuild=ok_step, hunks={"devenv.nix": {1}})
    written = (project / "devenv.nix").read_text()
    assert written == apply_hunks(OLD, NEW, {1}) and "pkgs.p3\n" in written
    assert history(ws, proposal.id) == {"devenv.nix": (OLD, written)}


def test_an_edited_approval_records_the_edited_text(project: Path) -> None:
    ws = open_ws(project)
    proposal = propose(ws, {"devenv.nix": NEW})
    edited = "# reviewed by a person\n" + NEW
    Gate(ws).approve(proposal.id, rebuild=ok_step, edited={"devenv.nix": edited})
    assert history(ws, proposal.id) == {"devenv.nix": (OLD, edited)}
    # the edited bytes are only in the backup: without it there is no exact history
    shutil.rmtree(ws.paths.backups / applied_label(proposal.id))
    assert history(ws, proposal.id) is None


def test_rolled_back_and_failed_changes_keep_their_history(project: Path) -> None:
    ws = open_ws(project)
    proposal = propose(ws, {"devenv.nix": NEW})
    assert Gate(ws).approve(proposal.id, rebuild=failing_step, hunks={"devenv.nix": {0}}).status == "rolled_back"
    assert (project / "devenv.nix").read_text() == OLD
    assert history(ws, proposal.id) == {"devenv.nix": (OLD, apply_hunks(OLD, NEW, {0}))}

    (project / "omni-tui.toml").write_text("[rebuild]\nauto_rollback = false\n")
    ws = Workspace.open(project)
    gate = Gate(ws)
    gate.accept_direct(rebuild=ok_step)  # the configuration changes only when a person accepts it
    second = propose(ws, {"devenv.nix": NEW})
    assert gate.approve(second.id, rebuild=failing_step).status == "failed"
    assert history(ws, second.id) == {"devenv.nix": (OLD, NEW)}
    assert gate.rollback(second.id).status == "rolled_back"
    assert history(ws, second.id) == {"devenv.nix": (OLD, NEW)}


def test_missing_or_damaged_backups_give_none(project: Path) -> None:
    ws = open_ws(project)
    proposal = propose(ws, {"devenv.nix": NEW})
    Gate(ws).approve(proposal.id, rebuild=ok_step)
    (ws.paths.backups / applied_label(proposal.id) / escape_name("devenv.nix")).write_text(NEW + "tampered\n")
    assert history(ws, proposal.id) is None  # never shown when it does not match the recorded hash
    shutil.rmtree(ws.paths.backups)
    assert history(ws, proposal.id) is None


def test_an_older_decision_without_the_applied_backup_is_rebuilt_from_the_proposal(project: Path) -> None:
    ws = open_ws(project)
    full = propose(ws, {"devenv.nix": NEW})
    Gate(ws).approve(full.id, rebuild=ok_step)
    shutil.rmtree(ws.paths.backups / applied_label(full.id))
    assert history(ws, full.id) == {"devenv.nix": (OLD, NEW)}
    (project / "devenv.nix").write_text(OLD)
    ws.record_baselines({"devenv.nix": OLD.encode()}, who="alice")
    partial = propose(ws, {"devenv.nix": NEW})
    Gate(ws).approve(partial.id, rebuild=ok_step, hunks={"devenv.nix": {0}})
    shutil.rmtree(ws.paths.backups / applied_label(partial.id))
    assert history(ws, partial.id) == {"devenv.nix": (OLD, apply_hunks(OLD, NEW, {0}))}


def test_a_direct_edit_acceptance_reads_its_direct_backup(project: Path) -> None:
    ws = open_ws(project)
    (project / "devenv.nix").write_text(NEW)
    (project / ".envrc").write_text("use devenv\n")
    decision = Gate(ws).accept_direct(rebuild=ok_step)
    assert decision.status == "applied"
    stored = ProposalStore(ws).decision(decision.proposal_id)
    assert applied_change(ws, stored) == {"devenv.nix": (OLD, NEW), ".envrc": (None, "use devenv\n")}
    assert not (ws.paths.backups / applied_label(decision.proposal_id)).exists()  # no second copy


def test_decisions_that_wrote_nothing_have_no_history(project: Path) -> None:
    ws = open_ws(project)
    proposal = propose(ws, {"devenv.nix": NEW})
    Gate(ws).reject(proposal.id, "no")
    assert history(ws, proposal.id) is None
    assert applied_change(ws, None) is None
    no_files = Decision("x", "applied", None, "alice", "2026-01-01T00:00:00Z")
    assert applied_change(ws, no_files) is None
    unknown = Decision("x", "applied", None, "alice", "2026-01-01T00:00:00Z", files=(AppliedFile("devenv.nix", None, None),))
    assert applied_change(ws, unknown) is None


@pytest.mark.parametrize("kind", ["approve", "accept_direct"])
def test_rollback_still_restores_the_before_bytes(project: Path, kind: str) -> None:
    ws = open_ws(project, "[rebuild]\nauto_rollback = false\n")
    gate = Gate(ws)
    if kind == "approve":
        pid = propose(ws, {"devenv.nix": NEW}).id
        gate.approve(pid, rebuild=failing_step, edited={"devenv.nix": NEW + "# edited\n"})
    else:
        (project / "devenv.nix").write_text(NEW)
        pid = gate.accept_direct(rebuild=failing_step).proposal_id
    assert gate.rollback(pid).status == "rolled_back"
    assert (project / "devenv.nix").read_text() == OLD


def test_no_proposal_id_can_name_one_of_the_gates_own_backup_folders() -> None:
    """The gate's own backups (`<id>@applied`, `<id>@direct`, `revert@…`, `capture@…`) use `@`, which ids may not."""
    for label in ("20261126T090000Z-a1b2c3@applied", "20261126T090000Z-a1b2c3@direct", "revert@x", "capture@x"):
        with pytest.raises(ProposalError):
            check_id(label)
