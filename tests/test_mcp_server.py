"""`omni-tui mcp` driven by the `mcp` package's own stdio client, decisions made by another process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest
from conftest import SAMPLE_DEVENV_NIX
from mcp import ClientSession, StdioServerParameters, stdio_client

from omni_tui.core.proposals import ProposalStore
from omni_tui.core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
DECIDER = Path(__file__).resolve().parent / "agents_decider.py"
WAIT = 60  # generous: a loaded 2-core machine
TOOLS = {"propose_change", "proposal_status", "withdraw_proposal", "read_environment", "list_processes", "process_logs"}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVENV_", "PC_"))}
    env["PYTHONPATH"] = str(REPO)
    return env


@asynccontextmanager
async def mcp_session(project: Path) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "omni_tui", "mcp", "-C", str(project)], env=_env(), cwd="/")
    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=WAIT) as session:
                await session.initialize()
                yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    # The text content carries the same JSON for clients that ignore structured output.
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    return result.structured_content


async def call_error(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error
    (content,) = result.content
    text = content.text  # type: ignore[union-attr]
    assert "\n" not in text
    return text


def start_decider(project: Path, action: str, arg: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(DECIDER), str(project), action, arg],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


async def decided(decider: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = await anyio.to_thread.run_sync(lambda: decider.communicate(timeout=WAIT))
    assert decider.returncode == 0, err
    return json.loads(out)


@pytest.fixture
def ws(project: Path) -> Workspace:
    return Workspace.open(project, env={})


POSTGRES = SAMPLE_DEVENV_NIX.replace(
    "  languages.python.enable = true;\n", "  languages.python.enable = true;\n  services.postgres.enable = true;\n"
)


async def test_lists_its_six_tools_with_schemas(project: Path, ws: Workspace) -> None:
    async with mcp_session(project) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    propose = tools["propose_change"].input_schema
    assert propose["required"] == ["files", "title"]
    file_schema = propose["$defs"]["FileEdit"]["properties"]
    assert set(file_schema) == {"path", "content", "patch"}
    assert "omni-tui cockpit" in (tools["propose_change"].description or "")
    assert tools["process_logs"].input_schema["required"] == ["name"]


async def test_propose_and_receive_the_decision_made_in_another_process(project: Path, ws: Workspace) -> None:
    async with mcp_session(project) as session:
        decider = start_decider(project, "approve")
        result = await call(
            session,
            "propose_change",
            files=[{"path": "devenv.nix", "content": POSTGRES}],
            title="Enable postgres",
            rationale="The tests need a database",
            agent="codex",
            wait_s=WAIT,
        )
        seen = await decided(decider)
    assert seen["before"]["devenv.nix"] == SAMPLE_DEVENV_NIX  # nothing written before the approval
    assert (seen["agent"], seen["title"], seen["rationale"]) == ("codex", "Enable postgres", "The tests need a database")
    assert result["id"] == seen["id"] and result["status"] == "applied"
    assert (result["who"], result["exit_code"]) == ("alice", 0)
    assert result["last_lines"][-1] == "done"
    assert "already applied it to devenv.nix" in result["message"]
    assert (project / "devenv.nix").read_text() == POSTGRES


async def test_pending_then_status_then_rejection(project: Path, ws: Workspace) -> None:
    patch = (
        "--- a/devenv.nix\n+++ b/devenv.nix\n@@ -5,1 +5,1 @@\n"
        "-  packages = [ pkgs.git pkgs.jq ];\n+  packages = [ pkgs.git pkgs.jq pkgs.ripgrep ];\n"
    )
    async with mcp_session(project) as session:
        pending = await call(
            session, "propose_change", files=[{"path": str(project / "devenv.nix"), "patch": patch}], title="Add ripgrep", wait_s=0.3
        )
        assert pending["status"] == "pending"
        assert f"no decision on proposal {pending['id']}" in pending["message"]
        (entry,) = ProposalStore(ws).entries()
        assert "pkgs.ripgrep ];" in entry.proposal.changes[0].new_content

        decider = start_decider(project, "reject", "ripgrep is already in the base image")
        final = await call(session, "proposal_status", id=pending["id"], wait_s=WAIT)
        await decided(decider)
    assert final["status"] == "rejected" and final["reason"] == "ripgrep is already in the base image"
    assert final["message"].endswith("devenv.nix is unchanged.")
    assert (project / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


async def test_a_waiting_call_does_not_block_the_server(project: Path, ws: Workspace) -> None:
    async with mcp_session(project) as session:
        outcome: dict[str, Any] = {}

        async def propose() -> None:
            outcome.update(
                await call(
                    session, "propose_change", files=[{"path": "devenv.nix", "content": POSTGRES}], title="Enable postgres", wait_s=WAIT
                )
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(propose)
            with anyio.fail_after(WAIT):
                while True:  # the propose call is blocked waiting; the server still answers
                    env = await call(session, "read_environment")
                    if env["pending_proposals"]:
                        break
                    await anyio.sleep(0.05)
            assert not outcome
            (proposal,) = env["pending_proposals"]
            withdrawn = await call(session, "withdraw_proposal", id=proposal["id"], reason="changed my mind")
            assert withdrawn["status"] == "withdrawn"
    assert outcome["status"] == "withdrawn" and outcome["reason"] == "changed my mind"


async def test_read_environment_shows_files_baseline_gate_and_direct_edits(project: Path, ws: Workspace) -> None:
    (project / "devenv.nix").write_text(POSTGRES)  # a direct edit nobody approved
    ProposalStore(ws).create({"devenv.local.nix": "{ }\n"}, title="Add a local file", rationale="r", agent="goose")
    async with mcp_session(project) as session:
        env = await call(session, "read_environment")
    assert env["root"] == str(project.resolve())
    assert env["gate"] == {"state": "unapproved_edits", "pending": 1, "unapproved": ["devenv.nix"]}
    assert env["unapproved_edits"] == ["devenv.nix"]
    files = {f["path"]: f for f in env["guarded_files"]}
    assert list(files) == ["devenv.nix", "devenv.yaml", "devenv.local.nix", ".envrc", "omni-tui.toml"]  # the configuration is guarded too
    nix = files["devenv.nix"]
    assert (nix["current"], nix["baseline"], nix["unapproved"], nix["exists"]) == (POSTGRES, SAMPLE_DEVENV_NIX, True, True)
    assert files["devenv.yaml"] == {
        "path": "devenv.yaml",
        "exists": False,
        "current": None,
        "baseline": None,
        "current_sha256": None,
        "unapproved": False,
    }
    (pending,) = env["pending_proposals"]
    assert (pending["agent"], pending["title"], pending["paths"], pending["status"]) == (
        "goose",
        "Add a local file",
        ["devenv.local.nix"],
        "pending",
    )


async def test_tool_errors_are_one_line_mcp_errors(project: Path, ws: Workspace) -> None:
    async with mcp_session(project) as session:
        outside = await call_error(session, "propose_change", files=[{"path": "/etc/hosts", "content": "x"}], title="t")
        assert "/etc/hosts: outside the project root" in outside
        unguarded = await call_error(session, "propose_change", files=[{"path": "flake.nix", "content": "x"}], title="t")
        assert "flake.nix: not a guarded file (guarded: devenv.nix, devenv.yaml, devenv.local.nix, .envrc" in unguarded
        both = await call_error(session, "propose_change", files=[{"path": "devenv.nix", "content": "x", "patch": "y"}], title="t")
        assert "devenv.nix: give exactly one of content or patch" in both
        bad_patch = "--- a/devenv.nix\n+++ b/devenv.nix\n@@ -1,1 +1,1 @@\n-nope\n+yes\n"
        patch_error = await call_error(session, "propose_change", files=[{"path": "devenv.nix", "patch": bad_patch}], title="t")
        assert "patch does not apply to devenv.nix: hunk 1 (@@ -1,1 +1,1 @@) does not apply: line 1 should be 'nope'" in patch_error
        assert "no proposal with id 20990101T000000Z-abcdef" in await call_error(session, "proposal_status", id="20990101T000000Z-abcdef")
        assert "not a valid proposal id" in await call_error(session, "withdraw_proposal", id="../x")
        assert "unknown process 'nope' (known: none)" in await call_error(session, "process_logs", name="nope")
        missing = await call_error(session, "propose_change", files=[{"content": "x"}], wait_s=-1)
        assert missing == (
            "propose_change: invalid arguments: files.0.path: Field required; title: Field required; "
            "wait_s: Input should be greater than or equal to 0"
        )
    assert ProposalStore(ws).entries() == []


# -- processes -------------------------------------------------------------------------------------

WORKER = """import itertools, time
for i in itertools.count():
    print(f"worker line {i}", flush=True)
    time.sleep(0.2)
