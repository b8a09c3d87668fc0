"""`omni-tui hook claude-code` as Claude Code runs it: a real subprocess fed real PreToolUse payloads,
the decision made by another process through the Gate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DEVENV_NIX

from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
DECIDER = Path(__file__).resolve().parent / "agents_decider.py"
WAIT = 60  # generous: a loaded 2-core machine
HOOK_CMD = [sys.executable, "-m", "omni_tui", "hook", "claude-code"]


def payload(project: Path, tool_name: str, tool_input: dict[str, Any], *, cwd: Path | None = None) -> str:
    """A PreToolUse payload shaped exactly like Claude Code's."""
    return json.dumps(
        {
            "session_id": "abc123",
            "transcript_path": "/home/me/.claude/projects/proj/abc123.jsonl",
            "cwd": str(cwd or project),
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": tool_name,
            "tool_input": tool_input,
            "tool_use_id": "toolu_01ABC123",
        }
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_"))}
    env["PYTHONPATH"] = str(REPO)
    return env


def start_hook(stdin: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        HOOK_CMD + list(args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd="/",
    )
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    return proc


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """The hook's exit code and output; a hook still running after WAIT fails the test (killed, never left behind)."""
    proc.stdin = None  # written and closed by start_hook: communicate must not flush it again
    try:
        out, err = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"the hook was still running after {WAIT} s") from None
    return proc.returncode, out, err


def run_hook(stdin: str, *args: str) -> tuple[int, str, str]:
    return finish(start_hook(stdin, *args))


def start_decider(project: Path, action: str, arg: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(DECIDER), str(project), action, arg],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def decided(decider: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = decider.communicate(timeout=WAIT)
    assert decider.returncode == 0, err
    return json.loads(out)


def hook_output(out: str) -> dict[str, Any]:
    data = json.loads(out)
    assert set(data) == {"hookSpecificOutput"}
    spec = data["hookSpecificOutput"]
    assert spec["hookEventName"] == "PreToolUse"
    return spec


@pytest.fixture
def ws(project: Path) -> Workspace:
    return Workspace.open(project, env={})  # records the baseline, as an open cockpit would have


def test_approved_edit_is_applied_by_the_cockpit_and_denied_to_claude(project: Path, ws: Workspace) -> None:
    nix = project / "devenv.nix"
    edit = {
        "file_path": str(nix),
        "old_string": "  languages.python.enable = true;\n",
        "new_string": "  languages.python.enable = true;\n\n  services.postgres.enable = true;\n",
    }
    hook = start_hook(payload(project, "Edit", edit))
    decider = start_decider(project, "approve")
    result = decided(decider)
    code, out, err = finish(hook)

    assert code == 0 and err == ""
    # The file was untouched while the proposal waited; the cockpit wrote it on approval.
    assert result["before"]["devenv.nix"] == SAMPLE_DEVENV_NIX
    assert result["agent"] == "claude-code"
    assert result["title"] == "Edit devenv.nix: + services.postgres.enable = true;"
    assert "Claude Code asked to run an Edit on devenv.nix in session abc123" in result["rationale"]
    assert "+  services.postgres.enable = true;" in result["rationale"]
    assert nix.read_text() == SAMPLE_DEVENV_NIX.replace(edit["old_string"], edit["new_string"])
    spec = hook_output(out)
    assert spec["permissionDecision"] == "deny"
    reason = spec["permissionDecisionReason"]
    assert f"proposal {result['id']} was approved by alice" in reason
    assert "already applied it to devenv.nix" in reason and "Do not apply this change again" in reason


def test_rejected_multi_edit_is_denied_with_the_persons_reason(project: Path, ws: Workspace) -> None:
    multi = {
        "file_path": "devenv.nix",  # relative to cwd, as some agents send it
        "edits": [
            {"old_string": "pkgs.jq", "new_string": "pkgs.jq pkgs.redis", "replace_all": False},
            {"old_string": 'env.GREET = "hello";', "new_string": 'env.GREET = "hi";'},
        ],
    }
    hook = start_hook(payload(project, "MultiEdit", multi))
    result = decided(start_decider(project, "reject", "use services.redis instead of the package"))
    code, out, err = finish(hook)

    assert code == 0 and err == ""
    assert result["before"]["devenv.nix"] == SAMPLE_DEVENV_NIX
    assert "a MultiEdit of 2 edits" in result["rationale"]
    spec = hook_output(out)
    assert spec["permissionDecision"] == "deny"
    assert spec["permissionDecisionReason"] == (
        f"omni-tui: proposal {result['id']} was rejected by alice: use services.redis instead of the package. devenv.nix is unchanged."
    )
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_write_whose_rebuild_fails_is_rolled_back_and_denied(project: Path, ws: Workspace) -> None:
    new = SAMPLE_DEVENV_NIX.replace("pkgs.jq", "pkgs.jq pkgs.postgress")
    hook = start_hook(payload(project, "Write", {"file_path": str(project / "devenv.nix"), "content": new}))
    result = decided(start_decider(project, "fail"))
    code, out, _ = finish(hook)

    assert code == 0 and result["status"] == "rolled_back"
    assert result["title"] == "Write devenv.nix: + packages = [ pkgs.git pkgs.jq pkgs.postgress ];"
    reason = hook_output(out)["permissionDecisionReason"]
    assert "the rebuild failed (exit 1), so the change was rolled back and devenv.nix is as before" in reason
    assert "error: attribute 'postgress' missing" in reason
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_write_creating_a_guarded_file_says_what_the_person_changed(project: Path, ws: Workspace) -> None:
    local = project / "devenv.local.nix"
    hook = start_hook(payload(project, "Write", {"file_path": str(local), "content": '{ env.DEBUG = "1"; }\n'}))
    result = decided(start_decider(project, "edit", '{ env.DEBUG = "0"; }\n'))
    code, out, _ = finish(hook)

    assert code == 0 and result["status"] == "applied"
    assert result["title"] == "Write devenv.local.nix: create the file" and result["before"] == {"devenv.local.nix": ""}
    reason = hook_output(out)["permissionDecisionReason"]
    assert "the person approved an edited version of devenv.local.nix" in reason
    assert local.read_text() == '{ env.DEBUG = "0"; }\n'


def test_timeout_denies_by_default_naming_the_id_and_leaves_the_proposal_pending(project: Path, ws: Workspace) -> None:
    edit = {"file_path": str(project / "devenv.nix"), "old_string": "pkgs.jq", "new_string": "pkgs.yq"}
    code, out, err = run_hook(payload(project, "Edit", edit), "--timeout", "0.5")

    assert code == 0 and err == ""
    (entry,) = ProposalStore(ws).entries()
    assert entry.status == "pending"
    spec = hook_output(out)
    # `ask` would offer the person a plain "Yes" that writes the file outside the gate.
    assert spec["permissionDecision"] == "deny"
    reason = spec["permissionDecisionReason"]
    assert f"no decision on proposal {entry.proposal.id} for devenv.nix within 0.5 s" in reason
    assert f"omni-tui wait {entry.proposal.id}" in reason and "stays pending" in reason
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_timeout_can_ask_as_an_opt_in(project: Path, ws: Workspace) -> None:
    edit = {"file_path": str(project / "devenv.nix"), "old_string": "pkgs.jq", "new_string": "pkgs.yq"}
    code, out, _ = run_hook(payload(project, "Edit", edit), "--timeout", "0.3", "--on-timeout", "ask")
    assert code == 0
    spec = hook_output(out)
    assert spec["permissionDecision"] == "ask" and "stays pending" in spec["permissionDecisionReason"]


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        ("Edit", {"file_path": "src/app.py", "old_string": "a", "new_string": "b"}),
        ("Write", {"file_path": "/etc/hosts", "content": "x"}),
        ("Bash", {"command": "cat devenv.nix && echo hi > notes.txt"}),
        ("Read", {"file_path": "devenv.nix"}),
    ],
)
def test_other_files_and_tools_pass_through_untouched(project: Path, ws: Workspace, tool: str, tool_input: dict) -> None:
    (project / "src").mkdir()
    (project / "src" / "app.py").write_text("a\n")
    code, out, err = run_hook(payload(project, tool, tool_input))
    assert (code, out, err) == (0, "", "")
    assert ProposalStore(ws).entries() == []


