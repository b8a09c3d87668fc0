"""One line for "what happened to this decision", shared by the cockpit, `omni-tui wait` and the agents:
each fact once, cancelled rebuilds called cancelled, partial approvals numbered as the cockpit numbers hunks."""

from __future__ import annotations

import json

from omni_tui.core.decision_line import decision_line
from omni_tui.core.proposals import AppliedFile, Decision, parse_decision

T = "2026-12-04T10:00:00Z"


def d(
    status: str,
    reason: str | None = None,
    *,
    who: str = "alice",
    exit_code: int | None = None,
    duration_s: float | None = None,
    files: tuple[AppliedFile, ...] = (),
    via: str = "terminal",
) -> Decision:
    return Decision("20261204T100000Z-abcdef", status, reason, who, T, exit_code, duration_s, None, (), files, via=via)


def test_an_automatic_rollback_says_rebuild_failed_once() -> None:
    line = decision_line(d("rolled_back", "rebuild failed: exit 1", exit_code=1, duration_s=0.1))
    assert line == "rebuild failed (exit 1, 0.1 s) — rolled back automatically"


def test_a_rollback_by_a_person_names_them_once_and_the_cause_once() -> None:
    line = decision_line(d("rolled_back", "rolled back by root after: rebuild failed: exit 1", who="root", exit_code=1, duration_s=0.1))
    assert line == "rebuild failed (exit 1, 0.1 s) — rolled back by root"
    odd = decision_line(d("rolled_back", "rolled back by bob after: rebuild failed: no such command", who="bob"))
    assert odd == "rebuild failed: no such command — rolled back by bob"


def test_a_cancelled_rebuild_is_called_cancelled() -> None:
    assert decision_line(d("rolled_back", "rebuild cancelled", duration_s=0.4)) == "rebuild cancelled (0.4 s) — rolled back automatically"
    assert (
        decision_line(d("failed", "rebuild cancelled", duration_s=0.4)) == "rebuild cancelled (0.4 s) — approved by alice, not rolled back"
    )
    assert decision_line(d("failed", "rebuild timed out after 600 s", duration_s=600.2)).startswith("rebuild timed out (600.2 s)")
    assert "failed" not in decision_line(d("rolled_back", "rolled back by root after: rebuild cancelled", who="root"))


def test_each_status_reads_as_one_sentence() -> None:
    assert decision_line(d("applied", exit_code=0, duration_s=1.52)) == "applied by alice (exit 0, 1.5 s)"
    assert decision_line(d("rejected", "use the pinned version")) == "rejected by alice: use the pinned version"
    assert decision_line(d("withdrawn", "superseded", who="codex")) == "withdrawn by codex: superseded"
    assert decision_line(d("applied", who="bob", via="web")) == "applied by bob (web)"
    assert decision_line(d("failed", "apply failed: No space left on device")) == "not applied: No space left on device — approved by alice"
    assert decision_line(d("failed", "rebuild failed: exit 4", exit_code=4, duration_s=2.0)) == (
        "rebuild failed (exit 4, 2.0 s) — approved by alice, not rolled back"
    )


def test_partial_approvals_name_the_hunks_as_the_cockpit_numbers_them() -> None:
    partial = AppliedFile("devenv.nix", "a" * 64, "b" * 64, "hunks", (0, 2), 4)
    line = decision_line(d("applied", exit_code=0, duration_s=1.5, files=(partial,)))
    assert line == "applied by alice (hunks 1, 3 of 4 of devenv.nix; exit 0, 1.5 s)"


def test_decision_files_number_hunks_from_1_and_older_files_still_read() -> None:
    partial = AppliedFile("devenv.nix", "a" * 64, "b" * 64, "hunks", (0, 2), 4)
    doc = d("applied", files=(partial,)).to_json()
    assert doc["files"][0]["hunks"] == [1, 3] and doc["files"][0]["hunks_total"] == 4
    again = parse_decision(json.loads(json.dumps(doc)))
    assert again.files[0].hunks == (0, 2) and again.files[0].hunks_total == 4
    older = dict(doc["files"][0], hunks=[0, 2])
    del older["hunks_total"]
    assert parse_decision({**doc, "files": [older]}).files[0].hunks == (0, 2)  # written 0-based, before hunks_total


def test_wait_says_which_hunks_were_applied_and_which_were_left_out(project) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import SAMPLE_DEVENV_NIX

    from omni_tui.agents.outcome import decision_summary
    from omni_tui.core.gate import Gate
    from omni_tui.core.proposals import ProposalStore
    from omni_tui.core.rebuild import RebuildOutcome
    from omni_tui.core.workspace import Workspace

    ws = Workspace.open(project, env={})
    two_places = SAMPLE_DEVENV_NIX.replace("{ pkgs, lib, config, ... }:", "{ pkgs, lib, config, ... }:\n# top").replace(
        "  '';\n}", "  '';\n  # bottom\n}"
    )
    proposal = ProposalStore(ws).create({"devenv.nix": two_places}, title="Two notes", rationale="r", agent="codex")
    decision = Gate(ws, who="alice").approve(
        proposal.id, rebuild=lambda: RebuildOutcome(0, 0.2, None, ("done",)), hunks={"devenv.nix": {1}}
    )
    assert decision.status == "applied" and "# bottom" in (project / "devenv.nix").read_text()
    assert "# top" not in (project / "devenv.nix").read_text()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "omni_tui", "wait", proposal.id],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("applied by alice (hunk 2 of 2 of devenv.nix; exit 0, 0.2 s)")
    recorded = json.loads((ws.paths.decisions / f"{proposal.id}.json").read_text())
    assert recorded["files"][0]["hunks"] == [2] and recorded["files"][0]["hunks_total"] == 2
    summary = decision_summary(ProposalStore(ws).decision(proposal.id), "devenv.nix")  # type: ignore[arg-type]
    assert summary["summary"] == "applied by alice (hunk 2 of 2 of devenv.nix; exit 0, 0.2 s)"
    assert "only hunk 2 of 2 of devenv.nix" in summary["message"]