"""


@pytest.fixture
def honcho_worker(project: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real process manager (honcho) running a worker for the project, its output captured where devenv puts it."""
    (project / "Procfile").write_text(f"worker: {sys.executable} -u worker.py\n")
    (project / "worker.py").write_text(WORKER)
    (project / ".devenv").mkdir(exist_ok=True)
    env = _env()
    env["DEVENV_ROOT"] = str(project)
    with open(project / ".devenv" / "processes.log", "wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "honcho"), "start"],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    yield proc
    family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)] if proc.poll() is None else []
    os.killpg(proc.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(family, timeout=10)
    for leftover in alive:
        leftover.kill()
    proc.wait(10)


async def test_list_processes_and_process_logs_return_real_data(project: Path, ws: Workspace, honcho_worker) -> None:
    async with mcp_session(project) as session:
        with anyio.fail_after(WAIT):
            while True:
                snapshot = await call(session, "list_processes")
                workers = [p for p in snapshot["processes"] if p["name"] == "worker" and p["state"] == "running"]
                if workers:
                    break
                await anyio.sleep(0.2)
        assert snapshot["backend"] == "psutil"
        (worker,) = workers
        assert worker["pid"] and worker["rss"] > 0
        with anyio.fail_after(WAIT):
            while True:
                logs = await call(session, "process_logs", name="worker", lines=3)
                if len(logs["lines"]) == 3:
                    break
                await anyio.sleep(0.2)
        assert logs["name"] == "worker" and logs["backend"] == "psutil"
        assert all(line.startswith("worker line ") for line in logs["lines"])
        too_few = await call_error(session, "process_logs", name="worker", lines=0)
        assert too_few == "process_logs: invalid arguments: lines: Input should be greater than or equal to 1"


def test_a_call_still_waiting_does_not_keep_the_server_alive_after_the_client_leaves(project: Path, ws: Workspace) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "omni_tui", "mcp", "-C", str(project)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    assert server.stdin is not None and server.stdout is not None
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {
                "name": "propose_change",
                "arguments": {"files": [{"path": "devenv.nix", "content": POSTGRES}], "title": "Enable postgres", "wait_s": 3600},
            },
        },
    ]
    server.stdin.write(json.dumps(messages[0]).encode() + b"\n")
    server.stdin.flush()
    assert json.loads(server.stdout.readline())["id"] == 1
    for message in messages[1:]:
        server.stdin.write(json.dumps(message).encode() + b"\n")
    server.stdin.flush()
    store, deadline = ProposalStore(ws), time.monotonic() + WAIT
    while not store.pending():  # the call is now waiting for a decision (up to an hour)
        assert time.monotonic() < deadline, "the server never proposed"
        time.sleep(0.05)
    server.stdin.close()  # the agent quits
    assert server.wait(timeout=WAIT) == 0


