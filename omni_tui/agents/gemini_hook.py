"""`omni-tui hook gemini`: a Gemini CLI BeforeTool hook — `write_file` / `replace` of a guarded file becomes a proposal.

Gemini CLI runs the hook (`.gemini/settings.json`, trusted folders only) before matching tools,
with the call as JSON on stdin. Its answer format: `{"decision": "deny", "reason": "..."}` on
stdout with exit 0 (Claude Code's `hookSpecificOutput` is ignored by Gemini). A hook that runs
past its `timeout` (milliseconds) lets the tool run, so the hook answers before that.

- `write_file` {file_path, content}, `replace` {file_path, old_string, new_string,
  expected_replacements | allow_multiple}: a guarded file of any project → one proposal; wait;
  always deny (after approval: the cockpit already applied it). Other files: exit 0, no output.
- `run_shell_command` {command, dir_path}: refused when it would write a guarded file.
- Malformed input or any internal error: exit 2 with one line on stderr (Gemini blocks on it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_tui.agents import GEMINI_TIMEOUT_S
from omni_tui.agents.gatekeep import Context, Refused, ToolCall, locate
from omni_tui.agents.hook_answers import (
    PASS,
    HookResult,
    answer_call,
    answer_shell,
    answer_write,
    block,
    hook_main,
    inert_reason,
    route_failure,
)
from omni_tui.core.errors import OmniError, PatchError, ProposalError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from omni_tui.agents.hook_answers import CallSite

AGENT = "gemini-cli"
# Gemini CLI's default hook timeout is 60000 ms: answer before it. Raise both for a longer wait.
DEFAULT_TIMEOUT_S = GEMINI_TIMEOUT_S
WRITE_TOOLS = ("write_file", "replace")
SHELL_TOOLS = ("run_shell_command",)
SHELL_HINT = (
    "To change {rel}, use the replace or write_file tool on it (the change goes to a person in the omni-tui "
    "cockpit), or run `omni-tui propose {rel} --new-content FILE --wait`."
)


def deny(reason: str) -> HookResult:
    return HookResult(0, json.dumps({"decision": "deny", "reason": inert_reason(reason)}))


def _string(tool_input: Mapping[str, Any], name: str) -> str:
    value = tool_input.get(name)
    if not isinstance(value, str):
        raise ProposalError(f"tool_input: field {name!r} must be a string")
    return value


def replaced(content: str | None, tool_input: Mapping[str, Any], rel: str) -> str:
    """The file after Gemini CLI's `replace`: exactly `expected_replacements` (default 1) occurrences, all replaced."""
    old, new = _string(tool_input, "old_string"), _string(tool_input, "new_string")
    if content is None:
        if old == "":
            return new  # replace with an empty old_string creates the file
        raise PatchError(f"{rel}: the file does not exist (an empty old_string creates it)")
    if old == "":
        raise PatchError(f"{rel}: the file already exists; an empty old_string only creates a new file")
    if old == new:
        raise PatchError(f"{rel}: old_string and new_string are the same")
    found = content.count(old)
    if found == 0:
        raise PatchError(f"{rel}: 0 occurrences of old_string found")
    expected = tool_input.get("expected_replacements")
    if tool_input.get("allow_multiple") is True:
        expected = found
    if expected is None:
        expected = 1
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 1:
        raise ProposalError("tool_input: field 'expected_replacements' must be a positive integer")
    if found != expected:
        raise PatchError(f"{rel}: expected {expected} occurrence{'s' if expected != 1 else ''} of old_string but found {found}")
    return content.replace(old, new)


def run(stdin_text: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, **site: Unpack[CallSite]) -> HookResult:
    """Handle one BeforeTool payload: pass through, deny, or propose, wait and deny."""
    return answer_call(stdin_text, lambda call, ctx: _route(call, ctx, timeout_s), events=("BeforeTool",), **site)


def _route(call: ToolCall, ctx: Context, timeout_s: float) -> HookResult:
    if call.tool_name in SHELL_TOOLS:
        dir_path = call.tool_input.get("dir_path") or call.tool_input.get("directory")
        if isinstance(dir_path, str) and dir_path:
            ctx.cwd = Path(os.path.normpath(call.cwd / dir_path))
        return answer_shell(call.tool_input.get("command"), ctx, SHELL_HINT, deny)
    if call.tool_name not in WRITE_TOOLS:
        return PASS
    path = call.tool_input.get("file_path", call.tool_input.get("absolute_path"))
    if not isinstance(path, str) or not path.strip():
        return block("tool_input: field 'file_path' must be a non-empty string")
    try:
        target = locate(path, ctx)
    except Refused as refusal:
        return deny(str(refusal))
    except (OmniError, OSError) as err:
        return _failed(call, err)
    if target is None:
        return PASS
    rel = target.rel
    return answer_write(
        target,
        lambda old: _string(call.tool_input, "content") if call.tool_name == "write_file" else replaced(old, call.tool_input, rel),
        call,
        agent=AGENT,
        action=f"run {call.tool_name} on {rel}",
        timeout_s=timeout_s,
        deny=deny,
        failed=lambda err: _failed(call, err),
    )


def _failed(call: ToolCall, err: OmniError | OSError) -> HookResult:
    """A write of a guarded file that could not become a proposal, in Gemini's words (its PatchErrors name the file)."""
    if isinstance(err, PatchError):
        return deny(f"omni-tui: this {call.tool_name} does not apply, nothing was proposed: {err}")
    if isinstance(err, ProposalError):
        return block(str(err))  # a malformed tool_input: found while computing the change (`_string`, `replaced`)
    return deny(route_failure(f"this {call.tool_name}", err))


def main(*, explicit_root: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    return hook_main(run, explicit_root=explicit_root, timeout_s=timeout_s)


MATCHER = "write_file|replace|run_shell_command"
INSTALL_TIMEOUT_S = 570.0  # what --install puts in the command: Gemini's timeout (ms) is set 30 s above it
TRUST_NOTE = (
    "Gemini CLI runs project hooks only in a trusted folder: trust it when gemini asks, add it to "
    "~/.gemini/trustedFolders.json as TRUST_FOLDER, or set GEMINI_CLI_TRUST_WORKSPACE=true"
)


def install(root: Path, program: str | None = None, *, timeout_s: float | None = None) -> tuple[Path, bool]:
    """Write the hook into `<root>/.gemini/settings.json` (merged, idempotent); (the file, whether it changed).

    The hook waits `timeout_s` (default 570 s) and Gemini's `timeout` — milliseconds — is 30 s more.
    """
    import math

    from omni_tui.agents.claude_code_hook import self_command
    from omni_tui.agents.settings_files import install_group

    wait = INSTALL_TIMEOUT_S if timeout_s is None or timeout_s == DEFAULT_TIMEOUT_S else timeout_s
    command = f"{program or self_command()} hook gemini --timeout {wait:g}"
    entry = {
        "matcher": MATCHER,
        "hooks": [{"name": "omni-tui", "type": "command", "command": command, "timeout": (math.ceil(wait) + 30) * 1000}],
    }
    target = root / ".gemini" / "settings.json"
    return target, install_group(target, "BeforeTool", entry, "hook gemini", top={"hooksConfig": {"enabled": True}})
