"""`omni-tui mcp`: an MCP server over stdio (official `mcp` package) through which any MCP agent uses the gate.

Tools: `propose_change`, `proposal_status`, `withdraw_proposal`, `read_environment`,
`list_processes`, `process_logs`. An agent can propose, wait and read the answer; it can
never approve. Expected failures (a path outside the root, a file that is not guarded, an
unknown id, a patch that does not apply, ...) come back as MCP tool errors (`isError`) with
a one-line message. Blocking work (waiting for a decision, scanning processes, reading
logs) runs in worker threads so the server keeps answering while a call waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, ValidationError

from omni_tui.agents.outcome import card_note, decision_summary, pending_message
from omni_tui.core.audit import utc_now
from omni_tui.core.card import Card
from omni_tui.core.card.project import proposal_card
from omni_tui.core.errors import BackendError, OmniError, PatchError, ProposalError
from omni_tui.core.gate import Gate
from omni_tui.core.processes import collect
from omni_tui.core.proposals import FINAL, POLL_S, Decision, FileChange, Proposal, ProposalStore, new_id
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.textdiff import apply_patch
from omni_tui.core.workspace import Workspace

DEFAULT_AGENT = "mcp"
# Codex CLI gives an MCP tool call 60 s by default (tool_timeout_sec); answering "pending"
# before that keeps the proposal useful instead of surfacing a client-side timeout.
DEFAULT_WAIT_S = 50.0
MAX_WAIT_S = 3600.0
MAX_LOG_LINES = 2000

INSTRUCTIONS = (
    "omni-tui guards this devenv project's environment files (devenv.nix, ...). Do not edit them "
    "directly: call propose_change with the full new content (or a unified diff); a person approves or "
    "rejects it in the omni-tui cockpit, and on approval the cockpit applies it and rebuilds the "
    "environment. Never apply an approved change yourself: re-read the file. Use read_environment to "
    "see the guarded files, the approved baseline and what is pending."
)

T = TypeVar("T")


class FileEdit(BaseModel):
    """One guarded file in a proposal: its whole new content, or a unified diff against its current content."""

    path: Annotated[str, Field(description="Path relative to the project root (or absolute inside it), e.g. devenv.nix")]
    content: Annotated[str | None, Field(description="The complete new file content")] = None
    patch: Annotated[str | None, Field(description="A unified diff (---/+++/@@) against the current content")] = None


async def _in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))


def _tool_errors(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except OmniError as err:
        raise ToolError(str(err)) from None
    except OSError as err:
        raise ToolError(f"{err.filename or 'file system'}: {err.strerror or err}") from None


def _text(data: bytes | None) -> str | None:
    if data is None:
        return None
    return data.decode("utf-8", errors="replace")


class _OmniMCPServer(MCPServer):
    """MCPServer whose argument-validation errors are one line, like every other tool error here."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as err:
            cause = err.__cause__
            if not isinstance(cause, ValidationError):
                raise
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc']) or 'arguments'}: {e['msg']}" for e in cause.errors()
            )
            raise ToolError(f"{name}: invalid arguments: {problems}") from cause


