"""The agent CLI as a real subprocess: propose / wait / withdraw / status / audit, exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omni_tui.core.gate import Gate
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.rebuild import RebuildOutcome
from omni_tui.core.workspace import Workspace

TIMEOUT = 120


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVENV_")}
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", *args], cwd=cwd, input=stdin, capture_output=True, timeout=TIMEOUT, env=cli_env()
    )


def start_cli(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "omni_tui", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env()
    )


def new_nix(project: Path, marker: str = "pkgs.ripgrep") -> Path:
    path = project.parent / f"new-{abs(hash(marker))}.nix"
    path.write_text((project / "devenv.nix").read_text().replace("pkgs.jq", f"pkgs.jq {marker}"))
    return path


def ok_step() -> RebuildOutcome:
    return RebuildOutcome(0, 0.01, None, ("done",))


def fail_step() -> RebuildOutcome:
    return RebuildOutcome(1, 0.01, None, ("error: build failed",))


def test_propose_prints_the_id_and_changes_nothing_until_approved(project: Path) -> None:
    before = (project / "devenv.nix").read_bytes()
    result = run_cli(
        "propose", "devenv.nix", "--new-content", str(new_nix(project)), "--title", "Add ripgrep", "--why", "search", cwd=project
    )
    assert result.returncode == 0, result.stderr
    proposal_id = result.stdout.decode().strip()
    assert "\n" not in proposal_id
    assert (project / "devenv.nix").read_bytes() == before
    ws = Workspace.open(project)
    assert ProposalStore(ws).get(proposal_id).agent == "cli"
    assert (project / "devenv.nix").read_bytes() == before
    Gate(ws, who="alice").approve(proposal_id, rebuild=ok_step)
    assert "pkgs.ripgrep" in (project / "devenv.nix").read_text()


def test_propose_json_and_stdin_and_minus_c(project: Path, tmp_path: Path) -> None:
    content = new_nix(project).read_bytes()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "omni_tui",
            "propose",
            "-C",
            str(project),
            "devenv.nix",
            "--new-content",
            "-",
            "--title",
            "t",
            "--why",
            "w",
            "--agent",
            "codex",
            "--json",
        ],
        input=content,
        cwd=tmp_path,
        capture_output=True,
        timeout=TIMEOUT,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "pending" and doc["agent"] == "codex" and doc["paths"] == ["devenv.nix"]
    assert ProposalStore(Workspace.open(project)).get(doc["id"]).changes[0].new_content == content.decode()


def test_propose_with_a_patch(project: Path) -> None:
    from omni_tui.core.textdiff import unified_patch

    old = (project / "devenv.nix").read_text()
    patch = project.parent / "change.patch"
    patch.write_text(unified_patch(old, old.replace("hello", "hallo"), "devenv.nix"))
    result = run_cli("propose", "devenv.nix", "--patch", str(patch), "--title", "greet", "--why", "w", cwd=project)
    assert result.returncode == 0, result.stderr
    proposal = ProposalStore(Workspace.open(project)).get(result.stdout.decode().strip())
    assert proposal.changes[0].new_content == old.replace("hello", "hallo")


def _propose_and_wait(project: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    proc = start_cli(
        "propose", "devenv.nix", "--new-content", str(new_nix(project)), "--title", "t", "--why", "w", "--wait", *extra, cwd=project
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    assert line, proc.stderr.read().decode() if proc.stderr else ""
    return proc, line


@pytest.mark.parametrize(
    ("decide", "code", "status"),
    [
        ("approve", 0, "applied"),
        ("reject", 10, "rejected"),
        ("fail", 11, "rebuild failed"),  # the shared decision line: "rebuild failed (exit 1, …) — rolled back automatically"
        ("stale", 12, "stale"),
        ("withdraw", 13, "withdrawn"),
    ],
)
def test_propose_wait_exit_codes_decided_by_another_process(project: Path, decide: str, code: int, status: str) -> None:
    proc, proposal_id = _propose_and_wait(project)
    try:
        ws = Workspace.open(project)
        gate = Gate(ws, who="alice")
        if decide == "approve":
            gate.approve(proposal_id, rebuild=ok_step)
        elif decide == "reject":
            gate.reject(proposal_id, "not today")
        elif decide == "fail":
            gate.approve(proposal_id, rebuild=fail_step)
        elif decide == "stale":
            (project / "devenv.nix").write_text((project / "devenv.nix").read_text() + "\n")
            gate.approve(proposal_id, rebuild=ok_step)
        else:
            withdrawn = run_cli("withdraw", proposal_id, cwd=project)
            assert withdrawn.returncode == 0 and withdrawn.stdout.decode().strip() == f"withdrawn {proposal_id}"
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err.decode()
    assert out.decode().startswith(status)
    if decide == "reject":
        assert "not today" in out.decode()


def test_propose_wait_json_prints_the_decision(project: Path) -> None:
    proc = start_cli(
        "propose", "devenv.nix", "--new-content", str(new_nix(project)), "--title", "t", "--why", "w", "--wait", "--json", cwd=project
    )
    try:
        store = ProposalStore(Workspace.open(project))
        for _ in range(600):
            if store.entries():
                break
            proc.wait(timeout=0.1) if proc.poll() is not None else __import__("time").sleep(0.1)
        (entry,) = store.entries()
        Gate(store.ws, who="alice").reject(entry.proposal.id, "no")
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 10, err
    doc = json.loads(out)
    assert doc["schema"] == "omni-tui/decision@1" and doc["status"] == "rejected" and doc["reason"] == "no"


def test_wait_timeout_exits_124_and_the_proposal_stays_pending(project: Path) -> None:
    result = run_cli(
        "propose",
        "devenv.nix",
        "--new-content",
        str(new_nix(project)),
        "--title",
        "t",
        "--why",
        "w",
        "--wait",
        "--timeout",
        "0.5",
        cwd=project,
    )
    assert result.returncode == 124
    proposal_id = result.stdout.decode().splitlines()[0]
    assert "still pending" in result.stderr.decode()
    assert ProposalStore(Workspace.open(project)).status(proposal_id) == "pending"
    again = run_cli("wait", proposal_id, "--timeout", "0.3", "--json", cwd=project)
    assert again.returncode == 124 and json.loads(again.stdout)["status"] == "pending"


def test_wait_timeout_names_the_state_a_rebuilding_proposal_is_in(project: Path) -> None:
    """An agent waiting while a person's approval is rebuilding is told so, not that nobody looked yet."""
    import threading

    store = ProposalStore(Workspace.open(project))
    proposal = store.create({"devenv.nix": new_nix(project).read_text()}, title="t", rationale="w", agent="a")
    building, release = threading.Event(), threading.Event()

    def slow_step() -> RebuildOutcome:
        building.set()
        release.wait(TIMEOUT)
        return ok_step()

    approving = threading.Thread(
        target=Gate(store.ws, who="alice").approve, args=(proposal.id,), kwargs={"rebuild": slow_step}, daemon=True
    )
    approving.start()
    try:
        assert building.wait(TIMEOUT)
        result = run_cli("wait", proposal.id, "--timeout", "0.3", cwd=project)
        assert result.returncode == 124
        assert "still rebuilding" in result.stderr.decode() and "pending" not in result.stderr.decode()
    finally:
        release.set()
        approving.join(TIMEOUT)


