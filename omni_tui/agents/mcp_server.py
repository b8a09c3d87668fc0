"""`omni-tui mcp`: an MCP server over stdio (official `mcp` package) through which any MCP agent uses the gate.

Tools: `propose_change`, `proposal_status`, `withdraw_proposal`, `read_environment`,
`list_processes`, `process_logs`. An agent can propose, wait and read the answer; it can
never approve. Expected failures (a path outside the root, a file that is not guarded, an
unknown id, a patch that does not apply, ...) come back as MCP tool errors (`isError`) with
a one-line message. Blocking work (waiting for a decision, scanning processes, reading
logs) runs in worker threads so the server keeps answering while a call waits.

Schemas are closed (an unknown argument is an error, not ignored) and a file edit is exactly one
of `content` or `patch` (`oneOf`). While `propose_change` or `proposal_status` waits, a client
that sent a progress token gets a progress notification every `PROGRESS_EVERY_S` (clients such as
the TypeScript SDK can reset their request timeout on it). A `propose_change` whose request is
cancelled (`notifications/cancelled`) or whose client disconnects before the answer is sent
withdraws its proposal, so nothing waits in the person's queue for an agent that is gone. When
stdin closes, the requests already read are finished and answered before the server exits: a
call waiting for a person stops waiting (`propose_change` withdraws its proposal and answers
`withdrawn`), the others complete.
"""

from __future__ import annotations

import inspect
import os
import select
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omni_tui.agents.outcome import card_note, decision_summary, pending_message
from omni_tui.core.audit import utc_now
from omni_tui.core.card import Card
from omni_tui.core.card.project import proposal_card
from omni_tui.core.errors import BackendError, OmniError, ProposalError
from omni_tui.core.gate import Gate
from omni_tui.core.processes import collect
from omni_tui.core.proposals import FINAL, POLL_S, Decision, FileChange, Proposal, ProposalStore, new_id, patch_onto
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace

DEFAULT_AGENT = "mcp"
# Codex CLI gives an MCP tool call 60 s by default (tool_timeout_sec); answering "pending"
# before that keeps the proposal useful instead of surfacing a client-side timeout.
DEFAULT_WAIT_S = 50.0
MAX_WAIT_S = 3600.0
MAX_LOG_LINES = 2000
# A progress notification at once and then this often while a call waits for a person (when asked for).
PROGRESS_EVERY_S = 5.0
# After stdin closes: the longest the server keeps finishing the requests already read.
FINISH_S = 30.0
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)

INSTRUCTIONS = (
    "omni-tui guards this devenv project's environment files (devenv.nix, ...). Do not edit them "
    "directly: call propose_change with the full new content (or a unified diff); a person approves or "
    "rejects it in the omni-tui cockpit, and on approval the cockpit applies it and rebuilds the "
    "environment. Never apply an approved change yourself: re-read the file. Use read_environment to "
    "see the guarded files, the approved baseline and what is pending."
)

T = TypeVar("T")


def _exactly_one_of_content_or_patch(schema: dict[str, Any]) -> None:
    props = schema.get("properties", {})
    for key in ("content", "patch"):  # a string when given (null would satisfy `required` too)
        if key in props:
            props[key] = {k: v for k, v in props[key].items() if k not in ("anyOf", "default")} | {"type": "string"}
    schema["oneOf"] = [{"required": ["content"]}, {"required": ["patch"]}]


class FileEdit(BaseModel):
    """One guarded file in a proposal: its whole new content, or a unified diff against its current content."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_exactly_one_of_content_or_patch)

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
    """MCPServer with closed schemas (unknown arguments refused) and one-line argument errors, like every other tool error here."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        tool = self._tool_manager.get_tool(name)
        if tool is not None and isinstance(arguments, dict):
            known = tool.parameters.get("properties", {})
            unknown = sorted(str(key) for key in arguments if key not in known)
            if unknown:
                from omni_tui.core.terminal import inert

                listed = ", ".join(repr(inert(key)[:40]) for key in unknown[:5])
                raise ToolError(
                    f"{name}: unknown argument{'s' if len(unknown) > 1 else ''} {listed} (accepted: {', '.join(known) or 'none'})"
                )
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as err:
            cause = err.__cause__
            if not isinstance(cause, ValidationError):
                raise
            problems = "; ".join(f"{'.'.join(str(part) for part in e['loc']) or 'arguments'}: {e['msg']}" for e in cause.errors())
            raise ToolError(f"{name}: invalid arguments: {problems}") from cause


