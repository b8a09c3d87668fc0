"""`omni-tui hook codex` as Codex CLI runs it (a subprocess fed Codex's PreToolUse JSON), and Codex's apply_patch
format read and applied as codex-rs/apply-patch does. Codex honours only `deny`: every answer that stops an edit
is one, including after approval."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import hook_payloads
import pytest
from conftest import SAMPLE_DEVENV_NIX
from test_claude_code_hook import REPO, WAIT, _env, decided, finish, start_decider

from omni_tui.agents.codex_patch import Chunk, FileOp, apply_chunks, extract_patch, parse_patch
from omni_tui.core.errors import PatchError
from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

HOOK_CMD = [sys.executable, "-m", "omni_tui", "hook", "codex"]


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


def denial(out: str) -> str:
    doc = json.loads(out)
    spec = doc["hookSpecificOutput"]
    assert set(doc) == {"hookSpecificOutput"} and spec["hookEventName"] == "PreToolUse"
    assert spec["permissionDecision"] == "deny" and spec["permissionDecisionReason"]  # Codex: only deny blocks
    return spec["permissionDecisionReason"]


def patch_payload(project: Path, patch: str, *, cwd: Path | None = None) -> str:
    payload: dict[str, Any] = hook_payloads.load("codex_apply_patch", project)
    payload["tool_input"]["command"] = patch
    if cwd is not None:
        payload["cwd"] = str(cwd)
    return json.dumps(payload)


@pytest.fixture
def ws(project: Path) -> Workspace:
    return Workspace.open(project, env={})


# -- the patch format -----------------------------------------------------------------------------------------


def test_parse_add_delete_update_move_and_context() -> None:
    ops = parse_patch(
        "*** Begin Patch\n*** Add File: a/new.txt\n+one\n+two\n*** Delete File: old.txt\n*** Update File: src/app.py\n"
        "*** Move to: src/main.py\n@@ def greet():\n-    print('hi')\n+    print('hello')\n*** Update File: b.txt\n"
        " keep\n+added\n*** End of File\n*** End Patch"
    )
    assert ops == [
        FileOp("add", "a/new.txt", contents="one\ntwo\n"),
        FileOp("delete", "old.txt"),
        FileOp(
            "update", "src/app.py", move_to="src/main.py", chunks=(Chunk("def greet():", ("    print('hi')",), ("    print('hello')",)),)
        ),
        FileOp("update", "b.txt", chunks=(Chunk(None, ("keep",), ("keep", "added"), end_of_file=True),)),
    ]


def test_parse_is_lenient_like_codex_heredoc_and_padding() -> None:
    text = "<<'EOF'\n *** Begin Patch \n*** Add File: x\n+1\n *** End Patch\nEOF\n"
    assert parse_patch(text) == [FileOp("add", "x", contents="1\n")]
    assert extract_patch("apply_patch <<'EOF'\n*** Begin Patch\n*** Delete File: y\n*** End Patch\nEOF") == (
        "*** Begin Patch\n*** Delete File: y\n*** End Patch"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("*** Add File: x\n+1\n*** End Patch", "the first line of the patch must be '*** Begin Patch'"),
        ("*** Begin Patch\n*** Add File: x\n+1", "the last line of the patch must be '*** End Patch'"),
        ("*** Begin Patch\n*** Update File: x\n*** End Patch", "update file hunk for path 'x' is empty"),
        ("*** Begin Patch\n*** Frobnicate: x\n*** End Patch", "is not a valid hunk header"),
        ("*** Begin Patch\n*** Update File: x\n@@\n-a\n@@\nbogus\n*** End Patch", "unexpected line 'bogus'"),
    ],
)
def test_malformed_patches_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(PatchError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        parse_patch(text)


def test_apply_seeks_context_then_lines_with_codex_leniency() -> None:
    content = "a\nclass A:\n    x = 1\nclass B:\n    x = 1   \n"
    (op,) = parse_patch("*** Begin Patch\n*** Update File: f\n@@ class B:\n-    x = 1\n+    x = 2\n*** End Patch")
    assert apply_chunks(content, op.chunks, "f") == "a\nclass A:\n    x = 1\nclass B:\n    x = 2\n"  # trailing space forgiven
    (op,) = parse_patch("*** Begin Patch\n*** Update File: f\n@@\n+z\n*** End Patch")
    assert apply_chunks("a\nb", op.chunks, "f") == "a\nb\nz\n"  # pure addition at the end; newline added
    (op,) = parse_patch('*** Begin Patch\n*** Update File: f\n@@\n-\u201cq\u201d\n+"r"\n*** End Patch')
    assert apply_chunks('"q"\n', op.chunks, "f") == '"r"\n'  # typographic quotes match ASCII ones
    with pytest.raises(PatchError, match="failed to find context 'class C:'"):
        (op,) = parse_patch("*** Begin Patch\n*** Update File: f\n@@ class C:\n-x\n+y\n*** End Patch")
        apply_chunks(content, op.chunks, "f")


# -- the hook ---------------------------------------------------------------------------------------------------


def test_todays_apply_patch_is_proposed_and_after_approval_denied_as_already_applied(project: Path, ws: Workspace) -> None:
    hook = start(hook_payloads.text("codex_apply_patch", project))
    result = decided(start_decider(project, "approve"))
    code, out, err = finish(hook)

    assert (code, err) == (0, "") and result["status"] == "applied" and result["agent"] == "codex"
    assert result["title"] == "apply_patch devenv.nix: + services.redis.enable = true;"
    assert "Codex asked to apply a patch to devenv.nix" in result["rationale"]
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX.replace(
        "  languages.python.enable = true;\n", "  languages.python.enable = true;\n\n  services.redis.enable = true;\n"
    )
    reason = denial(out)
    assert f"proposal {result['id']} was approved by alice and the cockpit already applied it" in reason
    assert "Do not apply this change again" in reason


def test_rejected_patch_is_denied_with_the_reason(project: Path, ws: Workspace) -> None:
    hook = start(hook_payloads.text("codex_apply_patch", project))
    result = decided(start_decider(project, "reject", "redis lives in compose"))
    code, out, _ = finish(hook)
    assert code == 0 and f"proposal {result['id']} was rejected by alice: redis lives in compose" in denial(out)
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_timeout_is_a_deny_naming_the_id_never_ask(project: Path, ws: Workspace) -> None:
    code, out, _ = run(hook_payloads.text("codex_apply_patch", project), "--timeout", "0.3")
    (entry,) = ProposalStore(ws).entries()
    reason = denial(out)
    assert code == 0 and entry.status == "pending" and f"omni-tui wait {entry.proposal.id}" in reason


def test_a_patch_adding_a_guarded_file_with_an_absolute_path_from_a_parent_cwd(project: Path, ws: Workspace) -> None:
    patch = f'*** Begin Patch\n*** Add File: {project / "devenv.local.nix"}\n+{{ env.DEBUG = "1"; }}\n*** End Patch\n'
    code, out, _ = run(patch_payload(project, patch, cwd=project.parent), "--timeout", "0.2")
    (entry,) = ProposalStore(ws).entries()
    assert code == 0 and entry.proposal.paths == ["devenv.local.nix"]
    assert entry.proposal.changes[0].new_content == '{ env.DEBUG = "1"; }\n' and "stays pending" in denial(out)


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ("*** Begin Patch\n*** Delete File: devenv.nix\n*** End Patch", "this patch deletes devenv.nix"),
        (
            "*** Begin Patch\n*** Update File: devenv.nix\n*** Move to: old.nix\n@@\n-{ pkgs, lib, config, ... }:\n"
            "+{ pkgs, ... }:\n*** End Patch",
            "this patch moves away devenv.nix",
        ),
        (
            '*** Begin Patch\n*** Update File: devenv.nix\n@@\n-  env.GREET = "hello";\n+  env.GREET = "hi";\n'
            "*** Add File: src/new.py\n+x = 1\n*** End Patch",
            "this patch changes devenv.nix (guarded by omni-tui: a person decides) together with src/new.py",
        ),
        (
            "*** Begin Patch\n*** Update File: devenv.nix\n@@\n-  services.nope = 1;\n+  x\n*** End Patch",
            "this patch does not apply to devenv.nix, nothing was proposed",
        ),
        ("*** Begin Patch\n*** Update File: devenv.nix\n*** End Patch", "names devenv.nix, a guarded file, but cannot be read"),
    ],
)
def test_patches_that_cannot_be_proposed_are_denied_with_what_to_do(project: Path, ws: Workspace, patch: str, reason: str) -> None:
    code, out, _ = run(patch_payload(project, patch))
    assert code == 0 and reason in denial(out)
    assert ProposalStore(ws).entries() == [] and (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


def test_patches_of_other_files_pass(project: Path, ws: Workspace) -> None:
    patch = "*** Begin Patch\n*** Add File: src/app.py\n+print('hi')\n*** Delete File: notes.txt\n*** End Patch"
    assert run(patch_payload(project, patch)) == (0, "", "")


def test_shell_writes_are_denied_and_a_shell_apply_patch_is_proposed(project: Path, ws: Workspace) -> None:
    code, out, _ = run(hook_payloads.text("codex_bash", project))
    assert code == 0 and "this command writes devenv.nix (sed -i)" in denial(out)
    assert "send an apply_patch that changes only devenv.nix" in denial(out)

    shell_patch = hook_payloads.load("codex_bash", project)
    shell_patch["tool_input"]["command"] = (
        "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: devenv.nix\n@@\n-  env.GREET = \"hello\";\n"
        '+  env.GREET = "hi";\n*** End Patch\nEOF\n'
    )
    code, out, _ = run(json.dumps(shell_patch), "--timeout", "0.2")
    (entry,) = ProposalStore(ws).entries()
    assert code == 0 and entry.proposal.agent == "codex" and "stays pending" in denial(out)
    assert run(json.dumps({**shell_patch, "tool_input": {"command": "ls -la && cat devenv.nix"}})) == (0, "", "")


def test_malformed_input_blocks_with_exit_2(project: Path) -> None:
    assert run("not json")[0] == 2
    code, out, err = run(json.dumps({"hook_event_name": "PreToolUse", "tool_name": "apply_patch", "tool_input": {"command": 3}}))
    assert (code, out) == (2, "") and err == "omni-tui hook: tool_input: field 'command' must be a string\n"


def test_the_docs_hooks_json_is_what_codex_reads() -> None:
    """docs/agents.md's `.codex/hooks.json` block parses and runs this hook."""
    docs = (REPO / "docs" / "agents.md").read_text()
    block = docs.split("<!-- codex-hooks-json -->", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    config = json.loads(block)
    (group,) = config["hooks"]["PreToolUse"]
    assert group["matcher"] == "^(apply_patch|Bash)$"
    (hook,) = group["hooks"]
    assert hook["type"] == "command" and hook["command"].endswith("omni-tui hook codex") and hook["timeout"] == 600


def test_one_patch_of_two_guarded_files_is_one_proposal(project: Path, ws: Workspace) -> None:
    patch = (
        '*** Begin Patch\n*** Update File: devenv.nix\n@@\n-  env.GREET = "hello";\n+  env.GREET = "hi";\n'
        '*** Add File: devenv.local.nix\n+{ env.DEBUG = "1"; }\n*** End Patch\n'
    )
    hook = start(patch_payload(project, patch))
    result = decided(start_decider(project, "approve"))
    code, out, _ = finish(hook)
    assert code == 0 and result["status"] == "applied"
    assert result["paths"] == ["devenv.nix", "devenv.local.nix"]
    assert result["title"] == 'apply_patch devenv.nix (+1 more): + env.GREET = "hi";'
    assert 'env.GREET = "hi";' in (project / "devenv.nix").read_text()
    assert (project / "devenv.local.nix").read_text() == '{ env.DEBUG = "1"; }\n'
    assert "already applied it to devenv.nix, devenv.local.nix" in denial(out)


def test_install_writes_the_docs_hooks_json_merged_and_idempotent(project: Path) -> None:
    from omni_tui.agents import codex_hook

    (project / ".codex").mkdir()
    hooks = project / ".codex" / "hooks.json"
    hooks.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]}}))
    assert codex_hook.install(project, "omni-tui") == (hooks, True)
    assert codex_hook.install(project, "omni-tui") == (hooks, False)
    doc = json.loads(hooks.read_text())
    assert doc["hooks"]["Stop"] == [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
    docs = (REPO / "docs" / "agents.md").read_text()
    block = json.loads(docs.split("<!-- codex-hooks-json -->", 1)[1].split("```json", 1)[1].split("```", 1)[0])
    assert doc["hooks"]["PreToolUse"] == block["hooks"]["PreToolUse"]

    proc = subprocess.run(HOOK_CMD + ["--install", "-C", str(project)], env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0 and proc.stdout == f"omni-tui: installed the hook in {hooks}\n"
    assert proc.stderr.startswith("omni-tui: note: Codex skips an untrusted hook silently") and proc.stderr.count("\n") == 1