def test_wait_on_a_decided_proposal_returns_at_once(project: Path) -> None:
    ws = Workspace.open(project)
    proposal = ProposalStore(ws).create({"devenv.nix": new_nix(project).read_text()}, title="t", rationale="r", agent="a")
    Gate(ws, who="alice").approve(proposal.id, rebuild=ok_step)
    result = run_cli("wait", proposal.id, cwd=project)
    assert result.returncode == 0 and result.stdout.decode().startswith("applied")
    unknown = run_cli("wait", "20990101T000000Z-abcdef", cwd=project)
    assert unknown.returncode == 2
    assert unknown.stderr.decode() == "omni-tui: no proposal with id 20990101T000000Z-abcdef\n"


def test_withdraw_of_a_decided_proposal_is_an_error(project: Path) -> None:
    ws = Workspace.open(project)
    proposal = ProposalStore(ws).create({"devenv.nix": new_nix(project).read_text()}, title="t", rationale="r", agent="a")
    Gate(ws, who="alice").reject(proposal.id, "no")
    result = run_cli("withdraw", proposal.id, cwd=project)
    assert result.returncode == 2
    assert result.stderr.decode() == f"omni-tui: proposal {proposal.id} is rejected, not pending\n"


def _bad_input_cases(project: Path) -> dict[str, tuple[list[str], bytes | None, str]]:
    good = str(new_nix(project))
    outside = project.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "devenv.nix").write_text("{ }\n")
    (project / "linked").symlink_to(outside)
    latin1 = project.parent / "latin1.nix"
    latin1.write_bytes('{ name = "café"; }\n'.encode("latin-1"))
    huge = project.parent / "huge.nix"
    huge.write_bytes(b"#" * (1024 * 1024 + 1))
    bad_patch = project.parent / "bad.patch"
    bad_patch.write_text("--- a/devenv.nix\n+++ b/devenv.nix\n@@ -1,1 +1,1 @@\n-this line is not there\n+x\n")
    base = ["--title", "t", "--why", "w"]
    return {
        "dotdot": (["propose", "../x", "--new-content", good, *base], None, "../x: outside the project root"),
        "absolute": (["propose", "/etc/x", "--new-content", good, *base], None, "/etc/x: outside the project root"),
        "symlink": (["propose", "linked/devenv.nix", "--new-content", good, *base], None, "path goes through a symlink"),
        "not-utf8": (["propose", "devenv.nix", "--new-content", str(latin1), *base], None, "not valid UTF-8 (byte 0xe9"),
        "too-big": (["propose", "devenv.nix", "--new-content", str(huge), *base], None, "over the size limit of 1048576 bytes"),
        "bad-patch": (["propose", "devenv.nix", "--patch", str(bad_patch), *base], None, "patch does not apply to devenv.nix: hunk 1"),
        "empty-title": (["propose", "devenv.nix", "--new-content", good, "--title", " ", "--why", "w"], None, "`title` must not be empty"),
        "not-guarded": (["propose", "README.md", "--new-content", good, *base], None, "README.md: not a guarded file"),
        "missing-file": (["propose", "devenv.nix", "--new-content", "/nonexistent/x.nix", *base], None, "/nonexistent/x.nix: no such file"),
    }