async def test_schemas_are_closed_and_say_exactly_one_of_content_or_patch(project: Path, ws: Workspace) -> None:
    async with mcp_session(project) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        refused = await call_error(
            session, "propose_change", files=[{"path": "devenv.nix", "content": POSTGRES}], title="Enable postgres", wiat=600
        )
        both = await call_error(session, "propose_change", title="t", files=[{"path": "devenv.nix", "content": POSTGRES, "patch": "@@"}])
        extra_in_file = await call_error(
            session, "propose_change", title="t", files=[{"path": "devenv.nix", "content": POSTGRES, "mode": "0644"}]
        )
    assert all(tool.input_schema.get("additionalProperties") is False for tool in tools.values())
    file_edit = tools["propose_change"].input_schema["$defs"]["FileEdit"]
    assert file_edit["additionalProperties"] is False
    assert file_edit["oneOf"] == [{"required": ["content"]}, {"required": ["patch"]}]
    assert file_edit["properties"]["content"]["type"] == file_edit["properties"]["patch"]["type"] == "string"
    assert refused == "propose_change: unknown argument 'wiat' (accepted: files, title, rationale, wait_s, agent)"
    assert "exactly one of content or patch" in both
    assert "files.0.mode" in extra_in_file
    assert ProposalStore(ws).entries() == []  # nothing was proposed by a call with a typo


async def test_descriptions_are_clean_and_read_only_tools_say_so(project: Path, ws: Workspace) -> None:
    async with mcp_session(project) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    for tool in tools.values():
        assert tool.description and "  " not in tool.description and "\n" not in tool.description, tool.name
    hints = {name: tool.annotations.read_only_hint if tool.annotations else None for name, tool in tools.items()}
    assert hints == {
        "propose_change": None,
        "withdraw_proposal": None,
        "proposal_status": True,
        "read_environment": True,
        "list_processes": True,
        "process_logs": True,
    }


async def test_a_cancelled_request_withdraws_its_proposal(project: Path, ws: Workspace) -> None:
    store = ProposalStore(ws)
    async with mcp_session(project) as session:
        with anyio.move_on_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    lambda: session.call_tool(
                        "propose_change",
                        {"files": [{"path": "devenv.nix", "content": POSTGRES}], "title": "Enable postgres", "wait_s": 600},
                    )
                )
                while not store.pending():
                    await anyio.sleep(0.05)
                tg.cancel_scope.cancel()  # the client gives up: the SDK sends notifications/cancelled
        (entry,) = store.entries()
        for _ in range(WAIT * 20):
            if store.status(entry.proposal.id) != "pending":
                break
            await anyio.sleep(0.05)
        assert (await call(session, "read_environment"))["pending_proposals"] == []  # the server still serves
    decision = store.decision(entry.proposal.id)
    assert decision is not None
    assert (decision.status, decision.reason) == ("withdrawn", "the agent cancelled its MCP request before a decision")
    assert (ws.root / "devenv.nix").read_text() == SAMPLE_DEVENV_NIX


