"""`omni-tui hook claude-code`: a Claude Code PreToolUse hook that routes edits of guarded files through the gate.

Claude Code runs the hook before every matching tool call, with the call as JSON on stdin.
An Edit / MultiEdit / Write of a guarded file (devenv.nix, ...) becomes a proposal; the
hook waits for the person's decision in a cockpit and answers with Claude Code's hook
output on stdout:

    {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                            "permissionDecision": "deny" | "ask",
                            "permissionDecisionReason": "..."}}

The tool call itself never runs: when the person approved, the cockpit already wrote the
file and rebuilt, so the answer is "deny" with a reason saying so (the agent must not
apply the change a second time). Anything else passes through: exit 0, no output.
Malformed input: a one-line message on stderr and exit 2, Claude Code's blocking code.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from omni_tui.agents.edits import EDIT_TOOLS, apply_tool, check_payload, file_path_of
from omni_tui.core.errors import OmniError, PatchError, PathError, ProposalError, WorkspaceError

if TYPE_CHECKING:
    from omni_tui.core.proposals import ProposalStore
    from omni_tui.core.workspace import Workspace

# The workspace, proposal and diff modules are imported where they are needed: Claude Code runs
# this hook before every matching tool call, and a pass-through must cost little more than Python.

AGENT = "claude-code"
# Claude Code kills a command hook after its `timeout` setting (600 s by default) and then lets
# the tool call through, so the hook gives up a little earlier and answers itself.
DEFAULT_TIMEOUT_S = 570.0
EXIT_BLOCK = 2  # Claude Code: exit 2 blocks the tool call and shows stderr to Claude
TITLE_LIMIT = 72
RATIONALE_DIFF_LINES = 60

OnTimeout = Literal["ask", "deny"]


class HookInputError(OmniError):
    """The PreToolUse JSON on stdin is not what Claude Code sends."""


@dataclass(frozen=True)
class HookResult:
    """What the hook process prints and how it exits."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class ToolCall:
    """The parts of a PreToolUse payload the hook uses."""

    tool_name: str
    tool_input: Mapping[str, Any]
    cwd: Path
    session_id: str | None


def parse_payload(text: str, *, default_cwd: Path) -> ToolCall:
    """The PreToolUse payload from stdin, checked (HookInputError names what is wrong)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise HookInputError(f"stdin is not JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(data, dict):
        raise HookInputError(f"stdin must be a JSON object, not {type(data).__name__}")
    event = data.get("hook_event_name", "PreToolUse")
    if event != "PreToolUse":
        raise HookInputError(f"this hook handles PreToolUse events, not {event!r}")
    tool_name = data.get("tool_name")
    if not isinstance(tool_name, str) or not tool_name:
        raise HookInputError("field 'tool_name' must be a non-empty string")
    tool_input = data.get("tool_input", {})
    if not isinstance(tool_input, dict):
        raise HookInputError(f"field 'tool_input' must be an object, not {type(tool_input).__name__}")
    cwd = data.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise HookInputError("field 'cwd' must be a string")
    session = data.get("session_id")
    return ToolCall(
        tool_name=tool_name,
        tool_input=tool_input,
        cwd=Path(cwd) if cwd else default_cwd,
        session_id=session if isinstance(session, str) else None,
    )


def _decision_output(decision: Literal["allow", "deny", "ask"], reason: str) -> str:
    return json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": reason,
            }
        }
    )


def deny(reason: str) -> HookResult:
    return HookResult(0, _decision_output("deny", reason))


def ask(reason: str) -> HookResult:
    return HookResult(0, _decision_output("ask", reason))


PASS = HookResult(0)


class Stopped(Exception):
    """A termination signal arrived while the hook waited."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.proposal_id: str | None = None
        self.withdrawn = False


