"""The gate: approve / reject / stale / rollback / direct edits / guard mode, one apply at a time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omni_tui.core.errors import GateError, LockBusyError, ValidationError
from omni_tui.core.gate import Gate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace

NEW_NIX = """{ pkgs, lib, config, ... }:

{
  env.GREET = "bonjour";

  packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];

  languages.python.enable = true;

  processes.web.exec = "python -m http.server 8000";

  enterShell = ''
    echo "$GREET from devenv"
  '';
}
"""


def ok_step() -> RebuildOutcome:
    return RebuildOutcome(0, 0.01, None, ("built",))


def failing_step(code: int = 1):
    return lambda: RebuildOutcome(code, 0.01, "/tmp/rebuild.log", ("error: boom",))


def write_config(root: Path, text: str) -> None:
    (root / "omni-tui.toml").write_text(textwrap.dedent(text))


@pytest.fixture
def ws(project: Path) -> Workspace:
    return Workspace.open(project)


@pytest.fixture
def gate(ws: Workspace) -> Gate:
    return Gate(ws, who="alice")


def propose(ws: Workspace, text: str = NEW_NIX, path: str = "devenv.nix", title: str = "Add ripgrep"):
    return ProposalStore(ws).create({path: text}, title=title, rationale="needed for search", agent="test-agent")


def audit_events(ws: Workspace) -> list[str]:
    return [entry["event"] for entry in ws.audit.entries()]


def test_approve_applies_records_and_moves_the_baseline(ws: Workspace, gate: Gate) -> None:
    before = (ws.root / "devenv.nix").read_bytes()
    proposal = propose(ws)
    assert (ws.root / "devenv.nix").read_bytes() == before  # nothing changes until approval
    assert gate.state().kind == "pending"
    stages: list[str] = []
    decision = gate.approve(proposal.id, rebuild=ok_step, on_stage=stages.append, command="true")
    assert decision.status == "applied"
    assert stages == ["validating", "applying", "rebuilding", "applied"]
    assert (ws.root / "devenv.nix").read_text() == NEW_NIX
    assert ws.read_baseline("devenv.nix") == NEW_NIX.encode()
    assert gate.state().kind == "clean"
    stored = ProposalStore(ws).decision(proposal.id)
    assert stored is not None and stored.status == "applied" and stored.who == "alice"
    (applied,) = stored.files
    assert applied.sha256_before == sha256_bytes(before)
    assert applied.sha256_after == sha256_bytes(NEW_NIX.encode()) == sha256_bytes((ws.root / "devenv.nix").read_bytes())
    assert audit_events(ws)[-3:] == ["proposed", "approved", "applied"]
    last = ws.audit.entries()[-1]
    assert last["command"] == "true" and last["exit_code"] == 0 and last["who"] == "alice"
    assert last["sha256_after"] == {"devenv.nix": sha256_bytes(NEW_NIX.encode())}
    assert gate.state().last_rebuild["status"] == "applied"
    assert ws.audit.verify().ok


def test_failed_rebuild_restores_the_previous_bytes_exactly(ws: Workspace, gate: Gate) -> None:
    odd = b"{ pkgs, ... }:\r\n{\r\n  packages = [ pkgs.git ];\r\n}"  # CRLF, no final newline
    (ws.root / "devenv.nix").write_bytes(odd)
    ws.record_baselines({"devenv.nix": odd}, who="alice")
    proposal = propose(ws)
    decision = gate.approve(proposal.id, rebuild=failing_step(3))
    assert decision.status == "rolled_back"
    assert decision.reason == "rebuild failed: exit 3"
    assert decision.exit_code == 3 and decision.last_lines == ("error: boom",)
    assert (ws.root / "devenv.nix").read_bytes() == odd
    assert ws.read_baseline("devenv.nix") == odd
    assert gate.state().kind == "clean"
    assert audit_events(ws)[-2:] == ["approved", "rolled_back"]


def test_a_raising_rebuild_step_is_a_failure_with_its_message(ws: Workspace, gate: Gate) -> None:
    before = (ws.root / "devenv.nix").read_bytes()

    def explode() -> RebuildOutcome:
        raise RuntimeError("devenv exploded")

    decision = gate.approve(propose(ws).id, rebuild=explode)
    assert decision.status == "rolled_back"
    assert decision.reason == "rebuild failed: devenv exploded"
    assert (ws.root / "devenv.nix").read_bytes() == before


def test_without_auto_rollback_the_gate_is_failed_until_rolled_back(project: Path) -> None:
    write_config(
        project,
        """
        [rebuild]
        auto_rollback = false
    """,
    )
    ws = Workspace.open(project)
    gate = Gate(ws, who="bob")
    before = (project / "devenv.nix").read_bytes()
    proposal = propose(ws)
    decision = gate.approve(proposal.id, rebuild=failing_step(7))
    assert decision.status == "failed" and decision.reason == "rebuild failed: exit 7"
    assert (project / "devenv.nix").read_text() == NEW_NIX  # left in place for the person to inspect
    state = gate.state()
    assert state.kind == "failed" and state.label() == "FAILED — rollback?"
    assert state.failed is not None and state.failed.proposal_id == proposal.id
    assert state.unapproved == ()  # the failed apply is not a direct edit
    rolled = gate.rollback(proposal.id)
    assert rolled.status == "rolled_back" and "rebuild failed: exit 7" in rolled.reason
    assert (project / "devenv.nix").read_bytes() == before
    assert gate.state().kind == "clean"
    with pytest.raises(GateError, match="only a failed apply"):
        gate.rollback(proposal.id)


def test_rebuild_child_killed_with_sigkill_leaves_old_content_never_a_mix(ws: Workspace, gate: Gate) -> None:
    before = (ws.root / "devenv.nix").read_bytes()
    seen: dict[str, bytes] = {}

    def killed_build() -> RebuildOutcome:
        seen["during"] = (ws.root / "devenv.nix").read_bytes()
        child = subprocess.Popen(["sleep", "30"])
        child.send_signal(signal.SIGKILL)
        code = child.wait(timeout=30)
        return RebuildOutcome(code, 0.1, None, ())

    decision = gate.approve(propose(ws).id, rebuild=killed_build)
    assert seen["during"] == NEW_NIX.encode()  # the whole new content was in place during the build
    assert decision.status == "rolled_back" and decision.exit_code == -signal.SIGKILL
    assert (ws.root / "devenv.nix").read_bytes() == before


APPROVER = """
import sys, time
from pathlib import Path
from omni_tui.core.workspace import Workspace
from omni_tui.core.gate import Gate
from omni_tui.core.rebuild import RebuildOutcome
ws = Workspace.open(sys.argv[1])
marker = Path(sys.argv[3])
def build():
    marker.write_text("building")
    time.sleep(120)
    return RebuildOutcome(0, 120, None, ())
