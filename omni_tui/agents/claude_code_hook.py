"""`omni-tui hook claude-code`: a Claude Code PreToolUse hook that routes writes of guarded files through the gate.

Claude Code runs the hook before every matching tool call, with the call as JSON on stdin.
An Edit / MultiEdit / Write that lands on a guarded file of any project (found from the file's
own path, cwd, `$CLAUDE_PROJECT_DIR` and `-C`; symlinks resolved — `gatekeep.locate`) becomes a
proposal; the hook waits for the person's decision and answers with Claude Code's hook output:

    {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                            "permissionDecision": "deny" | "ask",
                            "permissionDecisionReason": "..."}}

The tool call itself never runs: when the person approved, the cockpit already wrote the
file and rebuilt, so the answer is "deny" with a reason saying so. A `Bash` command that would
write a guarded file is denied with how to propose instead (`gatekeep.shell_refusal`). Anything
else passes through: exit 0, no output.

Fail closed: malformed input, a write the hook cannot resolve, and any internal error are
refusals (exit 2 with one line on stderr, or a deny) — never exit 1, which Claude Code treats
as "go ahead". No decision in time: deny naming the proposal id (`--on-timeout ask` opts into
Claude Code's own prompt). `--install` writes the hook into `.claude/settings.local.json`.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from omni_tui.agents import CLAUDE_CODE_TIMEOUT_S
from omni_tui.agents.gatekeep import Answer, Context, HookInputError, Refused, Stopped, ToolCall, locate, parse_payload
from omni_tui.agents.hook_answers import (
    PASS,
    HookResult,
    answer_call,
    answer_shell,
    answer_write,
    block,
    guarded_main,
    hook_main,
    pretool_answer,
    route_failure,
)
from omni_tui.core.errors import OmniError, PatchError, ProposalError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from omni_tui.agents.hook_answers import CallSite

# The workspace, proposal and diff modules are imported where they are needed: Claude Code runs
# this hook before every matching tool call, and a pass-through must cost little more than Python.

__all__ = ["HookInputError", "HookResult", "Stopped", "ToolCall", "guarded_main", "main", "parse_payload", "run", "install"]

AGENT = "claude-code"
# Claude Code kills a command hook after its `timeout` setting (600 s by default) and then lets
# the tool call through, so the hook gives up a little earlier and answers itself.
DEFAULT_TIMEOUT_S = CLAUDE_CODE_TIMEOUT_S
EDIT_TOOLS = ("Edit", "MultiEdit", "Write")  # edits.EDIT_TOOLS, without importing edits for every Bash call
SETTINGS_TIMEOUT_S = 600
MATCHER = "Edit|MultiEdit|Write|Bash"
SHELL_HINT = (
    "To change {rel}, use the Edit or Write tool on it (the change goes to a person in the omni-tui cockpit), "
    "or run `omni-tui propose {rel} --new-content FILE --wait`."
)

OnTimeout = Literal["ask", "deny"]


def deny(reason: str) -> HookResult:
    return pretool_answer("deny", reason)


def ask(reason: str) -> HookResult:
    return pretool_answer("ask", reason)


def _what(call: ToolCall) -> str:
    return {
        "Edit": "an Edit" + (" (replace_all)" if call.tool_input.get("replace_all") else ""),
        "MultiEdit": f"a MultiEdit of {len(call.tool_input.get('edits') or [])} edits",
        "Write": "a Write of the whole file",
    }[call.tool_name]


def run(stdin_text: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, on_timeout: OnTimeout = "deny", **site: Unpack[CallSite]) -> HookResult:
    """Handle one PreToolUse payload: pass through, refuse, or propose, wait and answer."""
    return answer_call(stdin_text, lambda call, ctx: _route(call, ctx, timeout_s, on_timeout), **site)


def _route(call: ToolCall, ctx: Context, timeout_s: float, on_timeout: OnTimeout) -> HookResult:
    if call.tool_name == "Bash":
        return answer_shell(call.tool_input.get("command"), ctx, SHELL_HINT, deny)
    if call.tool_name not in EDIT_TOOLS:
        return PASS
    from omni_tui.agents.edits import apply_tool, check_payload, file_path_of

    try:
        target = locate(file_path_of(call.tool_input), ctx)
        if target is None:
            return PASS
        # Checked only for guarded files: a change in Claude Code's payload shape must not
        # block edits of every other file.
        check_payload(call.tool_name, call.tool_input)
    except Refused as refusal:
        return deny(str(refusal))
    except OmniError as err:
        return block(str(err))
    rel = target.rel

    def failed(err: OmniError | OSError) -> HookResult:
        if isinstance(err, ProposalError):
            return deny(f"omni-tui: the proposal for {rel} was refused: {err}")
        if isinstance(err, PatchError):
            return deny(f"omni-tui: this {call.tool_name} does not apply to {rel}, nothing was proposed: {err}")
        return deny(route_failure(f"this {call.tool_name} of {rel}", err))

    def answered(answer: Answer) -> HookResult:
        if answer.kind == "pending" and on_timeout == "ask":
            return ask(
                answer.message + " Allowing this tool call here writes the file directly: the cockpit will then show it "
                "as an unapproved edit, and the pending proposal goes stale."
            )
        return deny(answer.message)

    return answer_write(
        target,
        lambda old: apply_tool(call.tool_name, call.tool_input, old, rel),
        call,
        agent=AGENT,
        action=f"run {_what(call)} on {rel}",
        timeout_s=timeout_s,
        deny=deny,
        failed=failed,
        answered=answered,
    )


def main(
    *,
    explicit_root: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_timeout: OnTimeout = "deny",
) -> int:
    """Entry point for the CLI: stdin → stdout/stderr, returns the exit code. Never 1: every failure blocks."""
    return hook_main(run, explicit_root=explicit_root, timeout_s=timeout_s, on_timeout=on_timeout)


# -- --install -------------------------------------------------------------------------------------


def self_command() -> str:
    """How Claude Code should start this omni-tui: the installed script's absolute path, else `python -m omni_tui`."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "omni-tui" and os.path.isfile(argv0):
        return shlex.quote(os.path.abspath(argv0))
    return f"{shlex.quote(sys.executable)} -m omni_tui"


