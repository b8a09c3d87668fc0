"""The project outlives its devenv.nix: with the file deleted, the project is still found by its state
directory (`.devenv/omni/`); `status`, `propose`, `wait`, `withdraw` and the Claude Code hook keep
working; the deletion is an unapproved edit shown as "devenv.nix would be deleted", never "✓ Nix parses"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from omni_tui.core.workspace import Workspace


def _cli(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEVENV_ROOT", "DEVENV_DOTFILE", "OMNI_TUI_AGENT")}
    return subprocess.run(
        [sys.executable, "-m", "omni_tui", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def _deleted(project: Path) -> Path:
    assert _cli(project, "status", "--no-nix").returncode == 0  # the project is initialised
    (project / "devenv.nix").unlink()
    sub = project / "src" / "app"
    sub.mkdir(parents=True)
    return sub


def test_status_finds_the_project_by_its_state_and_says_the_file_would_be_deleted(project: Path) -> None:
    sub = _deleted(project)
    done = _cli(sub, "status", "--no-nix")  # from a subdirectory, searching upwards
    assert done.returncode == 0, done.stderr
    assert f"workspace: {project}" in done.stdout
    assert "unapproved: devenv.nix (would be deleted)" in done.stdout
    doc = json.loads(_cli(sub, "status", "--json", "--no-nix").stdout)
    assert doc["gate"] == "unapproved_edits"
    assert doc["unapproved"] == ["devenv.nix"] and doc["deleted"] == ["devenv.nix"]


def test_agents_propose_wait_and_withdraw_without_the_file(project: Path) -> None:
    sub = _deleted(project)
    created = _cli(
        sub,
        "propose",
        "devenv.nix",
        "--new-content",
        "-",
        "--title",
        "Bring devenv.nix back",
        "--why",
        "it was deleted",
        stdin="{ pkgs, ... }: { }\n",
    )
    assert created.returncode == 0, created.stderr
    proposal_id = created.stdout.strip()
    waited = _cli(sub, "wait", proposal_id, "--timeout", "0")
    assert waited.returncode == 124, waited.stderr
    withdrawn = _cli(sub, "withdraw", proposal_id)
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert _cli(sub, "wait", proposal_id).returncode == 13


def test_the_claude_code_hook_still_turns_a_write_into_a_proposal(project: Path) -> None:
    _deleted(project)
    call = {
        "session_id": "s",
        "hook_event_name": "PreToolUse",
        "cwd": str(project),
        "tool_name": "Write",
        "tool_input": {"file_path": str(project / "devenv.nix"), "content": "{ pkgs, ... }: { }\n"},
    }
    done = _cli(project, "hook", "claude-code", "--timeout", "0", stdin=json.dumps(call))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hookSpecificOutput"]["permissionDecision"] in ("ask", "deny")
    assert list((project / ".devenv" / "omni" / "proposals").glob("*.json"))


def test_a_directory_with_neither_file_nor_state_is_still_refused(tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    done = _cli(empty, "status")
    assert done.returncode == 2 and "no devenv.nix" in done.stderr


def test_accepting_the_deletion_says_devenv_nix_would_be_deleted_never_nix_parses(project: Path) -> None:
    from omni_tui.core.validate import validate_on_disk
    from omni_tui.ui import presenters

    _deleted(project)
    ws = Workspace.open(project)
    assert ws.unapproved() == ["devenv.nix"]
    # what the cockpit's accept modal is given (ui/workers.validate_direct_edits)
    validation = validate_on_disk({p: ws.read_current(p) for p in ws.unapproved()}, max_bytes=ws.config.guard.max_bytes)
    texts = [c.text for c in presenters.validation_checks(validation, base=False, paths=["devenv.nix"])]
    assert "devenv.nix would be deleted" in texts, texts
    assert not any("Nix parses" in t for t in texts), texts