Gate(ws, who="carol").approve(sys.argv[2], rebuild=build)
"""


def test_approving_process_killed_mid_rebuild_leaves_whole_content_and_can_roll_back(ws: Workspace, gate: Gate, tmp_path: Path) -> None:
    before = (ws.root / "devenv.nix").read_bytes()
    proposal = propose(ws)
    marker = tmp_path / "building"
    proc = subprocess.Popen([sys.executable, "-c", APPROVER, str(ws.root), proposal.id, str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the approving process died early"
            assert time.monotonic() < deadline, "the rebuild never started"
            time.sleep(0.05)
        busy = gate.state()
        assert busy.kind == "rebuilding" and busy.holder is not None and busy.holder.proposal_id == proposal.id
        assert ProposalStore(ws).status(proposal.id) == "rebuilding"
        with pytest.raises(LockBusyError, match="approve of " + proposal.id):
            gate.approve(propose(ws, NEW_NIX.replace("bonjour", "hallo"), title="other").id, rebuild=ok_step)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert (ws.root / "devenv.nix").read_bytes() in (before, NEW_NIX.encode())
    state = gate.state()
    assert state.kind == "failed" and state.failed is not None and state.failed.interrupted
    gate.rollback(proposal.id)
    assert (ws.root / "devenv.nix").read_bytes() == before
    assert ProposalStore(ws).status(proposal.id) == "rolled_back"
    # the "other" proposal was built on the content the rollback removed: stale at once, not pending
    assert gate.state().kind == "clean"
    assert [e.status for e in ProposalStore(ws).entries() if e.proposal.title == "other"] == ["stale"]


def test_file_changed_after_proposing_makes_the_proposal_stale(ws: Workspace, gate: Gate) -> None:
    proposal = propose(ws)
    edited = (ws.root / "devenv.nix").read_text().replace("hello", "hi")
    (ws.root / "devenv.nix").write_text(edited)
    assert gate.validate(proposal).stale
    decision = gate.approve(proposal.id, rebuild=ok_step)
    assert decision.status == "stale"
    assert (ws.root / "devenv.nix").read_text() == edited
    assert "devenv.nix changed since the proposal was made" in decision.reason
    assert audit_events(ws)[-1] == "stale"


def test_reject_needs_a_reason_and_only_pending_proposals_are_decided(ws: Workspace, gate: Gate) -> None:
    proposal = propose(ws)
    with pytest.raises(GateError, match="reason is required"):
        gate.reject(proposal.id, "  ")
    decision = gate.reject(proposal.id, "we do not want ripgrep")
    assert decision.status == "rejected" and decision.reason == "we do not want ripgrep"
    with pytest.raises(GateError, match="is rejected, not pending"):
        gate.approve(proposal.id, rebuild=ok_step)
    with pytest.raises(GateError, match="is rejected"):
        gate.reject(proposal.id, "again")
    assert audit_events(ws)[-1] == "rejected"


def test_withdrawn_proposal_cannot_be_approved(ws: Workspace, gate: Gate) -> None:
    proposal = propose(ws)
    ProposalStore(ws).withdraw(proposal.id, who="test-agent")
    with pytest.raises(GateError, match="is withdrawn, not pending"):
        gate.approve(proposal.id, rebuild=ok_step)


def test_edited_content_is_what_is_applied_and_recorded(ws: Workspace, gate: Gate) -> None:
    proposal = propose(ws)
    mine = NEW_NIX.replace("pkgs.ripgrep", "pkgs.fd")
    decision = gate.approve(proposal.id, rebuild=ok_step, edited={"devenv.nix": mine})
    assert (ws.root / "devenv.nix").read_text() == mine
    (applied,) = decision.files
    assert applied.applied == "edited" and applied.sha256_after == sha256_bytes(mine.encode())
    assert ws.audit.entries()[-1]["sha256_after"] == {"devenv.nix": sha256_bytes(mine.encode())}


def test_invalid_content_is_refused_and_stays_pending(ws: Workspace, gate: Gate) -> None:
    proposal = propose(ws)
    with pytest.raises(ValidationError, match="over the size limit"):
        gate.approve(proposal.id, rebuild=ok_step, edited={"devenv.nix": "#" * (1024 * 1024 + 1)})
    with pytest.raises(GateError, match="does not change .envrc"):
        gate.approve(proposal.id, rebuild=ok_step, edited={".envrc": "use devenv\n"})
    with pytest.raises(GateError, match="nothing to apply"):
        gate.approve(proposal.id, rebuild=ok_step, hunks={"devenv.nix": set()})
    assert ProposalStore(ws).status(proposal.id) == "pending"


def test_nix_syntax_error_blocks_approval_with_line_and_column(ws: Workspace, gate: Gate, need_nix: None) -> None:
    broken = NEW_NIX.replace('env.GREET = "bonjour";', "env.GREET = ;")
    proposal = propose(ws, broken)
    validation = gate.validate(proposal)
    (issue,) = validation.issues
    assert (issue.kind, issue.line, issue.column) == ("nix", 4, 15)
    with pytest.raises(ValidationError, match=r"devenv.nix:4:15: syntax error"):
        gate.approve(proposal.id, rebuild=ok_step)
    assert ProposalStore(ws).status(proposal.id) == "pending"
    assert "ripgrep" not in (ws.root / "devenv.nix").read_text()


def test_state_priority(project: Path) -> None:
    write_config(
        project,
        """
        [rebuild]
        auto_rollback = false
    """,
    )
    ws = Workspace.open(project)
    gate = Gate(ws)
    assert gate.state().kind == "clean"
    first = propose(ws)
    assert gate.state().kind == "pending"
    (project / ".envrc").write_text("use devenv\n")
    state = gate.state()
    assert state.kind == "unapproved_edits" and state.unapproved == (".envrc",) and len(state.pending) == 1
    gate.approve(first.id, rebuild=failing_step())
    assert gate.state().kind == "failed"
    with gate.exclusive("rebuild"):
        assert gate.state().kind == "rebuilding"


def test_accept_direct_rebuilds_and_makes_the_edit_the_baseline(ws: Workspace, gate: Gate) -> None:
    (ws.root / "devenv.nix").write_text(NEW_NIX)
    assert gate.state().kind == "unapproved_edits"
    decision = gate.accept_direct(rebuild=ok_step)
    assert decision.status == "applied"
    assert ws.read_baseline("devenv.nix") == NEW_NIX.encode()
    assert gate.state().kind == "clean"
    assert "accepted_direct" in audit_events(ws)
    with pytest.raises(GateError, match="no unapproved edits"):
        gate.accept_direct(rebuild=ok_step)


def test_failed_direct_accept_keeps_the_edits_until_rolled_back(ws: Workspace, gate: Gate) -> None:
    before = (ws.root / "devenv.nix").read_bytes()
    (ws.root / "devenv.nix").write_text(NEW_NIX)
    decision = gate.accept_direct(rebuild=failing_step(4))
    assert decision.status == "failed" and decision.reason.startswith("rebuild failed: exit 4")
    assert (ws.root / "devenv.nix").read_text() == NEW_NIX
    assert gate.state().kind == "failed"
    gate.rollback(decision.proposal_id)
    assert (ws.root / "devenv.nix").read_bytes() == before
    assert gate.state().kind == "clean"
    kept = list((ws.paths.backups).glob("*/devenv.nix"))
    assert any(path.read_text() == NEW_NIX for path in kept)  # the person's edit is never lost


def test_revert_direct_restores_the_baseline_and_keeps_a_backup(ws: Workspace, gate: Gate) -> None:
    before = (ws.root / "devenv.nix").read_bytes()
    (ws.root / "devenv.nix").write_text(NEW_NIX)
    (ws.root / ".envrc").write_text("use devenv\n")  # did not exist in the baseline
    assert sorted(gate.revert_direct()) == [".envrc", "devenv.nix"]
    assert (ws.root / "devenv.nix").read_bytes() == before
    assert not (ws.root / ".envrc").exists()
    assert gate.state().kind == "clean"
    assert any(path.read_text() == NEW_NIX for path in ws.paths.backups.glob("revert@*/devenv.nix"))
    assert audit_events(ws)[-2:] == ["reverted", "reverted"]


def test_capture_direct_edits_turns_them_into_proposals(ws: Workspace, gate: Gate) -> None:
    before = (ws.root / "devenv.nix").read_bytes()
    (ws.root / "devenv.nix").write_text(NEW_NIX)
    (made,) = gate.capture_direct_edits()
    assert made.agent == "direct-edit" and made.changes[0].new_content == NEW_NIX
    assert (ws.root / "devenv.nix").read_bytes() == before
    assert gate.state().kind == "pending"
    assert gate.approve(made.id, rebuild=ok_step).status == "applied"
    assert (ws.root / "devenv.nix").read_text() == NEW_NIX
    with gate.exclusive("rebuild"):
        (ws.root / ".envrc").write_text("x\n")
        assert gate.capture_direct_edits() == []  # never while an apply writes files


def test_rebuild_approved_refuses_with_unapproved_edits(ws: Workspace, gate: Gate) -> None:
    outcome = gate.rebuild_approved(ok_step, command="true")
    assert outcome.ok and gate.state().last_rebuild["kind"] == "rebuild"
    (ws.root / "devenv.nix").write_text(NEW_NIX)
    with pytest.raises(GateError, match="unapproved edits in devenv.nix"):
        gate.rebuild_approved(ok_step)
    assert audit_events(ws)[-1] == "rebuild"


def test_a_rebuild_step_that_raises_or_is_interrupted_is_recorded_as_a_failed_rebuild(ws: Workspace, gate: Gate) -> None:
    def broken() -> RebuildOutcome:
        raise RuntimeError("cannot start devenv")

    def interrupted() -> RebuildOutcome:
        raise KeyboardInterrupt

    outcome = gate.rebuild_approved(broken)
    assert not outcome.ok and outcome.error == "cannot start devenv"
    with pytest.raises(KeyboardInterrupt):  # recorded first, then handed back to whoever pressed Ctrl-C
        gate.rebuild_approved(interrupted)
    reasons = [e.get("reason") for e in ws.audit.entries() if e["event"] == "rebuild"]
    assert reasons == ["rebuild failed: cannot start devenv", "rebuild failed: interrupted (KeyboardInterrupt)"]
    assert gate.state().last_rebuild["status"] == "failed" and gate.holder() is None


# -- partial approval by hunks, against an independently computed expectation ------------------------

BASE_LINES = [f"export VAR_{i}={i}\n" for i in range(60)]
GAP = 8  # more than 2 x 3 context lines between edits, so each edit is its own hunk

edit_strategy = st.lists(
    st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(min_value=1, max_value=3)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=edit_strategy, data=st.data())
def test_partial_apply_of_chosen_hunks_gives_exactly_the_expected_text(edits, data) -> None:
    # Build the new text edit by edit; each edit touches its own block of lines.
    blocks: list[list[str]] = []  # per edit: the replacement lines for the block
    positions = []
    for index, (kind, size) in enumerate(edits):
        start = 2 + index * (GAP + 3)
        positions.append((start, size))
        old_block = BASE_LINES[start : start + size]
        if kind == "replace":
            blocks.append([line.replace("export", "export CHANGED") for line in old_block])
        elif kind == "insert":
            blocks.append(old_block + [f"export NEW_{index}_{k}=1\n" for k in range(size)])
        else:
            blocks.append([])

    def render(chosen: set[int]) -> str:
        out: list[str] = []
        cursor = 0
        for index, (start, size) in enumerate(positions):
            out.extend(BASE_LINES[cursor:start])
            out.extend(blocks[index] if index in chosen else BASE_LINES[start : start + size])
            cursor = start + size
        out.extend(BASE_LINES[cursor:])
        return "".join(out)

    chosen = data.draw(st.sets(st.integers(min_value=0, max_value=len(edits) - 1), min_size=1))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "devenv.nix").write_text("{ }\n")
        (root / ".envrc").write_text("".join(BASE_LINES))
        ws = Workspace.open(root, env={})
        proposal = ProposalStore(ws).create({".envrc": render(set(range(len(edits))))}, title="t", rationale="r", agent="a")
        decision = Gate(ws, who="h").approve(proposal.id, rebuild=ok_step, hunks={".envrc": chosen})
        assert (root / ".envrc").read_text() == render(chosen)
        (applied,) = decision.files
        assert applied.applied == "hunks" and applied.hunks == tuple(sorted(chosen))
        assert applied.sha256_after == sha256_bytes(render(chosen).encode())


def test_decision_documents_are_valid_json_with_schema(ws: Workspace, gate: Gate) -> None:
    proposal = propose(ws)
    gate.approve(proposal.id, rebuild=ok_step)
    doc = json.loads((ws.paths.decisions / f"{proposal.id}.json").read_text())
    assert doc["schema"] == "omni-tui/decision@1"
    assert doc["status"] == "applied" and doc["files"][0]["path"] == "devenv.nix"
    assert set(doc) == {
        "schema",
        "proposal_id",
        "status",
        "reason",
        "who",
        "via",
        "decided_at",
        "exit_code",
        "duration_s",
        "log_path",
        "last_lines",
        "files",
    }
    assert doc["via"] == "terminal"
    assert not any(name.startswith(".omni-tmp-") for name in os.listdir(ws.root))


def test_multi_file_rollback_restores_contents_and_absence(ws: Workspace, gate: Gate) -> None:
    before = (ws.root / "devenv.nix").read_bytes()
    proposal = ProposalStore(ws).create({"devenv.nix": NEW_NIX, ".envrc": "use devenv\n"}, title="two files", rationale="r", agent="a")
    assert proposal.change(".envrc").base_sha256 is None
    seen: dict[str, bool] = {}

    def build() -> RebuildOutcome:
        seen["envrc"] = (ws.root / ".envrc").read_text() == "use devenv\n"
        return RebuildOutcome(2, 0.1, None, ())

    assert gate.approve(proposal.id, rebuild=build).status == "rolled_back"
    assert seen["envrc"]
    assert (ws.root / "devenv.nix").read_bytes() == before
    assert not (ws.root / ".envrc").exists()
    assert gate.state().kind == "clean"


def test_an_edit_made_during_the_rebuild_is_kept_in_backups_when_rolling_back(ws: Workspace, gate: Gate) -> None:
    before = (ws.root / "devenv.nix").read_bytes()

    def build() -> RebuildOutcome:
        (ws.root / "devenv.nix").write_text(NEW_NIX + "# someone typed this meanwhile\n")
        return RebuildOutcome(1, 0.1, None, ())

    gate.approve(propose(ws).id, rebuild=build)
    assert (ws.root / "devenv.nix").read_bytes() == before
    kept = [p.read_text() for p in ws.paths.backups.glob("*@overwritten-*/devenv.nix")]
    assert kept == [NEW_NIX + "# someone typed this meanwhile\n"]


def test_approval_never_sweeps_in_unapproved_edits_underneath(ws: Workspace, gate: Gate) -> None:
    direct = (ws.root / "devenv.nix").read_text().replace("hello", "hi")
    (ws.root / "devenv.nix").write_text(direct)
    proposal = propose(ws, direct.replace("pkgs.jq", "pkgs.jq pkgs.fd"))  # built on top of the direct edit
    with pytest.raises(GateError, match="devenv.nix differs from the approved baseline"):
        gate.approve(proposal.id, rebuild=ok_step)
    assert ProposalStore(ws).status(proposal.id) == "pending"
    gate.accept_direct(rebuild=ok_step)  # the person accepts the direct edit first
    assert gate.approve(proposal.id, rebuild=ok_step).status == "applied"


def test_accepting_a_direct_deletion_makes_absence_the_baseline(ws: Workspace, gate: Gate) -> None:
    (ws.root / ".envrc").write_text("use devenv\n")
    gate.accept_direct(rebuild=ok_step)
    assert ws.read_baseline(".envrc") == b"use devenv\n"
    (ws.root / ".envrc").unlink()
    assert gate.state().unapproved == (".envrc",)
    decision = gate.accept_direct(rebuild=ok_step)
    (applied,) = decision.files
    assert applied.path == ".envrc" and applied.sha256_after is None
    assert ws.read_baseline(".envrc") is None and ws.has_baseline(".envrc")
    assert gate.state().kind == "clean"


def test_a_decision_and_its_audit_entries_say_where_the_person_decided(ws: Workspace) -> None:
    """`omni-tui serve` runs the gate with via="web": the decision file and every audit entry of the
    approval carry it; a decision written before `via` existed still reads (as a terminal one)."""
    proposal = propose(ws)
    decision = Gate(ws, who="bob", via="web").approve(proposal.id, rebuild=ok_step)
    assert (decision.who, decision.via) == ("bob", "web")
    doc = json.loads((ws.paths.decisions / f"{proposal.id}.json").read_text())
    assert (doc["who"], doc["via"]) == ("bob", "web")
    mine = [e for e in ws.audit.entries() if e["proposal_id"] == proposal.id and e["event"] != "proposed"]
    assert mine and all((e["who"], e["via"]) == ("bob", "web") for e in mine)
    assert [e["via"] for e in ws.audit.entries() if e["event"] == "proposed"] == ["agent"]
    assert ws.audit.verify().ok
    del doc["via"]
    (ws.paths.decisions / f"{proposal.id}.json").write_text(json.dumps(doc))
    # (a rewritten file is not the one the audit log vouches for: the checked reader says `tampered`)
    assert ProposalStore(ws).recorded_decision(proposal.id).via == "terminal"