class OmniTools:
    """The tools' behaviour over one workspace, as plain (blocking) methods."""

    def __init__(self, ws: Workspace, env: Mapping[str, str] | None = None) -> None:
        self.ws = ws
        self.store = ProposalStore(ws)
        self.env = env

    def build_changes(self, files: list[FileEdit]) -> tuple[FileChange, ...]:
        if not files:
            raise ProposalError("files: give at least one {path, content} or {path, patch}")
        changes: list[FileChange] = []
        seen: set[str] = set()
        for item in files:
            rel = self.ws.relative(item.path)
            if rel in seen:
                raise ProposalError(f"{rel}: named twice in files")
            seen.add(rel)
            if (item.content is None) == (item.patch is None):
                raise ProposalError(f"{rel}: give exactly one of content or patch")
            # One read serves both the patch and base_sha256, so the base is exactly what the
            # patch applied to (the gate then marks the proposal stale if the file moves on).
            current = self.ws.read_current(rel)
            if item.content is not None:
                new = item.content
            else:
                try:
                    old = "" if current is None else current.decode("utf-8")
                except UnicodeDecodeError:
                    raise ProposalError(f"{rel}: the current file is not UTF-8, so a patch cannot apply") from None
                try:
                    new = apply_patch(old, item.patch or "", rel)
                except PatchError as err:
                    raise PatchError(f"patch does not apply to {rel}: {err}") from None
            changes.append(FileChange(path=rel, base_sha256=sha256_bytes(current), new_content=new))
        return tuple(changes)

    def submit(self, files: list[FileEdit], title: str, rationale: str, agent: str) -> str:
        if not title.strip():
            raise ProposalError("title: must not be empty")
        proposal = Proposal(
            id=new_id(),
            agent=agent.strip() or DEFAULT_AGENT,
            title=title.strip(),
            rationale=rationale,
            created_at=utc_now(),
            changes=self.build_changes(files),
        )
        return self.store.submit(proposal).id

    def outcome(self, proposal_id: str, wait_s: float) -> dict[str, Any]:
        proposal = self.store.get(proposal_id)  # ProposalError for an unknown id
        paths = ", ".join(change.path for change in proposal.changes)
        decision = self._wait(proposal_id, wait_s)
        if decision is None or decision.status not in FINAL:
            status = "pending" if decision is None else decision.status
            card = self._card(proposal) if status == "pending" else None
            return {
                "id": proposal_id,
                "status": status,
                "message": pending_message(proposal_id, paths, wait_s) + card_note(card) if status == "pending"
                else f"omni-tui: proposal {proposal_id} is {status}; call proposal_status again for the result.",
                # What the person sees before deciding (docs/protocol.md, schema omni-tui/card@1; values masked).
                "card": card.to_json() if card is not None else None,
            }
        summary = decision_summary(decision, paths)
        if decision.status == "rejected" and decision.who == "policy":
            card = self._card(proposal)  # nothing was applied: the card against the files on disk still holds
            summary["message"] = str(summary.get("message", "")) + card_note(card)
            summary["card"] = card.to_json() if card is not None else None
        return summary

    def _card(self, proposal: Proposal) -> Card | None:
        try:
            return proposal_card(self.ws, proposal)
        except Exception:  # noqa: BLE001 - agent bytes never break a tool call
            return None

    def _wait(self, proposal_id: str, wait_s: float) -> Decision | None:
        """Like `ProposalStore.wait`, but a cancelled call (or a server shutting down) ends it at once.

        Runs in an AnyIO worker thread; returns the latest decision (maybe still in progress) at the deadline.
        """
        deadline = time.monotonic() + wait_s
        while True:
            decision = self.store.decision(proposal_id)
            left = deadline - time.monotonic()
            if (decision is not None and (decision.final or decision.status == "tampered")) or left <= 0:
                return decision
            time.sleep(min(POLL_S, left))
            anyio.from_thread.check_cancelled()

    def withdraw(self, proposal_id: str, reason: str) -> dict[str, Any]:
        proposal = self.store.get(proposal_id)
        self.store.withdraw(proposal_id, who=proposal.agent, reason=reason.strip() or None)
        return self.outcome(proposal_id, 0)

    def environment(self) -> dict[str, Any]:
        ws = self.ws
        state = Gate(ws).state()
        files = []
        for rel in ws.guarded():
            current, baseline = ws.read_current(rel), ws.read_baseline(rel)
            files.append(
                {
                    "path": rel,
                    "exists": current is not None,
                    "current": _text(current),
                    "baseline": _text(baseline),
                    "current_sha256": sha256_bytes(current),
                    "unapproved": current != baseline,
                }
            )
        pending = [
            {
                "id": entry.proposal.id,
                "agent": entry.proposal.agent,
                "title": entry.proposal.title,
                "created_at": entry.proposal.created_at,
                "status": entry.status,
                "paths": [c.path for c in entry.proposal.changes],
            }
            for entry in self.store.entries()
            if entry.status not in FINAL
        ]
        return {
            "root": str(ws.root),
            "gate": {"state": state.kind, "pending": len(state.pending), "unapproved": list(state.unapproved)},
            "guarded_files": files,
            "unapproved_edits": ws.unapproved(),
            "pending_proposals": pending,
        }

    def processes(self) -> dict[str, Any]:
        return collect(self.ws.root, env=self.env).to_dict()

    def logs(self, name: str, lines: int) -> dict[str, Any]:
        snapshot = collect(self.ws.root, env=self.env)
        if snapshot.get(name) is None:
            known = ", ".join(p.name for p in snapshot.processes) or "none"
            raise BackendError(f"unknown process {name!r} (known: {known})")
        if snapshot.control is None:
            raise BackendError(f"no process backend can read the logs of {name!r}")
        return {"name": name, "backend": snapshot.backend, "lines": snapshot.control.logs(name, lines)}