def test_outside_any_devenv_project_the_hook_passes(tmp_path: Path) -> None:
    code, out, err = run_hook(payload(tmp_path, "Write", {"file_path": str(tmp_path / "devenv.nix"), "content": "{ }"}))
    assert (code, out, err) == (0, "", "")


def test_edit_that_does_not_apply_is_denied_without_a_proposal(project: Path, ws: Workspace) -> None:
    missing = {"file_path": str(project / "devenv.local.nix"), "old_string": "a", "new_string": "b"}
    code, out, _ = run_hook(payload(project, "Edit", missing))
    spec = hook_output(out)
    assert code == 0 and spec["permissionDecision"] == "deny"
    assert "devenv.local.nix: the file does not exist (use Write to create it" in spec["permissionDecisionReason"]

    ambiguous = {"file_path": str(project / "devenv.nix"), "old_string": "pkgs.", "new_string": "p."}
    code, out, _ = run_hook(payload(project, "Edit", ambiguous))
    assert "old_string occurs 2 times and replace_all is false" in hook_output(out)["permissionDecisionReason"]
    assert ProposalStore(ws).entries() == []


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            '{"tool_name": "Edit", ',
            "omni-tui hook: stdin is not JSON (Expecting property name enclosed in double quotes at line 1 column 23)",
        ),
        ("[1, 2]", "omni-tui hook: stdin must be a JSON object, not list"),
        ('{"tool_input": {}}', "omni-tui hook: field 'tool_name' must be a non-empty string"),
        (
            '{"hook_event_name": "PostToolUse", "tool_name": "Edit"}',
            "omni-tui hook: this hook handles PreToolUse events, not 'PostToolUse'",
        ),
        (
            '{"cwd": "CWD", "tool_name": "Edit", "tool_input": {"file_path": "devenv.nix", "old_string": 3, "new_string": "x"}}',
            "omni-tui hook: tool_input: field 'old_string' must be a str, not int",
        ),
        (
            '{"cwd": "CWD", "tool_name": "MultiEdit", "tool_input": {"file_path": "devenv.nix", "edits": {}}}',
            "omni-tui hook: tool_input: field 'edits' must be a list, not dict",
        ),
        ('{"cwd": "CWD", "tool_name": "Write", "tool_input": {"content": "x"}}', "omni-tui hook: tool_input: missing field 'file_path'"),
    ],
)
def test_malformed_input_blocks_with_exit_2_and_one_line(project: Path, stdin: str, message: str) -> None:
    code, out, err = run_hook(stdin.replace("CWD", str(project)))
    assert code == 2 and out == ""
    assert err == message + "\n"