class OmniTools:
    """The tools' behaviour over one workspace, as plain (blocking) methods."""

    def __init__(self, ws: Workspace, env: Mapping[str, str] | None = None) -> None:
        self.ws = ws
        self.store = ProposalStore(ws)
        self.env = env
        self.link = Link()

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
                new = patch_onto(current, rel, item.patch or "")
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

    def outcome(self, proposal_id: str, wait_s: float, tick: Callable[[float], None] | None = None) -> dict[str, Any]:
        """The decision (or "pending" after `wait_s`); `tick(waited_s)` is called while waiting (progress)."""
        proposal = self.store.get(proposal_id)  # ProposalError for an unknown id
        paths = ", ".join(change.path for change in proposal.changes)
        decision = self._wait(proposal_id, wait_s, tick)
        if decision is None or decision.status not in FINAL:
            status = "pending" if decision is None else decision.status
            card = self._card(proposal) if status == "pending" else None
            return {
                "id": proposal_id,
                "status": status,
                "message": pending_message(proposal_id, paths, wait_s) + card_note(card)
                if status == "pending"
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

    def _wait(self, proposal_id: str, wait_s: float, tick: Callable[[float], None] | None = None) -> Decision | None:
        """Like `ProposalStore.wait`, but a cancelled call (or a server shutting down) ends it at once.

        Runs in an AnyIO worker thread; returns the latest decision (maybe still in progress) at the deadline.
        """
        start = time.monotonic()
        deadline = start + wait_s
        while True:
            decision = self.store.decision(proposal_id)
            left = deadline - time.monotonic()
            if (decision is not None and (decision.final or decision.status == "tampered")) or left <= 0:
                return decision
            if self.link.disconnected:
                return decision  # stdin closed: nobody is left to wait for the answer
            if tick is not None:
                tick(time.monotonic() - start)
            time.sleep(min(POLL_S, left))
            anyio.from_thread.check_cancelled()

    def abandon(self, proposal_id: str, why: str) -> None:
        """The agent's request ended before the answer: withdraw the proposal if nobody decided it yet."""
        try:
            proposal = self.store.get(proposal_id)
            if self.store.status(proposal_id) == "pending":
                self.store.withdraw(proposal_id, who=proposal.agent, reason=why)
        except OmniError:
            pass  # decided meanwhile (or unreadable): the decision stands

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


def _clean_description(doc: str) -> str:
    """A docstring as a client should show it: no source indentation, one line per paragraph."""
    return "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(doc).split("\n\n"))


class Link:
    """What the stdio transport knows about the client: set when it disconnected (see `serve`)."""

    disconnected = False


def _progress(ctx: Context | None, proposal_id: str, wait_s: float) -> Callable[[float], None] | None:
    """A `tick` for `OmniTools.outcome` sending progress (a no-op unless the client sent a progress token)."""
    if ctx is None:
        return None
    next_at = [0.0]

    def tick(waited_s: float) -> None:
        if waited_s < next_at[0]:
            return
        next_at[0] = waited_s + PROGRESS_EVERY_S
        message = f"waiting for a person to decide proposal {proposal_id} ({waited_s:.0f} of {wait_s:g} s)"
        try:
            anyio.from_thread.run(ctx.report_progress, round(waited_s, 1), wait_s, message)
        except anyio.get_cancelled_exc_class():
            raise
        except Exception:  # noqa: BLE001 - a client that cannot take progress still gets its answer
            pass

    return tick


def build_server(ws: Workspace, env: Mapping[str, str] | None = None, link: Link | None = None) -> MCPServer:
    """The MCP server with its six tools, bound to `ws`."""
    tools = OmniTools(ws, env)
    link = tools.link = link or Link()
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
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """Propose new content for guarded environment files (devenv.nix, ...). A person approves or
        rejects it in the omni-tui cockpit; on approval the cockpit writes the files and rebuilds.
        Returns the decision (status applied / rejected / failed / rolled_back / stale / withdrawn, the
        reason, the rebuild's exit code and last lines) or {"status": "pending", "id": ...} when nobody
        decided within wait_s (then poll proposal_status). Never re-apply an applied change yourself."""
        created: list[str] = []
        try:
            created.append(await _in_thread(_tool_errors, tools.submit, files, title, rationale, agent))
            result = await _in_thread(_tool_errors, tools.outcome, created[0], wait_s, _progress(ctx, created[0], wait_s))
            if result.get("status") == "pending" and link.disconnected:
                # stdin closed while waiting: withdraw, and answer with that (stdout may still be read).
                await _in_thread(tools.abandon, created[0], "the MCP client disconnected before a decision")
                result = await _in_thread(_tool_errors, tools.outcome, created[0], 0)
            return result
        except anyio.get_cancelled_exc_class():
            # The answer can no longer reach the agent: take the proposal out of the person's queue.
            why = (
                "the MCP client disconnected before a decision"
                if link.disconnected
                else "the agent cancelled its MCP request before a decision"
            )
            with anyio.CancelScope(shield=True):
                for proposal_id in created:
                    await _in_thread(tools.abandon, proposal_id, why)
            raise

    @server.tool(annotations=READ_ONLY)
    async def proposal_status(
        id: Annotated[str, Field(description="The proposal id returned by propose_change")],
        wait_s: Annotated[float, Field(ge=0, le=MAX_WAIT_S, description="Seconds to wait for a decision")] = 0,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """The current status of a proposal, optionally waiting up to wait_s seconds for the decision."""
        return await _in_thread(_tool_errors, tools.outcome, id, wait_s, _progress(ctx, id, wait_s))

    @server.tool()
    async def withdraw_proposal(
        id: Annotated[str, Field(description="The id of your pending proposal")],
        reason: Annotated[str, Field(description="Why you take it back (shown to the person)")] = "",
    ) -> dict[str, Any]:
        """Withdraw a pending proposal (it leaves the person's queue)."""
        return await _in_thread(_tool_errors, tools.withdraw, id, reason)

    @server.tool(annotations=READ_ONLY)
    async def read_environment() -> dict[str, Any]:
        """The guarded files with their current and approved (baseline) content, the gate state
        (clean / pending / unapproved_edits / rebuilding / failed / tampered), direct edits nobody approved yet,
        and the pending proposals."""
        return await _in_thread(_tool_errors, tools.environment)

    @server.tool(annotations=READ_ONLY)
    async def list_processes() -> dict[str, Any]:
        """The project's devenv processes and services: name, state, pid, CPU, memory, uptime,
        restarts, listening ports, and which backend reported them."""
        return await _in_thread(_tool_errors, tools.processes)

    @server.tool(annotations=READ_ONLY)
    async def process_logs(
        name: Annotated[str, Field(description="A process name from list_processes")],
        lines: Annotated[int, Field(ge=1, le=MAX_LOG_LINES, description="How many of the last lines")] = 100,
    ) -> dict[str, Any]:
        """The last lines of a process's log."""
        return await _in_thread(_tool_errors, tools.logs, name, lines)

    for tool in server._tool_manager.list_tools():
        # Docstrings keep their source indentation; a client shows the description as written.
        tool.description = _clean_description(tool.description or "")
        tool.parameters["additionalProperties"] = False  # closed: call_tool refuses unknown arguments
    return server


def serve(ws: Workspace) -> int:
    """Run the server on stdin/stdout until the client disconnects."""
    import sys

    from omni_tui.core.terminal import InertWriter

    # stderr reaches the client's terminal or log: the SDK's log lines quote tool arguments (agent text).
    sys.stderr = InertWriter(sys.stderr)
    link = Link()
    server = build_server(ws, link=link)
    try:
        anyio.run(_serve_stdio, server, link, os.dup(1))
    except (BrokenPipeError, BaseExceptionGroup) as exc:
        if not _only_broken_pipes(exc):
            raise
        # The client left before reading its last answers: nothing left to tell anyone.
        sys.stdout = None
    return 0


def _only_broken_pipes(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_broken_pipes(inner) for inner in exc.exceptions)
    return isinstance(exc, BrokenPipeError)


def _reader_gone(fd: int) -> bool:
    """Has the other end of our stdout gone away (a pipe whose reader closed reports POLLERR)?"""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _fd, events in poller.poll(0))


async def _serve_stdio(server: MCPServer, link: Link, stdout_fd: int) -> None:
    """`MCPServer.run("stdio")`, with requests in flight finished when stdin closes.

    The SDK cancels every handler at end of input. Here the end of input is held back until each
    request read has been answered — unless stdout is gone too (the client disconnected): then
    the handlers are cancelled (and `propose_change` withdraws its proposal).
    """
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage
    from mcp.types import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

    lowlevel = server._lowlevel_server
    unanswered: set[str] = set()
    into_send, into_receive = anyio.create_memory_object_stream[Any](16)
    out_send, out_receive = anyio.create_memory_object_stream[Any](16)

    async def pump_in(read_stream: Any, answer: Any) -> None:
        async with into_send, answer:
            async for item in read_stream:
                if isinstance(item, Exception):
                    # A line that is not a JSON-RPC message: JSON-RPC 2.0 answers it (id null) rather than
                    # leaving the client waiting. The line itself is never echoed (it is the client's bytes).
                    await answer.send(SessionMessage(_unreadable(item)))
                    continue
                message = getattr(item, "message", None) if isinstance(item, SessionMessage) else None
                if isinstance(message, JSONRPCRequest):
                    unanswered.add(str(message.id))
                elif isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
                    unanswered.discard(str((message.params or {}).get("requestId")))  # never answered
                await into_send.send(item)
            # stdin closed: calls waiting for a person stop waiting (propose_change withdraws its
            # proposal); every request read is still answered while someone reads stdout.
            link.disconnected = True
            deadline = time.monotonic() + FINISH_S
            while unanswered and not _reader_gone(stdout_fd) and time.monotonic() < deadline:
                await anyio.sleep(POLL_S)

    async def pump_out(write_stream: Any) -> None:
        async with write_stream:
            async for item in out_receive:
                await write_stream.send(item)
                message = getattr(item, "message", None)
                if isinstance(message, (JSONRPCResponse, JSONRPCError)):
                    unanswered.discard(str(message.id))

    async with stdio_server() as (read_stream, write_stream):
        async with anyio.create_task_group() as tg:
            tg.start_soon(pump_in, read_stream, out_send.clone())
            tg.start_soon(pump_out, write_stream)
            async with out_send:
                await lowlevel.run(into_receive, out_send, lowlevel.create_initialization_options())
            # pump_in ended at end of input; pump_out ends once the last answer is written.


def _unreadable(exc: Exception) -> Any:
    """The JSON-RPC error for a line the SDK could not read: -32700 when it is not JSON, else -32600."""
    from mcp.types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError

    errors = exc.errors() if hasattr(exc, "errors") else []
    not_json = any(isinstance(e, dict) and e.get("type") == "json_invalid" for e in errors) or not errors
    if not_json:
        return JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=PARSE_ERROR, message="Parse error: the line is not JSON"))
    return JSONRPCError(
        jsonrpc="2.0",
        id=None,
        error=ErrorData(code=INVALID_REQUEST, message="Invalid Request: not a JSON-RPC 2.0 request, notification or response"),
    )
