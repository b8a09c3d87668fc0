"""The gate against a same-user agent with files and the CLI only: forged decisions and baselines, a rewritten
configuration, a deleted or truncated audit log — each is detected, never reported as a person's approval —
and proposals whose base an approval moved go stale at once.

Every test is written the way the attacker works: plain file writes and `omni-tui` subprocesses. The core API
appears only where the cockpit's own path (a person's approval or resolution) is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omni_tui.core.gate import Gate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.workspace import Workspace

TIMEOUT = 120


def cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=cli_env()
    )


def ok_step() -> RebuildOutcome:
    return RebuildOutcome(0, 0.01, None, ("built",))


def state_dir(project: Path) -> Path:
    return project / ".devenv" / "omni"


def proposed_nix(project: Path, marker: str) -> str:
    return (project / "devenv.nix").read_text().replace("pkgs.jq", f"pkgs.jq pkgs.{marker}")


def agent_proposes(project: Path, marker: str = "ripgrep") -> tuple[str, str]:
    """`omni-tui propose` as an agent runs it; returns (id, the proposed content)."""
    content = proposed_nix(project, marker)
    source = project.parent / f"{marker}.nix"
    source.write_text(content)
    result = cli(
        "propose",
        "devenv.nix",
        "--new-content",
        str(source),
        "--title",
        f"Add {marker}",
        "--why",
        "needed",
        "--agent",
        "mallory",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip(), content


def forge_approval(project: Path, proposal_id: str, content: str) -> None:
    """What the attacker writes: an `applied` decision by alice, the content in place and in the baseline copy."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    forged = {
        "schema": "omni-tui/decision@1",
        "proposal_id": proposal_id,
        "status": "applied",
        "reason": None,
        "who": "alice",
        "via": "terminal",
        "decided_at": "2026-12-04T10:00:00.000Z",
        "exit_code": 0,
        "duration_s": 1.5,
        "log_path": None,
        "last_lines": ["built"],
        "files": [{"path": "devenv.nix", "sha256_before": None, "sha256_after": digest, "applied": "proposed", "hunks": None}],
    }
    (state_dir(project) / "decisions" / f"{proposal_id}.json").write_text(json.dumps(forged, indent=2))
    (state_dir(project) / "baseline" / "devenv.nix").write_text(content)
    (project / "devenv.nix").write_text(content)


@pytest.fixture
def rebuild_marker(project: Path) -> Path:
    """An approved rebuild command that leaves a mark, so a test can tell whether a rebuild ran."""
    marker = project.parent / "rebuilt"
    (project / "omni-tui.toml").write_text(f'[rebuild]\ncommand = "touch {marker}"\n')
    assert cli("status", cwd=project).returncode == 0  # the first run initialises the baseline (audited)
    return marker


def test_a_forged_decision_and_baseline_copy_are_tampered_never_approved(project: Path, rebuild_marker: Path) -> None:
    proposal_id, content = agent_proposes(project)
    forge_approval(project, proposal_id, content)

    waited = cli("wait", proposal_id, "--timeout", "10", cwd=project)
    assert waited.returncode == 14, (waited.returncode, waited.stdout, waited.stderr)
    assert "applied" not in waited.stdout.split(":")[0]

    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "tampered"
    forged_paths = {Path(item["path"]).name for item in status["tampered"]}
    assert {f"{proposal_id}.json", "devenv.nix"} <= forged_paths
    assert all(item["detail"] for item in status["tampered"])
    plain = cli("status", "--no-nix", cwd=project).stdout
    assert "TAMPERED" in plain and f"{proposal_id}.json" in plain

    rebuild = cli("rebuild", cwd=project)
    assert rebuild.returncode == 2 and "tampered" in rebuild.stderr
    assert not rebuild_marker.exists()

    verify = cli("audit", "--verify", cwd=project)
    assert verify.returncode == 1
    assert f"decisions/{proposal_id}.json" in verify.stderr and "baseline/devenv.nix" in verify.stderr

    # The cockpit's own approve path refuses too.
    other, _ = agent_proposes(project, "fd")
    with pytest.raises(Exception, match="tampered"):
        Gate(Workspace.open(project), who="alice").approve(other, rebuild=ok_step)