def test_a_guarded_file_replaced_by_a_symlink_is_denied_not_passed(project: Path, ws: Workspace, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.nix"
    elsewhere.write_text(SAMPLE_DEVENV_NIX)
    (project / "devenv.nix").unlink()
    (project / "devenv.nix").symlink_to(elsewhere)
    code, out, _ = run_hook(payload(project, "Write", {"file_path": str(project / "devenv.nix"), "content": "{ }\n"}))
    spec = hook_output(out)
    assert code == 0 and spec["permissionDecision"] == "deny"
    assert spec["permissionDecisionReason"].startswith("omni-tui: Write of a guarded file refused: devenv.nix")
    assert elsewhere.read_text() == SAMPLE_DEVENV_NIX


def test_project_is_found_upwards_from_cwd_and_relative_paths_resolve_against_it(project: Path, ws: Workspace) -> None:
    sub = project / "src" / "pkg"
    sub.mkdir(parents=True)
    write = {"file_path": "../../devenv.nix", "content": SAMPLE_DEVENV_NIX + "# tuned\n"}
    code, out, _ = run_hook(payload(project, "Write", write, cwd=sub), "--timeout", "0.2")
    assert code == 0 and hook_output(out)["permissionDecision"] == "deny"
    (entry,) = ProposalStore(ws).entries()
    assert entry.proposal.paths == ["devenv.nix"] and entry.proposal.title == "Write devenv.nix: + # tuned"
    assert entry.proposal.changes[0].new_content.endswith("# tuned\n")


def test_a_hook_stopped_by_claude_code_withdraws_its_proposal(project: Path, ws: Workspace) -> None:
    edit = {"file_path": str(project / "devenv.nix"), "old_string": "pkgs.jq", "new_string": "pkgs.yq"}
    hook = start_hook(payload(project, "Edit", edit))
    _wait_pending(ws)
    store = ProposalStore(ws)
    hook.send_signal(signal.SIGTERM)  # what Claude Code does on interrupt or at its own timeout
    code, out, err = finish(hook)
    (entry,) = store.entries()
    assert code == 128 + signal.SIGTERM and out == ""
    assert err == f"omni-tui hook: stopped by SIGTERM; proposal {entry.proposal.id} withdrawn\n"
    assert entry.status == "withdrawn"
    assert entry.decision is not None and entry.decision.reason == "the Claude Code hook was stopped by SIGTERM before a decision"


def _wait_pending(ws: Workspace) -> None:
    store, deadline = ProposalStore(ws), time.monotonic() + WAIT
    while not store.pending():
        assert time.monotonic() < deadline, "the hook never proposed"
        time.sleep(0.05)


def test_a_file_changed_before_the_decision_makes_the_proposal_stale(project: Path, ws: Workspace) -> None:
    edit = {"file_path": str(project / "devenv.nix"), "old_string": "pkgs.jq", "new_string": "pkgs.yq"}
    hook = start_hook(payload(project, "Edit", edit))
    _wait_pending(ws)
    direct = SAMPLE_DEVENV_NIX.replace("hello", "hi")
    (project / "devenv.nix").write_text(direct)  # someone edits the file meanwhile
    result = decided(start_decider(project, "approve"))
    code, out, _ = finish(hook)

    assert code == 0 and result["status"] == "stale"
    reason = hook_output(out)["permissionDecisionReason"]
    assert reason.startswith(f"omni-tui: proposal {result['id']} went stale: devenv.nix changed before the person decided")
    assert reason.endswith("Re-read devenv.nix and propose again against its current content.")
    assert (project / "devenv.nix").read_text() == direct


def test_a_failed_rebuild_without_auto_rollback_leaves_the_change_and_says_so(project: Path) -> None:
    (project / "omni-tui.toml").write_text("[rebuild]\nauto_rollback = false\n")
    ws = Workspace.open(project, env={})
    edit = {"file_path": str(project / "devenv.nix"), "old_string": "pkgs.jq", "new_string": "pkgs.postgress"}
    hook = start_hook(payload(project, "Edit", edit))
    result = decided(start_decider(project, "fail"))
    code, out, _ = finish(hook)

    assert code == 0 and result["status"] == "failed"
    reason = hook_output(out)["permissionDecisionReason"]
    assert "applied to devenv.nix, but the rebuild failed (exit 1); the change stays in place" in reason
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX.replace("pkgs.jq", "pkgs.postgress")
    assert ProposalStore(ws).status(result["id"]) == "failed"


def test_an_odd_payload_for_a_file_that_is_not_guarded_still_passes(project: Path, ws: Workspace) -> None:
    odd = {"file_path": str(project / "notes.md"), "old_string": None, "new_string": ["x"], "future_field": 1}
    assert run_hook(payload(project, "Edit", odd)) == (0, "", "")


# -- doors that were open: where the project is found, symlinks, crashes, Bash, --install ----------------------

import hook_payloads  # noqa: E402

from omni_tui.agents import claude_code_hook  # noqa: E402


def _sub_project(tmp_path: Path) -> tuple[Path, Path, Workspace]:
    monorepo = tmp_path / "mono"
    sub = monorepo / "services" / "api"
    sub.mkdir(parents=True)
    (sub / "devenv.nix").write_text(SAMPLE_DEVENV_NIX)
    return monorepo, sub, Workspace.open(sub, env={})


def test_an_edit_from_a_monorepo_root_above_the_project_is_gated(tmp_path: Path) -> None:
    monorepo, sub, ws = _sub_project(tmp_path)
    edit = {"file_path": "services/api/devenv.nix", "old_string": "pkgs.jq", "new_string": "pkgs.yq"}
    code, out, err = run_hook(payload(monorepo, "Edit", edit), "--timeout", "0.3")  # cwd: the monorepo root

    assert code == 0 and err == ""
    (entry,) = ProposalStore(ws).entries()
    assert entry.proposal.paths == ["devenv.nix"] and entry.status == "pending"
    assert hook_output(out)["permissionDecision"] == "deny"
    assert (sub / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_a_write_from_an_unrelated_cwd_is_gated_by_the_files_own_project(project: Path, ws: Workspace, tmp_path: Path) -> None:
    elsewhere = tmp_path / "scratch"
    elsewhere.mkdir()
    write = {"file_path": str(project / "devenv.nix"), "content": SAMPLE_DEVENV_NIX + "# x\n"}
    code, out, _ = run_hook(payload(project, "Write", write, cwd=elsewhere), "--timeout", "0.2")
    assert code == 0 and hook_output(out)["permissionDecision"] == "deny"
    assert [e.proposal.paths for e in ProposalStore(ws).entries()] == [["devenv.nix"]]


def test_a_write_to_a_symlink_pointing_at_devenv_nix_is_gated_as_devenv_nix(project: Path, ws: Workspace) -> None:
    (project / "alias.nix").symlink_to(project / "devenv.nix")
    write = {"file_path": str(project / "alias.nix"), "content": SAMPLE_DEVENV_NIX.replace("hello", "hi")}
    code, out, _ = run_hook(payload(project, "Write", write), "--timeout", "0.2")
    assert code == 0 and hook_output(out)["permissionDecision"] == "deny"
    (entry,) = ProposalStore(ws).entries()
    assert entry.proposal.paths == ["devenv.nix"] and 'env.GREET = "hi";' in entry.proposal.changes[0].new_content
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_a_write_through_a_symlinked_folder_is_gated(project: Path, ws: Workspace, tmp_path: Path) -> None:
    link = tmp_path / "shortcut"
    link.symlink_to(project)
    write = {"file_path": str(link / "devenv.nix"), "content": "{ }\n"}
    code, out, _ = run_hook(payload(tmp_path, "Write", write), "--timeout", "0.2")
    assert code == 0 and hook_output(out)["permissionDecision"] == "deny"
    assert [e.proposal.paths for e in ProposalStore(ws).entries()] == [["devenv.nix"]]


def test_claude_project_dir_and_dash_c_name_projects_the_path_alone_does_not_find(tmp_path: Path) -> None:
    # The outer project guards a file inside a nested project that does not guard it itself.
    outer = tmp_path / "outer"
    inner = outer / "inner"
    inner.mkdir(parents=True)
    (outer / "devenv.nix").write_text(SAMPLE_DEVENV_NIX)
    (outer / "omni-tui.toml").write_text('[guard]\nfiles = ["devenv.nix", "inner/secrets.nix"]\n')
    (inner / "devenv.nix").write_text("{ }\n")
    (inner / "secrets.nix").write_text("{ }\n")
    outer_ws = Workspace.open(outer, env={})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write = hook_payloads.text("claude_code_write", elsewhere, file_path=str(inner / "secrets.nix"), content="{ a = 1; }\n")

    assert run_hook(write, "--timeout", "0.2") == (0, "", "")  # neither cwd nor the path's own project guards it
    env = _env() | {"CLAUDE_PROJECT_DIR": str(outer)}
    proc = subprocess.run(HOOK_CMD + ["--timeout", "0.2"], input=write, env=env, capture_output=True, text=True, timeout=WAIT, cwd="/")
    assert hook_output(proc.stdout)["permissionDecision"] == "deny"
    code, out, _ = run_hook(write, "-C", str(outer), "--timeout", "0.2")
    assert hook_output(out)["permissionDecision"] == "deny"
    assert [e.proposal.paths for e in ProposalStore(outer_ws).entries()] == [["inner/secrets.nix"]] * 2


def test_writes_into_the_state_directory_are_denied(project: Path, ws: Workspace) -> None:
    forged = {"file_path": str(ws.paths.decisions / "x.json"), "content": '{"status": "applied"}'}
    code, out, _ = run_hook(payload(project, "Write", forged))
    spec = hook_output(out)
    assert code == 0 and spec["permissionDecision"] == "deny"
    assert "inside omni-tui's state directory" in spec["permissionDecisionReason"]
    assert not (ws.paths.decisions / "x.json").exists()


def test_a_path_that_cannot_be_resolved_is_denied_with_one_line(project: Path, ws: Workspace) -> None:
    (project / "loop").symlink_to(project / "loop")
    code, out, _ = run_hook(payload(project, "Write", {"file_path": str(project / "loop"), "content": "x"}))
    reason = hook_output(out)["permissionDecisionReason"]
    assert code == 0 and "symlink loop" in reason and "\n" not in reason


@pytest.mark.parametrize(
    ("stdin", "expect"),
    [
        ('{"tool_name": "Write", "tool_input": ' * 5000 + "{}" + "}" * 5000, "nested too deeply"),
        (
            '{"cwd": "/tmp/\\ud800x", "tool_name": "Write", "tool_input": {"file_path": "devenv.nix", "content": "x"}}',
            "cannot resolve this path",
        ),
    ],
    ids=["nested-5000-deep", "surrogate-in-cwd"],
)
def test_input_that_used_to_crash_the_hook_blocks_instead(stdin: str, expect: str) -> None:
    code, out, err = run_hook(stdin)
    assert code != 1  # Claude Code runs the tool after exit 1
    if code == 2:
        assert expect in err and err.count("\n") == 1
    else:
        assert code == 0 and expect in hook_output(out)["permissionDecisionReason"]


def test_any_internal_error_is_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def crash() -> claude_code_hook.HookResult:
        raise KeyError("\x1b]0;pwned\x07boom")

    assert claude_code_hook.guarded_main(crash) == 2
    err = capsys.readouterr().err
    assert err.startswith("omni-tui hook: internal error (KeyError: ") and err.endswith("the tool call is blocked\n")
    assert "\x1b" not in err and "\x07" not in err


def test_stdin_that_is_not_utf8_blocks() -> None:
    proc = subprocess.run(HOOK_CMD, input=b"\xff\xfe{", env=_env(), capture_output=True, timeout=WAIT, cwd="/")
    assert proc.returncode == 2 and proc.stderr == b"omni-tui hook: stdin is not UTF-8 (byte 0)\n"


def test_todays_edit_payload_with_prompt_id_effort_and_auto_mode_is_proposed(project: Path, ws: Workspace) -> None:
    hook = start_hook(hook_payloads.text("claude_code_edit", project))
    result = decided(start_decider(project, "approve"))
    code, out, _ = finish(hook)
    assert code == 0 and result["status"] == "applied"
    assert result["title"] == "Edit devenv.nix: + services.postgres.enable = true;"
    assert "already applied it to devenv.nix" in hook_output(out)["permissionDecisionReason"]


def test_todays_bash_payload_writing_devenv_nix_is_denied_with_how_to_propose(project: Path, ws: Workspace) -> None:
    code, out, err = run_hook(hook_payloads.text("claude_code_bash", project))
    spec = hook_output(out)
    assert (code, err, spec["permissionDecision"]) == (0, "", "deny")
    assert spec["permissionDecisionReason"] == (
        f"omni-tui: this command writes devenv.nix (sed -i), a file guarded by omni-tui in {project}: not run, nothing "
        "was written. To change devenv.nix, use the Edit or Write tool on it (the change goes to a person in the "
        "omni-tui cockpit), or run `omni-tui propose devenv.nix --new-content FILE --wait`."
    )
    assert ProposalStore(ws).entries() == []


@pytest.mark.parametrize(
    "command",
    [
        "cat > devenv.nix <<'EOF'\n{ }\nEOF",
        "echo '{ }' | tee devenv.nix",
        "cp /tmp/other.nix devenv.nix",
        "mv devenv.nix devenv.nix.bak",
        "ln -sf /tmp/other.nix devenv.nix",
        "truncate -s 0 devenv.nix",
        "python3 -c \"open('devenv.nix','w').write('{ }')\"",
        "perl -pi -e 's/jq/yq/' devenv.nix",
        "cd sub && cd .. && printf x >> ./devenv.nix",
        "bash -c 'rm -f devenv.*'",
    ],
)
def test_bash_commands_writing_a_guarded_file_are_denied(project: Path, ws: Workspace, command: str) -> None:
    code, out, _ = run_hook(payload(project, "Bash", {"command": command}))
    assert code == 0 and hook_output(out)["permissionDecision"] == "deny"
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_install_merges_into_settings_local_json_and_is_idempotent(project: Path) -> None:
    claude = project / ".claude"
    claude.mkdir()
    settings = claude / "settings.local.json"
    settings.write_text(
        json.dumps(
            {
                "permissions": {"allow": ["Bash(ls:*)"]},
                "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "my-audit"}]}]},
            }
        )
    )
    install = HOOK_CMD + ["--install", "-C", str(project)]
    first = subprocess.run(install, env=_env(), capture_output=True, text=True, timeout=WAIT)
    after_first = settings.read_text()
    second = subprocess.run(install, env=_env(), capture_output=True, text=True, timeout=WAIT)

    assert first.returncode == 0 and first.stdout == f"omni-tui: installed the hook in {settings}\n"
    assert second.returncode == 0 and second.stdout == f"omni-tui: the hook is already in {settings}\n"
    assert settings.read_text() == after_first
    doc = json.loads(after_first)
    assert doc["permissions"] == {"allow": ["Bash(ls:*)"]}
    mine, theirs = doc["hooks"]["PreToolUse"][1], doc["hooks"]["PreToolUse"][0]
    assert theirs == {"matcher": "Bash", "hooks": [{"type": "command", "command": "my-audit"}]}
    assert mine["matcher"] == "Edit|MultiEdit|Write|Bash"
    (hook,) = mine["hooks"]
    assert hook["command"].endswith(" hook claude-code") and hook["timeout"] == 600 and hook["onFailure"] == "block"


def test_install_refuses_broken_json_and_a_store_symlink_writing_nothing(project: Path, tmp_path: Path) -> None:
    claude = project / ".claude"
    claude.mkdir()
    settings = claude / "settings.local.json"
    settings.write_text('{"hooks": ')
    proc = subprocess.run(HOOK_CMD + ["--install", "-C", str(project)], env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(f"omni-tui: {settings}: not valid JSON (") and proc.stderr.count("\n") == 1
    assert settings.read_text() == '{"hooks": '

    settings.unlink()
    store = tmp_path / "nix-store-settings.json"
    store.write_text("{}")
    settings.symlink_to(store)
    proc = subprocess.run(HOOK_CMD + ["--install", "-C", str(project)], env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 2 and "a symlink (managed elsewhere" in proc.stderr
    assert store.read_text() == "{}"


def test_the_docs_settings_block_is_what_install_writes() -> None:
    docs = (REPO / "docs" / "agents.md").read_text()
    block = docs.split("<!-- claude-settings-json -->", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    assert json.loads(block) == claude_code_hook.merged_settings({}, "/home/me/.local/bin/omni-tui hook claude-code")


def test_agent_bytes_quoted_in_a_reason_are_inert(project: Path, ws: Workspace) -> None:
    name = "loop\x1b]0;pwned\x07\u202e.nix"
    (project / name).symlink_to(project / name)
    code, out, _ = run_hook(payload(project, "Write", {"file_path": str(project / name), "content": "x"}))
    reason = hook_output(out)["permissionDecisionReason"]
    assert code == 0 and "\x1b" not in reason and "\x07" not in reason and "\u202e" not in reason
    assert "loop\\x1b]0;pwned\\x07\\u202e.nix" in reason


def test_install_carries_a_longer_wait_into_both_clocks(project: Path) -> None:
    proc = subprocess.run(
        HOOK_CMD + ["--install", "-C", str(project), "--timeout", "1770", "--on-timeout", "ask"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert proc.returncode == 0, proc.stderr
    (hook,) = json.loads((project / ".claude" / "settings.local.json").read_text())["hooks"]["PreToolUse"][0]["hooks"]
    assert hook["command"].endswith(" hook claude-code --timeout 1770 --on-timeout ask") and hook["timeout"] == 1800


def test_install_notes_a_hook_already_in_the_shared_settings(project: Path) -> None:
    (project / ".claude").mkdir()
    shared = project / ".claude" / "settings.json"
    shared.write_text(
        json.dumps(
            {
                "hooks": {
                    "PreToolUse": [
                        {
                            "matcher": "Edit",
                            "hooks": [{"type": "command", "command": "/nix/store/abc-omni-tui/bin/omni-tui hook claude-code"}],
                        }
                    ]
                }
            }
        )
    )
    proc = subprocess.run(HOOK_CMD + ["--install", "-C", str(project)], env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0
    assert proc.stderr == (f"omni-tui: note: {shared} runs `omni-tui hook claude-code` too; remove one, or each edit is proposed twice\n")


def test_the_hook_entry_never_exits_1_even_when_the_cli_itself_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from omni_tui import cli
    from omni_tui.agents import claude_code_hook

    def broken(**_kwargs: object) -> int:
        raise ImportError("a half-installed omni-tui")

    monkeypatch.setattr(claude_code_hook, "main", broken)
    assert cli.main(["hook", "claude-code"]) == 2
    assert capsys.readouterr().err == "omni-tui hook: internal error (ImportError); the tool call is blocked\n"
    assert cli.main(["hook", "claude-code", "--no-such-option"]) == 2


def test_a_write_to_a_hard_link_of_devenv_nix_is_gated_as_devenv_nix(project: Path, ws: Workspace) -> None:
    os.link(project / "devenv.nix", project / "hard.nix")
    write = {"file_path": str(project / "hard.nix"), "content": SAMPLE_DEVENV_NIX.replace("hello", "hi")}
    code, out, _ = run_hook(payload(project, "Write", write), "--timeout", "0.2")
    assert code == 0 and hook_output(out)["permissionDecision"] == "deny"
    assert [e.proposal.paths for e in ProposalStore(ws).entries()] == [["devenv.nix"]]
    code, out, _ = run_hook(payload(project, "Bash", {"command": "echo '# x' >> hard.nix"}))
    assert "this command writes devenv.nix (>> redirection)" in hook_output(out)["permissionDecisionReason"]
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


@pytest.mark.parametrize(
    "where",
    [
        "project/.claude/settings.local.json",
        "project/.claude/settings.json",
        "project/.codex/hooks.json",
        "project/.gemini/settings.json",
        "home/.claude/settings.json",
        "home/.codex/config.toml",
        "home/.gemini/trustedFolders.json",
    ],
)
def test_an_agent_cannot_switch_its_own_hook_off(project: Path, ws: Workspace, tmp_path: Path, where: str) -> None:
    home = tmp_path / "home"
    target = (project if where.startswith("project/") else home) / where.split("/", 1)[1]
    write = payload(project, "Write", {"file_path": str(target), "content": "{}"})
    proc = subprocess.run(HOOK_CMD, input=write, env=_env() | {"HOME": str(home)}, capture_output=True, text=True, timeout=WAIT, cwd="/")
    reason = hook_output(proc.stdout)["permissionDecisionReason"]
    assert "holds an agent's hooks, permissions or trust; agents may not change it" in reason
    bash = payload(project, "Bash", {"command": f"echo '{{}}' > {target}"})
    proc = subprocess.run(HOOK_CMD, input=bash, env=_env() | {"HOME": str(home)}, capture_output=True, text=True, timeout=WAIT, cwd="/")
    reason = hook_output(proc.stdout)["permissionDecisionReason"]
    assert "holds an agent's hooks" in reason and "use the Edit or Write tool" not in reason
    assert not target.exists()