async def test_progress_notifications_while_waiting_when_the_client_asks(project: Path, ws: Workspace) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with mcp_session(project) as session:
        result = await session.call_tool(
            "propose_change",
            {"files": [{"path": "devenv.nix", "content": POSTGRES}], "title": "Enable postgres", "wait_s": 1},
            progress_callback=on_progress,
        )
    doc = result.structured_content
    assert doc is not None and doc["status"] == "pending"
    for _ in range(WAIT * 20):  # a notification is handled by the client a moment after it arrives
        if seen:
            break
        await anyio.sleep(0.05)
    progress, total, message = seen[0]
    assert 0 <= progress < 1 and total == 1  # sent at once, before the wait is over
    assert message is not None and message.startswith(f"waiting for a person to decide proposal {doc['id']} (")


def _raw_server(project: Path, stderr: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "omni_tui", "mcp", "-C", str(project)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=_env(),
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
            }
        ).encode()
        + b"\n"
    )
    server.stdin.flush()
    assert json.loads(server.stdout.readline())["id"] == 1
    server.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
    return server


def test_requests_in_flight_are_answered_when_stdin_closes(project: Path, ws: Workspace) -> None:
    server = _raw_server(project)
    assert server.stdin is not None and server.stdout is not None
    for rid, name, arguments in (
        (2, "propose_change", {"files": [{"path": "devenv.nix", "content": POSTGRES}], "title": "Enable postgres", "wait_s": 3600}),
        (3, "read_environment", {}),
    ):
        server.stdin.write(
            json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": name, "arguments": arguments}}).encode()
            + b"\n"
        )
    server.stdin.flush()
    store, deadline = ProposalStore(ws), time.monotonic() + WAIT
    while not store.pending():
        assert time.monotonic() < deadline, "the server never proposed"
        time.sleep(0.05)
    server.stdin.close()  # the client is done writing, still reading
    answers = {}
    for line in server.stdout:
        message = json.loads(line)
        answers[message["id"]] = message["result"]["structuredContent"]
    assert server.wait(timeout=WAIT) == 0
    assert set(answers) == {2, 3}
    assert answers[2]["status"] == "withdrawn" and answers[2]["reason"] == "the MCP client disconnected before a decision"
    assert answers[3]["root"] == str(project)
    assert store.status(answers[2]["id"]) == "withdrawn"


def test_a_client_that_disconnects_while_waiting_leaves_no_pending_proposal(project: Path, ws: Workspace) -> None:
    server = _raw_server(project, stderr=subprocess.PIPE)
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {
                    "name": "propose_change",
                    "arguments": {"files": [{"path": "devenv.nix", "content": POSTGRES}], "title": "Enable postgres", "wait_s": 3600},
                },
            }
        ).encode()
        + b"\n"
    )
    server.stdin.flush()
    store, deadline = ProposalStore(ws), time.monotonic() + WAIT
    while not store.pending():
        assert time.monotonic() < deadline, "the server never proposed"
        time.sleep(0.05)
    server.stdout.close()  # the client process is gone: both pipes closed
    server.stdin.close()
    assert server.wait(timeout=WAIT) == 0  # its last answer had nowhere to go: no traceback, no error
    assert server.stderr is not None and server.stderr.read() == b""
    (entry,) = store.entries()
    assert entry.status == "withdrawn"
    assert entry.decision is not None and entry.decision.reason == "the MCP client disconnected before a decision"


def test_a_line_that_is_not_json_rpc_gets_a_json_rpc_error_and_the_server_goes_on(project: Path, ws: Workspace) -> None:
    server = _raw_server(project)
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(b'{"jsonrpc": "2.0", "id": \x1b]52;c;aGk=\x07\n')  # not JSON (and hostile bytes)
    server.stdin.write(b'{"hello": "world"}\n')  # JSON, not JSON-RPC
    server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}).encode() + b"\n")
    server.stdin.flush()
    answers = [json.loads(server.stdout.readline()) for _ in range(3)]
    server.stdin.close()
    assert server.wait(timeout=WAIT) == 0
    assert answers[0] == {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error: the line is not JSON"}}
    assert answers[1]["id"] is None and answers[1]["error"]["code"] == -32600
    assert answers[2]["id"] == 7 and "propose_change" in {t["name"] for t in answers[2]["result"]["tools"]}
