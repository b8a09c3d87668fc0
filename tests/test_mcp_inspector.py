"""`omni-tui mcp` driven by the real MCP Inspector CLI (`@modelcontextprotocol/inspector`, pinned in scripts/setup):
what a person debugging their MCP wiring sees for tools/list and tools/call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import SAMPLE_DEVENV_NIX

from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
WAIT = 120  # node start-up on a loaded 2-core machine


def inspect(inspector: Path, project: Path, *args: str) -> tuple[int, Any, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [str(inspector), "--cli", sys.executable, "-m", "omni_tui", "mcp", "-C", str(project), *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=env,
        cwd=project,
        check=False,
    )
    # The Inspector prints the result as JSON, then (for a tool error) a one-line JSON error of its own.
    decoder = json.JSONDecoder()
    doc, _end = decoder.raw_decode(done.stdout.lstrip())
    return done.returncode, doc, done.stdout


def test_inspector_lists_the_six_tools_with_closed_schemas_and_read_only_hints(project: Path, need_inspector: Path) -> None:
    code, doc, _ = inspect(need_inspector, project, "--method", "tools/list")
    assert code == 0
    tools = {tool["name"]: tool for tool in doc["tools"]}
    assert set(tools) == {"propose_change", "proposal_status", "withdraw_proposal", "read_environment", "list_processes", "process_logs"}
    assert all(tool["inputSchema"]["additionalProperties"] is False for tool in tools.values())
    assert tools["propose_change"]["inputSchema"]["$defs"]["FileEdit"]["oneOf"] == [{"required": ["content"]}, {"required": ["patch"]}]
    assert {name for name, tool in tools.items() if tool.get("annotations", {}).get("readOnlyHint")} == {
        "proposal_status",
        "read_environment",
        "list_processes",
        "process_logs",
    }
    assert "\n" not in tools["propose_change"]["description"]


def test_inspector_calls_read_environment_and_propose_change(project: Path, need_inspector: Path) -> None:
    code, doc, _ = inspect(need_inspector, project, "--method", "tools/call", "--tool-name", "read_environment")
    assert code == 0 and not doc.get("isError")
    env = doc["structuredContent"]
    assert env["root"] == str(project) and env["guarded_files"][0]["current"] == SAMPLE_DEVENV_NIX

    new = SAMPLE_DEVENV_NIX.replace("pkgs.jq", "pkgs.jq pkgs.ripgrep")
    files = json.dumps([{"path": "devenv.nix", "content": new}])
    code, doc, _ = inspect(
        need_inspector,
        project,
        "--method",
        "tools/call",
        "--tool-name",
        "propose_change",
        "--tool-arg",
        f"files={files}",
        "--tool-arg",
        "title=Add ripgrep",
        "--tool-arg",
        "wait_s=0",
        "--tool-arg",
        "agent=inspector",
    )
    assert code == 0 and not doc.get("isError"), doc
    result = doc["structuredContent"]
    assert result["status"] == "pending"
    proposal = ProposalStore(Workspace.open(project, env={})).get(result["id"])
    assert (proposal.agent, proposal.title, proposal.changes[0].new_content) == ("inspector", "Add ripgrep", new)


def test_inspector_shows_an_unknown_argument_as_a_one_line_tool_error(project: Path, need_inspector: Path) -> None:
    _code, doc, _ = inspect(
        need_inspector, project, "--method", "tools/call", "--tool-name", "proposal_status", "--tool-arg", "id=x", "--tool-arg", "wiat=600"
    )
    assert doc["isError"] is True
    assert doc["content"] == [{"type": "text", "text": "proposal_status: unknown argument 'wiat' (accepted: id, wait_s)"}]