def hook_entry(command: str, timeout: int = SETTINGS_TIMEOUT_S) -> dict[str, Any]:
    return {
        "matcher": MATCHER,
        "hooks": [{"type": "command", "command": command, "timeout": timeout, "onFailure": "block"}],
    }


def merged_settings(existing: dict[str, Any], command: str, timeout: int = SETTINGS_TIMEOUT_S) -> dict[str, Any]:
    """`existing` settings with exactly one omni-tui PreToolUse hook (ours replaced in place, everything else kept)."""
    from omni_tui.agents.settings_files import merged

    return merged(existing, "PreToolUse", hook_entry(command, timeout), "hook claude-code")


def install(
    root: Path, program: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S, on_timeout: OnTimeout = "deny"
) -> tuple[Path, bool]:
    """Write the hook into `<root>/.claude/settings.local.json`; (the file, whether it changed). OmniError names problems.

    `program` is how to start omni-tui (default `self_command()`); the hook runs `<program> hook claude-code`, with
    `--timeout` / `--on-timeout` when they differ from the defaults, and Claude Code's `timeout` is kept 30 s above
    the hook's own so the hook always answers first.
    """
    from omni_tui.agents.settings_files import install_group

    target = root / ".claude" / "settings.local.json"
    extra = "" if timeout_s == DEFAULT_TIMEOUT_S else f" --timeout {timeout_s:g}"
    extra += " --on-timeout ask" if on_timeout == "ask" else ""
    timeout = max(SETTINGS_TIMEOUT_S, math.ceil(timeout_s) + 30)
    entry = hook_entry(f"{program or self_command()} hook claude-code{extra}", timeout)
    return target, install_group(target, "PreToolUse", entry, "hook claude-code")


def other_installs(root: Path) -> list[Path]:
    """Shared settings files of `root` that already run this hook (Claude Code would then run it twice)."""
    found = []
    for name in ("settings.json",):
        path = root / ".claude" / name
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "hook claude-code" in text:
            found.append(path)
    return found