def _stop(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def _withdraw(store: ProposalStore, proposal_id: str, reason: str) -> bool:
    try:
        store.withdraw(proposal_id, who=AGENT, reason=reason)
    except OmniError:
        return False  # decided (or being applied) meanwhile: leave it to the cockpit
    return True


class Denied(Exception):
    """The call targets a guarded file but cannot become a proposal; `str()` is the reason for Claude."""


def _guarded_target(call: ToolCall, explicit_root: str | None, env: Mapping[str, str]) -> tuple[Workspace, str] | None:
    """The workspace and guarded relative path the call writes to, or None when it is none of ours."""
    from omni_tui.core.safefs import normalise_rel
    from omni_tui.core.workspace import Workspace, find_root

    target = Path(os.path.normpath(call.cwd / os.path.expanduser(file_path_of(call.tool_input))))
    try:
        find_root(explicit_root, env=env, cwd=call.cwd)
    except WorkspaceError:
        return None  # not inside a devenv project: nothing to guard
    ws = Workspace.open(explicit_root, env=env, cwd=call.cwd)  # a broken project blocks (exit 2)
    try:
        return ws, ws.relative(target)
    except PathError as err:
        try:
            lexical = normalise_rel(target.relative_to(ws.root).as_posix())
        except ValueError:
            return None  # outside the project
        if lexical in ws.guarded():  # e.g. devenv.nix replaced by a symlink: never let it through
            raise Denied(f"omni-tui: {call.tool_name} of a guarded file refused: {err}") from None
        return None  # not a guarded file


def _title(tool: str, rel: str, old: str | None, new: str) -> str:
    if old is None:
        summary = "create the file"
    else:
        old_lines = set(old.splitlines())
        added = [ln.strip() for ln in new.splitlines() if ln.strip() and ln not in old_lines]
        removed = [ln.strip() for ln in old.splitlines() if ln.strip() and ln not in set(new.splitlines())]
        summary = (f"+ {added[0]}" if added else f"- {removed[0]}") if (added or removed) else "whitespace only"
    title = f"{tool} {rel}: {summary}"
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


def _rationale(call: ToolCall, rel: str, old: str | None, new: str) -> str:
    from omni_tui.core.textdiff import unified_patch

    what = {
        "Edit": "an Edit" + (" (replace_all)" if call.tool_input.get("replace_all") else ""),
        "MultiEdit": f"a MultiEdit of {len(call.tool_input.get('edits') or [])} edits",
        "Write": "a Write of the whole file",
    }[call.tool_name]
    session = f" in session {call.session_id}" if call.session_id else ""
    patch = unified_patch(old or "", new, rel).splitlines()
    if len(patch) > RATIONALE_DIFF_LINES:
        patch = patch[:RATIONALE_DIFF_LINES] + [f"… ({len(patch) - RATIONALE_DIFF_LINES} more diff lines)"]
    return f"Claude Code asked to run {what} on {rel}{session}.\n\n" + "\n".join(patch)


def run(
    stdin_text: str,
    *,
    explicit_root: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_timeout: OnTimeout = "ask",
    env: Mapping[str, str] | None = None,
    default_cwd: Path | None = None,
) -> HookResult:
    """Handle one PreToolUse payload: pass through, or propose, wait and answer."""
    env = os.environ if env is None else env
    try:
        call = parse_payload(stdin_text, default_cwd=default_cwd or Path.cwd())
        if call.tool_name not in EDIT_TOOLS:
            return PASS
        found = _guarded_target(call, explicit_root, env)
        if found is None:
            return PASS
        # Checked only for guarded files: a change in Claude Code's payload shape must not
        # block edits of every other file.
        check_payload(call.tool_name, call.tool_input)
    except Denied as err:
        return deny(str(err))
    except OmniError as err:
        return HookResult(EXIT_BLOCK, stderr=f"omni-tui hook: {err}\n")
    ws, rel = found
    try:
        return _propose_and_wait(ws, rel, call, timeout_s, on_timeout)
    except ProposalError as err:
        return deny(f"omni-tui: the proposal for {rel} was refused: {err}")
    except PatchError as err:
        return deny(f"omni-tui: this {call.tool_name} does not apply to {rel}, nothing was proposed: {err}")
    except OmniError as err:
        return deny(f"omni-tui: could not route this {call.tool_name} of {rel} through the cockpit: {err}")
    except OSError as err:
        where = err.filename or "the state directory"
        return deny(f"omni-tui: could not route this {call.tool_name} of {rel} through the cockpit: {where}: {err.strerror or err}")


def _propose_and_wait(
    ws: Workspace,
    rel: str,
    call: ToolCall,
    timeout_s: float,
    on_timeout: OnTimeout,
) -> HookResult:
    from omni_tui.agents.outcome import explain, pending_message
    from omni_tui.core.audit import utc_now
    from omni_tui.core.proposals import FileChange, Proposal, ProposalStore, new_id
    from omni_tui.core.safefs import sha256_bytes

    current = ws.read_current(rel)
    try:
        old = None if current is None else current.decode("utf-8")
    except UnicodeDecodeError:
        return deny(f"omni-tui: {rel} is not valid UTF-8; edit it by hand, not through the agent")
    new = apply_tool(call.tool_name, call.tool_input, old, rel)
    if old is not None and new == old:
        return deny(f"omni-tui: this {call.tool_name} leaves {rel} exactly as it is; nothing to propose")
    base = sha256_bytes(current)
    proposal = Proposal(
        id=new_id(),
        agent=AGENT,
        title=_title(call.tool_name, rel, old, new),
        rationale=_rationale(call, rel, old, new),
        created_at=utc_now(),
        changes=(FileChange(path=rel, base_sha256=base, new_content=new),),
    )
    store = ProposalStore(ws)
    proposal = store.submit(proposal)
    try:
        decision = store.wait(proposal.id, timeout_s)
    except Stopped as stop:
        # Claude Code stops the hook when the person interrupts the agent or the hook's own
        # `timeout` expires; an orphaned proposal must not be approved later by surprise.
        stop.withdrawn = _withdraw(store, proposal.id, f"the Claude Code hook was stopped by {stop.name} before a decision")
        stop.proposal_id = proposal.id
        raise
    if decision is None:
        message = pending_message(proposal.id, rel, timeout_s)
        if on_timeout == "deny":
            return deny(message)
        return ask(
            message + " Allowing this tool call here writes the file directly: the cockpit will then show it "
            "as an unapproved edit, and the pending proposal goes stale."
        )
    return deny(explain(decision, rel))


def main(
    *,
    explicit_root: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_timeout: OnTimeout = "ask",
) -> int:
    """Entry point for the CLI: stdin → stdout/stderr, returns the exit code."""
    from omni_tui.core.terminal import inert

    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _stop)
    try:
        result = run(sys.stdin.read(), explicit_root=explicit_root, timeout_s=timeout_s, on_timeout=on_timeout)
    except Stopped as stop:
        what = f"; proposal {stop.proposal_id} withdrawn" if stop.withdrawn else ""
        sys.stderr.write(inert(f"omni-tui hook: stopped by {stop.name}{what}") + "\n")
        return 128 + stop.signum
    if result.stdout:
        sys.stdout.write(result.stdout + "\n")
        sys.stdout.flush()
    if result.stderr:  # Claude Code shows it to the agent and in the person's terminal: agent text made inert
        sys.stderr.write(inert(result.stderr, multiline=True))
    return result.exit_code


