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

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from omni_tui.agents import CODEX_TIMEOUT_S
from omni_tui.agents.codex_patch import apply_chunks, extract_patch, parse_patch
from omni_tui.agents.gatekeep import (
    Context,
    FileEdit,
    HookInputError,
    Refused,
    Target,
    ToolCall,
    decode_current,
    locate,
    propose_edits,
)
from omni_tui.agents.hook_answers import PASS, HookResult, answer_call, answer_shell, block, hook_main, pretool_answer, route_failure
from omni_tui.core.errors import OmniError, PatchError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from omni_tui.agents.hook_answers import CallSite

AGENT = "codex"
# Codex's default hook timeout is 600 s: answer a little before it kills the hook (which lets the edit run).
DEFAULT_TIMEOUT_S = CODEX_TIMEOUT_S
PATCH_TOOLS = ("apply_patch", "Edit", "Write")
SHELL_HINT = (
    "To change {rel}, send an apply_patch that changes only {rel} (it goes to a person in the omni-tui cockpit), "
    "or run `omni-tui propose {rel} --new-content FILE --wait`."
)


def deny(reason: str) -> HookResult:
    return pretool_answer("deny", reason)  # Claude Code's answer: Codex reads it, and honours only its deny


def _command_text(tool_input: Mapping[str, object]) -> str:
    command = tool_input.get("command")
    if isinstance(command, list) and all(isinstance(part, str) for part in command):
        return shlex.join(command)
    if not isinstance(command, str):
        raise HookInputError("tool_input: field 'command' must be a string")
    return command


def run(stdin_text: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, **site: Unpack[CallSite]) -> HookResult:
    """Handle one PreToolUse payload: pass through, deny, or propose, wait and deny."""
    return answer_call(stdin_text, lambda call, ctx: _route(call, ctx, timeout_s), **site)


def _route(call: ToolCall, ctx: Context, timeout_s: float) -> HookResult:
    if call.tool_name not in PATCH_TOOLS and call.tool_name not in ("Bash", "shell", "exec_command", "local_shell"):
        return PASS
    try:
        text = _command_text(call.tool_input)
    except OmniError as err:
        return block(str(err))
    patch = text if call.tool_name in PATCH_TOOLS else extract_patch(text)
    if patch is None:
        return answer_shell(text, ctx, SHELL_HINT, deny)
    ctx.tool = "apply_patch"
    try:
        return _patch(call, patch, ctx, timeout_s)
    except Refused as refusal:
        return deny(str(refusal))


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
    edits: list[FileEdit] = []
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
        if any(e.rel == target.rel for e in edits):
            raise Refused(f"omni-tui: this patch changes {target.rel} twice; send one section per file")
        if old is not None and new == old:
            continue
        edits.append(FileEdit(target.rel, current, old, new))
    if not edits:
        return deny(f"omni-tui: this patch leaves {', '.join(rels)} exactly as it is; nothing to propose")
    try:
        answer = propose_edits(
            ws, edits, call, agent=AGENT, tool="apply_patch", action=f"apply a patch to {', '.join(rels)}", timeout_s=timeout_s
        )
    except OmniError as err:
        return deny(route_failure(f"this patch of {', '.join(rels)}", err))
    except OSError as err:
        return deny(route_failure("this patch", err))
    return deny(answer.message)  # approved too: the cockpit already applied it; Codex must not apply it again


def main(*, explicit_root: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    return hook_main(run, explicit_root=explicit_root, timeout_s=timeout_s)


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