def test_propose_wait_gets_14_when_a_forged_approval_appears(project: Path, rebuild_marker: Path) -> None:
    source = project.parent / "fd.nix"
    content = proposed_nix(project, "fd")
    source.write_text(content)
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "omni_tui",
            "propose",
            "devenv.nix",
            "--new-content",
            str(source),
            "--title",
            "Add fd",
            "--why",
            "w",
            "--wait",
            "--timeout",
            "60",
        ],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert agent.stdout is not None
        proposal_id = agent.stdout.readline().strip()
        forge_approval(project, proposal_id, content)
        assert agent.wait(timeout=TIMEOUT) == 14
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()


def test_resolving_puts_back_what_the_chain_vouches_for_and_records_the_person(project: Path, rebuild_marker: Path) -> None:
    original = (project / "devenv.nix").read_bytes()
    proposal_id, content = agent_proposes(project)
    forge_approval(project, proposal_id, content)
    ws = Workspace.open(project)
    gate = Gate(ws, who="carol")
    plan = gate.resolve_tampered(dry_run=True)
    assert any(f"{proposal_id}.json" in line for line in plan) and any("baseline of devenv.nix" in line for line in plan)
    assert gate.state().kind == "tampered"  # a dry run changes nothing

    gate.resolve_tampered()
    assert ws.read_baseline("devenv.nix") == original  # the approved bytes, not the forged copy
    state = gate.state()
    assert state.kind == "unapproved_edits" and state.unapproved == ("devenv.nix",)  # the forged write is shown as an edit
    assert ProposalStore(ws).status(proposal_id) == "pending"  # nobody decided it
    assert any(p.name.startswith(f"decisions-{proposal_id}") for p in ws.paths.quarantine.iterdir())
    last = ws.audit.entries()[-1]
    assert (last["event"], last["who"], last["decision"]) == ("tamper_resolved", "carol", "rebaselined")
    assert cli("audit", "--verify", cwd=project).returncode == 0


def test_rewriting_the_configuration_does_not_turn_the_gate_off(project: Path, rebuild_marker: Path) -> None:
    pwned = project.parent / "pwned"
    (project / "omni-tui.toml").write_text(f'[guard]\nfiles = ["devenv.yaml"]\n\n[rebuild]\ncommand = "touch {pwned}"\n')
    (project / "devenv.nix").write_text(proposed_nix(project, "backdoor"))

    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "unapproved_edits"
    assert {"devenv.nix", "omni-tui.toml"} <= set(status["unapproved"])

    rebuild = cli("rebuild", cwd=project)
    assert rebuild.returncode == 2 and "omni-tui.toml" in rebuild.stderr
    assert not pwned.exists() and not rebuild_marker.exists()

    # Only the configuration changed: still refused, and every command keeps the approved configuration.
    ws = Workspace.open(project)
    Gate(ws, who="alice").revert_direct(["devenv.nix"])
    assert ws.config.rebuild.command == f"touch {rebuild_marker}"
    assert ws.is_guarded("devenv.nix") and ws.is_guarded("omni-tui.toml")
    rebuild = cli("rebuild", cwd=project)
    assert rebuild.returncode == 2 and "omni-tui.toml" in rebuild.stderr and not pwned.exists()

    # A person accepts it in the cockpit: from then on it is the configuration.
    Gate(ws, who="alice").accept_direct(rebuild=ok_step)
    assert Workspace.open(project).config.rebuild.command == f"touch {pwned}"


def test_devenv_nix_is_guarded_whatever_the_configuration_says(project: Path) -> None:
    (project / "omni-tui.toml").write_text('[guard]\nfiles = ["devenv.yaml"]\n')
    assert cli("status", cwd=project).returncode == 0
    (project / "devenv.nix").write_text(proposed_nix(project, "backdoor"))
    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "unapproved_edits" and "devenv.nix" in status["unapproved"]


