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

import json
import math
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

from omni_tui.agents import CLAUDE_CODE_TIMEOUT_S
from omni_tui.agents.gatekeep import (
    Change,
    Context,
    HookInputError,
    Refused,
    Stopped,
    ToolCall,
    decode_current,
    install_stop_handlers,
    locate,
    parse_payload,
    propose_and_wait,
    rationale_text,
    shell_refusal,
    summary_title,
)
from omni_tui.core.errors import OmniError, PatchError, ProposalError

# The workspace, proposal and diff modules are imported where they are needed: Claude Code runs
# this hook before every matching tool call, and a pass-through must cost little more than Python.

__all__ = ["HookInputError", "HookResult", "Stopped", "ToolCall", "main", "parse_payload", "run", "install"]

AGENT = "claude-code"
# Claude Code kills a command hook after its `timeout` setting (600 s by default) and then lets
# the tool call through, so the hook gives up a little earlier and answers itself.
DEFAULT_TIMEOUT_S = CLAUDE_CODE_TIMEOUT_S
EDIT_TOOLS = ("Edit", "MultiEdit", "Write")  # edits.EDIT_TOOLS, without importing edits for every Bash call
SETTINGS_TIMEOUT_S = 600
EXIT_BLOCK = 2  # Claude Code: exit 2 blocks the tool call and shows stderr to Claude
MATCHER = "Edit|MultiEdit|Write|Bash"
SHELL_HINT = (
    "To change {rel}, use the Edit or Write tool on it (the change goes to a person in the omni-tui cockpit), "
    "or run `omni-tui propose {rel} --new-content FILE --wait`."
)

OnTimeout = Literal["ask", "deny"]


class HookResult(NamedTuple):
    """What the hook process prints and how it exits."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""


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
    return HookResult(0, _decision_output("deny", inert_reason(reason)))


def ask(reason: str) -> HookResult:
    return HookResult(0, _decision_output("ask", inert_reason(reason)))


def inert_reason(reason: str) -> str:
    """A reason may quote agent bytes (a path, a patch line); the agent's UI shows it to the person: make it inert."""
    from omni_tui.core.terminal import inert

    return inert(reason, multiline=True)


def block(message: str) -> HookResult:
    from omni_tui.core.terminal import inert

    return HookResult(EXIT_BLOCK, stderr=f"omni-tui hook: {inert(message)}\n")


PASS = HookResult(0)


def _what(call: ToolCall) -> str:
    return {
        "Edit": "an Edit" + (" (replace_all)" if call.tool_input.get("replace_all") else ""),
        "MultiEdit": f"a MultiEdit of {len(call.tool_input.get('edits') or [])} edits",
        "Write": "a Write of the whole file",
    }[call.tool_name]


def run(
    stdin_text: str,
    *,
    explicit_root: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_timeout: OnTimeout = "deny",
    env: Mapping[str, str] | None = None,
    default_cwd: Path | None = None,
) -> HookResult:
    """Handle one PreToolUse payload: pass through, refuse, or propose, wait and answer."""
    env = os.environ if env is None else env
    try:
        call = parse_payload(stdin_text, default_cwd=default_cwd or Path.cwd())
    except OmniError as err:
        return block(str(err))
    ctx = Context(cwd=call.cwd, env=env, explicit_root=explicit_root, tool=call.tool_name)
    if call.tool_name == "Bash":
        command = call.tool_input.get("command")
        if not isinstance(command, str):
            return block("tool_input: field 'command' must be a string")
        try:
            reason = shell_refusal(command, ctx, SHELL_HINT)
        except Refused as refusal:
            return deny(str(refusal))
        return deny(reason) if reason else PASS
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
    try:
        current, old = decode_current(target.ws, rel)
        new = apply_tool(call.tool_name, call.tool_input, old, rel)
        if old is not None and new == old:
            return deny(f"omni-tui: this {call.tool_name} leaves {rel} exactly as it is; nothing to propose")
        session = f" in session {call.session_id}" if call.session_id else ""
        answer = propose_and_wait(
            target.ws,
            [Change(rel, current, new)],
            agent=AGENT,
            title=summary_title(call.tool_name, rel, old, new),
            rationale=rationale_text(f"Claude Code asked to run {_what(call)} on {rel}{session}.", [(rel, old, new)]),
            timeout_s=timeout_s,
        )
    except Refused as refusal:
        return deny(str(refusal))
    except ProposalError as err:
        return deny(f"omni-tui: the proposal for {rel} was refused: {err}")
    except PatchError as err:
        return deny(f"omni-tui: this {call.tool_name} does not apply to {rel}, nothing was proposed: {err}")
    except OmniError as err:
        return deny(f"omni-tui: could not route this {call.tool_name} of {rel} through the cockpit: {err}")
    except OSError as err:
        where = err.filename or "the state directory"
        return deny(f"omni-tui: could not route this {call.tool_name} of {rel} through the cockpit: {where}: {err.strerror or err}")
    if answer.kind == "pending" and on_timeout == "ask":
        return ask(
            answer.message + " Allowing this tool call here writes the file directly: the cockpit will then show it "
            "as an unapproved edit, and the pending proposal goes stale."
        )
    return deny(answer.message)


def _read_stdin() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HookInputError(f"stdin is not UTF-8 (byte {err.start})") from None


def main(
    *,
    explicit_root: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_timeout: OnTimeout = "deny",
) -> int:
    """Entry point for the CLI: stdin → stdout/stderr, returns the exit code. Never 1: every failure blocks."""
    return guarded_main(lambda: run(_read_stdin(), explicit_root=explicit_root, timeout_s=timeout_s, on_timeout=on_timeout))


def guarded_main(handle: Callable[[], HookResult], *, exit_block: int = EXIT_BLOCK) -> int:
    """Run `handle()` (→ HookResult) so that nothing it does can end in an exit code that lets a tool call through."""
    try:
        install_stop_handlers()
        result = handle()
    except Stopped as stop:
        what = f"; proposal {stop.proposal_id} withdrawn" if stop.withdrawn else ""
        sys.stderr.write(f"omni-tui hook: stopped by {stop.name}{what}\n")
        return 128 + stop.signum
    except HookInputError as err:
        from omni_tui.core.terminal import inert

        result = HookResult(exit_block, stderr=f"omni-tui hook: {inert(err)}\n")
    except BaseException as err:  # noqa: BLE001 - fail closed: any crash blocks the tool call
        if isinstance(err, SystemExit) and err.code in (0, None):
            raise
        from omni_tui.core.terminal import inert

        detail = " ".join(str(err).split())[:200]
        result = HookResult(
            exit_block, stderr=f"omni-tui hook: internal error ({type(err).__name__}: {inert(detail)}); the tool call is blocked\n"
        )
    try:
        if result.stdout:
            sys.stdout.write(result.stdout + "\n")
            sys.stdout.flush()
        if result.stderr:
            sys.stderr.write(result.stderr)
            sys.stderr.flush()
    except (OSError, ValueError):
        return exit_block
    return result.exit_code


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