@pytest.mark.parametrize(
    "case", ["dotdot", "absolute", "symlink", "not-utf8", "too-big", "bad-patch", "empty-title", "not-guarded", "missing-file"]
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(project: Path, case: str) -> None:
    args, stdin, message = _bad_input_cases(project)[case]
    before = (project / "devenv.nix").read_bytes()
    result = run_cli(*args, "--wait", cwd=project, stdin=stdin)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.startswith("omni-tui: ") and err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err
    assert (project / "devenv.nix").read_bytes() == before
    assert list((project / ".devenv" / "omni" / "proposals").iterdir()) == []


def test_no_devenv_project_is_a_one_line_error(tmp_path: Path) -> None:
    for args in ([], ["status"]):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 2
        assert (
            result.stderr.decode() == f"omni-tui: no devenv.nix in {tmp_path} or any directory above it (use -C DIR or set $DEVENV_ROOT)\n"
        )


def test_status_json_document(project: Path) -> None:
    ws = Workspace.open(project)
    proposal = ProposalStore(ws).create({"devenv.nix": new_nix(project).read_text()}, title="Add rg", rationale="r", agent="claude")
    (project / ".envrc").write_text("use devenv\n")
    (ws.paths.proposals / "20000101T000000Z-broken.json").write_text("{")
    result = run_cli("status", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["workspace"] == str(project.resolve())
    assert doc["gate"] == "unapproved_edits"
    (pending,) = doc["pending"]
    assert {k: pending[k] for k in ("id", "agent", "title", "paths")} == {
        "id": proposal.id,
        "agent": "claude",
        "title": "Add rg",
        "paths": ["devenv.nix"],
    }
    assert pending["created_at"] == proposal.created_at and pending["validation"]["ok"] is True
    assert doc["unapproved"] == [".envrc"]
    assert isinstance(doc["processes"], list) and doc["last_rebuild"] is None
    assert doc["processes_backend"] is None or isinstance(doc["processes_backend"], str)
    assert doc["quarantined"][0]["file"] == "20000101T000000Z-broken.json"
    Gate(ws, who="alice").revert_direct()
    Gate(ws, who="alice").approve(proposal.id, rebuild=ok_step)
    doc = json.loads(run_cli("status", "--json", cwd=project).stdout)
    assert doc["gate"] == "clean" and doc["last_rebuild"]["status"] == "applied" and doc["last_rebuild"]["exit_code"] == 0
    human = run_cli("status", cwd=project).stdout.decode()
    assert "gate:      CLEAN" in human and "last rebuild: applied, exit 0" in human


def test_audit_lists_and_verify_detects_tampering(project: Path) -> None:
    ws = Workspace.open(project)
    proposal = ProposalStore(ws).create({"devenv.nix": new_nix(project).read_text()}, title="t", rationale="r", agent="a")
    Gate(ws, who="alice").reject(proposal.id, "no thanks")
    listing = run_cli("audit", cwd=project)
    assert listing.returncode == 0 and "rejected" in listing.stdout.decode() and "no thanks" in listing.stdout.decode()
    ok = run_cli("audit", "--verify", cwd=project)
    assert ok.returncode == 0 and "3 entries, hash chain intact" in ok.stdout.decode()
    lines = ws.paths.audit.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"who":"a"', '"who":"mallory"')
    ws.paths.audit.write_text("".join(lines))
    bad = run_cli("audit", "--verify", cwd=project)
    assert bad.returncode == 1
    assert "line 2: changed" in bad.stderr.decode()


def test_help_lists_the_agent_subcommands_and_no_approve(project: Path) -> None:
    result = run_cli("--help", cwd=project)
    out = result.stdout.decode()
    assert result.returncode == 0
    for command in ("propose", "wait", "withdraw", "status", "audit"):
        assert command in out
    assert not any(line.split()[:1] == ["approve"] for line in out.splitlines())
    assert run_cli("approve", "x", cwd=project).returncode == 2  # no command approves: it is not a subcommand


def test_bare_command_with_a_missing_dir_is_a_cockpit_error(tmp_path: Path) -> None:
    result = run_cli("nowhere", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.decode() == "omni-tui: nowhere: no such directory\n"
    result = run_cli("-C", "nowhere", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.decode() == "omni-tui: nowhere: no such directory\n"