def _audit_paths(project: Path) -> tuple[Path, Path]:
    log = state_dir(project) / "audit.jsonl"
    return log, log.with_name("audit.jsonl.head")


def test_deleting_the_audit_log_and_its_head_is_detected(project: Path, rebuild_marker: Path) -> None:
    agent_proposes(project)
    log, head = _audit_paths(project)
    log.unlink()
    head.unlink()

    verify = cli("audit", "--verify", cwd=project)
    assert verify.returncode == 1 and "outside the project" in verify.stderr
    assert json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)["gate"] == "tampered"
    assert cli("rebuild", cwd=project).returncode == 2 and not rebuild_marker.exists()


def test_deleting_the_log_and_the_outside_head_is_detected_while_state_exists(project: Path) -> None:
    assert cli("status", cwd=project).returncode == 0
    log, head = _audit_paths(project)
    log.unlink()
    head.unlink()
    for outside in (Path(os.environ["XDG_STATE_HOME"]) / "omni-tui" / "heads").iterdir():
        outside.unlink()
    verify = cli("audit", "--verify", cwd=project)
    assert verify.returncode == 1 and "missing" in verify.stderr


def test_truncating_the_log_and_its_head_consistently_is_detected(project: Path, rebuild_marker: Path) -> None:
    first, content = agent_proposes(project)
    Gate(Workspace.open(project), who="alice").reject(first, "no")
    agent_proposes(project, "fd")
    log, head = _audit_paths(project)
    lines = log.read_bytes().splitlines(keepends=True)
    kept = lines[:2]
    log.write_bytes(b"".join(kept))
    head.write_text(json.dumps({"seq": 2, "sha256": hashlib.sha256(kept[-1].rstrip(b"\n")).hexdigest()}) + "\n")

    verify = cli("audit", "--verify", cwd=project)
    assert verify.returncode == 1 and "outside the project" in verify.stderr
    assert json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)["gate"] == "tampered"

    # A person resolves it: a new head is recorded, and the chain verifies again from there.
    Gate(Workspace.open(project), who="carol").resolve_tampered()
    assert cli("audit", "--verify", cwd=project).returncode == 0
    assert json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)["gate"] != "tampered"


def test_an_approval_makes_proposals_on_the_old_content_stale_at_once(project: Path) -> None:
    assert cli("status", cwd=project).returncode == 0
    approved, _ = agent_proposes(project, "ripgrep")
    source = project.parent / "fd.nix"
    source.write_text(proposed_nix(project, "fd"))
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "omni_tui",
            "propose",
            "devenv.nix",
            "--new-content",
            str(source),
            "--title",
            "Add fd",
            "--why",
            "w",
            "--wait",
            "--timeout",
            "60",
        ],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert agent.stdout is not None
        waiting = agent.stdout.readline().strip()
        ws = Workspace.open(project)
        gate = Gate(ws, who="alice")
        assert gate.approve(approved, rebuild=ok_step).status == "applied"
        done = time.monotonic()
        assert ProposalStore(ws).status(waiting) == "stale"  # a state at once, not a badge
        assert gate.state().kind == "clean" and gate.state().pending == ()  # the header no longer counts it
        assert agent.wait(timeout=TIMEOUT) == 12
        assert time.monotonic() - done < 1.0 + 0.5  # its poll interval is 0.2 s; the rest is process exit
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    entry = [e for e in ws.audit.entries() if e["proposal_id"] == waiting][-1]
    assert (entry["event"], entry["decision"]) == ("stale", "stale")


