"""Agents' ways in besides `propose`: `hook claude-code|codex|gemini` (pre-tool hooks), `mcp` (an MCP
server on stdio) and `run` (an agent in a sandbox that cannot change what a person approves).

The hooks run before every matching tool call an agent makes: this module imports only the
agents' timeout constants; each hook's module is imported by the command that runs it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from omni_tui.agents import CLAUDE_CODE_TIMEOUT_S, CODEX_TIMEOUT_S, GEMINI_TIMEOUT_S
from omni_tui.cli.base import PROG, Arg, Command, arg, say, workspace
from omni_tui.core.errors import OmniError


def _install_root(args: argparse.Namespace) -> Path:
    """Where `--install` writes: -C names the folder the agent starts in (a monorepo root need not hold
    devenv.nix itself), else the project found from here."""
    from omni_tui.core.workspace import find_root

    given = getattr(args, "directory", None)
    root = Path(given).expanduser().resolve() if given else find_root(None, env=os.environ, cwd=Path.cwd())
    if not root.is_dir():
        raise OmniError(f"-C {given}: not a directory")
    return root


def cmd_hook_claude_code(args: argparse.Namespace) -> int:
    from omni_tui.agents import claude_code_hook

    if args.timeout < 0:
        raise OmniError("--timeout must be zero or more seconds")
    if args.install:
        root = _install_root(args)
        target, changed = claude_code_hook.install(root, timeout_s=args.timeout, on_timeout=args.on_timeout)
        say(f"omni-tui: {'installed the hook in' if changed else 'the hook is already in'} {target}")
        for other in claude_code_hook.other_installs(root):
            say(f"omni-tui: note: {other} runs `omni-tui hook claude-code` too; remove one, or each edit is proposed twice", err=True)
        return 0
    return claude_code_hook.main(explicit_root=getattr(args, "directory", None), timeout_s=args.timeout, on_timeout=args.on_timeout)


def cmd_hook_agent(args: argparse.Namespace) -> int:
    from importlib import import_module

    if args.timeout < 0:
        raise OmniError("--timeout must be zero or more seconds")
    module = import_module(f"omni_tui.agents.{args.agent}_hook")
    if args.install:
        target, changed = module.install(_install_root(args), timeout_s=args.timeout)
        say(f"omni-tui: {'installed the hook in' if changed else 'the hook is already in'} {target}")
        say(f"omni-tui: note: {module.TRUST_NOTE}", err=True)
        return 0
    return module.main(explicit_root=getattr(args, "directory", None), timeout_s=args.timeout)


def cmd_mcp(args: argparse.Namespace) -> int:
    ws = workspace(args)
    from omni_tui.agents.mcp_server import serve  # lazy: the mcp package is only needed here

    return serve(ws)


def cmd_run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise OmniError("run: give the command to run, e.g. `omni-tui run -- claude`")
    ws = workspace(args)
    from omni_tui.agents import sandbox  # lazy: only `run` needs it

    return sandbox.run(ws, command)


_AGENT_TIMEOUT_NOTE = "keep it below the hook timeout in the agent's settings); then deny naming the proposal id"


def _timeout(default_s: float, then: str) -> Arg:
    return arg(
        "--timeout",
        type=float,
        default=default_s,
        metavar="S",
        help=f"seconds to wait for the decision (default {default_s:g}; {then}",
    )


def _install(where: str) -> Arg:
    return arg("--install", action="store_true", help=f"write this hook into {where} (merged, idempotent) and exit")


def _agent_hook(name: str, help: str, description: str, timeout_s: float) -> Command:
    """`hook codex` / `hook gemini`: the same options, run by `cmd_hook_agent`."""
    return Command(
        name,
        help=help,
        description=description,
        run=cmd_hook_agent,
        args=(_timeout(timeout_s, _AGENT_TIMEOUT_NOTE), _install("the project's agent settings")),
    )


COMMANDS = (
    Command(
        "hook",
        help="agent hooks: Claude Code, Codex CLI and Gemini CLI pre-tool hooks",
        description="Agent hooks that turn an agent's write of a guarded file into a proposal, and "
        "refuse shell commands that would write one. See docs/agents.md.",
        project=False,
        children_dest="agent",
        children_metavar="AGENT",
        children=(
            Command(
                "claude-code",
                help="Claude Code PreToolUse hook (JSON on stdin)",
                description="Reads Claude Code's PreToolUse JSON on stdin. An Edit/MultiEdit/Write of a guarded "
                "file (of any project; symlinks resolved) becomes a proposal; waits for the "
                "decision and answers deny with the reason (the cockpit does the writing). A Bash "
                "command that would write a guarded file is denied. Other calls pass (exit 0, no "
                "output). Malformed input or any failure: one line on stderr, exit 2. "
                "--install writes the hook into .claude/settings.local.json. See docs/agents.md.",
                run=cmd_hook_claude_code,
                args=(
                    _timeout(
                        CLAUDE_CODE_TIMEOUT_S,
                        "keep it below the hook's `timeout` in .claude/settings.local.json, 600 by default)",
                    ),
                    arg(
                        "--on-timeout",
                        choices=("ask", "deny"),
                        default="deny",
                        help="the answer when nobody decided in time (default deny, naming the proposal id; ask: Claude "
                        "Code offers you a Yes that writes the file outside the gate)",
                    ),
                    _install("the project's .claude/settings.local.json"),
                ),
            ),
            _agent_hook(
                "codex",
                "Codex CLI PreToolUse hook (apply_patch and Bash; JSON on stdin)",
                "Reads Codex's PreToolUse JSON on stdin. An apply_patch touching a guarded file becomes a "
                "proposal; the answer is always deny (after approval: already applied by the cockpit). A Bash command "
                "that would write a guarded file is denied. Other calls pass (exit 0, no output). See docs/agents.md.",
                CODEX_TIMEOUT_S,
            ),
            _agent_hook(
                "gemini",
                "Gemini CLI BeforeTool hook (write_file, replace, run_shell_command)",
                "Reads Gemini CLI's BeforeTool JSON on stdin. A write_file/replace of a guarded file becomes "
                'a proposal; the answer is {"decision": "deny", "reason": ...}. A run_shell_command that would write a '
                "guarded file is denied. Other calls pass (exit 0, no output). See docs/agents.md.",
                GEMINI_TIMEOUT_S,
            ),
        ),
    ),
    Command(
        "mcp",
        help="MCP server over stdio for agents (Codex, Goose, Claude Code, ...)",
        description="Serve the agent tools (propose_change, proposal_status, withdraw_proposal, "
        "read_environment, list_processes, process_logs) over MCP on stdin/stdout.",
        run=cmd_mcp,
    ),
    Command(
        "run",
        help="run an agent (or any command) in a sandbox that cannot change what a person approves",
        usage=f"{PROG} run [-C DIR] [--] COMMAND [ARG ...]",
        description="Run COMMAND under bubblewrap: the guarded files, the configuration, omni-tui's state "
        "(except proposals/) and the agents' own settings are read-only inside, and guarded "
        "files that do not exist cannot be created; the rest of the project, the network and "
        "your home stay as they are. `omni-tui propose --wait` works inside. Exits with the "
        "command's exit code; 2 when bubblewrap is missing or cannot create a sandbox. "
        "See docs/agents.md.",
        run=cmd_run,
        args=(
            arg(
                "command",
                nargs=argparse.REMAINDER,
                metavar="COMMAND",
                help="the command and its arguments, e.g. `-- claude`",
            ),
        ),
    ),
)
