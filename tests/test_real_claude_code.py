"""The real Claude Code CLI (pinned in scripts/setup) against a scripted Messages API on 127.0.0.1, with the hook
installed by `omni-tui hook claude-code --install`: every way in ends at the gate, and what Claude and the person
see is what the docs say. No network: ANTHROPIC_BASE_URL points at tests/anthropic_standin.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from anthropic_standin import FINAL_PREFIX, ScriptedAnthropic, ToolUse
from conftest import SAMPLE_DEVENV_NIX

from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
DECIDER = Path(__file__).resolve().parent / "agents_decider.py"
WAIT = 50  # an upper bound per CLI run; the runs take about a second


def _base_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
        "ANTHROPIC_API_KEY": "sk-ant-standin-not-a-key",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }


def install_hook(where: Path, home: Path, *extra: str) -> dict[str, Any]:
    """`omni-tui hook claude-code --install` in `where`; extra hook arguments appended to the installed command."""
    result = subprocess.run(
        [sys.executable, "-m", "omni_tui", "hook", "claude-code", "--install", "-C", str(where)],
        env=_base_env(home),
        capture_output=True,
        text=True,
        timeout=WAIT,
        cwd=where,
    )
    assert result.returncode == 0, result.stderr
    settings_file = where / ".claude" / "settings.local.json"
    settings = json.loads(settings_file.read_text())
    if extra:
        settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"] += " " + " ".join(extra)
        settings_file.write_text(json.dumps(settings))
    return settings


def run_claude(
    claude: Path, api: ScriptedAnthropic, cwd: Path, home: Path, *, prompt: str = "do it", allowed: str = "Read Edit Write Bash"
) -> dict[str, Any]:
    env = _base_env(home) | {"ANTHROPIC_BASE_URL": api.base_url}
    proc = subprocess.run(
        [str(claude), "-p", prompt, "--output-format", "json", "--allowedTools", allowed],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout)


def decider(project: Path, action: str, arg: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(DECIDER), str(project), action, arg],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def decided(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, err
    return json.loads(out)


def seen_by_claude(output: dict[str, Any]) -> str:
    """The tool result Claude received, as the scripted model repeated it in its final answer."""
    assert output["result"].startswith(FINAL_PREFIX), output["result"]
    return output["result"][len(FINAL_PREFIX) :]


def edit_script(nix: Path, old: str, new: str) -> list[ToolUse]:
    # Claude Code refuses an Edit of a file it has not read in the session: read first, as Claude does.
    return [
        ToolUse("Read", {"file_path": str(nix)}),
        ToolUse("Edit", {"file_path": str(nix), "old_string": old, "new_string": new, "replace_all": False}),
    ]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_approved_edit_is_applied_by_the_cockpit_and_claude_is_told_not_to_repeat_it(need_claude: Path, project: Path, home: Path) -> None:
    Workspace.open(project, env={})
    install_hook(project, home)
    nix = project / "devenv.nix"
    person = decider(project, "approve")
    with ScriptedAnthropic(edit_script(nix, "pkgs.jq", "pkgs.jq pkgs.redis")) as api:
        output = run_claude(need_claude, api, project, home)
    result = decided(person)

    assert result["status"] == "applied" and result["agent"] == "claude-code"
    assert nix.read_text() == SAMPLE_DEVENV_NIX.replace("pkgs.jq", "pkgs.jq pkgs.redis")  # written by the cockpit
    told = seen_by_claude(output)
    assert f"proposal {result['id']} was approved by alice" in told
    assert "already applied it to devenv.nix" in told and "Do not apply this change again" in told


def test_rejected_edit_gives_claude_the_persons_reason(need_claude: Path, project: Path, home: Path) -> None:
    Workspace.open(project, env={})
    install_hook(project, home)
    nix = project / "devenv.nix"
    person = decider(project, "reject", "use services.redis, not the package")
    with ScriptedAnthropic(edit_script(nix, "pkgs.jq", "pkgs.jq pkgs.redis")) as api:
        output = run_claude(need_claude, api, project, home)
    result = decided(person)

    assert result["status"] == "rejected"
    assert nix.read_text() == SAMPLE_DEVENV_NIX
    assert (
        f"proposal {result['id']} was rejected by alice: use services.redis, not the package. devenv.nix is unchanged."
    ) in seen_by_claude(output)


def test_edit_from_a_monorepo_root_above_the_project_is_gated(need_claude: Path, tmp_path: Path, home: Path) -> None:
    monorepo = tmp_path / "proj"
    sub = monorepo / "sub"
    sub.mkdir(parents=True)
    (sub / "devenv.nix").write_text(SAMPLE_DEVENV_NIX)
    Workspace.open(sub, env={})
    (monorepo / "README.md").write_text("monorepo\n")
    install_hook(monorepo, home)  # Claude starts in proj/, which has no devenv.nix
    nix = sub / "devenv.nix"
    person = decider(sub, "reject", "not in this sprint")
    with ScriptedAnthropic(edit_script(nix, "pkgs.jq", "pkgs.jq pkgs.redis")) as api:
        output = run_claude(need_claude, api, monorepo, home)
    result = decided(person)

    assert result["paths"] == ["devenv.nix"] and result["status"] == "rejected"
    assert nix.read_text() == SAMPLE_DEVENV_NIX
    assert "rejected by alice: not in this sprint" in seen_by_claude(output)


def test_bash_sed_in_place_on_devenv_nix_is_denied_with_the_way_to_propose(need_claude: Path, project: Path, home: Path) -> None:
    ws = Workspace.open(project, env={})
    install_hook(project, home)
    script = [ToolUse("Bash", {"command": "sed -i 's/pkgs.jq/pkgs.jq pkgs.redis/' devenv.nix", "description": "Add redis"})]
    with ScriptedAnthropic(script) as api:
        output = run_claude(need_claude, api, project, home)

    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX
    told = seen_by_claude(output)
    assert "this command writes devenv.nix (sed -i), a file guarded by omni-tui" in told
    assert "use the Edit or Write tool on it" in told
    assert ProposalStore(ws).entries() == []


def test_no_decision_in_time_denies_naming_the_proposal_and_leaves_it_pending(need_claude: Path, project: Path, home: Path) -> None:
    ws = Workspace.open(project, env={})
    install_hook(project, home, "--timeout", "1")
    nix = project / "devenv.nix"
    with ScriptedAnthropic(edit_script(nix, "pkgs.jq", "pkgs.yq")) as api:
        output = run_claude(need_claude, api, project, home)

    (entry,) = ProposalStore(ws).entries()
    assert entry.status == "pending" and entry.proposal.agent == "claude-code"
    told = seen_by_claude(output)
    assert f"no decision on proposal {entry.proposal.id} for devenv.nix within 1 s" in told
    assert f"omni-tui wait {entry.proposal.id}" in told
    assert nix.read_text() == SAMPLE_DEVENV_NIX


def test_the_scripted_api_was_all_claude_code_called(need_claude: Path, project: Path, home: Path) -> None:
    """Offline for real: every request went to the stand-in, streamed, and the hook saw today's payload fields."""
    Workspace.open(project, env={})
    install_hook(project, home, "--timeout", "0.5")
    with ScriptedAnthropic(edit_script(project / "devenv.nix", "pkgs.jq", "pkgs.yq")) as api:
        run_claude(need_claude, api, project, home)
    assert set(api.recorded.paths) <= {"/v1/messages", "/v1/messages/count_tokens"}
    main = [r for r in api.recorded.requests if r.get("tools")]
    assert main and all(r.get("stream") is True for r in main)
    assert {"Edit", "Write", "Bash", "Read"} <= {t.get("name") for t in main[0]["tools"]}