def test_a_log_from_before_vouched_state_is_adopted_once_not_called_tampered(project: Path) -> None:
    """Upgrading: an existing project's log has no `state` fields and no head outside the project yet."""
    ws = Workspace.open(project)
    proposal = ProposalStore(ws).create({"devenv.nix": proposed_nix(project, "fd")}, title="t", rationale="r", agent="a")
    Gate(ws, who="alice").approve(proposal.id, rebuild=ok_step)
    log, head = _audit_paths(project)
    old = []
    prev = "0" * 64
    for raw in log.read_bytes().splitlines():
        entry = json.loads(raw)
        entry.pop("state", None)
        entry["prev"] = prev
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
        prev = hashlib.sha256(line).hexdigest()
        old.append(line + b"\n")
    log.write_bytes(b"".join(old))
    head.write_text(json.dumps({"seq": len(old), "sha256": prev}) + "\n")
    for outside in (Path(os.environ["XDG_STATE_HOME"]) / "omni-tui" / "heads").iterdir():
        outside.unlink()

    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "clean", status["tampered"]
    assert cli("wait", proposal.id, "--timeout", "5", cwd=project).returncode == 0
    assert [e["event"] for e in Workspace.open(project).audit.entries()].count("state_adopted") == 1
    assert cli("audit", "--verify", cwd=project).returncode == 0


def test_deleting_a_rejection_does_not_reopen_the_proposal(project: Path) -> None:
    assert cli("status", cwd=project).returncode == 0
    proposal_id, _ = agent_proposes(project)
    Gate(Workspace.open(project), who="alice").reject(proposal_id, "not this")
    (state_dir(project) / "decisions" / f"{proposal_id}.json").unlink()
    assert cli("wait", proposal_id, "--timeout", "5", cwd=project).returncode == 14
    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "tampered" and status["pending"] == []


def test_a_reader_never_sees_genuine_approvals_as_tampered(project: Path) -> None:
    """Entries are written ahead of their files: a cockpit or agent reading while a person approves (and
    proposals go stale) sees each state as it is, never `tampered`."""
    import threading

    ws = Workspace.open(project)
    gate = Gate(ws, who="alice")
    stop = threading.Event()
    seen: list[str] = []

    def watch() -> None:
        reader = Workspace.open(project)
        reader_gate = Gate(reader)
        while not stop.is_set():
            state = reader_gate.state()
            if state.kind == "tampered":
                seen.append("; ".join(f.describe() for f in state.tampered))
            verified = reader.audit.verify()
            if not verified.ok:
                seen.append(verified.describe(reader.audit.path))

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        for index in range(8):
            store = ProposalStore(ws)
            first = store.create({"devenv.nix": proposed_nix(project, f"a{index}")}, title="a", rationale="r", agent="x")
            store.create({"devenv.nix": proposed_nix(project, f"b{index}")}, title="b", rationale="r", agent="x")
            assert gate.approve(first.id, rebuild=ok_step).status == "applied"
    finally:
        stop.set()
        thread.join(timeout=60)
    assert seen == []
    assert cli("audit", "--verify", cwd=project).returncode == 0


def test_pyproject_tool_table_is_guarded_while_it_is_the_configuration(project: Path) -> None:
    marker = project.parent / "rebuilt"
    pwned = project.parent / "pwned"
    (project / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.omni-tui.rebuild]\ncommand = "touch {marker}"\n')
    assert cli("status", cwd=project).returncode == 0
    text = (project / "pyproject.toml").read_text().replace(str(marker), str(pwned))
    (project / "pyproject.toml").write_text(text)
    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "unapproved_edits" and "pyproject.toml" in status["unapproved"]
    assert cli("rebuild", cwd=project).returncode == 2 and not pwned.exists()
    assert Workspace.open(project).config.rebuild.command == f"touch {marker}"


def test_a_tool_table_added_to_a_plain_pyproject_is_a_change_to_approve(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert cli("status", cwd=project).returncode == 0
    (project / "pyproject.toml").write_text('[project]\nname = "y"\n')  # an ordinary edit: not the gate's business
    assert json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)["gate"] == "clean"
    pwned = project.parent / "pwned"
    (project / "pyproject.toml").write_text(f'[project]\nname = "y"\n\n[tool.omni-tui.rebuild]\ncommand = "touch {pwned}"\n')
    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "unapproved_edits" and "pyproject.toml" in status["unapproved"]
    assert Workspace.open(project).config.rebuild.command is None  # the approved configuration: the defaults
    assert cli("rebuild", cwd=project).returncode == 2 and not pwned.exists()


