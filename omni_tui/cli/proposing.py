"""`propose`, `wait`, `withdraw`: an agent's way into the gate, and its way to hear the decision.

No command here approves anything: approval exists only in the cockpit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from omni_tui.cli.base import PROG, Command, arg, one_of, print_json, require_writable, say, workspace
from omni_tui.core.errors import OmniError

if TYPE_CHECKING:
    from omni_tui.core.proposals import Decision, ProposalStore
    from omni_tui.core.workspace import Workspace

OUTCOMES = (
    "0 applied, 10 rejected, 11 rebuild failed, 12 stale, 13 withdrawn, 14 tampered (a decision the audit log does not vouch "
    "for: never an approval), 124 timed out, 2 invalid input."
)


def read_source(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except FileNotFoundError:
        raise OmniError(f"{name}: no such file") from None
    except OSError as exc:
        raise OmniError(f"{name}: cannot read: {exc.strerror or exc}") from None


def guarded_path(ws: Workspace, text: str) -> str:
    """A path as a person types it: relative to the current directory, as git does (`../../devenv.nix`
    from a subfolder), else relative to the project root (what agents are told to use); always confined
    to the root and guarded. The error is the one for the current-directory reading."""
    from omni_tui.core.errors import PathError

    if os.path.isabs(text):
        return ws.relative(text)
    here = os.path.normpath(os.path.join(os.getcwd(), text))
    try:
        return ws.relative(here)
    except PathError as from_here:
        try:
            return ws.relative(text)
        except PathError:
            raise PathError(str(from_here).replace(here, text, 1)) from None


def cmd_propose(args: argparse.Namespace) -> int:
    from omni_tui.core.proposals import ProposalStore, decode_content, patched_content

    ws = workspace(args)
    require_writable(ws)
    store = ProposalStore(ws)
    rel = guarded_path(ws, args.path)
    if args.patch is not None:
        source = "stdin" if args.patch == "-" else args.patch
        content = patched_content(ws, rel, decode_content(read_source(args.patch), f"patch {source}", ws.config.guard.max_bytes))
    else:
        source = "stdin" if args.new_content == "-" else args.new_content
        content = decode_content(read_source(args.new_content), source, ws.config.guard.max_bytes)
    proposal = store.create({rel: content}, title=args.title, rationale=args.why, agent=args.agent)
    wait = args.wait or args.timeout is not None
    refused = store.decision(proposal.id)
    if refused is not None and refused.status == "rejected" and refused.who == "policy":
        # `[policy] refuse` matched its change card: rejected at once, the agent hears why (exit 10).
        from omni_tui.core.proposals import EXIT_CODES

        if args.json:
            print_json(refused.to_json())
        else:
            print(proposal.id, flush=True)
            say(describe(refused), err=True)
        return EXIT_CODES["rejected"]
    if args.json and not wait:
        print_json(
            {
                "id": proposal.id,
                "status": "pending",
                "agent": proposal.agent,
                "title": proposal.title,
                "created_at": proposal.created_at,
                "paths": proposal.paths,
            }
        )
        return 0
    if not args.json:
        print(proposal.id, flush=True)
    if not wait:
        return 0
    return wait_and_report(store, proposal.id, args.timeout, args.json)


def wait_and_report(store: ProposalStore, proposal_id: str, timeout: float | None, as_json: bool) -> int:
    from omni_tui.core.proposals import EXIT_CODES, EXIT_TIMEOUT

    if timeout is not None and timeout < 0:
        raise OmniError("--timeout must be zero or more seconds")
    try:
        decision = store.wait(proposal_id, timeout)
    except KeyboardInterrupt:
        say(f"{PROG}: interrupted; proposal {proposal_id} is still {store.status(proposal_id)}", err=True)
        return 130
    if decision is None:
        if as_json:
            print_json({"proposal_id": proposal_id, "status": store.status(proposal_id)})
        say(f"{PROG}: timed out after {timeout:g} s; proposal {proposal_id} is still {store.status(proposal_id)}", err=True)
        return EXIT_TIMEOUT
    if as_json:
        print_json(decision.to_json())
    else:
        say(describe(decision))
    return EXIT_CODES[decision.status]


def describe(decision: Decision) -> str:
    """`--wait`'s line: the shared decision line (`core.decision_line`), then the rebuild's log."""
    from omni_tui.core.decision_line import decision_line

    return decision_line(decision) + (f" — log {decision.log_path}" if decision.log_path else "")


def cmd_wait(args: argparse.Namespace) -> int:
    from omni_tui.core.proposals import ProposalStore

    store = ProposalStore(workspace(args))
    store.get(args.id)
    return wait_and_report(store, args.id, args.timeout, args.json)


def cmd_withdraw(args: argparse.Namespace) -> int:
    from omni_tui.core.proposals import ProposalStore

    ws = workspace(args)
    require_writable(ws)
    store = ProposalStore(ws)
    proposal = store.get(args.id)
    decision = store.withdraw(proposal.id, who=args.agent or proposal.agent, reason=args.reason)
    if args.json:
        print_json(decision.to_json())
    else:
        say(f"withdrawn {proposal.id}")
    return 0


COMMANDS = (
    Command(
        "propose",
        help="propose a change to a guarded file (an agent's way in)",
        description=f"Submit a proposal. Prints its id; with --wait, exits with the outcome's code: {OUTCOMES}",
        run=cmd_propose,
        args=(
            arg(
                "path",
                metavar="PATH",
                help="guarded file, relative to the current directory as in git (or to the project root; absolute inside it works too)",
            ),
            one_of(
                arg("--new-content", metavar="FILE", help="the complete new content ('-' reads stdin)"),
                arg("--patch", metavar="FILE", help="a unified diff against the current file ('-' reads stdin)"),
                required=True,
            ),
            arg("--title", required=True, help="one line saying what the change does"),
            arg("--why", required=True, help="the rationale shown to the person deciding"),
            arg(
                "--agent",
                default=lambda: os.environ.get("OMNI_TUI_AGENT") or "cli",
                help="who proposes (default: $OMNI_TUI_AGENT or 'cli')",
            ),
            arg("--wait", action="store_true", help="block until a person decides; exit with the outcome's code"),
            arg("--timeout", type=float, metavar="S", help="with --wait: give up after S seconds (exit 124, the proposal stays pending)"),
            arg("--json", action="store_true", help="print JSON (the decision document with --wait)"),
        ),
    ),
    Command(
        "wait",
        help="wait for a proposal's decision",
        description=f"Exit codes: {OUTCOMES}",
        run=cmd_wait,
        args=(
            arg("id", metavar="ID"),
            arg("--timeout", type=float, metavar="S", help="give up after S seconds (exit 124)"),
            arg("--json", action="store_true", help="print the decision document"),
        ),
    ),
    Command(
        "withdraw",
        help="withdraw a pending proposal",
        description="Take back a pending proposal: it leaves the person's queue and its decision reads "
        "`withdrawn` (a `wait` on it exits 13). Refused once a person has decided it.",
        run=cmd_withdraw,
        args=(
            arg("id", metavar="ID"),
            arg("--reason", help="why (shown in the cockpit and the audit log)"),
            arg(
                "--agent",
                default=lambda: os.environ.get("OMNI_TUI_AGENT") or None,
                help="who withdraws (default: $OMNI_TUI_AGENT, else the proposing agent)",
            ),
            arg("--json", action="store_true", help="print the decision document"),
        ),
    ),
)