def test_the_stand_in_speaks_the_messages_api_streamed_and_not() -> None:
    """What the real CLI relies on, checked without it: SSE event order, tool_use input as JSON deltas, JSON mode."""
    import urllib.request

    def post(api: ScriptedAnthropic, path: str, body: dict[str, Any]) -> tuple[str, bytes]:
        request = urllib.request.Request(
            api.base_url + path, data=json.dumps(body).encode(), method="POST", headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=WAIT) as response:  # noqa: S310 - 127.0.0.1 only
            return response.headers["content-type"], response.read()

    tools = [{"name": "Edit", "input_schema": {"type": "object"}}]
    user = [{"role": "user", "content": "go"}]
    with ScriptedAnthropic([ToolUse("Edit", {"file_path": "/p/devenv.nix", "old_string": "a", "new_string": "b"})]) as api:
        kind, raw = post(api, "/v1/messages", {"model": "m", "max_tokens": 5, "messages": user, "tools": tools, "stream": True})
        events = [block.split("\n")[0].removeprefix("event: ") for block in raw.decode().strip().split("\n\n")]
        datas = [json.loads(block.split("\ndata: ", 1)[1]) for block in raw.decode().strip().split("\n\n")]
        assert kind == "text/event-stream"
        assert events == [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
        assert datas[1]["content_block"]["type"] == "tool_use" and datas[1]["content_block"]["input"] == {}
        assert json.loads(datas[2]["delta"]["partial_json"] + datas[3]["delta"]["partial_json"])["new_string"] == "b"
        assert datas[5]["delta"]["stop_reason"] == "tool_use"

        result = [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Edit", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "denied: because"}]},
        ]
        kind, raw = post(api, "/v1/messages", {"model": "m", "max_tokens": 5, "messages": user + result, "tools": tools})
        message = json.loads(raw)
        assert kind == "application/json" and message["type"] == "message" and message["stop_reason"] == "end_turn"
        assert message["content"] == [{"type": "text", "text": FINAL_PREFIX + "denied: because"}]
        assert json.loads(post(api, "/v1/messages/count_tokens", {"messages": user})[1]) == {"input_tokens": 42}


def test_claude_run_sandboxed_reaches_devenv_nix_only_through_the_gate(
    need_claude: Path, need_bwrap: None, project: Path, home: Path
) -> None:
    """`omni-tui run -- claude`: a write the shell check cannot see (a script) fails with the system's error inside
    the sandbox; the Edit goes to the person, and the cockpit outside applies it."""
    Workspace.open(project, env={})
    install_hook(project, home)
    (project / "fix.py").write_text("open('devenv.nix', 'a').write('# sneaky\\n')\n")
    nix = project / "devenv.nix"
    script = [
        ToolUse("Bash", {"command": "python3 fix.py", "description": "Run the fixer"}),
        *edit_script(nix, "pkgs.jq", "pkgs.jq pkgs.redis"),
    ]
    person = decider(project, "approve")
    with ScriptedAnthropic(script) as api:
        env = _base_env(home) | {"ANTHROPIC_BASE_URL": api.base_url}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "omni_tui",
                "run",
                "-C",
                str(project),
                "--",
                str(need_claude),
                "-p",
                "add redis",
                "--output-format",
                "json",
                "--allowedTools",
                "Read Edit Bash",
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        script_result = api.tool_result_texts()[0]
    result = decided(person)

    assert proc.returncode == 0, proc.stderr
    assert "Read-only file system" in script_result  # what Claude saw of its script
    assert result["status"] == "applied"
    assert nix.read_text() == SAMPLE_DEVENV_NIX.replace("pkgs.jq", "pkgs.jq pkgs.redis")  # no '# sneaky'
    assert "already applied it to devenv.nix" in seen_by_claude(json.loads(proc.stdout))


def test_the_payload_fixtures_have_the_fields_the_real_cli_sends(need_claude: Path, project: Path, home: Path) -> None:
    """tests/fixtures/hooks/claude_code_*.json stay true to the pinned CLI: same fields, same tool_input fields."""
    import hook_payloads

    dump = project.parent / "payloads.jsonl"
    (project / ".claude").mkdir()
    recorder = {"type": "command", "command": f"cat >> {dump}; echo >> {dump}; exit 2"}
    (project / ".claude" / "settings.local.json").write_text(
        json.dumps({"hooks": {"PreToolUse": [{"matcher": "Edit|Write|Bash", "hooks": [recorder]}]}})
    )
    nix = project / "devenv.nix"
    script = [
        *edit_script(nix, "pkgs.jq", "pkgs.yq"),
        ToolUse("Write", {"file_path": str(project / "devenv.local.nix"), "content": "{ }\n"}),
        ToolUse("Bash", {"command": "sed -i s/jq/yq/ devenv.nix", "description": "swap"}),
    ]
    with ScriptedAnthropic(script) as api:
        env = _base_env(home) | {"ANTHROPIC_BASE_URL": api.base_url}
        subprocess.run(
            [str(need_claude), "-p", "go", "--output-format", "json", "--permission-mode", "auto"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=True,
        )
    sent = {p["tool_name"]: p for p in map(json.loads, filter(str.strip, dump.read_text().splitlines()))}
    for tool, fixture in (("Edit", "claude_code_edit"), ("Write", "claude_code_write"), ("Bash", "claude_code_bash")):
        expected = hook_payloads.load(fixture, project)
        assert list(sent[tool]) == list(expected), tool
        assert set(sent[tool]["tool_input"]) == set(expected["tool_input"]), tool
    assert sent["Edit"]["permission_mode"] == "auto" and sent["Edit"]["tool_input"]["replace_all"] is False
