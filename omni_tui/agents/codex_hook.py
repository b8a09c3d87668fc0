"""`omni-tui hook codex`: a Codex CLI PreToolUse hook — `apply_patch` of a guarded file becomes a proposal.

Codex runs the hook (configured in `.codex/hooks.json`, trusted once) before `apply_patch` and
shell (`Bash`) tool calls, with the call as JSON on stdin (`tool_input.command` holds the patch
text or the shell command). Codex honours only one answer: deny. `ask`, `allow` without
`updatedInput`, any exit code but 0 and 2, a crash and a timeout all let the tool run. So:

- a patch that touches no guarded file, and a harmless command: exit 0, no output (Codex runs it);
- a patch whose files are all guarded files of one project: one proposal; wait; then always
  deny — after approval with "the cockpit already applied it" (the model must not apply it again);
- a patch that deletes or moves a guarded file, mixes guarded and other files, or cannot be
  applied: deny with what to do instead, nothing proposed;
- a shell command that would write a guarded file (including `apply_patch <<'EOF'` run in a
  shell): deny, or the patch route above;
- malformed input or any internal error: exit 2 with one line on stderr (Codex blocks on exit 2).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from omni_tui.agents import CODEX_TIMEOUT_S
from omni_tui.agents.claude_code_hook import HookResult, guarded_main, inert_reason
from omni_tui.agents.codex_patch import apply_chunks, extract_patch, parse_patch
from omni_tui.agents.gatekeep import (
    Change,
    Context,
    HookInputError,
    Refused,
    Target,
    ToolCall,
    decode_current,
    locate,
    parse_payload,
    propose_and_wait,
    rationale_text,
    shell_refusal,
    summary_title,
)
from omni_tui.core.errors import OmniError, PatchError

AGENT = "codex"
# Codex's default hook timeout is 600 s: answer a little before it kills the hook (which lets the edit run).
DEFAULT_TIMEOUT_S = CODEX_TIMEOUT_S
EXIT_BLOCK = 2
PATCH_TOOLS = ("apply_patch", "Edit", "Write")
SHELL_HINT = (
    "To change {rel}, send an apply_patch that changes only {rel} (it goes to a person in the omni-tui cockpit), "
    "or run `omni-tui propose {rel} --new-content FILE --wait`."
)


def deny(reason: str) -> HookResult:
    return HookResult(
        0,
        json.dumps(
            {
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": inert_reason(reason),
                }
            }
        ),
    )


def block(message: str) -> HookResult:
    from omni_tui.core.terminal import inert

    return HookResult(EXIT_BLOCK, stderr=f"omni-tui hook: {inert(message)}\n")


PASS = HookResult(0)


def _command_text(tool_input: Mapping[str, object]) -> str:
    command = tool_input.get("command")
    if isinstance(command, list) and all(isinstance(part, str) for part in command):
        return shlex.join(command)
    if not isinstance(command, str):
        raise HookInputError("tool_input: field 'command' must be a string")
    return command


def run(
    stdin_text: str,
    *,
    explicit_root: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
    default_cwd: Path | None = None,
) -> HookResult:
    env = os.environ if env is None else env
    try:
        call = parse_payload(stdin_text, default_cwd=default_cwd or Path.cwd())
        if call.tool_name not in PATCH_TOOLS and call.tool_name not in ("Bash", "shell", "exec_command", "local_shell"):
            return PASS
        text = _command_text(call.tool_input)
    except OmniError as err:
        return block(str(err))
    ctx = Context(cwd=call.cwd, env=env, explicit_root=explicit_root, tool="apply_patch")
    patch = text if call.tool_name in PATCH_TOOLS else extract_patch(text)
    try:
        if patch is not None:
            return _patch(call, patch, ctx, timeout_s)
        ctx.tool = call.tool_name
        reason = shell_refusal(text, ctx, SHELL_HINT)
    except Refused as refusal:
        return deny(str(refusal))
    return deny(reason) if reason else PASS


def _patch(call: ToolCall, text: str, ctx: Context, timeout_s: float) -> HookResult:
    try:
        ops = parse_patch(text)
    except PatchError as err:
        named = [name for name in ctx.guarded_names() if name.rsplit("/", 1)[-1] in text]
        if not named:
            return PASS  # Codex refuses the malformed patch itself; no guarded file is named in it
        return deny(f"omni-tui: this patch names {named[0]}, a guarded file, but cannot be read ({err}); nothing was proposed")
    guarded: list[tuple[str, Target]] = []
    others: list[str] = []
    for op in ops:
        for raw, role in ((op.path, op.kind), (op.move_to, "move")):
            if raw is None:
                continue
            target = locate(raw, ctx)
            if target is None:
                others.append(raw)
                continue
            if role == "delete" or (role == "update" and op.move_to is not None):
                raise Refused(
                    f"omni-tui: this patch {'deletes' if role == 'delete' else 'moves away'} {target.rel}, a file guarded "
                    f"by omni-tui in {target.ws.root}; that cannot be proposed, ask the person to do it in the cockpit"
                )
            guarded.append((raw, target))
    if not guarded:
        return PASS
    roots = {t.ws.root for _, t in guarded}
    if len(roots) > 1:
        raise Refused(
            "omni-tui: this patch changes guarded files of several projects "
            f"({', '.join(str(r) for r in sorted(roots))}); send one patch per project"
        )
    rels = sorted({t.rel for _, t in guarded})
    if others:
        raise Refused(
            f"omni-tui: this patch changes {', '.join(rels)} (guarded by omni-tui: a person decides) together with "
            f"{', '.join(others[:5])}; send the change of {', '.join(rels)} as a patch of its own, and the rest separately"
        )
    ws = guarded[0][1].ws
    changes: list[Change] = []
    diffs: list[tuple[str, str | None, str]] = []
    for op in ops:
        target = locate(op.move_to or op.path, ctx)
        assert target is not None
        current, old = decode_current(ws, target.rel)
        if op.kind == "add":
            new = op.contents
        else:
            if old is None:
                raise Refused(f"omni-tui: this patch updates {target.rel}, which does not exist; use '*** Add File:'")
            try:
                new = apply_chunks(old, op.chunks, target.rel)
            except PatchError as err:
                raise Refused(f"omni-tui: this patch does not apply to {target.rel}, nothing was proposed: {err}") from None
        if any(c.rel == target.rel for c in changes):
            raise Refused(f"omni-tui: this patch changes {target.rel} twice; send one section per file")
        if old is not None and new == old:
            continue
        changes.append(Change(target.rel, current, new))
        diffs.append((target.rel, old, new))
    if not changes:
        return deny(f"omni-tui: this patch leaves {', '.join(rels)} exactly as it is; nothing to propose")
    first = diffs[0]
    title = summary_title("apply_patch", first[0], first[1], first[2])
    if len(changes) > 1:
        title = summary_title("apply_patch", f"{first[0]} (+{len(changes) - 1} more)", first[1], first[2])
    session = f" in session {call.session_id}" if call.session_id else ""
    try:
        answer = propose_and_wait(
            ws,
            changes,
            agent=AGENT,
            title=title,
            timeout_s=timeout_s,
            rationale=rationale_text(f"Codex asked to apply a patch to {', '.join(rels)}{session}.", diffs),
        )
    except OmniError as err:
        return deny(f"omni-tui: could not route this patch of {', '.join(rels)} through the cockpit: {err}")
    except OSError as err:
        return deny(
            f"omni-tui: could not route this patch through the cockpit: {err.filename or 'the state directory'}: {err.strerror or err}"
        )
    return deny(answer.message)  # approved too: the cockpit already applied it; Codex must not apply it again


def _read_stdin() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HookInputError(f"stdin is not UTF-8 (byte {err.start})") from None


def main(*, explicit_root: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    return guarded_main(lambda: run(_read_stdin(), explicit_root=explicit_root, timeout_s=timeout_s))


MATCHER = "^(apply_patch|Bash)$"
HOOKS_TIMEOUT_S = 600
TRUST_NOTE = (
    'Codex skips an untrusted hook silently: trust the project (`codex exec --trust`, or trust_level = "trusted" '
    "in ~/.codex/config.toml) and accept the new hook when codex starts here (or run once with "
    "--dangerously-bypass-hook-trust); a changed command must be trusted again"
)


def install(root: Path, program: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[Path, bool]:
    """Write the hook into `<root>/.codex/hooks.json` (merged, idempotent); (the file, whether it changed)."""
    import math

    from omni_tui.agents.claude_code_hook import self_command
    from omni_tui.agents.settings_files import install_group

    extra = "" if timeout_s == DEFAULT_TIMEOUT_S else f" --timeout {timeout_s:g}"
    timeout = max(HOOKS_TIMEOUT_S, math.ceil(timeout_s) + 30)
    entry = {
        "matcher": MATCHER,
        "hooks": [{"type": "command", "command": f"{program or self_command()} hook codex{extra}", "timeout": timeout}],
    }
    target = root / ".codex" / "hooks.json"
    return target, install_group(target, "PreToolUse", entry, "hook codex")
