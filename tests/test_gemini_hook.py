"""`omni-tui hook gemini` as Gemini CLI runs it: BeforeTool JSON on stdin, `{"decision": "deny", "reason": ...}` out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import hook_payloads
import pytest
from conftest import SAMPLE_DEVENV_NIX
from test_claude_code_hook import REPO, WAIT, _env, decided, finish, start_decider

from omni_tui.agents.gemini_hook import replaced
from omni_tui.core.errors import PatchError
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

HOOK_CMD = [sys.executable, "-m", "omni_tui", "hook", "gemini"]


def start(stdin: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        HOOK_CMD + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd="/"
    )
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    return proc


def run(stdin: str, *args: str) -> tuple[int, str, str]:
    return finish(start(stdin, *args))


def reason(out: str) -> str:
    doc = json.loads(out)
    assert set(doc) == {"decision", "reason"} and doc["decision"] == "deny" and doc["reason"]
    return doc["reason"]


@pytest.fixture
def ws(project: Path) -> Workspace:
    return Workspace.open(project, env={})


def test_todays_replace_is_proposed_and_after_approval_denied_as_already_applied(project: Path, ws: Workspace) -> None:
    hook = start(hook_payloads.text("gemini_replace", project))
    result = decided(start_decider(project, "approve"))
    code, out, err = finish(hook)

    assert (code, err) == (0, "") and result["status"] == "applied" and result["agent"] == "gemini-cli"
    assert result["title"] == "replace devenv.nix: + services.redis.enable = true;"
    assert "already applied it to devenv.nix" in reason(out)
    assert "  services.redis.enable = true;\n" in (project / "devenv.nix").read_text()


def test_write_file_rejected_gives_the_reason_and_writes_nothing(project: Path, ws: Workspace) -> None:
    hook = start(hook_payloads.text("gemini_write_file", project))
    result = decided(start_decider(project, "reject", "no debug builds"))
    code, out, _ = finish(hook)
    assert code == 0 and result["paths"] == ["devenv.local.nix"] and result["before"] == {"devenv.local.nix": ""}
    assert f"proposal {result['id']} was rejected by alice: no debug builds" in reason(out)
    assert not (project / "devenv.local.nix").exists()


def test_timeout_denies_naming_the_id(project: Path, ws: Workspace) -> None:
    code, out, _ = run(hook_payloads.text("gemini_replace", project), "--timeout", "0.3")
    (entry,) = ProposalStore(ws).entries()
    assert code == 0 and entry.status == "pending" and f"omni-tui wait {entry.proposal.id}" in reason(out)


def test_run_shell_command_writing_devenv_nix_is_denied_in_its_dir_path(project: Path, ws: Workspace, tmp_path: Path) -> None:
    code, out, _ = run(hook_payloads.text("gemini_shell", project))
    assert code == 0 and "this command writes devenv.nix (>> redirection)" in reason(out)
    assert "use the replace or write_file tool on it" in reason(out)
    # dir_path moves the command: from a parent folder, `dir_path: proj` still lands on proj/devenv.nix
    parent = hook_payloads.load("gemini_shell", project)
    parent["cwd"] = str(project.parent)
    parent["tool_input"]["dir_path"] = project.name
    code, out, _ = run(json.dumps(parent))
    assert code == 0 and "writes devenv.nix" in reason(out)
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_other_tools_and_files_pass(project: Path, ws: Workspace) -> None:
    other = hook_payloads.load("gemini_write_file", project)
    other["tool_input"]["file_path"] = str(project / "README.md")
    assert run(json.dumps(other)) == (0, "", "")
    read = {**other, "tool_name": "read_file", "tool_input": {"absolute_path": str(project / "devenv.nix")}}
    assert run(json.dumps(read)) == (0, "", "")
    shell = hook_payloads.load("gemini_shell", project)
    shell["tool_input"]["command"] = "devenv shell -- pytest -q"
    assert run(json.dumps(shell)) == (0, "", "")


def test_a_replace_that_does_not_apply_is_denied_without_a_proposal(project: Path, ws: Workspace) -> None:
    code, out, _ = run(hook_payloads.text("gemini_replace", project, old_string="pkgs.", new_string="p."))
    assert code == 0 and "expected 1 occurrence of old_string but found 2" in reason(out)
    assert ProposalStore(ws).entries() == []


def test_replace_semantics_follow_gemini_cli() -> None:
    assert replaced("a b a", {"old_string": "a", "new_string": "c", "expected_replacements": 2}, "f") == "c b c"
    assert replaced("a b a", {"old_string": "a", "new_string": "c", "allow_multiple": True}, "f") == "c b c"
    assert replaced(None, {"old_string": "", "new_string": "new"}, "f") == "new"
    with pytest.raises(PatchError, match="0 occurrences"):
        replaced("abc", {"old_string": "z", "new_string": "y"}, "f")
    with pytest.raises(PatchError, match="the file does not exist"):
        replaced(None, {"old_string": "z", "new_string": "y"}, "f")


def test_malformed_input_blocks_with_exit_2() -> None:
    code, out, err = run('{"hook_event_name": "PreToolUse", "tool_name": "replace"}')
    assert (code, out) == (2, "") and err == "omni-tui hook: this hook handles BeforeTool events, not 'PreToolUse'\n"


def test_the_docs_settings_json_is_what_gemini_reads() -> None:
    docs = (REPO / "docs" / "agents.md").read_text()
    block = docs.split("<!-- gemini-settings-json -->", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    config = json.loads(block)
    assert config["hooksConfig"] == {"enabled": True}
    (group,) = config["hooks"]["BeforeTool"]
    assert group["matcher"] == "write_file|replace|run_shell_command"
    (hook,) = group["hooks"]
    assert hook["command"].startswith("omni-tui hook gemini") and hook["timeout"] == 600000  # milliseconds
    assert "--timeout 570" in hook["command"]


def test_install_writes_the_docs_settings_merged_and_idempotent(project: Path) -> None:
    from omni_tui.agents import gemini_hook

    (project / ".gemini").mkdir()
    settings = project / ".gemini" / "settings.json"
    settings.write_text(json.dumps({"theme": "GitHub", "hooksConfig": {"notifications": False}}))
    assert gemini_hook.install(project, "omni-tui") == (settings, True)
    assert gemini_hook.install(project, "omni-tui") == (settings, False)
    doc = json.loads(settings.read_text())
    assert doc["theme"] == "GitHub" and doc["hooksConfig"] == {"notifications": False, "enabled": True}
    docs = (REPO / "docs" / "agents.md").read_text()
    block = json.loads(docs.split("<!-- gemini-settings-json -->", 1)[1].split("```json", 1)[1].split("```", 1)[0])
    assert doc["hooks"] == block["hooks"]

    proc = subprocess.run(HOOK_CMD + ["--install", "-C", str(project)], env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0 and proc.stdout == f"omni-tui: installed the hook in {settings}\n"
    assert "trusted folder" in proc.stderr
