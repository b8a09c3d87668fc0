"""How a pre-tool hook answers, and the steps the Claude Code, Codex and Gemini CLI hooks share.

`gatekeep` decides what a write means; this module turns its decisions into the hook process's
answer: pass (exit 0, no output), deny (exit 0 and the client's JSON — each adapter passes its own
`deny`), or block (exit 2 and one line on stderr). Never exit 1: `guarded_main` turns every failure
into a block. The steps written once here:

- `answer_call`: the payload → the tool call and where it runs, or block when it is malformed;
- `answer_shell`: a shell command → pass, or deny saying why it would write a guarded file;
- `answer_write`: one guarded file's write → decode, compute, refuse a no-op, propose, wait, answer
  (the adapter words what failed: the clients' messages differ on purpose, see docs/agents.md);
- `route_failure`: the one wording of a proposal that could not be made;
- `read_stdin`, `guarded_main`, `hook_main`: the process around them.

Imports stay light: the hooks run before every matching tool call.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple, TypedDict

from omni_tui.agents.gatekeep import (
    Answer,
    Context,
    FileEdit,
    HookInputError,
    Refused,
    Stopped,
    Target,
    ToolCall,
    decode_current,
    install_stop_handlers,
    parse_payload,
    propose_edits,
    shell_refusal,
)
from omni_tui.core.errors import OmniError

if TYPE_CHECKING:
    from typing_extensions import Unpack

EXIT_BLOCK = 2  # Claude Code, Codex and Gemini CLI: exit 2 blocks the tool call and shows stderr to the agent


class HookResult(NamedTuple):
    """What the hook process prints and how it exits."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""


PASS = HookResult(0)


def inert_reason(reason: str) -> str:
    """A reason may quote agent bytes (a path, a patch line); the agent's UI shows it to the person: make it inert."""
    from omni_tui.core.terminal import inert

    return inert(reason, multiline=True)


def block(message: str) -> HookResult:
    from omni_tui.core.terminal import inert

    return HookResult(EXIT_BLOCK, stderr=f"omni-tui hook: {inert(message)}\n")


def pretool_answer(decision: Literal["deny", "ask"], reason: str) -> HookResult:
    """Claude Code's PreToolUse answer; Codex reads the same JSON (and honours only its deny)."""
    output = {"hookEventName": "PreToolUse", "permissionDecision": decision, "permissionDecisionReason": inert_reason(reason)}
    return HookResult(0, json.dumps({"hookSpecificOutput": output}))


class CallSite(TypedDict, total=False):
    """Where a hook runs, as every adapter's `run()` takes it (the CLI passes -C; tests pass env and cwd)."""

    explicit_root: str | None  # -C
    env: Mapping[str, str] | None  # default: os.environ
    default_cwd: Path | None  # the agent's cwd when the payload has none; default: this process's


def answer_call(
    stdin_text: str, route: Callable[[ToolCall, Context], HookResult], *, events: Sequence[str] = ("PreToolUse",), **site: Unpack[CallSite]
) -> HookResult:
    """Read the payload (malformed: block, naming what is wrong) and answer what `route` answers for the call."""
    try:
        call = parse_payload(stdin_text, default_cwd=site.get("default_cwd") or Path.cwd(), events=events)
    except OmniError as err:
        return block(str(err))
    env = site.get("env")
    ctx = Context(cwd=call.cwd, env=os.environ if env is None else env, explicit_root=site.get("explicit_root"), tool=call.tool_name)
    return route(call, ctx)


def route_failure(subject: str, err: OmniError | OSError) -> str:
    """`omni-tui: could not route <subject> through the cockpit: <why>`; an OSError names its file (else the state directory)."""
    why = f"{err.filename or 'the state directory'}: {err.strerror or err}" if isinstance(err, OSError) else str(err)
    return f"omni-tui: could not route {subject} through the cockpit: {why}"


def answer_shell(command: object, ctx: Context, hint: str, deny: Callable[[str], HookResult]) -> HookResult:
    """A shell tool call: block when `command` is not a string, deny when it would write a guarded file, else pass.

    `hint` says how to propose instead (`{rel}` is filled in; see `gatekeep.shell_refusal`).
    """
    if not isinstance(command, str):
        return block("tool_input: field 'command' must be a string")
    try:
        reason = shell_refusal(command, ctx, hint)
    except Refused as refusal:
        return deny(str(refusal))
    return deny(reason) if reason else PASS


def answer_write(
    target: Target,
    new_content: Callable[[str | None], str],
    call: ToolCall,
    *,
    agent: str,
    action: str,
    timeout_s: float,
    deny: Callable[[str], HookResult],
    failed: Callable[[OmniError | OSError], HookResult],
    answered: Callable[[Answer], HookResult] | None = None,
) -> HookResult:
    """One write of the guarded file `target` → one proposal, answered in the client's words.

    Decodes the current file, computes what the agent's tool would write (`new_content(current text or
    None)`), denies a write that changes nothing, proposes it (`action` completes "<agent> asked to …")
    and waits. A `Refused` is denied with its own reason; every other failure (the change does not apply,
    the store refuses the proposal, the state directory cannot be written) is worded by `failed`; the
    outcome by `answered` (default: deny with what happened — the cockpit did any writing).
    """
    rel = target.rel
    try:
        current, old = decode_current(target.ws, rel)
        new = new_content(old)
        if old is not None and new == old:
            return deny(f"omni-tui: this {call.tool_name} leaves {rel} exactly as it is; nothing to propose")
        answer = propose_edits(
            target.ws, [FileEdit(rel, current, old, new)], call, agent=agent, tool=call.tool_name, action=action, timeout_s=timeout_s
        )
    except Refused as refusal:
        return deny(str(refusal))
    except (OmniError, OSError) as err:
        return failed(err)
    return deny(answer.message) if answered is None else answered(answer)


def read_stdin() -> str:
    """The payload on stdin as text; HookInputError (→ block) when it is not UTF-8."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HookInputError(f"stdin is not UTF-8 (byte {err.start})") from None


def hook_main(run: Callable[..., HookResult], **options: object) -> int:
    """A hook's CLI entry: `run(stdin text, **options)` under `guarded_main`; the exit code."""
    return guarded_main(lambda: run(read_stdin(), **options))


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