def build_server(ws: Workspace, env: Mapping[str, str] | None = None) -> MCPServer:
    """The MCP server with its six tools, bound to `ws`."""
    tools = OmniTools(ws, env)
    server = _OmniMCPServer(name="omni-tui", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    async def propose_change(
        files: Annotated[list[FileEdit], Field(description="The guarded files to change: {path, content} or {path, patch}")],
        title: Annotated[str, Field(description="One line saying what the change does")],
        rationale: Annotated[str, Field(description="Why the change is needed; shown to the person")] = "",
        wait_s: Annotated[
            float, Field(ge=0, le=MAX_WAIT_S, description="Seconds to wait for the person's decision; 0 = return at once")
        ] = DEFAULT_WAIT_S,
        agent: Annotated[str, Field(description="Your name, shown in the cockpit")] = DEFAULT_AGENT,
    ) -> dict[str, Any]:
        """Propose new content for guarded environment files (devenv.nix, ...). A person approves or
        rejects it in the omni-tui cockpit; on approval the cockpit writes the files and rebuilds.
        Returns the decision (status applied / rejected / failed / rolled_back / stale / withdrawn, the
        reason, the rebuild's exit code and last lines) or {"status": "pending", "id": ...} when nobody
        decided within wait_s (then poll proposal_status). Never re-apply an applied change yourself."""
        proposal_id = await _in_thread(_tool_errors, tools.submit, files, title, rationale, agent)
        return await _in_thread(_tool_errors, tools.outcome, proposal_id, wait_s)

    @server.tool()
    async def proposal_status(
        id: Annotated[str, Field(description="The proposal id returned by propose_change")],
        wait_s: Annotated[float, Field(ge=0, le=MAX_WAIT_S, description="Seconds to wait for a decision")] = 0,
    ) -> dict[str, Any]:
        """The current status of a proposal, optionally waiting up to wait_s seconds for the decision."""
        return await _in_thread(_tool_errors, tools.outcome, id, wait_s)

    @server.tool()
    async def withdraw_proposal(
        id: Annotated[str, Field(description="The id of your pending proposal")],
        reason: Annotated[str, Field(description="Why you take it back (shown to the person)")] = "",
    ) -> dict[str, Any]:
        """Withdraw a pending proposal (it leaves the person's queue)."""
        return await _in_thread(_tool_errors, tools.withdraw, id, reason)

    @server.tool()
    async def read_environment() -> dict[str, Any]:
        """The guarded files with their current and approved (baseline) content, the gate state
        (clean / pending / unapproved_edits / rebuilding / failed), direct edits nobody approved yet,
        and the pending proposals."""
        return await _in_thread(_tool_errors, tools.environment)

    @server.tool()
    async def list_processes() -> dict[str, Any]:
        """The project's devenv processes and services: name, state, pid, CPU, memory, uptime,
        restarts, listening ports, and which backend reported them."""
        return await _in_thread(_tool_errors, tools.processes)

    @server.tool()
    async def process_logs(
        name: Annotated[str, Field(description="A process name from list_processes")],
        lines: Annotated[int, Field(ge=1, le=MAX_LOG_LINES, description="How many of the last lines")] = 100,
    ) -> dict[str, Any]:
        """The last lines of a process's log."""
        return await _in_thread(_tool_errors, tools.logs, name, lines)

    return server


def serve(ws: Workspace) -> int:
    """Run the server on stdin/stdout until the client disconnects."""
    import sys

    from omni_tui.core.terminal import InertWriter

    # stderr reaches the client's terminal or log: the SDK's log lines quote tool arguments (agent text).
    sys.stderr = InertWriter(sys.stderr)
    build_server(ws).run("stdio")
    return 0