def test_resolving_a_deleted_log_keeps_the_decisions_it_had_vouched_for(project: Path) -> None:
    ws = Workspace.open(project)
    store = ProposalStore(ws)
    applied = store.create({"devenv.nix": proposed_nix(project, "fd")}, title="t", rationale="r", agent="a")
    assert Gate(ws, who="alice").approve(applied.id, rebuild=ok_step).status == "applied"
    log, head = _audit_paths(project)
    log.unlink()
    head.unlink()
    assert json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)["gate"] == "tampered"
    Gate(Workspace.open(project), who="carol").resolve_tampered()
    assert cli("audit", "--verify", cwd=project).returncode == 0
    assert cli("wait", applied.id, "--timeout", "5", cwd=project).returncode == 0  # still the person's approval


def test_a_hand_written_last_rebuild_is_not_shown(project: Path) -> None:
    assert cli("status", cwd=project).returncode == 0
    proposal_id, _ = agent_proposes(project)
    (state_dir(project) / "gate.json").write_text(
        json.dumps(
            {
                "last_rebuild": {
                    "kind": "approve",
                    "proposal_id": proposal_id,
                    "status": "applied",
                    "ok": True,
                    "exit_code": 0,
                    "duration_s": 1.0,
                    "log_path": None,
                    "command": "true",
                    "reason": None,
                    "who": "alice",
                    "finished_at": "2026-12-04T10:00:00.000Z",
                }
            }
        )
    )
    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["last_rebuild"] is None
    assert "alice" not in cli("status", "--no-nix", cwd=project).stdout


def test_another_state_directory_of_the_same_project_is_not_called_a_cut_log(project: Path, tmp_path: Path) -> None:
    """`$DEVENV_DOTFILE` elsewhere gives the same root a second state directory; its log is its own."""
    assert cli("status", cwd=project).returncode == 0
    agent_proposes(project)
    other = Workspace.open(project, env={**cli_env(), "DEVENV_ROOT": str(project), "DEVENV_DOTFILE": str(tmp_path / "dot")})
    assert other.paths.state != state_dir(project)
    assert Gate(other).state().kind != "tampered"
    assert other.audit.verify().ok
    assert json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)["gate"] != "tampered"


def test_a_forged_or_deleted_configuration_baseline_changes_nothing(project: Path, rebuild_marker: Path) -> None:
    pwned = project.parent / "pwned"
    forged = f'[guard]\nfiles = ["devenv.yaml"]\n\n[rebuild]\ncommand = "touch {pwned}"\n'
    (project / "omni-tui.toml").write_text(forged)
    (state_dir(project) / "baseline" / "omni-tui.toml").write_text(forged)  # the "approved" copy, forged
    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "tampered"
    assert Workspace.open(project).config.rebuild.command == f"touch {rebuild_marker}"  # still the approved one
    (state_dir(project) / "baseline" / "omni-tui.toml").unlink()  # or deleted
    assert Workspace.open(project).config.rebuild.command == f"touch {rebuild_marker}"
    assert json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)["gate"] == "tampered"
    assert cli("rebuild", cwd=project).returncode == 2 and not pwned.exists()


def test_a_line_rewritten_in_the_middle_of_the_log_makes_the_gate_tampered(project: Path) -> None:
    assert cli("status", cwd=project).returncode == 0
    first, _ = agent_proposes(project)
    agent_proposes(project, "fd")
    log, _head = _audit_paths(project)
    text = log.read_text()
    assert "Add ripgrep" in text
    log.write_text(text.replace("Add ripgrep", "Add nothing"))  # the agent rewrites its own title in the record
    status = json.loads(cli("status", "--json", "--no-nix", cwd=project).stdout)
    assert status["gate"] == "tampered" and status["tampered"][0]["kind"] == "audit"
    assert cli("audit", "--verify", cwd=project).returncode == 1
